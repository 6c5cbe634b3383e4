/**
 * The motion gate: a cheap test of whether anything moved, so that an empty approach costs
 * almost nothing. Frames are sampled on a coarse grid (no resize, no copy of the frame) in their
 * luma (Y) plane, and compared with a slowly adapting background; the gate opens when enough grid
 * cells differ. Lighting drifts (clouds, dusk) are absorbed by the background's adaptation.
 */
import type { YuvImage } from '../../models/types.ts';

/** Limited-range luma (Y 16–235) on the full 0–255 scale the thresholds are given in. */
export function fullRangeLuma(y: number): number {
  return ((y - 16) * 255) / 219;
}

export interface MotionOptions {
  /** Grid cells across the frame's width (height follows the aspect ratio). Default 96. */
  readonly gridWidth?: number;
  /** A cell differs when its luma changed by more than this (0–255). Default 18. */
  readonly pixelThreshold?: number;
  /** Motion when at least this fraction of the (unmasked) cells differ. Default 0.004. */
  readonly areaThreshold?: number;
  /** Background adaptation per frame, 0–1. Default 0.1. */
  readonly adaptation?: number;
}

export interface MotionResult {
  readonly moving: boolean;
  /** Fraction of cells that differ from the background. */
  readonly changed: number;
}

export class MotionGate {
  private background: Float32Array | undefined;
  /** The frame size the background was learned at. */
  private size = '';
  private readonly gridWidth: number;
  private readonly pixelThreshold: number;
  private readonly areaThreshold: number;
  private readonly adaptation: number;

  constructor(opts: MotionOptions = {}) {
    this.gridWidth = opts.gridWidth ?? 96;
    this.pixelThreshold = opts.pixelThreshold ?? 18;
    this.areaThreshold = opts.areaThreshold ?? 0.004;
    this.adaptation = opts.adaptation ?? 0.1;
  }

  /** Samples the frame on the grid: luma of the pixel at each cell's centre. */
  private sample(image: YuvImage): Float32Array {
    const gw = Math.max(1, Math.min(this.gridWidth, image.width));
    const gh = Math.max(1, Math.round((gw * image.height) / image.width));
    const out = new Float32Array(gw * gh);
    const { data, width, height } = image;
    for (let gy = 0; gy < gh; gy++) {
      const y = Math.min(height - 1, Math.floor(((gy + 0.5) * height) / gh));
      for (let gx = 0; gx < gw; gx++) {
        const x = Math.min(width - 1, Math.floor(((gx + 0.5) * width) / gw));
        out[gy * gw + gx] = fullRangeLuma(data[y * width + x] ?? 16);
      }
    }
    return out;
  }

  /** Feeds one frame. The first frame (or one of another size) only sets the background. */
  update(image: YuvImage): MotionResult {
    const cur = this.sample(image);
    const bg = this.background;
    const size = `${image.width}x${image.height}`;
    if (!bg || size !== this.size) {
      this.background = cur;
      this.size = size;
      return { moving: false, changed: 0 };
    }
    let changed = 0;
    const a = this.adaptation;
    for (let i = 0; i < cur.length; i++) {
      const c = cur[i] ?? 0;
      const b = bg[i] ?? 0;
      if (Math.abs(c - b) > this.pixelThreshold) changed++;
      bg[i] = b + a * (c - b);
    }
    const fraction = changed / cur.length;
    return { moving: fraction >= this.areaThreshold, changed: fraction };
  }
}
