/**
 * The trusted clock that retention, audit times and the storage day of every record come from.
 * A Pi has no RTC: it boots at the time fake-hwclock saved, NTP steps it later, and anything
 * that can spoof NTP can step it anywhere. So the clock keeps its own reckoning — the last trusted
 * time (persisted every minute) plus monotonic time elapsed since — and follows the system clock
 * only where the two agree:
 *   - within `slewMs` either way: follow it (status `trusted`), never stepping backwards;
 *   - ahead by up to `maxBootJumpMs` within `bootWindowMs` of start: accept once (the device was
 *     switched off; NTP has just caught up);
 *   - anything else (behind, or too far ahead): refuse, keep counting from the last trusted time,
 *     status `unsynchronised`, raise `clock.jump-refused`. A clock rolled back therefore neither
 *     stops retention (our reckoning keeps moving) nor files new records in the past; a clock
 *     rolled forward purges nothing early. `attest()` is the way back for a far jump: a time from
 *     an authenticated source (a signed dispatch command, later).
 * With no persisted time (first boot) the system clock is taken as it is (status `system`),
 * unless it is before `floor` (a Pi at 1970), in which case the first plausible reading is.
 */
import type { EventSink } from '../events.ts';

export type ClockStatus = 'trusted' | 'system' | 'unsynchronised';

export interface ClockSource {
  /** Wall clock, ms since epoch (Date.now). */
  wall(): number;
  /** Monotonic ms (performance.now); only differences are used. */
  monotonic(): number;
}

export const systemClockSource: ClockSource = { wall: () => Date.now(), monotonic: () => performance.now() };

export interface TrustedClockOptions {
  readonly source?: ClockSource;
  /** Last trusted time saved by a previous run. */
  readonly persisted?: number;
  readonly slewMs?: number;
  readonly maxBootJumpMs?: number;
  readonly bootWindowMs?: number;
  /** Earliest plausible time (the build date): a wall clock before it is not believed. */
  readonly floor?: number;
  readonly events?: EventSink;
}

export interface Clock {
  now(): number;
  status(): ClockStatus;
  /** A GPS receiver's UTC (TrustedClock); clocks without the notion (fixed test clocks) lack it. */
  gpsTime?(utcMs: number, monoAt?: number): boolean;
}

export const DEFAULT_FLOOR = Date.parse('2026-01-01T00:00:00Z');

export class TrustedClock implements Clock {
  private readonly source: ClockSource;
  private readonly slewMs: number;
  private readonly maxBootJumpMs: number;
  private readonly bootWindowMs: number;
  private readonly floor: number;
  private readonly startMono: number;
  private anchorWall: number;
  private anchorMono: number;
  private last = 0;
  private state: ClockStatus;
  /** Awaiting a first plausible wall reading (no persisted time and a wall clock before floor). */
  private unanchored: boolean;
  private refusing = false;
  /** Until this monotonic time a GPS fix vouches for the reckoning and the system clock is not consulted. */
  private gpsUntil = -Infinity;
  private gpsRefused = false;

  constructor(private readonly options: TrustedClockOptions = {}) {
    this.source = options.source ?? systemClockSource;
    this.slewMs = options.slewMs ?? 5 * 60_000;
    this.maxBootJumpMs = options.maxBootJumpMs ?? 72 * 3_600_000;
    this.bootWindowMs = options.bootWindowMs ?? 30 * 60_000;
    this.floor = options.floor ?? DEFAULT_FLOOR;
    this.startMono = this.source.monotonic();
    this.anchorMono = this.startMono;
    const wall = this.source.wall();
    if (options.persisted !== undefined) {
      this.anchorWall = options.persisted;
      this.state = 'trusted';
      this.unanchored = false;
    } else {
      this.anchorWall = Math.max(wall, this.floor);
      this.unanchored = wall < this.floor;
      this.state = this.unanchored ? 'unsynchronised' : 'system';
    }
  }

  now(): number {
    const mono = this.source.monotonic();
    const wall = this.source.wall();
    const predicted = this.anchorWall + (mono - this.anchorMono);
    const delta = wall - predicted;
    if (mono <= this.gpsUntil) {
      // GPS time stands (gpsTime): a system clock that disagrees is the one that is wrong.
    } else if (this.unanchored) {
      if (wall >= this.floor) {
        this.unanchored = false;
        this.reanchor(wall, mono, 'system');
      }
    } else if (Math.abs(delta) <= this.slewMs) {
      this.reanchor(wall, mono, this.state === 'system' ? 'system' : 'trusted');
    } else if (delta > 0 && mono - this.startMono <= this.bootWindowMs && delta <= this.maxBootJumpMs) {
      this.emit('clock.jump-accepted', { wall, trusted: predicted, deltaMs: delta });
      this.reanchor(wall, mono, this.state === 'system' ? 'system' : 'trusted');
    } else {
      if (!this.refusing) this.emit('clock.jump-refused', { wall, trusted: predicted, deltaMs: delta });
      this.refusing = true;
      this.state = 'unsynchronised';
    }
    const t = Math.max(this.last, Math.floor(this.anchorWall + (mono - this.anchorMono)));
    this.last = t;
    return t;
  }

  status(): ClockStatus {
    this.now();
    return this.state;
  }

  /**
   * A time from an authenticated source overrides the reckoning (the way back from a refused
   * jump). Readings still never go backwards: an earlier attested time holds them until it passes.
   */
  attest(ms: number, source: string): void {
    const mono = this.source.monotonic();
    this.emit('clock.attested', { attested: ms, trusted: this.anchorWall + (mono - this.anchorMono), source });
    this.anchorWall = ms;
    this.anchorMono = mono;
    this.unanchored = false;
    this.refusing = false;
    this.state = 'trusted';
  }

  /**
   * A GPS receiver's UTC (a trusted source: drivers/gps): `utcMs` was true at monotonic `monoAt`.
   * It anchors the reckoning — quietly when it agrees within `slewMs`, with a `clock.attested`
   * event otherwise — and for `holdMs` afterwards the system clock is not consulted, so a pole
   * without NTP stays `trusted` on GPS alone. A time before `floor` is not believed (a receiver
   * hit by the GPS week rollover reports dates 1024 weeks early): refused, `clock.gps-refused`
   * raised once. Readings still never go backwards. Returns whether the time was taken.
   */
  gpsTime(utcMs: number, monoAt: number = this.source.monotonic(), holdMs = 10 * 60_000): boolean {
    if (!(utcMs >= this.floor)) {
      if (!this.gpsRefused) this.emit('clock.gps-refused', { gps: utcMs, floor: this.floor });
      this.gpsRefused = true;
      return false;
    }
    this.gpsRefused = false;
    const predicted = this.anchorWall + (monoAt - this.anchorMono);
    if (this.state !== 'trusted' || Math.abs(utcMs - predicted) > this.slewMs) {
      this.emit('clock.attested', { attested: utcMs, trusted: predicted, source: 'gps' });
    }
    this.anchorWall = utcMs;
    this.anchorMono = monoAt;
    this.unanchored = false;
    this.refusing = false;
    this.state = 'trusted';
    this.gpsUntil = monoAt + holdMs;
    return true;
  }

  private reanchor(wall: number, mono: number, state: ClockStatus): void {
    this.anchorWall = wall;
    this.anchorMono = mono;
    this.state = state;
    if (this.refusing) this.emit('clock.resynchronised', { wall });
    this.refusing = false;
  }

  private emit(type: string, fields: Record<string, unknown>): void {
    this.options.events?.emit({ type, at: Math.floor(this.anchorWall + (this.source.monotonic() - this.anchorMono)), ...fields });
  }
}

/** A clock for tests and tools: returns what it is set to. */
export class FixedClock implements Clock {
  constructor(public t: number, public state: ClockStatus = 'trusted') {}
  now(): number {
    return this.t;
  }
  status(): ClockStatus {
    return this.state;
  }
}
