/**
 * P3 freshness: lists are refreshed at least daily. Past the policy age the device raises a
 * `hotlist-stale` event (once per list version, then again every `repeatMs` while it stays
 * stale) and, when a newer list ends the stale spell, `hotlist-fresh`. Every hit carries the
 * list's version and age in its Match (matcher.ts), stale or not.
 */
import type { EventSink } from '../types.ts';
import type { ListInfo } from './matcher.ts';

export interface Timers {
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

export interface FreshnessDeps {
  /** The list in force now (lists are swapped while running). */
  readonly list: () => ListInfo;
  readonly events: EventSink;
  readonly now: () => number;
  readonly maxAgeMs: number;
  /** How often to look; default a minute. */
  readonly checkEveryMs?: number;
  /** Reminder period while stale; default 6 hours. */
  readonly repeatMs?: number;
  readonly timers?: Timers;
}

const realTimers: Timers = {
  // unref: a watch must not keep a process alive that is otherwise done (a failed boot).
  setInterval: (fn, ms) => setInterval(fn, ms).unref(),
  clearInterval: (handle) => clearInterval(handle as NodeJS.Timeout),
};

export class FreshnessMonitor {
  private handle: unknown;
  private staleVersion: string | undefined;
  private lastStaleEvent = -Infinity;

  constructor(private readonly deps: FreshnessDeps) {}

  start(): void {
    this.check();
    const timers = this.deps.timers ?? realTimers;
    this.handle = timers.setInterval(() => this.check(), this.deps.checkEveryMs ?? 60_000);
  }

  stop(): void {
    if (this.handle !== undefined) (this.deps.timers ?? realTimers).clearInterval(this.handle);
    this.handle = undefined;
  }

  /** Age of the list in force, ms (never negative: a list stamped in the future counts as new). */
  age(): number {
    return Math.max(0, this.deps.now() - this.deps.list().generatedAt);
  }

  check(): void {
    const list = this.deps.list();
    const now = this.deps.now();
    const ageMs = Math.max(0, now - list.generatedAt);
    const base = { listId: list.listId, listVersion: list.version, generatedAt: list.generatedAt, ageMs, maxAgeMs: this.deps.maxAgeMs };
    if (ageMs > this.deps.maxAgeMs) {
      const repeat = this.deps.repeatMs ?? 6 * 3600_000;
      if (this.staleVersion !== list.version || now - this.lastStaleEvent >= repeat) {
        this.deps.events.emit({ type: 'hotlist-stale', at: now, ...base });
        this.staleVersion = list.version;
        this.lastStaleEvent = now;
      }
    } else if (this.staleVersion !== undefined) {
      this.deps.events.emit({ type: 'hotlist-fresh', at: now, ...base });
      this.staleVersion = undefined;
      this.lastStaleEvent = -Infinity;
    }
  }
}
