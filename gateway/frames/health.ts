/**
 * Camera health from what the camera delivers: no frames, a blocked or covered lens (the picture
 * loses its contrast), a defocused or fogged lens (contrast stays, edges go), and a collapse of
 * the read rate against this camera's own usual rate. Each condition is judged against the
 * camera's learned baseline, must persist before it is raised, and is cleared once it is gone, so
 * a passing truck or a cloud does not page anyone. Pure: the caller feeds frames, reads and time.
 */
import type { YuvImage } from '../../models/types.ts';
import { fullRangeLuma } from './motion.ts';

export type HealthCondition = 'no-frames' | 'lens-blocked' | 'defocused' | 'read-rate-collapse';

// A type alias, not an interface, so that it is assignable to DeviceEvent's index signature.
export type HealthEvent = {
  readonly type: 'camera-health';
  readonly cameraId: string;
  readonly condition: HealthCondition;
  readonly state: 'raised' | 'cleared';
  readonly at: number;
  readonly detail: string;
};

export interface HealthOptions {
  /** No frame for this long raises no-frames. Default 10 s. */
  readonly noFramesMs?: number;
  /** A lens condition must hold this long before it is raised. Default 30 s. */
  readonly persistMs?: number;
  /** Frames used to learn the baseline picture statistics. Default 50. */
  readonly baselineFrames?: number;
  /** Contrast below this fraction of the baseline: lens blocked. Default 0.25. */
  readonly blockedRatio?: number;
  /** Edge energy below this fraction of the baseline (contrast normal): defocused. Default 0.35. */
  readonly defocusRatio?: number;
  /** Read-rate window. Default 1 h. */
  readonly rateWindowMs?: number;
  /** Reads per window below this fraction of the usual: collapse. Default 0.2. */
  readonly collapseRatio?: number;
  /** Windows needed before a usual rate is trusted. Default 3. */
  readonly minWindows?: number;
}

export interface PictureStats {
  /** Standard deviation of luma (0–255). */
  readonly contrast: number;
  /** Mean absolute luma difference between horizontal neighbours on the grid. */
  readonly edges: number;
}

/** Luma statistics on a sampled grid of the Y plane (fine enough for edges: 1 cell ≈ 2–4 pixels across). */
export function pictureStats(image: YuvImage, gridWidth = 320): PictureStats {
  const gw = Math.max(2, Math.min(gridWidth, image.width));
  const gh = Math.max(2, Math.round((gw * image.height) / image.width));
  const { data, width, height } = image;
  let sum = 0;
  let sum2 = 0;
  let edge = 0;
  let n = 0;
  for (let gy = 0; gy < gh; gy++) {
    const y = Math.min(height - 1, Math.floor(((gy + 0.5) * height) / gh));
    let prev = -1;
    for (let gx = 0; gx < gw; gx++) {
      const x = Math.min(width - 1, Math.floor(((gx + 0.5) * width) / gw));
      const l = fullRangeLuma(data[y * width + x] ?? 16);
      sum += l;
      sum2 += l * l;
      if (prev >= 0) edge += Math.abs(l - prev);
      prev = l;
      n++;
    }
  }
  const mean = sum / n;
  return { contrast: Math.sqrt(Math.max(0, sum2 / n - mean * mean)), edges: edge / (n - gh) };
}

export class CameraHealth {
  private readonly o: Required<HealthOptions>;
  private lastFrameAt: number;
  private baseline: { contrast: number; edges: number; frames: number } = { contrast: 0, edges: 0, frames: 0 };
  private readonly since = new Map<HealthCondition, number>();
  private readonly raised = new Set<HealthCondition>();
  private windowStart: number;
  private windowReads = 0;
  private windows: number[] = [];

  constructor(readonly cameraId: string, startedAt: number, opts: HealthOptions = {}) {
    this.o = {
      noFramesMs: opts.noFramesMs ?? 10_000,
      persistMs: opts.persistMs ?? 30_000,
      baselineFrames: opts.baselineFrames ?? 50,
      blockedRatio: opts.blockedRatio ?? 0.25,
      defocusRatio: opts.defocusRatio ?? 0.35,
      rateWindowMs: opts.rateWindowMs ?? 3_600_000,
      collapseRatio: opts.collapseRatio ?? 0.2,
      minWindows: opts.minWindows ?? 3,
    };
    this.lastFrameAt = startedAt;
    this.windowStart = startedAt;
  }

  /** Conditions raised now. */
  get conditions(): HealthCondition[] {
    return [...this.raised];
  }

  /** Feeds one frame's statistics (compute them with pictureStats on a sample of frames). */
  frame(stats: PictureStats, at: number): HealthEvent[] {
    this.lastFrameAt = at;
    const events = this.set('no-frames', false, at, 'frames arriving again');
    const b = this.baseline;
    if (b.frames < this.o.baselineFrames) {
      // Running mean while learning; the baseline then stays fixed until re-commissioning.
      b.frames++;
      b.contrast += (stats.contrast - b.contrast) / b.frames;
      b.edges += (stats.edges - b.edges) / b.frames;
      return events;
    }
    const blocked = stats.contrast < b.contrast * this.o.blockedRatio;
    const defocused = !blocked && stats.edges < b.edges * this.o.defocusRatio;
    events.push(
      ...this.hold('lens-blocked', blocked, at, `contrast ${stats.contrast.toFixed(1)} against a usual ${b.contrast.toFixed(1)}`),
      ...this.hold('defocused', defocused, at, `edge energy ${stats.edges.toFixed(2)} against a usual ${b.edges.toFixed(2)}`),
    );
    return events;
  }

  /** Counts plate reads for the read-rate check. */
  reads(count: number): void {
    this.windowReads += count;
  }

  /** Called on a timer: no-frames and the read-rate windows. */
  tick(now: number): HealthEvent[] {
    const events: HealthEvent[] = [];
    if (now - this.lastFrameAt >= this.o.noFramesMs) {
      events.push(...this.set('no-frames', true, now, `no frame for ${Math.round((now - this.lastFrameAt) / 1000)} s`));
    }
    while (now - this.windowStart >= this.o.rateWindowMs) {
      const count = this.windowReads;
      this.windowReads = 0;
      this.windowStart += this.o.rateWindowMs;
      const usual = this.usualRate();
      if (usual !== undefined) {
        const collapsed = count < usual * this.o.collapseRatio;
        events.push(...this.set('read-rate-collapse', collapsed, now, `${count} reads in the last window against a usual ${usual.toFixed(0)}`));
        // A collapsed window must not drag the usual rate down with it.
        if (!collapsed) this.windows = [...this.windows, count].slice(-24);
      } else {
        this.windows = [...this.windows, count].slice(-24);
      }
    }
    return events;
  }

  private usualRate(): number | undefined {
    if (this.windows.length < this.o.minWindows) return undefined;
    const sorted = [...this.windows].sort((a, b) => a - b);
    const usual = sorted[Math.floor(sorted.length / 2)] ?? 0;
    return usual > 0 ? usual : undefined;
  }

  /** A lens condition: raised once it has held for persistMs, cleared at once when it goes. */
  private hold(c: HealthCondition, on: boolean, at: number, detail: string): HealthEvent[] {
    if (!on) {
      this.since.delete(c);
      return this.set(c, false, at, 'back to normal');
    }
    const since = this.since.get(c) ?? at;
    this.since.set(c, since);
    return at - since >= this.o.persistMs ? this.set(c, true, at, detail) : [];
  }

  private set(c: HealthCondition, on: boolean, at: number, detail: string): HealthEvent[] {
    if (on === this.raised.has(c)) return [];
    if (on) this.raised.add(c);
    else this.raised.delete(c);
    return [{ type: 'camera-health', cameraId: this.cameraId, condition: c, state: on ? 'raised' : 'cleared', at, detail }];
  }
}
