/**
 * Drains the outbox to the broker: in order (priority, then sequence), at most `window` entries
 * in flight at once (flow control: a reconnect after a long outage does not dump the whole
 * backlog onto the link), each re-sent with capped exponential backoff until it is acknowledged.
 * A hit or an event is acknowledged by dispatch's signed ack (`ack(id)`); the status by the
 * broker's PUBACK (it is retained and replaced, not kept). On reconnect everything unacked is sent again at once,
 * in order: a broker that restarted without persistence has lost it.
 *
 * An entry unacked for longer than `escalateAfterMs` is escalated (once per process) so that a
 * hit stuck on the pole is seen by someone.
 */
import type { Logger } from 'pino';
import type { Outbox, OutboxEntry, OutboxEntryMeta } from './outbox.ts';

export interface SenderLink {
  readonly connected: boolean;
  /** QoS 1; resolves on PUBACK. */
  publish(topic: string, payload: string | Buffer): Promise<void>;
}

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realTimers: Timers = {
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export interface SenderOptions {
  /** Entries sent and not yet acknowledged, at most. */
  readonly window: number;
  /** First re-send after this long without an ack; doubles per attempt … */
  readonly ackTimeoutMs: number;
  /** … up to this. */
  readonly maxBackoffMs: number;
  readonly escalateAfterMs: number;
}

export interface SenderDeps {
  readonly outbox: Outbox;
  readonly link: SenderLink;
  /** Turns an entry into what goes on the wire for this attempt (hits: stamped, signed, encrypted). */
  readonly encode: (entry: OutboxEntry, attempt: number) => Promise<{ topic: string; payload: string | Buffer }>;
  readonly onEscalate: (entry: OutboxEntryMeta, attempts: number, ageMs: number) => void;
  /** An entry that cannot be read back (integrity failure): reported, skipped, kept on disk. */
  readonly onUnreadable: (entry: OutboxEntryMeta, err: Error) => void;
  readonly now: () => number;
  readonly timers: Timers;
  /** 0–1, for backoff jitter. */
  readonly random: () => number;
  readonly log: Logger;
}

interface Flight {
  attempts: number;
  inFlight: boolean;
  /** Not before this (after a timeout the entry waits out its backoff). */
  dueAt: number;
  timer: unknown;
  escalated: boolean;
  unreadable: boolean;
}

export interface SenderStats {
  sent: number;
  resent: number;
  acked: number;
  escalated: number;
}

export class OutboxSender {
  private readonly flights = new Map<string, Flight>();
  private inFlight = 0;
  private stopped = false;
  private wakeTimer: unknown;
  private wakeAt = Infinity;
  readonly stats: SenderStats = { sent: 0, resent: 0, acked: 0, escalated: 0 };

  constructor(private readonly deps: SenderDeps, private readonly opts: SenderOptions) {
    if (!(opts.window >= 1)) throw new RangeError('sender window: at least 1');
  }

  /** Backoff before the (attempts+1)th send: ackTimeout·2^(attempts−1), capped, ±10 % jitter. */
  backoffMs(attempts: number): number {
    const base = Math.min(this.opts.ackTimeoutMs * 2 ** Math.max(0, attempts - 1), this.opts.maxBackoffMs);
    return Math.round(base * (0.9 + 0.2 * this.deps.random()));
  }

  /** Call on every (re)connect: whatever was in flight is sent again, in order. */
  onConnect(): void {
    for (const f of this.flights.values()) {
      if (f.timer !== undefined) this.deps.timers.clearTimeout(f.timer);
      f.timer = undefined;
      f.inFlight = false;
      f.dueAt = 0;
    }
    this.inFlight = 0;
    this.pump();
  }

  /** Dispatch acknowledged `id` (verified by the caller): it leaves the outbox. */
  async ack(id: string): Promise<boolean> {
    const f = this.flights.get(id);
    if (f) this.settle(id, f);
    const removed = await this.deps.outbox.remove(id);
    if (removed) this.stats.acked++;
    this.pump();
    return removed;
  }

  /** Something new was queued (or a slot freed): send what the window allows, in order. */
  pump(): void {
    if (this.stopped) return;
    const { outbox, link, now } = this.deps;
    if (!link.connected) return; // onConnect pumps
    const t = now();
    let nextDue = Infinity;
    for (const meta of outbox.ordered()) {
      // Full window: whatever settles next (an ack or a timeout) pumps again.
      if (this.inFlight >= this.opts.window) break;
      const f = this.flight(meta.id);
      if (f.inFlight || f.unreadable) continue;
      if (f.dueAt > t) {
        nextDue = Math.min(nextDue, f.dueAt);
        continue;
      }
      this.send(meta, f);
    }
    this.wake(nextDue);
  }

  /**
   * Raises an escalation for each entry unacked past `escalateAfterMs` (once per entry per
   * process); returns when the next one falls due. Run by a timer the owner starts.
   */
  checkEscalations(): number {
    const t = this.deps.now();
    let next = Infinity;
    for (const meta of this.deps.outbox.ordered()) {
      const f = this.flight(meta.id);
      if (f.escalated) continue;
      const due = meta.queuedAt + this.opts.escalateAfterMs;
      if (due <= t) {
        f.escalated = true;
        this.stats.escalated++;
        this.deps.onEscalate(meta, f.attempts, t - meta.queuedAt);
      } else {
        next = Math.min(next, due);
      }
    }
    return next;
  }

  /** Starts the escalation watch: checked when the oldest entry falls due, at least every minute. */
  start(): void {
    const tick = (): void => {
      if (this.stopped) return;
      const next = this.checkEscalations();
      const wait = Math.min(60_000, Math.max(1_000, next - this.deps.now()));
      this.escalationTimer = this.deps.timers.setTimeout(tick, wait);
    };
    tick();
  }

  private escalationTimer: unknown;

  private flight(id: string): Flight {
    let f = this.flights.get(id);
    if (!f) {
      f = { attempts: 0, inFlight: false, dueAt: 0, timer: undefined, escalated: false, unreadable: false };
      this.flights.set(id, f);
    }
    return f;
  }

  private send(meta: OutboxEntryMeta, f: Flight): void {
    f.inFlight = true;
    f.attempts++;
    this.inFlight++;
    if (f.attempts > 1) this.stats.resent++;
    else this.stats.sent++;
    const attempt = f.attempts;
    f.timer = this.deps.timers.setTimeout(() => {
      // No ack in time: free the slot; the entry is sent again after its backoff.
      f.timer = undefined;
      if (!f.inFlight) return;
      f.inFlight = false;
      this.inFlight--;
      f.dueAt = this.deps.now() + this.backoffMs(attempt) - this.opts.ackTimeoutMs;
      this.pump();
    }, this.opts.ackTimeoutMs);
    this.transmit(meta, f, attempt);
  }

  /**
   * Reads, encodes and hands each entry to the link one after another, so the wire order is the
   * send order (concurrent reads would finish in any order); PUBACKs are awaited concurrently.
   */
  private line: Promise<void> = Promise.resolve();

  private transmit(meta: OutboxEntryMeta, f: Flight, attempt: number): void {
    // Boxed: awaiting a bare promise of the PUBACK here would hold the line until it came.
    let published: { puback: Promise<void> } | undefined;
    this.line = this.line.then(async () => {
      published = await this.prepare(meta, f, attempt);
    });
    void this.line.then(() => published && this.confirmed(meta, f, attempt, published.puback));
  }

  private async prepare(meta: OutboxEntryMeta, f: Flight, attempt: number): Promise<{ puback: Promise<void> } | undefined> {
    const { outbox, link, encode } = this.deps;
    if (this.stopped || !f.inFlight || f.attempts !== attempt) return undefined; // superseded meanwhile
    let wire: { topic: string; payload: string | Buffer };
    try {
      const entry = await outbox.read(meta.id);
      if (!entry) {
        this.forget(meta.id);
        return undefined;
      }
      wire = await encode(entry, attempt);
    } catch (err) {
      f.unreadable = true;
      this.settle(meta.id, f, false);
      this.deps.onUnreadable(meta, err as Error);
      this.pump();
      return undefined;
    }
    const puback = link.publish(wire.topic, wire.payload);
    puback.catch(() => undefined); // handled in confirmed()
    return { puback };
  }

  private async confirmed(meta: OutboxEntryMeta, f: Flight, attempt: number, published: Promise<void>): Promise<void> {
    try {
      await published;
    } catch (err) {
      // The link dropped: the reconnect sends it again. Nothing else to do here.
      this.deps.log.debug({ id: meta.id, err: (err as Error).message }, 'publish not acknowledged by the broker');
      return;
    }
    // Dispatch does not acknowledge the status: the broker's PUBACK is as far as it goes.
    if (meta.kind === 'status' && this.flights.get(meta.id) === f && f.attempts === attempt) {
      this.settle(meta.id, f);
      await this.deps.outbox.remove(meta.id);
      this.pump();
    }
  }

  /** The entry is no longer in flight; with `drop`, its bookkeeping goes too. */
  private settle(id: string, f: Flight, drop = true): void {
    if (f.timer !== undefined) this.deps.timers.clearTimeout(f.timer);
    f.timer = undefined;
    if (f.inFlight) {
      f.inFlight = false;
      this.inFlight--;
    }
    if (drop) this.flights.delete(id);
  }

  private forget(id: string): void {
    const f = this.flights.get(id);
    if (f) this.settle(id, f);
  }

  private wake(at: number): void {
    if (at === Infinity || at >= this.wakeAt) return;
    if (this.wakeTimer !== undefined) this.deps.timers.clearTimeout(this.wakeTimer);
    this.wakeAt = at;
    this.wakeTimer = this.deps.timers.setTimeout(() => {
      this.wakeTimer = undefined;
      this.wakeAt = Infinity;
      this.pump();
    }, Math.max(0, at - this.deps.now()));
  }

  /** Entries sent and awaiting an ack. */
  get pending(): number {
    return this.inFlight;
  }

  stop(): void {
    this.stopped = true;
    for (const f of this.flights.values()) if (f.timer !== undefined) this.deps.timers.clearTimeout(f.timer);
    if (this.wakeTimer !== undefined) this.deps.timers.clearTimeout(this.wakeTimer);
    if (this.escalationTimer !== undefined) this.deps.timers.clearTimeout(this.escalationTimer);
  }
}
