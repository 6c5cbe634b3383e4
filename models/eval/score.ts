/**
 * Scoring one image's reads against its ground truth, as the benchmark README defines it. Pure.
 *
 * - The read scored for a ground-truth plate: with a box (scenes), the read whose box overlaps it
 *   best; with no box (crops), or when no read overlaps it, the most confident read.
 * - exact: that read's text equals the truth; top-3: one of its first three candidates does.
 * - hit: some candidate of some read in the image hits the truth's hot-list entry; false hit:
 *   some candidate hits an entry that is not one of this image's plates.
 */
import type { Box, PlateRead } from '../types.ts';
import type { Truth } from './dataset.ts';
import { normalisePlate, type LookalikeHotlist, type MatchKind } from './lookalike.ts';

/** What the evaluation keeps of a PlateRead (no pixels). */
export interface ReadSummary {
  readonly text: string;
  readonly confidence: number;
  /** Candidate texts, best first. */
  readonly candidates: readonly string[];
  readonly box: Box;
  readonly state?: string;
}

export interface TruthScore {
  readonly truth: Truth;
  /** Index of the read scored against this plate in the image's reads; absent when none. */
  readonly chosen?: number;
  /** Overlap (IoU) of the chosen read's box with the truth box, scenes only. */
  readonly iou?: number;
  readonly exact: boolean;
  readonly top3: boolean;
  readonly hit: boolean;
  readonly hitKind?: MatchKind;
  /** Undefined when the truth has no state. */
  readonly stateCorrect?: boolean;
}

export interface ImageScore {
  readonly truths: readonly TruthScore[];
  readonly noPlate: boolean;
  /** Hot-list entries hit that are not this image's plates. */
  readonly falseHits: readonly string[];
}

export function summariseRead(read: PlateRead): ReadSummary {
  return {
    text: read.text,
    confidence: read.confidence,
    candidates: read.candidates.length ? read.candidates.map((c) => c.text) : [read.text],
    box: read.box,
    ...(read.state !== undefined && { state: read.state }),
  };
}

export function intersectionOverUnion(a: Box, b: Box): number {
  const ix = Math.max(0, Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x));
  const iy = Math.max(0, Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y));
  const inter = ix * iy;
  const union = a.width * a.height + b.width * b.height - inter;
  return union > 0 ? inter / union : 0;
}

/** The read to score against `truth`, and its overlap with the truth box. */
export function chooseRead(truth: Truth, reads: readonly ReadSummary[]): { index: number; iou?: number } | undefined {
  if (reads.length === 0) return undefined;
  if (truth.box) {
    let best = -1;
    let bestIou = 0;
    reads.forEach((r, i) => {
      const iou = intersectionOverUnion(r.box, truth.box!);
      if (iou > bestIou) {
        best = i;
        bestIou = iou;
      }
    });
    if (best >= 0) return { index: best, iou: bestIou };
  }
  let best = 0;
  reads.forEach((r, i) => {
    if (r.confidence > reads[best]!.confidence) best = i;
  });
  return truth.box ? { index: best, iou: 0 } : { index: best };
}

export function scoreImage(truths: readonly Truth[], reads: readonly ReadSummary[], hotlist: LookalikeHotlist): ImageScore {
  const own = new Set(truths.map((t) => t.plate));
  const hitKinds = new Map<string, MatchKind>();
  for (const read of reads) {
    for (const candidate of read.candidates) {
      for (const h of hotlist.match(candidate)) {
        if (hitKinds.get(h.entry) !== 'exact') hitKinds.set(h.entry, h.kind);
      }
    }
  }
  const scores = truths.map((truth): TruthScore => {
    const choice = chooseRead(truth, reads);
    const read = choice ? reads[choice.index] : undefined;
    const hitKind = hitKinds.get(truth.plate);
    return {
      truth,
      ...(choice && { chosen: choice.index }),
      ...(choice?.iou !== undefined && { iou: choice.iou }),
      exact: read !== undefined && normalisePlate(read.text) === truth.plate,
      top3: read !== undefined && read.candidates.slice(0, 3).some((c) => normalisePlate(c) === truth.plate),
      hit: hitKind !== undefined,
      ...(hitKind !== undefined && { hitKind }),
      ...(truth.state !== undefined && { stateCorrect: read?.state !== undefined && read.state.toLowerCase() === truth.state }),
    };
  });
  return {
    truths: scores,
    noPlate: reads.length === 0,
    falseHits: [...hitKinds.keys()].filter((e) => !own.has(e)).sort(),
  };
}
