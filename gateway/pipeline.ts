/**
 * The frame pipeline: camera frames → recogniser → tracker → detections (stored) and hits
 * (published). One loop per camera; the recogniser is shared and runs off the event loop.
 * Frames that arrive while recognition is busy are dropped by the camera's latest-frame slot.
 */
import type { Logger } from 'pino';
import type { FrameSource, Frame } from '../drivers/camera/types.ts';
import type { PlateRecognizer, RgbImage } from '../models/types.ts';
import type { HotlistMatcher } from './hotlist/matcher.ts';
import type { DetectionStore } from './store/detection-store.ts';
import { PassTracker, directionOf, voteText, type Track } from './tracking.ts';
import type { Detection, DetectionImages, Match, Versions } from './types.ts';

export interface HitSink {
  publishHit(detection: Detection, images: DetectionImages): Promise<void>;
}

export interface PipelineDeps {
  readonly sources: readonly FrameSource[];
  readonly recognizer: PlateRecognizer;
  /** The hot list in force now (a function: lists are swapped while running). */
  readonly matcher: () => HotlistMatcher;
  readonly store: DetectionStore;
  readonly hits: HitSink;
  readonly log: Logger;
  readonly now: () => number;
  readonly newId: (ms: number) => string;
  readonly encodeJpeg: (image: RgbImage) => Promise<Uint8Array>;
  readonly device: { readonly id: string; readonly site: string };
  readonly versions: Versions;
  readonly minConfidence: number;
  readonly expiryMs: number;
}

export interface PipelineStats {
  framesAnalysed: number;
  reads: number;
  detections: number;
  hits: number;
  errors: number;
}

export class Pipeline {
  private readonly tracker: PassTracker<Frame>;
  private readonly loops: Promise<void>[] = [];
  private emitting: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private stopping = false;
  readonly stats: PipelineStats = { framesAnalysed: 0, reads: 0, detections: 0, hits: 0, errors: 0 };

  constructor(private readonly deps: PipelineDeps) {
    this.tracker = new PassTracker<Frame>(deps.expiryMs);
  }

  start(): void {
    for (const source of this.deps.sources) this.loops.push(this.runCamera(source));
    this.timer = setInterval(() => this.expireTracks(), Math.min(250, this.deps.expiryMs / 2));
  }

  /** Stops the cameras, finishes every open track and waits until all detections are kept. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    await Promise.all(this.deps.sources.map((s) => s.stop()));
    await Promise.allSettled(this.loops);
    for (const track of this.tracker.drain()) if (!track.emitted) this.queueEmit(track, undefined);
    await this.emitting;
  }

  private async runCamera(source: FrameSource): Promise<void> {
    const log = this.deps.log.child({ cameraId: source.cameraId });
    try {
      for await (const frame of source.frames()) {
        if (this.stopping) break;
        await this.analyse(frame, log);
      }
      log.info('camera stream ended');
    } catch (err) {
      this.stats.errors++;
      log.error({ err: (err as Error).message }, 'camera loop failed');
    }
  }

  private async analyse(frame: Frame, log: Logger): Promise<void> {
    let reads;
    try {
      ({ reads } = await this.deps.recognizer.recognize(frame));
    } catch (err) {
      this.stats.errors++;
      log.warn({ err: (err as Error).message }, 'recognition failed for a frame');
      return;
    }
    const readAt = this.deps.now();
    this.stats.framesAnalysed++;
    const usable = reads.filter((r) => r.confidence >= this.deps.minConfidence && r.text.length >= 2);
    if (!usable.length) return;
    this.stats.reads += usable.length;
        const touched = this.tracker.add(frame.cameraId, usable, frame.capturedAt, readAt, frame);
    for (const track of touched) {
      if (track.emitted) continue;
      const voted = voteText(track.reads);
      const match = this.deps.matcher().match({ plate: voted.text, at: frame.capturedAt, ...(track.best.read.state ? { state: track.best.read.state } : {}) });
      // Early hit: dispatch hears of a listed plate now, not when the vehicle has left.
      if (match) this.queueEmit(track, match);
    }
  }

  private expireTracks(): void {
    for (const track of this.tracker.expire(this.deps.now())) if (!track.emitted) this.queueEmit(track, undefined);
  }

  /** Emissions run one at a time, in order, so stop() can wait for all of them. */
  private queueEmit(track: Track<Frame>, match: Match | undefined): void {
    track.emitted = true;
    const matchedAt = this.deps.now();
    this.emitting = this.emitting.then(() => this.emit(track, match, matchedAt)).catch((err: unknown) => {
      this.stats.errors++;
      this.deps.log.error({ err: (err as Error).message, cameraId: track.cameraId }, 'detection could not be kept');
    });
  }

  private async emit(track: Track<Frame>, match: Match | undefined, matchedAt: number): Promise<void> {
    const voted = voteText(track.reads);
    const best = track.best;
    const overview = track.bestFrame ? await this.deps.encodeJpeg(track.bestFrame) : undefined;
    const detection: Detection = {
      id: this.deps.newId(best.at),
      capturedAt: best.at,
      readAt: best.readAt,
      cameraId: track.cameraId,
      deviceId: this.deps.device.id,
      site: this.deps.device.site,
      plate: voted.text,
      ...(best.read.state ? { state: best.read.state } : {}),
      confidence: voted.confidence,
      candidates: voted.candidates,
      box: best.read.box,
      firstSeen: track.firstSeen,
      lastSeen: track.lastSeen,
      frames: track.reads.length,
      direction: directionOf(track.reads),
      ...(match ? { match, matchedAt } : {}),
      versions: this.deps.versions,
      clock: 'system',
    };
    const images: DetectionImages = { plate: best.read.crop, ...(overview ? { overview } : {}) };
    await this.deps.store.put(detection, images);
    this.stats.detections++;
    const log = this.deps.log.child({ cameraId: track.cameraId });
    if (!match) {
      log.info({ detectionId: detection.id, frames: detection.frames }, 'detection kept');
      return;
    }
    this.stats.hits++;
    log.info({ detectionId: detection.id, list: match.entry.listType, kind: match.kind }, 'hot-list hit');
    await this.deps.hits.publishHit(detection, images);
  }
}
