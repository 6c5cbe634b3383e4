/**
 * A GPS receiver's state from its sentences: fix quality, position, and UTC time for the trusted
 * clock. Quality comes from GGA (RMC's A/V when a receiver sends no GGA); a fix with no sentence
 * for `staleMs` is lost — an unplugged receiver must not leave a fix standing. UTC from RMC (valid)
 * or ZDA (while the fix is measured) is handed to the clock at most every `clockEveryMs`.
 *
 * Time is taken when the sentence arrives, and the sentence's time is the start of the fix's
 * second: receivers send it some tens to hundreds of ms later, so this clock source is good to
 * about a second (PPS would make it exact; not wired here).
 */
import type { Logger } from 'pino';
import type { Timers } from '../camera/timers.ts';
import type { EventSink } from '../../gateway/events.ts';
import { decode, isMeasuredFix, type GpsFixQuality, type GpsMessage, type Position } from './decode.ts';
import type { NmeaSentence } from './nmea.ts';

export interface GpsReceiverDeps {
  readonly timers: Timers;
  /** Monotonic ms at the sentence's arrival (performance.now). */
  readonly monotonic: () => number;
  readonly log: Logger;
  readonly events?: EventSink;
  /** The trusted clock's GPS hook: UTC `utcMs` was true at monotonic `monoAt`. */
  readonly clock?: (utcMs: number, monoAt: number) => void;
  readonly staleMs?: number;
  readonly clockEveryMs?: number;
}

export interface GpsStatus {
  readonly fix: GpsFixQuality;
  readonly position?: Position;
  readonly satellites?: number;
  readonly hdop?: number;
  readonly altitude?: number;
  /** Wall time the last measured fix arrived. */
  readonly lastFixAt?: number;
  /** UTC the receiver last reported (valid RMC or ZDA). */
  readonly lastUtc?: number;
  readonly sentences: number;
  readonly decodeErrors: number;
  readonly lastDecodeError?: string;
  readonly clockFeeds: number;
}

export class GpsReceiver {
  private quality: GpsFixQuality = 'none';
  private position: Position | undefined;
  private satellites: number | undefined;
  private hdop: number | undefined;
  private altitude: number | undefined;
  private lastFixAt: number | undefined;
  private lastUtc: number | undefined;
  private lastGgaMono = -Infinity;
  private lastFedMono = -Infinity;
  private stale: unknown;
  private counters = { sentences: 0, decodeErrors: 0, clockFeeds: 0 };
  private lastDecodeError: string | undefined;
  private readonly staleMs: number;
  private readonly clockEveryMs: number;
  private readonly positionListeners = new Set<(p: Position) => void>();

  constructor(private readonly deps: GpsReceiverDeps) {
    this.staleMs = deps.staleMs ?? 10_000;
    this.clockEveryMs = deps.clockEveryMs ?? 60_000;
  }

  fix(): GpsFixQuality {
    return this.quality;
  }

  /** The last measured position (kept after the fix is lost: the pole has not moved). */
  lastPosition(): Position | undefined {
    return this.position;
  }

  onPosition(listener: (p: Position) => void): () => void {
    this.positionListeners.add(listener);
    return () => this.positionListeners.delete(listener);
  }

  handle(sentence: NmeaSentence): void {
    const decoded = decode(sentence);
    if (!decoded.ok) {
      if ('reason' in decoded) {
        this.counters.decodeErrors++;
        this.lastDecodeError = decoded.reason;
        this.deps.log.debug({ reason: decoded.reason }, 'NMEA sentence not usable');
      }
      return;
    }
    this.counters.sentences++;
    this.apply(decoded.message, this.deps.monotonic());
  }

  status(): GpsStatus {
    return {
      fix: this.quality,
      ...(this.position ? { position: this.position } : {}),
      ...(this.satellites !== undefined ? { satellites: this.satellites } : {}),
      ...(this.hdop !== undefined ? { hdop: this.hdop } : {}),
      ...(this.altitude !== undefined ? { altitude: this.altitude } : {}),
      ...(this.lastFixAt !== undefined ? { lastFixAt: this.lastFixAt } : {}),
      ...(this.lastUtc !== undefined ? { lastUtc: this.lastUtc } : {}),
      ...this.counters,
      ...(this.lastDecodeError !== undefined ? { lastDecodeError: this.lastDecodeError } : {}),
    };
  }

  stop(): void {
    if (this.stale !== undefined) this.deps.timers.clearTimeout(this.stale);
    this.stale = undefined;
  }

  private apply(m: GpsMessage, mono: number): void {
    switch (m.kind) {
      case 'GGA':
        this.lastGgaMono = mono;
        this.satellites = m.satellites;
        this.hdop = m.hdop;
        this.altitude = m.altitude;
        this.setQuality(m.quality, m.position);
        return;
      case 'RMC':
        // Without GGA, RMC's validity is all there is to go on.
        if (mono - this.lastGgaMono > this.staleMs) this.setQuality(m.valid ? 'gps' : 'none', m.position);
        if (m.valid) this.time(m.utc, mono);
        return;
      case 'ZDA':
        // ZDA has no validity flag: its time counts only while a measured fix stands.
        if (isMeasuredFix(this.quality)) this.time(m.utc, mono);
        return;
      default: {
        const never: never = m;
        throw new Error(`unhandled GPS message ${JSON.stringify(never)}`);
      }
    }
  }

  private setQuality(quality: GpsFixQuality, position: Position | undefined): void {
    const before = this.quality;
    this.quality = quality;
    if (isMeasuredFix(quality)) {
      this.lastFixAt = this.deps.timers.now();
      if (position) {
        this.position = position;
        for (const l of [...this.positionListeners]) l(position);
      }
      this.armStale();
    }
    if (before === quality) return;
    const at = this.deps.timers.now();
    if (isMeasuredFix(quality) && !isMeasuredFix(before)) {
      this.deps.log.info({ fix: quality, satellites: this.satellites }, 'GPS fix acquired');
      this.deps.events?.emit({ type: 'gps.fix-acquired', at, fix: quality, ...(this.satellites !== undefined ? { satellites: this.satellites } : {}) });
    } else if (!isMeasuredFix(quality) && isMeasuredFix(before)) {
      this.lost(at, quality);
    }
  }

  private lost(at: number, quality: GpsFixQuality): void {
    this.deps.log.warn({ fix: quality }, 'GPS fix lost');
    this.deps.events?.emit({ type: 'gps.fix-lost', at, fix: quality });
  }

  private armStale(): void {
    if (this.stale !== undefined) this.deps.timers.clearTimeout(this.stale);
    this.stale = this.deps.timers.setTimeout(() => {
      this.stale = undefined;
      if (!isMeasuredFix(this.quality)) return;
      this.quality = 'none';
      this.lost(this.deps.timers.now(), 'none');
    }, this.staleMs);
  }

  private time(utc: number, mono: number): void {
    this.lastUtc = utc;
    if (!this.deps.clock || mono - this.lastFedMono < this.clockEveryMs) return;
    this.lastFedMono = mono;
    this.counters.clockFeeds++;
    this.deps.clock(utc, mono);
  }
}
