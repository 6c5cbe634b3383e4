/** Expiry alarms and renewal timing on a fake clock: each alarm once, renewal at two thirds, the expired state and its way back. */
import type { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { GatewayEvent } from '../../../gateway/events.ts';
import { CertificateWatch, certificateStatus, expiryAlarm, EXPIRED_ACTION, type Timers } from '../../../provisioning/expiry.ts';
import { generateP256Key, notAfterMs, serialHex } from '../../../provisioning/x509.ts';
import { DAY, TestCa } from './fixtures.ts';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const ca = new TestCa('Expiry CA', T0);

class FakeTimers implements Timers {
  pending: { fn: () => void; at: number }[] = [];
  constructor(private readonly clock: { t: number }) {}
  setTimeout(fn: () => void, ms: number): unknown {
    const entry = { fn, at: this.clock.t + ms };
    this.pending.push(entry);
    return entry;
  }
  clearTimeout(handle: unknown): void {
    this.pending = this.pending.filter((p) => p !== handle);
  }
}

describe('expiryAlarm', () => {
  it('names the tightest threshold crossed', () => {
    const notAfter = T0 + 90 * DAY;
    expect(expiryAlarm(notAfter, T0)).toBe('none');
    expect(expiryAlarm(notAfter, notAfter - 30 * DAY)).toBe('30d');
    expect(expiryAlarm(notAfter, notAfter - 8 * DAY)).toBe('30d');
    expect(expiryAlarm(notAfter, notAfter - 7 * DAY)).toBe('7d');
    expect(expiryAlarm(notAfter, notAfter - DAY + 1)).toBe('1d');
    expect(expiryAlarm(notAfter, notAfter)).toBe('expired');
  });
});

describe('CertificateWatch on a fake clock', () => {
  it('raises 30 d, 7 d and 1 d alarms once each, then expired with the path back', async () => {
    const clock = { t: T0 };
    const leaf = ca.issue('pole-1', generateP256Key(), T0, 90);
    const events: GatewayEvent[] = [];
    const renewals: number[] = [];
    const watch = new CertificateWatch({
      current: async () => leaf, events: { emit: (e) => events.push(e) }, now: () => clock.t, timers: new FakeTimers(clock),
      // renewal keeps failing (EST unreachable): the alarms must still come
      renew: async () => {
        renewals.push(clock.t);
        return false;
      },
      checkEveryMs: 3_600_000,
    });
    // walk the clock hour by hour through the certificate's life and a day past it
    for (clock.t = T0; clock.t <= notAfterMs(leaf) + DAY; clock.t += 3_600_000) await watch.check();
    const alarms = events.filter((e) => e.type === 'cert-expiring' || e.type === 'cert-expired');
    expect(alarms.map((e) => e['threshold'] ?? e.type)).toEqual(['30d', '7d', '1d', 'cert-expired']);
    expect(alarms[0]!.at).toBe(notAfterMs(leaf) - 30 * DAY);
    expect(alarms[1]!.at).toBe(notAfterMs(leaf) - 7 * DAY);
    expect(alarms[2]!.at).toBe(notAfterMs(leaf) - DAY);
    expect(alarms[3]).toMatchObject({ serial: serialHex(leaf), action: EXPIRED_ACTION });
    expect(watch.status()).toMatchObject({ state: 'expired', alarm: 'expired', action: expect.stringContaining('new enrolment token') });
    // renewal first tried at two thirds of the lifetime, then backed off (1 h, 2 h, 4 h, … capped at 6 h), never after expiry
    expect(renewals[0]).toBe(T0 + 60 * DAY);
    expect(renewals[1]! - renewals[0]!).toBe(3_600_000);
    expect(renewals[2]! - renewals[1]!).toBe(2 * 3_600_000);
    expect(Math.max(...renewals.slice(1).map((t, i) => t - renewals[i]!))).toBe(6 * 3_600_000);
    expect(Math.max(...renewals)).toBeLessThan(notAfterMs(leaf));
  });

  it('a successful renewal moves to the new certificate and its alarms start afresh', async () => {
    const clock = { t: T0 + 61 * DAY };
    let leaf: X509Certificate = ca.issue('pole-1', generateP256Key(), T0, 90);
    const events: GatewayEvent[] = [];
    const watch = new CertificateWatch({
      current: async () => leaf, events: { emit: (e) => events.push(e) }, now: () => clock.t, timers: new FakeTimers(clock),
      renew: async () => {
        leaf = ca.issue('pole-1', generateP256Key(), clock.t, 90);
        return true;
      },
    });
    const status = await watch.check();
    expect(status).toMatchObject({ state: 'valid', serial: serialHex(leaf), daysLeft: 90, alarm: 'none' });
    expect(events.filter((e) => e.type === 'cert-expiring')).toEqual([expect.objectContaining({ threshold: '30d' })]);
  });

  it('start() looks on its timer until stop()', async () => {
    const clock = { t: T0 };
    const timers = new FakeTimers(clock);
    let looks = 0;
    const watch = new CertificateWatch({ current: async () => { looks++; return undefined; }, events: { emit: () => undefined }, now: () => clock.t, timers, renew: async () => false, checkEveryMs: 1000 });
    watch.start();
    await new Promise((r) => setImmediate(r));
    expect(looks).toBe(1);
    expect(timers.pending).toHaveLength(1);
    timers.pending.shift()!.fn();
    await new Promise((r) => setImmediate(r));
    expect(looks).toBe(2);
    watch.stop();
    expect(timers.pending).toHaveLength(0);
    expect(watch.status()).toMatchObject({ state: 'unprovisioned', action: expect.stringContaining('ALPR_ENROLMENT_TOKEN') });
  });

  it('certificateStatus: renewAt at two thirds of the lifetime', () => {
    const leaf = ca.issue('pole-1', generateP256Key(), T0, 90);
    expect(certificateStatus(leaf, T0).renewAt).toBe(T0 + 60 * DAY);
  });
});
