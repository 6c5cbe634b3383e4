/**
 * Darkness from what the cameras see: each camera reports its frames' mean brightness (0–255
 * luma). Dark when the median of the fresh reports falls below `onBelow`; light again only above
 * `offAbove`, which must be well above it — once the IR lamp is on, a night-mode camera sees a
 * brighter picture, and equal thresholds would switch the lamp off by its own light. A change
 * must hold for `holdMs` (headlights sweeping the scene are not daybreak).
 */
export interface BrightnessOptions {
  readonly onBelow: number;
  readonly offAbove: number;
  readonly holdMs: number;
  /** Reports older than this are ignored (a camera that stopped). */
  readonly staleMs: number;
}

export class BrightnessControl {
  private readonly latest = new Map<string, { value: number; at: number }>();
  private pending: { dark: boolean; since: number } | undefined;

  constructor(private readonly options: BrightnessOptions) {
    if (!(options.offAbove > options.onBelow)) throw new RangeError(`brightness: offAbove (${options.offAbove}) must be above onBelow (${options.onBelow})`);
  }

  observe(cameraId: string, value: number, at: number): void {
    if (!Number.isFinite(value) || value < 0 || value > 255) throw new RangeError(`brightness of ${cameraId}: ${value} is not a 0–255 luma`);
    this.latest.set(cameraId, { value, at });
  }

  /** The median of fresh reports, or undefined when there are none. */
  level(at: number): number | undefined {
    const fresh = [...this.latest.values()].filter((r) => at - r.at <= this.options.staleMs).map((r) => r.value).sort((a, b) => a - b);
    if (!fresh.length) return undefined;
    const mid = fresh.length >> 1;
    return fresh.length % 2 ? (fresh[mid] as number) : ((fresh[mid - 1] as number) + (fresh[mid] as number)) / 2;
  }

  /** Whether it is dark, given the lamp's current state; undefined when no camera reports. */
  decide(at: number, currentlyDark: boolean): boolean | undefined {
    const level = this.level(at);
    if (level === undefined) {
      this.pending = undefined;
      return undefined;
    }
    const wants = currentlyDark ? !(level > this.options.offAbove) : level < this.options.onBelow;
    if (wants === currentlyDark) {
      this.pending = undefined;
      return currentlyDark;
    }
    if (!this.pending || this.pending.dark !== wants) this.pending = { dark: wants, since: at };
    if (at - this.pending.since >= this.options.holdMs) {
      this.pending = undefined;
      return wants;
    }
    return currentlyDark;
  }
}
