/**
 * Where reads go wrong, character by character and by kind of mistake. Truth and read are aligned
 * by edit distance (Levenshtein, unit costs) and the backtrace gives the substitutions, dropped
 * characters and extra characters. Pure.
 */
import { EquivalenceTable } from '../../gateway/hotlist/equivalence.ts';

/** The gateway's look-alike classes: a misread is "look-alike" exactly when the matcher forgives it. */
const LOOKALIKES = new EquivalenceTable();

export type EditOp =
  | { readonly op: 'match'; readonly truth: string; readonly read: string }
  | { readonly op: 'sub'; readonly truth: string; readonly read: string }
  | { readonly op: 'del'; readonly truth: string }
  | { readonly op: 'ins'; readonly read: string };

/**
 * A minimal edit script from `truth` to `read`. Among equally short scripts the backtrace prefers
 * a match or substitution, then a dropped truth character, then an extra read character, so the
 * result is deterministic.
 */
export function align(truth: string, read: string): EditOp[] {
  const n = truth.length;
  const m = read.length;
  const d: number[][] = Array.from({ length: n + 1 }, (_, i) => Array.from({ length: m + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= n; i++) {
    for (let j = 1; j <= m; j++) {
      const cost = truth[i - 1] === read[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j - 1]! + cost, d[i - 1]![j]! + 1, d[i]![j - 1]! + 1);
    }
  }
  const ops: EditOp[] = [];
  let i = n;
  let j = m;
  while (i > 0 || j > 0) {
    const here = d[i]![j]!;
    if (i > 0 && j > 0 && here === d[i - 1]![j - 1]! + (truth[i - 1] === read[j - 1] ? 0 : 1)) {
      const t = truth[i - 1]!;
      const r = read[j - 1]!;
      ops.push(t === r ? { op: 'match', truth: t, read: r } : { op: 'sub', truth: t, read: r });
      i--;
      j--;
    } else if (i > 0 && here === d[i - 1]![j]! + 1) {
      ops.push({ op: 'del', truth: truth[i - 1]! });
      i--;
    } else {
      ops.push({ op: 'ins', read: read[j - 1]! });
      j--;
    }
  }
  return ops.reverse();
}

export function editDistance(truth: string, read: string): number {
  return align(truth, read).filter((o) => o.op !== 'match').length;
}

/** "O→0", "−1" (a truth 1 not read), "+I" (an I read that is not there). */
export function confusionLabel(op: EditOp): string | undefined {
  switch (op.op) {
    case 'match':
      return undefined;
    case 'sub':
      return `${op.truth}→${op.read}`;
    case 'del':
      return `−${op.truth}`;
    case 'ins':
      return `+${op.read}`;
  }
}

export interface ConfusionCount {
  readonly label: string;
  readonly truth: string;
  readonly read: string;
  readonly count: number;
}

/** Character confusions over (truth, read) pairs, most frequent first. */
export function countConfusions(pairs: Iterable<readonly [string, string]>): ConfusionCount[] {
  const counts = new Map<string, ConfusionCount>();
  for (const [truth, read] of pairs) {
    for (const op of align(truth, read)) {
      const label = confusionLabel(op);
      if (!label) continue;
      const t = op.op === 'ins' ? '' : op.truth;
      const r = op.op === 'del' ? '' : op.read;
      const prev = counts.get(label);
      counts.set(label, { label, truth: t, read: r, count: (prev?.count ?? 0) + 1 });
    }
  }
  return [...counts.values()].sort((a, b) => b.count - a.count || (a.label < b.label ? -1 : 1));
}

export type MisreadKind =
  | 'no plate read'
  | 'plate missed, other text read'
  | 'one look-alike substitution'
  | 'one other substitution'
  | 'characters dropped'
  | 'characters added'
  | 'several errors';

/**
 * What kind of mistake a wrong read is. `read` undefined: nothing was read for this plate;
 * `overlapsTruth` false: the read chosen lies elsewhere in the scene.
 */
export function classifyMisread(truth: string, read: string | undefined, overlapsTruth = true): MisreadKind {
  if (read === undefined) return 'no plate read';
  if (!overlapsTruth) return 'plate missed, other text read';
  const ops = align(truth, read).filter((o) => o.op !== 'match');
  if (ops.length === 1 && ops[0]!.op === 'sub') {
    return LOOKALIKES.areLookalikes(ops[0]!.truth, ops[0]!.read) ? 'one look-alike substitution' : 'one other substitution';
  }
  if (ops.length > 0 && ops.every((o) => o.op === 'del')) return 'characters dropped';
  if (ops.length > 0 && ops.every((o) => o.op === 'ins')) return 'characters added';
  return 'several errors';
}
