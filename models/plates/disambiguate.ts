/**
 * Format-aware re-ranking of a reading's candidates. The recogniser's top string is kept unless a
 * nearby string — another beam candidate, or the top one with look-alike characters swapped
 * (O/0/D/Q, I/1, B/8, S/5, Z/2, G/6) — fits a known registration format and is close enough in
 * probability to pay for the swaps. Nothing is forced: a vanity plate that fits no format keeps
 * the recogniser's reading. Pure; the lattice enters through `logProb`.
 */
import { fitsFormat } from './us-formats.ts';

export interface RankOptions {
  /** Added to a string's log-probability when it fits one of the formats (nats). */
  readonly formatBonus: number;
  /** Subtracted per look-alike swap, on top of what the lattice already charges (nats). */
  readonly swapPenalty: number;
  /** Candidates returned. */
  readonly topN: number;
}

export const DEFAULT_RANK_OPTIONS: RankOptions = { formatBonus: 2.5, swapPenalty: 0.5, topN: 5 };

/** For a slot of the wrong kind: the look-alikes of the other kind a character may be swapped for. */
const TO_LETTER: Readonly<Record<string, readonly string[]>> = {
  '0': ['D', 'Q'],
  '1': ['I'],
  '8': ['B'],
  '5': ['S'],
  '2': ['Z'],
  '6': ['G'],
};
const TO_DIGIT: Readonly<Record<string, readonly string[]>> = {
  D: ['0'],
  Q: ['0'],
  O: ['0'],
  I: ['1'],
  B: ['8'],
  S: ['5'],
  Z: ['2'],
  G: ['6'],
};

export interface RankedText {
  readonly text: string;
  /** Natural log of the string's probability under the lattice. */
  readonly logProb: number;
  /** logProb plus the format bonus minus the swap penalties: what the ranking sorts by. */
  readonly rank: number;
  readonly format?: string;
  readonly swaps: number;
}

/** Every way of making `text` fit `format` by look-alike swaps, with the number of swaps. */
export function coerceToFormat(text: string, format: string): { text: string; swaps: number }[] {
  if (text.length !== format.length) return [];
  let partial: { text: string; swaps: number }[] = [{ text: '', swaps: 0 }];
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    const f = format[i]!;
    const ok = fitsFormat(c, f);
    const options = ok ? [c] : ((f === '@' ? TO_LETTER[c] : f === '#' ? TO_DIGIT[c] : undefined) ?? []);
    if (options.length === 0) return [];
    partial = partial.flatMap((p) => options.map((o) => ({ text: p.text + o, swaps: p.swaps + (ok ? 0 : 1) })));
    if (partial.length > 16) partial = partial.slice(0, 16); // ambiguity explodes only on garbage
  }
  return partial;
}

/**
 * Ranks `candidates` (beam output, best first) and their format-fitting look-alike variants.
 * `logProb` gives a string's log-probability under the same lattice; `formats` the registration
 * shapes allowed (a state's, or all of them when the state is unknown).
 */
export function rankCandidates(
  candidates: readonly string[],
  logProb: (text: string) => number,
  formats: readonly string[],
  options: RankOptions = DEFAULT_RANK_OPTIONS,
): RankedText[] {
  const pool = new Map<string, RankedText>();
  const consider = (text: string, swaps: number): void => {
    if (text.length === 0) return;
    const format = formats.find((f) => fitsFormat(text, f));
    const prev = pool.get(text);
    if (prev && prev.swaps <= swaps) return;
    const lp = prev?.logProb ?? logProb(text);
    if (lp === -Infinity) return;
    const rank = lp + (format !== undefined ? options.formatBonus : 0) - options.swapPenalty * swaps;
    pool.set(text, { text, logProb: lp, rank, swaps, ...(format !== undefined && { format }) });
  };
  for (const c of candidates) {
    consider(c, 0);
    for (const f of formats) for (const v of coerceToFormat(c, f)) if (v.swaps > 0) consider(v.text, v.swaps);
  }
  return [...pool.values()].sort((a, b) => b.rank - a.rank).slice(0, options.topN);
}
