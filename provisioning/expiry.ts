/**
 * Watches the device certificate: alarms at 30, 7 and 1 days before expiry (status and events),
 * renewal at two thirds of its lifetime, and a clear "expired" state with the way back (a device
 * whose certificate has expired cannot renew itself: security staff issue a new token). Runs on
 * an injected clock and timers, so tests move time instead of waiting for it.
 */
import type { X509Certificate } from 'node:crypto';
import type { EventSink } from '../gateway/events.ts';
import { notAfterMs, notBeforeMs, serialHex } from './x509.ts';

export type ExpiryAlarm = 'none' | '30d' | '7d' | '1d' | 'expired';
const DAY = 86_400_000;

export interface CertificateStatus {
  readonly state: 'unprovisioned' | 'valid' | 'expiring' | 'expired';
  readonly serial?: string;
  readonly notAfter?: number;
  readonly daysLeft?: number;
  readonly alarm: ExpiryAlarm;
  /** When renewal is due (two thirds of the lifetime by default). */
  readonly renewAt?: number;
  /** What a person must do, when the device cannot help itself. */
  readonly action?: string;
}

export const EXPIRED_ACTION = 'the device certificate has expired: ask security staff for a new enrolment token ("alpr ca issue-token <device>") and set it as ALPR_ENROLMENT_TOKEN (or run "alpr provision --token ...")';
export const UNPROVISIONED_ACTION = 'no device certificate: set a one-time enrolment token from security staff as ALPR_ENROLMENT_TOKEN';

/** Which alarm holds at `now` for a certificate expiring at `notAfter`. */
export function expiryAlarm(notAfter: number, now: number, thresholdsDays: readonly number[] = [30, 7, 1]): ExpiryAlarm {
  const left = notAfter - now;
  if (left <= 0) return 'expired';
  const sorted = [...thresholdsDays].sort((a, b) => a - b);
  const hit = sorted.find((d) => left <= d * DAY);
  return hit === undefined ? 'none' : (`${hit}d` as ExpiryAlarm);
}

export function certificateStatus(leaf: X509Certificate | undefined, now: number, renewAtFraction = 2 / 3, thresholdsDays?: readonly number[]): CertificateStatus {
  if (!leaf) return { state: 'unprovisioned', alarm: 'none', action: UNPROVISIONED_ACTION };
  const notAfter = notAfterMs(leaf);
  const notBefore = notBeforeMs(leaf);
  const alarm = expiryAlarm(notAfter, now, thresholdsDays);
  const base = { serial: serialHex(leaf), notAfter, daysLeft: Math.floor((notAfter - now) / DAY), alarm, renewAt: notBefore + Math.round((notAfter - notBefore) * renewAtFraction) };
  if (alarm === 'expired') return { ...base, state: 'expired', action: EXPIRED_ACTION };
  return { ...base, state: alarm === 'none' ? 'valid' : 'expiring' };
}

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface WatchDeps {
  readonly current: () => Promise<X509Certificate | undefined>;
  readonly events: EventSink;
  readonly now: () => number;
  readonly timers: Timers;
  /** Starts a renewal (the rotator); resolves true when the new certificate is committed. */
  readonly renew: () => Promise<boolean>;
  readonly renewAtFraction?: number;
  readonly thresholdsDays?: readonly number[];
  /** How often to look (default hourly); a failed renewal retries with backoff from this, capped at 6 h. */
  readonly checkEveryMs?: number;
}

const SEVERITY: Record<ExpiryAlarm, number> = { none: 0, '30d': 1, '7d': 2, '1d': 3, expired: 4 };

export class CertificateWatch {
  private raised = new Map<string, ExpiryAlarm>();
  private latest: CertificateStatus = { state: 'unprovisioned', alarm: 'none', action: UNPROVISIONED_ACTION };
  private timer: unknown;
  private failures = 0;
  private nextRenewalTry = 0;
  private stopped = true;

  constructor(private readonly deps: WatchDeps) {}

  /** The last status computed, for the retained status and `alpr status`. */
  status(): CertificateStatus {
    return this.latest;
  }

  /** Looks once: raises each alarm once per certificate as it is crossed, renews when due. */
  async check(): Promise<CertificateStatus> {
    const { events, now } = this.deps;
    const leaf = await this.deps.current();
    const status = certificateStatus(leaf, now(), this.deps.renewAtFraction, this.deps.thresholdsDays);
    this.latest = status;
    if (status.serial === undefined) return status;
    const previous = this.raised.get(status.serial) ?? 'none';
    if (SEVERITY[status.alarm] > SEVERITY[previous]) {
      this.raised.set(status.serial, status.alarm);
      if (status.alarm === 'expired') {
        events.emit({ type: 'cert-expired', at: now(), serial: status.serial, notAfter: status.notAfter, action: EXPIRED_ACTION });
      } else {
        events.emit({ type: 'cert-expiring', at: now(), serial: status.serial, notAfter: status.notAfter, daysLeft: status.daysLeft, threshold: status.alarm });
      }
    }
    if (status.state !== 'expired' && status.renewAt !== undefined && now() >= status.renewAt && now() >= this.nextRenewalTry) {
      const ok = await this.deps.renew().catch(() => false);
      if (ok) {
        this.failures = 0;
        this.nextRenewalTry = 0;
        return this.check();
      }
      this.failures++;
      this.nextRenewalTry = now() + Math.min((this.deps.checkEveryMs ?? 3_600_000) * 2 ** (this.failures - 1), 6 * 3_600_000);
    }
    return status;
  }

  start(): void {
    this.stopped = false;
    const loop = (): void => {
      this.check().catch((err: unknown) => {
        // an unreadable identity file: say so, and look again next time
        this.deps.events.emit({ type: 'cert-check-failed', at: this.deps.now(), error: (err as Error).message });
      }).finally(() => {
        if (!this.stopped) this.timer = this.deps.timers.setTimeout(loop, this.deps.checkEveryMs ?? 3_600_000);
      });
    };
    loop();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) this.deps.timers.clearTimeout(this.timer);
  }
}
