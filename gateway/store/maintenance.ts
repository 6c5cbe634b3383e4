/**
 * The store's periodic work, on one tick (every minute by default): sign the chain heads that
 * moved, save the trusted clock's reckoning, check free space; and when their interval has
 * passed on the trusted clock, sign an audit checkpoint and run the retention purge. Timers are
 * injected; tests call `tick()` directly on a fake clock.
 */
import type { StoreCore } from './core.ts';
import { utf8 } from './crypto.ts';
import { SYNC } from './db.ts';
import type { DiskPressure } from './disk-pressure.ts';
import { K } from './layout.ts';
import { purgeDue } from './retention.ts';
import type { Mutex } from './mutex.ts';

export interface MaintenanceTimers {
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

export const systemIntervals: MaintenanceTimers = {
  setInterval: (fn, ms) => setInterval(fn, ms),
  clearInterval: (h) => clearInterval(h as ReturnType<typeof setInterval>),
};

export interface MaintenanceIntervals {
  readonly tickMs: number;
  readonly checkpointMs: number;
  readonly purgeMs: number;
}

export const DEFAULT_INTERVALS: MaintenanceIntervals = { tickMs: 60_000, checkpointMs: 15 * 60_000, purgeMs: 60 * 60_000 };

export class Maintenance {
  private handle: unknown;
  private running: Promise<void> | undefined;
  private lastCheckpoint = -Infinity;
  private lastPurge = -Infinity;

  constructor(
    private readonly core: StoreCore,
    private readonly disk: DiskPressure,
    private readonly lock: Mutex,
    private readonly intervals: MaintenanceIntervals = DEFAULT_INTERVALS,
  ) {}

  /** One round; concurrent calls share it. Failures are reported, never thrown: the next tick retries. */
  tick(): Promise<void> {
    this.running ??= this.round().finally(() => (this.running = undefined));
    return this.running;
  }

  start(timers: MaintenanceTimers = systemIntervals): void {
    if (this.handle !== undefined) return;
    this.handle = timers.setInterval(() => void this.tick(), this.intervals.tickMs);
    (this.handle as { unref?: () => void }).unref?.();
    this.stopTimers = () => timers.clearInterval(this.handle);
    void this.tick();
  }

  async stop(): Promise<void> {
    this.stopTimers();
    this.handle = undefined;
    await this.running;
  }

  /** Saves the trusted clock's reckoning: the next boot starts from it. */
  async saveClock(): Promise<void> {
    await this.core.db.put(K.meta('clock'), utf8(JSON.stringify({ v: 1, t: this.core.clock.now() })), SYNC);
  }

  private stopTimers: () => void = () => undefined;

  private async round(): Promise<void> {
    const { core } = this;
    const step = async (what: string, fn: () => Promise<unknown>): Promise<void> => {
      try {
        await fn();
      } catch (err) {
        core.onError(err, what);
      }
    };
    await step('signing chain heads', () => core.chains.signDirty());
    await step('saving the clock', () => this.saveClock());
    const now = core.clock.now();
    if (now - this.lastCheckpoint >= this.intervals.checkpointMs) {
      this.lastCheckpoint = now;
      await step('audit checkpoint', () => core.audit.checkpoint());
    }
    if (now - this.lastPurge >= this.intervals.purgeMs) {
      this.lastPurge = now;
      await step('retention purge', () => this.lock.run(() => purgeDue(core)));
    }
    await step('disk check', () => this.lock.run(() => this.disk.check()));
  }
}
