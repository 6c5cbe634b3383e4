/**
 * Tracking: assembles the reads of successive frames into one VehiclePass per vehicle.
 * Pure logic driven by explicit timestamps (no timers here), so tests feed plain data.
 *
 * Association uses text and position together: a read joins the open track of its camera whose
 * predicted plate position (last position plus the track's motion) and texts it agrees with best.
 * Close in text and anywhere plausible, or badly misread but exactly where the plate should be,
 * both join; two vehicles with similar plates side by side stay apart.
 */
import type { Candidate, PlateRead } from '../models/types.ts';
import type { Direction } from './types.ts';

export interface TrackRead {
  readonly read: PlateRead;
  /** Capture time of the frame. */
  readonly at: number;
  /** When recognition finished. */
  readonly readAt: number;
}

export interface Track<F = unknown> {
  readonly id: number;
  readonly cameraId: string;
  readonly reads: TrackRead[];
  firstSeen: number;
  lastSeen: number;
  /** The read with the highest confidence among those agreeing with the voted text. */
  best: TrackRead;
  /** Caller's payload for the frame the best read came from (e.g. the frame for an overview). */
  bestFrame: F | undefined;
  /** Set by the caller once the track has been turned into a detection (e.g. an early hit). */
  emitted: boolean;
}

/** Levenshtein distance, bounded: returns max+1 as soon as the distance must exceed max. */
export function editDistance(a: string, b: string, max = Infinity): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const v = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1));
      cur.push(v);
      rowMin = Math.min(rowMin, v);
    }
    if (rowMin > max) return max + 1;
    prev = cur;
  }
  return prev[b.length] ?? 0;
}

/**
 * The text with the largest vote over the track's reads, and its candidates. Each read votes for
 * its candidates with their scores weighted by the read's own confidence: a candidate's score is
 * its share within that one read, so an unsure read whose few candidates all look alike (a
 * character lost, read 4MDV00 at 0.35 with 4MDV00 0.75 of its own vote) would otherwise count as
 * much as a sure one (4MDV009 at 0.9, 1.0 of its vote), and a plate read unsurely in most frames
 * lost to its own misreads (camera bench, cam1 4MDV009: 6 sure and 10 unsure reads in view).
 * For a pass of one read the shares are those of its candidates, as before.
 */
export function voteText(reads: readonly TrackRead[]): { text: string; confidence: number; candidates: Candidate[] } {
  const scores = new Map<string, number>();
  for (const { read } of reads) {
    const weight = Math.max(read.confidence, 1e-6);
    for (const c of read.candidates.length ? read.candidates : [{ text: read.text, score: 1 }]) {
      scores.set(c.text, (scores.get(c.text) ?? 0) + c.score * weight);
    }
  }
  const total = [...scores.values()].reduce((a, b) => a + b, 0) || 1;
  const ranked = [...scores.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const candidates = ranked.slice(0, 5).map(([text, s]) => ({ text, score: s / total }));
  const top = candidates[0] ?? { text: '', score: 0 };
  const agreeing = reads.filter((r) => r.read.text === top.text);
  const confidence = agreeing.length ? Math.max(...agreeing.map((r) => r.read.confidence)) : 0;
  return { text: top.text, confidence, candidates };
}

/** Horizontal direction of travel from the first and last box centres. */
export function directionOf(reads: readonly TrackRead[]): Direction {
  const first = reads[0];
  const last = reads[reads.length - 1];
  if (!first || !last || reads.length < 2) return 'unknown';
  const cx = (r: TrackRead): number => r.read.box.x + r.read.box.width / 2;
  const dx = cx(last) - cx(first);
  if (Math.abs(dx) < first.read.box.width * 0.25) return 'unknown';
  return dx > 0 ? 'right' : 'left';
}

const centre = (r: PlateRead): { x: number; y: number } => ({ x: r.box.x + r.box.width / 2, y: r.box.y + r.box.height / 2 });

/** Where the track's plate should be at time `at`: last position plus its recent motion. */
function predicted(track: Track<unknown>, at: number): { x: number; y: number } {
  const last = track.reads[track.reads.length - 1] as TrackRead;
  const prev = track.reads[track.reads.length - 2];
  const c = centre(last.read);
  if (!prev || last.at <= prev.at) return c;
  const p = centre(prev.read);
  const k = (at - last.at) / (last.at - prev.at);
  return { x: c.x + (c.x - p.x) * k, y: c.y + (c.y - p.y) * k };
}

/**
 * The open track this read belongs to, or undefined. Distance is in plate widths from the
 * predicted position; text distance is the smallest edit distance to any text the track has read.
 */
function bestTrack<F>(tracks: readonly Track<F>[], read: PlateRead, at: number): Track<F> | undefined {
  let best: Track<F> | undefined;
  let bestCost = Infinity;
  const c = centre(read);
  const half = Math.ceil(read.text.length / 2);
  for (const t of tracks) {
    const texts = new Set(t.reads.map((r) => r.read.text));
    let ed = Infinity;
    for (const text of texts) ed = Math.min(ed, editDistance(text, read.text, half));
    const p = predicted(t, at);
    const dist = Math.hypot(c.x - p.x, c.y - p.y);
    const d = dist / Math.max(1, read.box.width);
    // Any text right where the track's plate should be is that plate, partly seen: the slogan
    // or state name of a plate half out of the frame, a frame of glare. It joins the pass and the
    // vote keeps it from becoming a vehicle of its own.
    const last = t.reads[t.reads.length - 1] as TrackRead;
    const inPlace = dist < 0.5 * Math.max(1, last.read.box.width);
    const fits = (ed <= 1 && d < 6) || (ed <= 2 && d < 1.5) || (ed <= half && d < 0.6) || inPlace;
    if (fits && ed + d < bestCost) {
      best = t;
      bestCost = ed + d;
    }
  }
  return best;
}

export class PassTracker<F = unknown> {
  private readonly open = new Map<string, Track<F>[]>();
  private nextId = 1;

  constructor(private readonly expiryMs: number) {}

  /** Adds one frame's reads; returns the tracks they landed in. */
  add(cameraId: string, reads: readonly PlateRead[], at: number, readAt: number, frame?: F): Track<F>[] {
    const tracks = this.open.get(cameraId) ?? [];
    this.open.set(cameraId, tracks);
    const touched: Track<F>[] = [];
    // Most confident reads pick their track first.
    for (const read of [...reads].sort((a, b) => b.confidence - a.confidence)) {
      const entry: TrackRead = { read, at, readAt };
      const track = bestTrack(tracks.filter((t) => !touched.includes(t)), read, at);
      if (track) {
        track.reads.push(entry);
        track.lastSeen = at;
        const voted = voteText(track.reads).text;
        if (read.text === voted && (track.best.read.text !== voted || read.confidence > track.best.read.confidence)) {
          track.best = entry;
          track.bestFrame = frame;
        }
        touched.push(track);
      } else {
        const created: Track<F> = { id: this.nextId++, cameraId, reads: [entry], firstSeen: at, lastSeen: at, best: entry, bestFrame: frame, emitted: false };
        tracks.push(created);
        touched.push(created);
      }
    }
    return touched;
  }

  /**
   * Removes and returns the tracks that have ended at time `now`. A track ends when frames of its
   * camera captured `expiryMs` after it was last seen have been looked at without it
   * (`analysedUpTo`: the capture time of the camera's latest analysed frame), so a recogniser
   * running behind does not cut a vehicle in two; or, whatever the recogniser does, when it has
   * not been seen for `hardExpiryFactor` × expiryMs of wall time (a camera that went silent).
   */
  expire(now: number, analysedUpTo: ReadonlyMap<string, number> = new Map(), hardExpiryFactor = 4): Track<F>[] {
    const ended: Track<F>[] = [];
    for (const [cameraId, tracks] of this.open) {
      const seenUpTo = analysedUpTo.get(cameraId) ?? now;
      const over = (t: Track<F>): boolean => seenUpTo - t.lastSeen >= this.expiryMs || now - t.lastSeen >= hardExpiryFactor * this.expiryMs;
      const keep = tracks.filter((t) => !over(t));
      ended.push(...tracks.filter((t) => !keep.includes(t)));
      if (keep.length) this.open.set(cameraId, keep);
      else this.open.delete(cameraId);
    }
    return ended;
  }

  /** Whether a vehicle is being tracked on this camera now. */
  hasOpen(cameraId: string): boolean {
    return (this.open.get(cameraId)?.length ?? 0) > 0;
  }

  /** Ends every open track (shutdown). */
  drain(): Track<F>[] {
    const all = [...this.open.values()].flat();
    this.open.clear();
    return all;
  }
}
