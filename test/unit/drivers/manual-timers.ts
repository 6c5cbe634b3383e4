/** Timers that fire only when the test says so, recording every delay asked for. */
import type { Timers } from '../../../drivers/camera/timers.ts';

export class ManualTimers implements Timers {
  private seq = 0;
  private readonly pending = new Map<number, { fn: () => void; ms: number }>();
  readonly delays: number[] = [];
  t = Date.parse('2026-06-01T12:00:00Z');

  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.pending.set(id, { fn, ms });
    this.delays.push(ms);
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.pending.delete(handle as number);
  }

  now(): number {
    return this.t;
  }

  get count(): number {
    return this.pending.size;
  }

  /** Sets the clock to `t` and runs every pending timer then, whatever its delay. */
  fireAllAt(t: number): void {
    this.t = t;
    const due = [...this.pending.values()];
    this.pending.clear();
    for (const d of due) d.fn();
  }

  /** Runs every timer due now (advancing the clock by the longest delay among them). */
  fireAll(): void {
    const due = [...this.pending.entries()];
    this.pending.clear();
    if (due.length) this.t += Math.max(...due.map(([, d]) => d.ms));
    for (const [, d] of due) d.fn();
  }
}
