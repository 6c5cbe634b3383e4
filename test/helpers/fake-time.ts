/** A settable wall clock beside a monotonic clock that only moves forward: the trusted clock's source in tests. */
import type { ClockSource } from '../../gateway/store/clock.ts';

export class FakeTime implements ClockSource {
  constructor(public wallMs: number, public monoMs = 1_000) {}
  wall(): number {
    return this.wallMs;
  }
  monotonic(): number {
    return this.monoMs;
  }
  /** Both clocks move on together, as they do when nobody touches the system clock. */
  pass(ms: number): void {
    this.wallMs += ms;
    this.monoMs += ms;
  }
}
