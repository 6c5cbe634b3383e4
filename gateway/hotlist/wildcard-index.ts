/**
 * Partial plates: `?` stands for one character, `*` for any run (empty included). Patterns are
 * compared in equivalence codes, like whole plates, so a listed partial `7AB?12` also hits a
 * read `7A8X12`.
 *
 * Index: each pattern is filed under its longest run of literal characters (its anchor). A read
 * looks up each of its substrings whose length is an anchor length in use, and verifies the
 * patterns found there. Validation (rows.ts) requires a minimum number of literal characters, so
 * anchors are selective and a read meets few patterns.
 */
import { hashKey, MAX_PLATE_LENGTH, type EquivalenceTable } from './equivalence.ts';
import type { EntryTable } from './table.ts';

const ANY_ONE = 0xfe;
const ANY_RUN = 0xff;

interface Pattern {
  readonly entry: number;
  /** Equivalence codes, ANY_ONE for `?`, ANY_RUN for `*`. */
  readonly tokens: Uint8Array;
  /** Characters a read needs at least (tokens other than `*`). */
  readonly minLength: number;
  readonly hasRun: boolean;
}

export type WildcardVisitor = (entry: number, alignment: Int8Array) => void;

export class WildcardIndex {
  private readonly patterns: Pattern[] = [];
  private readonly byAnchor = new Map<number, number[]>();
  private readonly anchorLengths: number[];
  /** One bit per anchor-key hash: most substrings of a read are no anchor, and a bit test is far cheaper than Map.get. */
  private readonly anchorBits = new Uint32Array(2048);
  private readonly seen = new Set<number>();
  /** alignment[t] = read position matched by pattern token t (-1 for `*`). */
  private readonly alignment = new Int8Array(MAX_PLATE_LENGTH);

  constructor(table: EntryTable, private readonly eq: EquivalenceTable) {
    const lengths = new Set<number>();
    for (let i = 0; i < table.size; i++) {
      if (!table.isWildcard(i)) continue;
      const plate = table.plate(i);
      const tokens = new Uint8Array(plate.length);
      for (let t = 0; t < plate.length; t++) {
        const c = plate[t]!;
        tokens[t] = c === '?' ? ANY_ONE : c === '*' ? ANY_RUN : eq.code(c);
      }
      const anchor = longestRun(tokens);
      const p = this.patterns.length;
      this.patterns.push({ entry: i, tokens, minLength: tokens.filter((t) => t !== ANY_RUN).length, hasRun: tokens.includes(ANY_RUN) });
      const key = eq.key(tokens, anchor.start, anchor.start + anchor.length);
      const bucket = this.byAnchor.get(key);
      if (bucket) bucket.push(p);
      else this.byAnchor.set(key, [p]);
      const bit = hashKey(key) & 0xffff;
      this.anchorBits[bit >>> 5]! |= 1 << (bit & 31);
      lengths.add(anchor.length);
    }
    this.anchorLengths = [...lengths].sort((a, b) => a - b);
  }

  get size(): number {
    return this.patterns.length;
  }

  /** Visits every pattern that matches `codes[0…len)`, once each, with its alignment. */
  lookup(codes: Uint8Array, len: number, visit: WildcardVisitor): void {
    if (this.patterns.length === 0) return;
    this.seen.clear();
    for (const l of this.anchorLengths) {
      if (l > len) break;
      for (let s = 0; s + l <= len; s++) {
        const key = this.eq.key(codes, s, s + l);
        const bit = hashKey(key) & 0xffff;
        if ((this.anchorBits[bit >>> 5]! & (1 << (bit & 31))) === 0) continue;
        const bucket = this.byAnchor.get(key);
        if (!bucket) continue;
        for (const p of bucket) {
          if (this.seen.has(p)) continue;
          this.seen.add(p);
          const pattern = this.patterns[p]!;
          if (len < pattern.minLength || (!pattern.hasRun && len !== pattern.minLength)) continue;
          if (globMatch(pattern.tokens, codes, len, this.alignment)) visit(pattern.entry, this.alignment);
        }
      }
    }
  }

  /** Every pattern checked against the read, no index: the bench's baseline. */
  scan(codes: Uint8Array, len: number, visit: WildcardVisitor): void {
    for (const pattern of this.patterns) {
      if (globMatch(pattern.tokens, codes, len, this.alignment)) visit(pattern.entry, this.alignment);
    }
  }
}

function longestRun(tokens: Uint8Array): { start: number; length: number } {
  let best = { start: 0, length: 0 };
  let runStart = 0;
  for (let t = 0; t <= tokens.length; t++) {
    if (t === tokens.length || tokens[t] === ANY_ONE || tokens[t] === ANY_RUN) {
      if (t - runStart > best.length) best = { start: runStart, length: t - runStart };
      runStart = t + 1;
    }
  }
  return best;
}

/**
 * Glob match with backtracking to the last `*` (linear for one `*`, at worst tokens × length).
 * Fills `alignment` with the read position of each non-`*` token.
 */
export function globMatch(tokens: Uint8Array, codes: Uint8Array, len: number, alignment: Int8Array): boolean {
  let t = 0;
  let r = 0;
  let starT = -1;
  let starR = 0;
  while (r < len) {
    const tok = t < tokens.length ? tokens[t] : undefined;
    if (tok !== undefined && tok !== ANY_RUN && (tok === ANY_ONE || tok === codes[r])) {
      alignment[t] = r;
      t++;
      r++;
    } else if (tok === ANY_RUN) {
      alignment[t] = -1;
      starT = t++;
      starR = r;
    } else if (starT >= 0) {
      t = starT + 1;
      r = ++starR;
    } else return false;
  }
  while (t < tokens.length && tokens[t] === ANY_RUN) alignment[t++] = -1;
  return t === tokens.length;
}
