/**
 * Why a read matched an entry, character by character: the substitutions a dispatcher checks
 * against the plate image. Computed for hits only, so clarity wins over speed here.
 */
import type { Substitution } from '../types.ts';
import type { EquivalenceTable } from './equivalence.ts';

/**
 * The differences between `read` and `listed` along a minimal alignment in which look-alikes
 * cost nothing (the distance the matcher uses). Among equal alignments the backtrace prefers a
 * pairing, then a dropped listed character, then an extra read character, so output is stable.
 */
export function explainEdits(read: string, listed: string, eq: EquivalenceTable): Substitution[] {
  const n = read.length;
  const m = listed.length;
  const same = (i: number, j: number): boolean => eq.code(read[i]!) === eq.code(listed[j]!);
  const w = m + 1;
  const d = new Int32Array((n + 1) * w); // d[i * w + j]: distance of read[0, i) and listed[0, j)
  for (let i = 0; i <= n; i++) d[i * w] = i;
  for (let j = 0; j <= m; j++) d[j] = j;
  for (let i = 1; i <= n; i++) {
    for (let j = 1; j <= m; j++) {
      d[i * w + j] = Math.min(d[(i - 1) * w + j - 1]! + (same(i - 1, j - 1) ? 0 : 1), d[(i - 1) * w + j]! + 1, d[i * w + j - 1]! + 1);
    }
  }
  const at = (i: number, j: number): number => d[i * w + j]!;
  const out: Substitution[] = [];
  let i = n;
  let j = m;
  while (i > 0 || j > 0) {
    const here = at(i, j);
    if (i > 0 && j > 0 && here === at(i - 1, j - 1) + (same(i - 1, j - 1) ? 0 : 1)) {
      const r = read[i - 1]!;
      const l = listed[j - 1]!;
      if (r !== l) out.push({ position: i - 1, read: r, listed: l, op: same(i - 1, j - 1) ? 'lookalike' : 'substituted' });
      i--;
      j--;
    } else if (j > 0 && here === at(i, j - 1) + 1) {
      out.push({ position: i, read: '', listed: listed[j - 1]!, op: 'dropped' });
      j--;
    } else {
      out.push({ position: i - 1, read: read[i - 1]!, listed: '', op: 'extra' });
      i--;
    }
  }
  return out.reverse();
}

/**
 * Differences at the literal positions of a wildcard pattern (look-alikes only: anything else
 * would not have matched). `alignment[t]` is the read position of pattern token t, -1 for `*`.
 */
export function explainWildcard(read: string, pattern: string, alignment: ArrayLike<number>): Substitution[] {
  const out: Substitution[] = [];
  for (let t = 0; t < pattern.length; t++) {
    const p = pattern[t]!;
    const r = alignment[t]!;
    if (p === '*' || p === '?' || r < 0) continue;
    const c = read[r]!;
    if (c !== p) out.push({ position: r, read: c, listed: p, op: 'lookalike' });
  }
  return out;
}
