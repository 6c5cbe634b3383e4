/**
 * Per-camera frame preparation ahead of recognition: privacy masks first (nothing downstream
 * ever sees masked pixels), then the motion gate deciding whether this frame is worth a
 * recognition pass, then the crop to the detection zone; and the camera-health watch beside it.
 *
 * Analysis rate: every frame while something moves or a vehicle is being tracked; otherwise
 * every `idleEvery`th frame, so an empty approach costs little but a parked car is still read.
 */
import type { Frame } from '../../drivers/camera/types.ts';
import type { PlateRead, YuvImage } from '../../models/types.ts';
import type { EventSink } from '../events.ts';
import { CameraHealth, pictureStats, type HealthOptions } from './health.ts';
import { MotionGate, type MotionOptions } from './motion.ts';
import { applyPrivacyMasks, cropToZone, type Region } from './zones.ts';

export interface AnalyserConfig {
  readonly id: string;
  readonly zone?: Region | undefined;
  readonly privacyMasks: readonly Region[];
  readonly idleEvery: number;
}

export interface AnalyserDeps {
  readonly events: EventSink;
  readonly startedAt: number;
  readonly motion?: MotionOptions;
  readonly health?: HealthOptions;
  /** How often picture statistics are taken for the health watch. Default 2 s. */
  readonly statsEveryMs?: number;
}

export type FramePlan =
  | { readonly analyse: false; readonly reason: 'idle' }
  | { readonly analyse: true; readonly image: YuvImage; readonly offset: { x: number; y: number }; readonly moving: boolean };

export interface AnalyserStats {
  framesIn: number;
  framesAnalysed: number;
  framesIdleSkipped: number;
}

export class FrameAnalyser {
  private readonly motion: MotionGate;
  readonly health: CameraHealth;
  private idleCount = 0;
  private lastStatsAt = -Infinity;
  readonly stats: AnalyserStats = { framesIn: 0, framesAnalysed: 0, framesIdleSkipped: 0 };

  constructor(private readonly config: AnalyserConfig, private readonly deps: AnalyserDeps) {
    this.motion = new MotionGate(deps.motion);
    this.health = new CameraHealth(config.id, deps.startedAt, deps.health);
  }

  /**
   * Masks the frame in place (the overview stored later is the masked frame) and decides whether
   * it goes to recognition. `tracking`: a vehicle of this camera is in view.
   */
  prepare(frame: Frame, tracking: boolean): FramePlan {
    this.stats.framesIn++;
    if (this.config.privacyMasks.length) applyPrivacyMasks(frame, this.config.privacyMasks);
    if (frame.capturedAt - this.lastStatsAt >= (this.deps.statsEveryMs ?? 2_000)) {
      this.lastStatsAt = frame.capturedAt;
      for (const e of this.health.frame(pictureStats(frame), frame.capturedAt)) this.deps.events.emit(e);
    }
    const { moving } = this.motion.update(frame);
    if (!moving && !tracking && ++this.idleCount % this.config.idleEvery !== 0) {
      this.stats.framesIdleSkipped++;
      return { analyse: false, reason: 'idle' };
    }
    this.stats.framesAnalysed++;
    const { image, offset } = cropToZone(frame, this.config.zone);
    return { analyse: true, image, offset, moving };
  }

  /** Counts reads for the read-rate watch. */
  reads(count: number): void {
    this.health.reads(count);
  }

  tick(now: number): void {
    for (const e of this.health.tick(now)) this.deps.events.emit(e);
  }
}

/** Reads made on a zone crop, moved back into frame coordinates. */
export function offsetReads(reads: readonly PlateRead[], offset: { x: number; y: number }): PlateRead[] {
  if (offset.x === 0 && offset.y === 0) return [...reads];
  return reads.map((r) => ({ ...r, box: { ...r.box, x: r.box.x + offset.x, y: r.box.y + offset.y } }));
}
