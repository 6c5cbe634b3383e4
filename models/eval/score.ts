/**
 * Scoring one image's reads against its ground truth, as the benchmark README defines it. Pure.
 *
 * - The read scored for a ground-truth plate: with a box (scenes), the read whose box overlaps it
 *   best; with no box (crops), or when no read overlaps it, the most confident read.
 * - exact: that read's text equals the truth; top-3: one of its first three candidates does.
 * - hit: some read in the image, with its candidates, hits the truth's hot-list entry under the
 *   gateway's matcher (gateway/hotlist), given the candidates as the gateway gives a vehicle pass
 *   of that one read (with their share of the vote); false hit: it hits an entry that is not one of this
 *   image's plates.
 */
import type { Box, PlateRead } from '../types.ts';
import type { Truth } from './dataset.ts';
import { normalisePlate } from '../../gateway/hotlist/csv.ts';
import type { HotlistMatcher } from '../../gateway/hotlist/matcher.ts';
import { voteText } from '../../gateway/tracking.ts';
import type { Candidate, MatchKind } from '../../gateway/types.ts';

/** What the evaluation keeps of a PlateRead (no pixels). */
export interface ReadSummary {
  readonly text: string;
  readonly confidence: number;
  /** Candidate texts, best first. */
  readonly candidates: readonly string[];
  /**
   * What the gateway matches for a vehicle pass of this one read (tracking.ts voteText): each
   * candidate with its share of the vote, so the hot-list policy's minCandidateScore applies.
   */
  readonly votes?: readonly Candidate[];
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
    votes: voteText([{ read, at: 0, readAt: 0 }]).candidates,
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

const KIND_ORDER: Record<MatchKind, number> = { exact: 0, 'ocr-equivalent': 1, 'edit-distance': 2, wildcard: 3 };

export function scoreImage(truths: readonly Truth[], reads: readonly ReadSummary[], hotlist: HotlistMatcher): ImageScore {
  const own = new Set(truths.map((t) => t.plate));
  const hitKinds = new Map<string, MatchKind>();
  for (const read of reads) {
    // One query per read, its candidates with it, as the gateway matches a vehicle pass.
    for (const h of hotlist.matchAll({ plate: read.text, candidates: read.votes ?? read.candidates, at: 0 })) {
      const prev = hitKinds.get(h.entry.plate);
      if (prev === undefined || KIND_ORDER[h.kind] < KIND_ORDER[prev]) hitKinds.set(h.entry.plate, h.kind);
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
