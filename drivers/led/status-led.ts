/**
 * The status LED. Several parts raise a condition (`raise('tamper', 'fault')`) and clear it; the
 * LED shows the most urgent pattern among those raised, `ok` when none is. Blinking runs on the
 * injected timers, one step at a time.
 */
import type { Timers } from '../camera/timers.ts';
import type { DigitalOutput } from '../gpio/types.ts';
import { LED_PATTERNS, LED_SEVERITY, type LedPattern } from './patterns.ts';

export interface LedStatus {
  readonly pattern: LedPattern;
  readonly conditions: Readonly<Record<string, LedPattern>>;
}

export class StatusLed {
  private readonly conditions = new Map<string, LedPattern>();
  private shown: LedPattern | undefined;
  private step = 0;
  private timer: unknown;
  private stopped = false;

  constructor(private readonly output: DigitalOutput, private readonly timers: Timers) {}

  start(): void {
    this.show();
  }

  raise(source: string, pattern: LedPattern): void {
    this.conditions.set(source, pattern);
    this.show();
  }

  clear(source: string): void {
    if (this.conditions.delete(source)) this.show();
  }

  pattern(): LedPattern {
    let best: LedPattern = 'ok';
    for (const p of this.conditions.values()) if (LED_SEVERITY[p] > LED_SEVERITY[best]) best = p;
    return best;
  }

  status(): LedStatus {
    return { pattern: this.pattern(), conditions: Object.fromEntries(this.conditions) };
  }

  /** Stops blinking and leaves the LED off. */
  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
    this.output.set(false);
  }

  private show(): void {
    if (this.stopped) return;
    const pattern = this.pattern();
    if (pattern === this.shown) return;
    this.shown = pattern;
    this.step = 0;
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.run();
  }

  private run(): void {
    const steps = LED_PATTERNS[this.shown ?? 'ok'];
    const [on, ms] = steps[this.step % steps.length] as readonly [boolean, number];
    this.output.set(on);
    this.step = (this.step + 1) % steps.length;
    this.timer = this.timers.setTimeout(() => this.run(), ms);
  }
}
