/**
 * The IR illuminator. Automatic control by the sun's position at the site (`schedule`) or by
 * the cameras' measured brightness (`brightness`, falling back to the schedule while no camera
 * reports); a manual override from a signed command wins until it expires or is cancelled.
 * Without a known position (none in config, no GPS fix yet) the schedule cannot decide, and the
 * lamp is lit: a missed night read costs more than a lamp lit by day.
 */
import type { Logger } from 'pino';
import type { Timers } from '../camera/timers.ts';
import type { EventSink } from '../../gateway/events.ts';
import type { DigitalOutput } from '../gpio/types.ts';
import type { BrightnessControl } from './brightness.ts';
import { isDark, nextChange, sunAltitudeDeg, type DarkAt, type SitePosition } from './schedule.ts';

export type IlluminatorReason = 'override' | 'schedule' | 'brightness' | 'no-position';

export interface Override {
  readonly on: boolean;
  readonly until: number;
  readonly by: string;
  readonly reason?: string;
}

export interface IlluminatorStatus {
  readonly on: boolean;
  readonly reason: IlluminatorReason;
  readonly control: 'schedule' | 'brightness';
  readonly override?: Override;
  readonly sunAltitudeDeg?: number;
  readonly brightness?: number;
  readonly nextScheduledChangeAt?: number;
  readonly lastChangeAt?: number;
}

export interface IlluminatorDeps {
  readonly output: DigitalOutput;
  readonly timers: Timers;
  readonly events: EventSink;
  readonly log: Logger;
  readonly control: 'schedule' | 'brightness';
  readonly darkAt: DarkAt;
  /** The site's position: config, else the GPS receiver's last fix. */
  readonly position: () => SitePosition | undefined;
  readonly brightness?: BrightnessControl;
  /** How often the decision is re-taken, ms (default 30 s). */
  readonly checkEveryMs?: number;
}

export class Illuminator {
  private on: boolean;
  private reason: IlluminatorReason = 'no-position';
  private override: Override | undefined;
  private lastChangeAt: number | undefined;
  private timer: unknown;
  private stopped = false;

  constructor(private readonly deps: IlluminatorDeps) {
    this.on = deps.output.value();
  }

  start(): void {
    this.stopped = false;
    this.evaluate();
  }

  /** A camera's mean frame brightness (0–255); re-evaluates at once under brightness control. */
  brightness(cameraId: string, value: number): void {
    if (!this.deps.brightness) return;
    this.deps.brightness.observe(cameraId, value, this.deps.timers.now());
    if (this.deps.control === 'brightness') this.evaluate();
  }

  /** Manual override; `undefined` returns to automatic control. */
  setOverride(override: Override | undefined): void {
    const at = this.deps.timers.now();
    this.override = override;
    this.deps.events.emit({ type: 'illuminator.override', at, ...(override ? { on: override.on, until: override.until, by: override.by, ...(override.reason ? { reason: override.reason } : {}) } : { cleared: true }) });
    this.evaluate();
  }

  status(): IlluminatorStatus {
    const at = this.deps.timers.now();
    const site = this.deps.position();
    const level = this.deps.brightness?.level(at);
    const next = site ? nextChange(at, site, this.deps.darkAt) : undefined;
    return {
      on: this.on,
      reason: this.reason,
      control: this.deps.control,
      ...(this.override ? { override: this.override } : {}),
      ...(site ? { sunAltitudeDeg: Math.round(sunAltitudeDeg(at, site) * 10) / 10 } : {}),
      ...(level !== undefined ? { brightness: level } : {}),
      ...(next !== undefined ? { nextScheduledChangeAt: next } : {}),
      ...(this.lastChangeAt !== undefined ? { lastChangeAt: this.lastChangeAt } : {}),
    };
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) this.deps.timers.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Decides, switches the lamp if needed, and schedules the next decision. */
  evaluate(): void {
    if (this.stopped) return;
    const at = this.deps.timers.now();
    if (this.override && at >= this.override.until) {
      this.deps.log.info({ by: this.override.by }, 'IR override expired; back to automatic');
      this.override = undefined;
    }
    const [on, reason] = this.decide(at);
    this.reason = reason;
    if (on !== this.on) {
      this.deps.output.set(on);
      this.on = on;
      this.lastChangeAt = at;
      this.deps.log.info({ on, reason }, on ? 'IR illuminator on' : 'IR illuminator off');
    }
    if (this.timer !== undefined) this.deps.timers.clearTimeout(this.timer);
    const every = this.deps.checkEveryMs ?? 30_000;
    const wait = this.override ? Math.min(every, Math.max(0, this.override.until - at)) : every;
    this.timer = this.deps.timers.setTimeout(() => {
      this.timer = undefined;
      this.evaluate();
    }, wait);
  }

  private decide(at: number): [boolean, IlluminatorReason] {
    if (this.override) return [this.override.on, 'override'];
    if (this.deps.control === 'brightness' && this.deps.brightness) {
      const dark = this.deps.brightness.decide(at, this.on);
      if (dark !== undefined) return [dark, 'brightness'];
    }
    const site = this.deps.position();
    if (!site) return [true, 'no-position'];
    return [isDark(at, site, this.deps.darkAt), 'schedule'];
  }
}
