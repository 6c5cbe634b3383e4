/**
 * The evaluation's stand-in for the hot-list matcher's fuzzy rules, until that matcher lands: a
 * read hits an entry when it equals it, or differs from it in exactly one position where the two
 * characters are look-alikes (O/0/D/Q, I/1, B/8, S/5, Z/2, G/6). Same length only: a dropped or
 * extra character is not a hit under these rules.
 */

/** Characters a reader confuses with each other; each string is one class. */
export const LOOKALIKE_CLASSES: readonly string[] = ['O0DQ', 'I1', 'B8', 'S5', 'Z2', 'G6'];

const ALTERNATIVES: ReadonlyMap<string, readonly string[]> = new Map(
  LOOKALIKE_CLASSES.flatMap((cls) => [...cls].map((c) => [c, [...cls].filter((o) => o !== c)] as const)),
);

/** How the benchmark compares plate text: upper-case, spaces and dashes removed. */
export function normalisePlate(text: string): string {
  return text.toUpperCase().replace(/[\s-]+/g, '');
}

/** True when `a` and `b` are different characters of one look-alike class. */
export function areLookalikes(a: string, b: string): boolean {
  return a !== b && (ALTERNATIVES.get(a)?.includes(b) ?? false);
}

export type MatchKind = 'exact' | 'lookalike';

/** How `read` matches `entry` under the rules above, or undefined. Both already normalised. */
export function lookalikeMatch(read: string, entry: string): MatchKind | undefined {
  if (read === entry) return 'exact';
  if (read.length !== entry.length) return undefined;
  let diff = -1;
  for (let i = 0; i < read.length; i++) {
    if (read[i] === entry[i]) continue;
    if (diff >= 0) return undefined;
    diff = i;
  }
  return areLookalikes(read[diff]!, entry[diff]!) ? 'lookalike' : undefined;
}

/** `text` itself and every string one look-alike substitution away from it. */
export function lookalikeVariants(text: string): string[] {
  const out = [text];
  for (let i = 0; i < text.length; i++) {
    for (const alt of ALTERNATIVES.get(text[i]!) ?? []) out.push(text.slice(0, i) + alt + text.slice(i + 1));
  }
  return out;
}

export interface LookalikeHit {
  readonly entry: string;
  readonly kind: MatchKind;
}

/** A set of hot-list plates searchable under the look-alike rules in O(read length). */
export class LookalikeHotlist {
  private readonly entries: ReadonlySet<string>;

  constructor(plates: Iterable<string>) {
    this.entries = new Set([...plates].map(normalisePlate));
  }

  get size(): number {
    return this.entries.size;
  }

  has(plate: string): boolean {
    return this.entries.has(normalisePlate(plate));
  }

  /** Every entry `read` hits, the exact one (if any) first. */
  match(read: string): LookalikeHit[] {
    const text = normalisePlate(read);
    const hits: LookalikeHit[] = [];
    for (const v of lookalikeVariants(text)) {
      if (this.entries.has(v)) hits.push({ entry: v, kind: v === text ? 'exact' : 'lookalike' });
    }
    return hits;
  }
}
