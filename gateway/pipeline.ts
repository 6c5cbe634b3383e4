/**
 * The frame pipeline: camera frames → masks, motion gate, zone → recogniser → tracker →
 * detections (stored) and hits (published). One loop per camera; the recogniser is shared and
 * runs off the event loop. Frames that arrive while recognition is busy are dropped by the
 * camera's latest-frame slot, so nothing queues without bound.
 *
 * Each vehicle becomes exactly one detection. A pass whose voted plate matches the hot list is
 * stored and sent at once (early hit: dispatch does not wait for the vehicle to leave); when the
 * pass ends, the same record is updated with the whole pass. Other passes are stored when they end.
 *
 * Memory (issue #4): a frame that becomes a pass's best is encoded as the pass's overview JPEG at
 * once, so no pass holds a frame until it ends; and every frame goes back to its camera
 * (Frame.release) once analysed, to carry a later frame. The RGB copy an overview is encoded
 * from (6 MB at 1080p) is reused for the next one once sharp is done with it: left to the
 * collector, such buffers pile up by the tens of MB before V8 frees them.
 */
import type { Logger } from 'pino';
import type { FrameSource, Frame } from '../drivers/camera/types.ts';
import type { PlateRecognizer, RgbImage, YuvImage } from '../models/types.ts';
import { i420ToRgb } from '../models/yuv.ts';
import type { EventSink } from './events.ts';
import { FrameAnalyser, offsetReads, type AnalyserConfig, type AnalyserDeps } from './frames/analyser.ts';
import type { HotlistMatcher } from './hotlist/matcher.ts';
import type { DetectionStore } from './store/detection-store.ts';
import { PassTracker, directionOf, voteText, type Track } from './tracking.ts';
import type { Detection, DetectionImages, Match, PassSpeed, Versions } from './types.ts';

export interface HitSink {
  publishHit(detection: Detection, images: DetectionImages): Promise<void>;
}

export interface PipelineDeps {
  readonly sources: readonly FrameSource[];
  /** Zone, masks and idle rate per camera id; a camera without one is analysed whole, every frame. */
  readonly cameras: readonly AnalyserConfig[];
  readonly recognizer: PlateRecognizer;
  /** The hot list in force now (a function: lists are swapped while running). */
  readonly matcher: () => HotlistMatcher;
  readonly store: DetectionStore;
  /** The evidence store's trusted-clock status, stamped into each detection. */
  readonly clockStatus?: () => Detection['clock'];
  readonly hits: HitSink;
  readonly events: EventSink;
  readonly log: Logger;
  readonly now: () => number;
  readonly newId: (ms: number) => string;
  readonly encodeJpeg: (image: RgbImage) => Promise<Uint8Array>;
  readonly device: { readonly id: string; readonly site: string };
  readonly versions: Versions;
  readonly minConfidence: number;
  readonly expiryMs: number;
  /** The GPS receiver's fix quality now (drivers/pole.ts), on a pole with one. */
  readonly gpsFix?: () => Detection['gpsFix'];
  /** The radar's speed for a vehicle seen over [firstSeen, lastSeen] (drivers/pole.ts), on a pole with one. */
  readonly speedFor?: (firstSeen: number, lastSeen: number) => PassSpeed | undefined;
  /** Motion and health tuning (tests). */
  readonly analysis?: Omit<AnalyserDeps, 'events' | 'startedAt'>;
}

export interface PipelineStats {
  framesAnalysed: number;
  reads: number;
  detections: number;
  hits: number;
  errors: number;
  /** Overview JPEGs encoded: one each time a frame becomes a pass's best. */
  overviewsEncoded: number;
}

/** A pass's overview: the frame its best read came from, encoded once it became the best. */
interface Overview {
  /** The frame, until it is encoded (it goes back to its camera once analysed). */
  frame: Frame | undefined;
  jpeg: Promise<Uint8Array> | undefined;
}

/**
 * RGB buffers kept for overviews: one, since encodes rarely overlap (about two per pass, ~15 ms
 * each); an overlapping one gets a buffer of its own, left to the collector.
 */
const OVERVIEW_SPARES = 1;

export class Pipeline {
  private readonly tracker: PassTracker<Overview>;
  private readonly analysers = new Map<string, FrameAnalyser>();
  /** Per camera, the capture time of the latest frame recognition has finished with. */
  private readonly analysedUpTo = new Map<string, number>();
  /** Cameras with a frame in recognition now: their passes are judged by analysed frames, not wall time. */
  private readonly recognising = new Set<string>();
  /** Cameras whose vehicle trigger (loop or radar presence) says a vehicle is there now. */
  private readonly vehiclePresent = new Set<string>();
  /** Hits sent while their vehicle was still in view, until its pass ends. */
  private readonly earlyHits = new Map<Track<Overview>, { detection: Detection; images: DetectionImages }>();
  private readonly loops: Promise<void>[] = [];
  private emitting: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private stopping = false;
  /** RGB buffers of overviews encoded, for the next ones (at most OVERVIEW_SPARES). */
  private readonly rgbSpares: Uint8Array[] = [];
  readonly stats: PipelineStats = { framesAnalysed: 0, reads: 0, detections: 0, hits: 0, errors: 0, overviewsEncoded: 0 };

  constructor(private readonly deps: PipelineDeps) {
    this.tracker = new PassTracker<Overview>(deps.expiryMs);
    const startedAt = deps.now();
    for (const source of deps.sources) {
      const config = deps.cameras.find((c) => c.id === source.cameraId) ?? { id: source.cameraId, privacyMasks: [], idleEvery: 1 };
      this.analysers.set(source.cameraId, new FrameAnalyser(config, { ...deps.analysis, events: deps.events, startedAt }));
    }
  }

  /** Per-camera frame counters and the health conditions raised now. */
  cameraStatus(): { cameraId: string; framesIn: number; framesAnalysed: number; framesIdleSkipped: number; conditions: string[] }[] {
    return [...this.analysers.entries()].map(([cameraId, a]) => ({ cameraId, ...a.stats, conditions: a.health.conditions }));
  }

  /**
   * A vehicle trigger (drivers/trigger) reports presence: while present, every frame of the
   * camera is analysed, as while a vehicle is tracked. Returns false for an unknown camera.
   */
  setVehiclePresent(cameraId: string, present: boolean): boolean {
    if (!this.analysers.has(cameraId)) return false;
    if (present) this.vehiclePresent.add(cameraId);
    else this.vehiclePresent.delete(cameraId);
    return true;
  }

  start(): void {
    for (const source of this.deps.sources) this.loops.push(this.runCamera(source));
    this.timer = setInterval(() => this.tick(), Math.min(250, this.deps.expiryMs / 2));
  }

  /** Stops the cameras, finishes every open track and waits until all detections are kept. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    await Promise.all(this.deps.sources.map((s) => s.stop()));
    await Promise.allSettled(this.loops);
    for (const track of this.tracker.drain()) this.endTrack(track);
    await this.emitting;
  }

  private async runCamera(source: FrameSource): Promise<void> {
    const log = this.deps.log.child({ cameraId: source.cameraId });
    const analyser = this.analysers.get(source.cameraId) as FrameAnalyser;
    try {
      for await (const frame of source.frames()) {
        try {
          if (this.stopping) break;
          const plan = analyser.prepare(frame, this.tracker.hasOpen(frame.cameraId) || this.vehiclePresent.has(frame.cameraId));
          if (plan.analyse) await this.analyse(frame, plan.image, plan.offset, analyser, log);
        } finally {
          // Nothing reads it any more (an overview is made from a copy): its buffer carries a later frame.
          frame.release?.();
        }
      }
      log.info('camera stream ended');
    } catch (err) {
      this.stats.errors++;
      log.error({ err: (err as Error).message }, 'camera loop failed');
    }
  }

  private async analyse(frame: Frame, image: YuvImage, offset: { x: number; y: number }, analyser: FrameAnalyser, log: Logger): Promise<void> {
    let reads;
    this.recognising.add(frame.cameraId);
    try {
      ({ reads } = await this.deps.recognizer.recognize(image));
    } catch (err) {
      this.stats.errors++;
      log.warn({ err: (err as Error).message }, 'recognition failed for a frame');
      return;
    } finally {
      this.recognising.delete(frame.cameraId);
    }
    const readAt = this.deps.now();
    this.stats.framesAnalysed++;
    this.analysedUpTo.set(frame.cameraId, Math.max(this.analysedUpTo.get(frame.cameraId) ?? 0, frame.capturedAt));
    const usable = offsetReads(reads.filter((r) => r.confidence >= this.deps.minConfidence && r.text.length >= 2), offset);
    analyser.reads(usable.length);
    if (!usable.length) return;
    this.stats.reads += usable.length;
    const overview: Overview = { frame, jpeg: undefined };
    const touched = this.tracker.add(frame.cameraId, usable, frame.capturedAt, readAt, overview);
    if (touched.some((t) => t.bestFrame === overview)) this.encodeOverview(overview);
    for (const track of touched) {
      if (track.emitted) continue;
      const voted = voteText(track.reads);
      // Every top-N candidate is matched, not only the voted text (issue 5).
      const match = this.deps.matcher().match({ plate: voted.text, candidates: voted.candidates, at: frame.capturedAt, ...(track.best.read.state ? { state: track.best.read.state } : {}) });
      // Early hit: dispatch hears of a listed plate now, not when the vehicle has left.
      if (match) this.queue(track, match);
    }
  }

  private tick(): void {
    const now = this.deps.now();
    for (const a of this.analysers.values()) a.tick(now);
    // While a camera's frame is in recognition, its passes end only once later frames have been
    // looked at (a slow recogniser must not split a vehicle); otherwise wall time decides (a
    // stream that ended or dropped must not hold its last vehicle back).
    const behind = new Map([...this.recognising].map((cameraId) => [cameraId, this.analysedUpTo.get(cameraId) ?? 0] as const));
    for (const track of this.tracker.expire(now, behind)) this.endTrack(track);
  }

  /** A pass has ended: store it, or bring an early hit's record up to the whole pass. */
  private endTrack(track: Track<Overview>): void {
    this.queue(track, undefined);
  }

  /**
   * Encodes a frame that has just become a pass's best, from an RGB copy made now (the frame is
   * I420, and its buffer goes back to the camera once analysed; ~8 ms at 1080p), while sharp
   * encodes off the event loop. A pass whose best changes again encodes again (about twice a
   * pass in the camera bench); the JPEG of a pass that ends is ready, or nearly, when it is stored.
   */
  private encodeOverview(overview: Overview): void {
    const frame = overview.frame;
    if (!frame || overview.jpeg) return;
    this.stats.overviewsEncoded++;
    const bytes = frame.width * frame.height * 3;
    const i = this.rgbSpares.findIndex((b) => b.length === bytes);
    const rgb = i420ToRgb(frame, i >= 0 ? this.rgbSpares.splice(i, 1)[0] : undefined);
    const jpeg = this.deps.encodeJpeg(rgb);
    // A failure surfaces where the overview is used (emit); one no pass uses any more is dropped.
    // Either way the encoder has let go of the pixels.
    jpeg.then(
      () => this.spareRgb(rgb.data),
      () => this.spareRgb(rgb.data),
    );
    overview.jpeg = jpeg;
    overview.frame = undefined;
  }

  private spareRgb(data: Uint8Array): void {
    if (this.rgbSpares.length < OVERVIEW_SPARES) this.rgbSpares.push(data);
  }

  /** Emissions run one at a time, in order, so stop() can wait for all of them. */
  private queue(track: Track<Overview>, match: Match | undefined): void {
    const early = this.earlyHits.get(track);
    track.emitted = true;
    const matchedAt = this.deps.now();
    const work = early ? () => this.completeHit(track, early) : () => this.emit(track, match, matchedAt);
    this.emitting = this.emitting.then(work).catch((err: unknown) => {
      this.stats.errors++;
      this.deps.log.error({ err: (err as Error).message, cameraId: track.cameraId }, 'detection could not be kept');
    });
  }

  private async emit(track: Track<Overview>, match: Match | undefined, matchedAt: number): Promise<void> {
    const voted = voteText(track.reads);
    const best = track.best;
    const overview = await track.bestFrame?.jpeg;
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
      clock: this.deps.clockStatus?.() ?? 'system',
      ...this.sensors(track),
    };
    const images: DetectionImages = { plate: best.read.crop, ...(overview ? { overview } : {}) };
    await this.deps.store.put(detection, images);
    this.stats.detections++;
    const log = this.deps.log.child({ cameraId: track.cameraId });
    if (!match) {
      log.info({ detectionId: detection.id, frames: detection.frames }, 'detection kept');
      return;
    }
    // Remember the record: the end of the pass completes it rather than making a second one.
    this.earlyHits.set(track, { detection, images });
    this.stats.hits++;
    log.info({ detectionId: detection.id, list: match.entry.listType, kind: match.kind }, 'hot-list hit');
    await this.deps.hits.publishHit(detection, images);
  }

  /** What the pole's other sensors add to a pass: GPS fix quality, radar speed over the pass. */
  private sensors(track: Track<Overview>): Pick<Detection, 'gpsFix' | 'speed'> {
    const gpsFix = this.deps.gpsFix?.();
    const speed = this.deps.speedFor?.(track.firstSeen, track.lastSeen);
    return { ...(gpsFix ? { gpsFix } : {}), ...(speed ? { speed } : {}) };
  }

  /**
   * The pass of an early hit has ended: the stored record gains the whole pass (frames, last
   * seen, candidates, direction). The plate, match, images and times dispatch received stay as sent.
   */
  private async completeHit(track: Track<Overview>, early: { detection: Detection; images: DetectionImages }): Promise<void> {
    this.earlyHits.delete(track);
    const voted = voteText(track.reads);
    const detection: Detection = {
      ...early.detection,
      candidates: voted.candidates,
      lastSeen: track.lastSeen,
      frames: track.reads.length,
      direction: directionOf(track.reads),
      ...this.sensors(track),
    };
    await this.deps.store.put(detection, early.images);
  }
}
