/**
 * Logical lines over raw backend lines. Debouncing lives here rather than in the backend (onoff
 * has its own, on real timers) so a switch bounces the same way on every backend and tests
 * settle it with fake time: an edge starts a quiet period of `debounceMs`; each further edge
 * restarts it; when it ends, the level then present becomes the value if it differs.
 */
import type { Timers } from '../camera/timers.ts';
import type { DigitalInput, DigitalOutput, Level, RawInputLine, RawOutputLine } from './types.ts';

const logical = (level: Level, activeLow: boolean): boolean => (level === 1) !== activeLow;

export interface DebouncedInputOptions {
  readonly name: string;
  readonly activeLow?: boolean | undefined;
  /** Quiet period before an edge counts, ms; 0 passes every edge through at once. */
  readonly debounceMs: number;
  readonly timers: Timers;
}

export class DebouncedInput implements DigitalInput {
  readonly name: string;
  private readonly activeLow: boolean;
  private current: boolean;
  private latest: Level;
  private pending: unknown;
  private closed = false;
  private readonly listeners = new Set<(value: boolean, at: number) => void>();

  constructor(private readonly raw: RawInputLine, private readonly options: DebouncedInputOptions) {
    if (!(options.debounceMs >= 0)) throw new RangeError(`${options.name}: debounceMs must be ≥ 0`);
    this.name = options.name;
    this.activeLow = options.activeLow ?? false;
    this.latest = raw.read();
    this.current = logical(this.latest, this.activeLow);
    raw.watch((level) => this.edge(level));
  }

  value(): boolean {
    return this.current;
  }

  onChange(listener: (value: boolean, at: number) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.pending !== undefined) this.options.timers.clearTimeout(this.pending);
    this.pending = undefined;
    this.listeners.clear();
    this.raw.close();
  }

  private edge(level: Level): void {
    if (this.closed) return;
    this.latest = level;
    if (this.options.debounceMs === 0) {
      this.settle();
      return;
    }
    if (this.pending !== undefined) this.options.timers.clearTimeout(this.pending);
    this.pending = this.options.timers.setTimeout(() => {
      this.pending = undefined;
      this.settle();
    }, this.options.debounceMs);
  }

  private settle(): void {
    const value = logical(this.latest, this.activeLow);
    if (value === this.current) return;
    this.current = value;
    const at = this.options.timers.now();
    for (const listener of [...this.listeners]) listener(value, at);
  }
}

export class LineOutput implements DigitalOutput {
  private readonly activeLow: boolean;
  private closed = false;

  constructor(readonly name: string, private readonly raw: RawOutputLine, activeLow?: boolean) {
    this.activeLow = activeLow ?? false;
  }

  value(): boolean {
    return logical(this.raw.read(), this.activeLow);
  }

  set(value: boolean): void {
    if (this.closed) throw new Error(`${this.name}: output is closed`);
    this.raw.write(value !== this.activeLow ? 1 : 0);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.raw.close();
  }
}

/** The electrical level that makes `value` logical for a line (for an output's initial state). */
export function levelFor(value: boolean, activeLow?: boolean): Level {
  return value !== (activeLow ?? false) ? 1 : 0;
}
