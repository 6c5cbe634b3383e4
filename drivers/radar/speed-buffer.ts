/**
 * A short, time-indexed memory of radar readings, so that a vehicle pass — known only once its
 * plate has been read over several frames — can be given the speed measured while it was there.
 * The radar sees the vehicle before and after the camera's zone, so the window around the pass is
 * widened by `slackMs` each side. Several readings → the highest (the radar's "peak" speed, as
 * speed enforcement reports it), with the count and median beside it for judging it.
 */
import type { SpeedReading } from './parser.ts';
import type { Travel } from './formats.ts';

export interface PassSpeed {
  /** Highest speed in the window, km/h, one decimal. */
  readonly kmh: number;
  readonly medianKmh: number;
  readonly samples: number;
  /** The direction most readings gave. */
  readonly direction: Travel;
  /** When the highest reading arrived. */
  readonly at: number;
}

export interface SpeedBufferOptions {
  /** How long readings are kept, ms (default 120 s: longer than any pass). */
  readonly keepMs?: number;
  /** At most this many readings are kept (default 4 096). */
  readonly maxReadings?: number;
  /** Default widening of a pass's window, ms each side (default 1 500). */
  readonly slackMs?: number;
}

const round1 = (n: number): number => Math.round(n * 10) / 10;

export class SpeedBuffer {
  private readonly items: { at: number; reading: SpeedReading }[] = [];
  private readonly keepMs: number;
  private readonly maxReadings: number;
  private readonly slackMs: number;

  constructor(options: SpeedBufferOptions = {}) {
    this.keepMs = options.keepMs ?? 120_000;
    this.maxReadings = options.maxReadings ?? 4_096;
    this.slackMs = options.slackMs ?? 1_500;
  }

  add(reading: SpeedReading, at: number): void {
    // Readings arrive in time order from one port; an out-of-order time is placed where it belongs.
    let i = this.items.length;
    while (i > 0 && (this.items[i - 1] as { at: number }).at > at) i--;
    this.items.splice(i, 0, { at, reading });
    const horizon = (this.items[this.items.length - 1] as { at: number }).at - this.keepMs;
    let drop = 0;
    while (drop < this.items.length && ((this.items[drop] as { at: number }).at < horizon || this.items.length - drop > this.maxReadings)) drop++;
    if (drop) this.items.splice(0, drop);
  }

  get size(): number {
    return this.items.length;
  }

  /** The speed of the vehicle seen from `firstSeen` to `lastSeen`, or undefined when the radar measured nothing then. */
  speedFor(firstSeen: number, lastSeen: number, slackMs = this.slackMs): PassSpeed | undefined {
    if (!(lastSeen >= firstSeen)) throw new RangeError(`speedFor: lastSeen (${lastSeen}) is before firstSeen (${firstSeen})`);
    const from = firstSeen - slackMs;
    const to = lastSeen + slackMs;
    const hits = this.items.filter((x) => x.at >= from && x.at <= to);
    if (!hits.length) return undefined;
    let best = hits[0] as { at: number; reading: SpeedReading };
    for (const h of hits) if (h.reading.kmh > best.reading.kmh) best = h;
    const sorted = hits.map((h) => h.reading.kmh).sort((a, b) => a - b);
    const mid = sorted.length >> 1;
    const median = sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
    const votes = new Map<Travel, number>();
    for (const h of hits) votes.set(h.reading.direction, (votes.get(h.reading.direction) ?? 0) + 1);
    const direction = [...votes.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? 'unknown';
    return { kmh: round1(best.reading.kmh), medianKmh: round1(median), samples: hits.length, direction, at: best.at };
  }
}
