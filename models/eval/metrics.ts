/** Per-image outcomes → the benchmark's summary figures. Pure. */
import type { ImageScore, ReadSummary } from './score.ts';

/** Everything the evaluation learned about one image. */
export interface ImageOutcome {
  readonly file: string;
  /** Set when the image could not be decoded or recognised; such rows are left out of the rates. */
  readonly error?: string;
  readonly reads: readonly ReadSummary[];
  readonly score?: ImageScore;
  /** Wall time of recognize(), ms. */
  readonly recogniseMs?: number;
  /** Wall time of decoding the file, ms. */
  readonly decodeMs?: number;
  /** The recogniser's own per-stage timings. */
  readonly detectMs?: number;
  readonly ocrMs?: number;
}

export interface EvalMetrics {
  /** Images scored (errors excluded). */
  readonly images: number;
  /** Ground-truth plates in the scored images (one per image in the benchmark sets). */
  readonly plates: number;
  /** Images that could not be decoded or recognised. */
  readonly errors: number;
  readonly exactRate: number;
  readonly top3Rate: number;
  readonly noPlateRate: number;
  readonly hitRecall: number;
  readonly falseHitRate: number;
  /** Plates with a known state whose read named it; null when the dataset has no states. */
  readonly stateRate: number | null;
  readonly medianMs: number;
  readonly p95Ms: number;
  readonly decodeMs: number;
  readonly detectMs: number;
  readonly ocrMs: number;
}

/** Median (mean of the middle two for an even count); 0 for no values. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Nearest-rank percentile (p in 0–100); 0 for no values. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const s = [...values].sort((a, b) => a - b);
  const rank = Math.min(s.length, Math.max(1, Math.ceil((p / 100) * s.length)));
  return s[rank - 1]!;
}

const rate = (n: number, d: number): number => (d > 0 ? n / d : 0);
const round = (v: number, digits: number): number => Number(v.toFixed(digits));

export function computeMetrics(outcomes: readonly ImageOutcome[]): EvalMetrics {
  const scored = outcomes.filter((o) => o.score !== undefined && o.error === undefined);
  const truths = scored.flatMap((o) => o.score!.truths);
  const withState = truths.filter((t) => t.stateCorrect !== undefined);
  const times = (pick: (o: ImageOutcome) => number | undefined): number[] =>
    scored.map(pick).filter((v): v is number => v !== undefined);
  const recognise = times((o) => o.recogniseMs);
  return {
    images: scored.length,
    plates: truths.length,
    errors: outcomes.length - scored.length,
    exactRate: round(rate(truths.filter((t) => t.exact).length, truths.length), 4),
    top3Rate: round(rate(truths.filter((t) => t.top3).length, truths.length), 4),
    noPlateRate: round(rate(scored.filter((o) => o.score!.noPlate).length, scored.length), 4),
    hitRecall: round(rate(truths.filter((t) => t.hit).length, truths.length), 4),
    falseHitRate: round(rate(scored.filter((o) => o.score!.falseHits.length > 0).length, scored.length), 4),
    stateRate: withState.length ? round(rate(withState.filter((t) => t.stateCorrect).length, withState.length), 4) : null,
    medianMs: round(median(recognise), 1),
    p95Ms: round(percentile(recognise, 95), 1),
    decodeMs: round(median(times((o) => o.decodeMs)), 1),
    detectMs: round(median(times((o) => o.detectMs)), 1),
    ocrMs: round(median(times((o) => o.ocrMs)), 1),
  };
}
