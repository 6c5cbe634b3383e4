import { describe, expect, it } from 'vitest';
import { TrustedClock } from '../../../gateway/store/clock.ts';
import { FakeTime } from '../../helpers/fake-time.ts';
import { MemoryEventSink } from './store-events.ts';

const T0 = Date.parse('2026-11-20T12:00:00.000Z');
const H = 3_600_000;


describe('TrustedClock', () => {
  it('follows a system clock that agrees with its reckoning, and never steps back', () => {
    const time = new FakeTime(T0);
    const clock = new TrustedClock({ source: time, persisted: T0 - 1000 });
    expect(clock.now()).toBe(T0);
    expect(clock.status()).toBe('trusted');
    time.pass(1000);
    time.wallMs -= 2000; // NTP steps back two seconds: followed, but readings hold until it passes
    expect(clock.now()).toBe(T0);
    time.pass(1000);
    expect(clock.now()).toBe(T0);
    time.pass(4000);
    expect(clock.now()).toBe(T0 + 4000);
  });

  it('accepts a forward step soon after boot (the device was off), within the limit', () => {
    const events = new MemoryEventSink();
    const time = new FakeTime(T0);
    const clock = new TrustedClock({ source: time, persisted: T0, maxBootJumpMs: 72 * H, bootWindowMs: 30 * 60_000, events });
    time.pass(60_000);
    time.wallMs += 48 * H; // NTP catches up on two days switched off
    expect(clock.now()).toBe(T0 + 60_000 + 48 * H);
    expect(clock.status()).toBe('trusted');
    expect(events.ofType('clock.jump-accepted')).toHaveLength(1);
  });

  it('refuses a jump forward by a year and keeps counting elapsed time from its reckoning', () => {
    const events = new MemoryEventSink();
    const time = new FakeTime(T0);
    const clock = new TrustedClock({ source: time, persisted: T0, events });
    time.wallMs += 365 * 24 * H;
    time.monoMs += 10_000;
    expect(clock.now()).toBe(T0 + 10_000);
    expect(clock.status()).toBe('unsynchronised');
    time.pass(H);
    expect(clock.now()).toBe(T0 + 10_000 + H);
    expect(events.ofType('clock.jump-refused')).toHaveLength(1);
  });

  it('refuses a roll-back by a year; comes back in step when the system clock does', () => {
    const events = new MemoryEventSink();
    const time = new FakeTime(T0);
    const clock = new TrustedClock({ source: time, persisted: T0, events });
    time.wallMs -= 365 * 24 * H;
    time.monoMs += 1_000;
    expect(clock.now()).toBe(T0 + 1_000);
    expect(clock.status()).toBe('unsynchronised');
    time.wallMs = T0 + 2_000;
    time.monoMs += 1_000;
    expect(clock.now()).toBe(T0 + 2_000);
    expect(clock.status()).toBe('trusted');
    expect(events.ofType('clock.resynchronised')).toHaveLength(1);
  });

  it('at first boot takes a plausible system clock as it is, and waits for one when the Pi says 1970', () => {
    const plausible = new TrustedClock({ source: new FakeTime(T0) });
    expect(plausible.now()).toBe(T0);
    expect(plausible.status()).toBe('system');
    const time = new FakeTime(0);
    const clock = new TrustedClock({ source: time, floor: Date.parse('2026-01-01T00:00:00Z') });
    expect(clock.status()).toBe('unsynchronised');
    time.wallMs = T0;
    time.monoMs += 30_000;
    expect(clock.now()).toBe(T0);
    expect(clock.status()).toBe('system');
  });

  it('an attested time (an authenticated source) ends a refusal', () => {
    const time = new FakeTime(T0);
    const clock = new TrustedClock({ source: time, persisted: T0 - 200 * 24 * H });
    time.pass(2 * H);
    expect(clock.status()).toBe('unsynchronised');
    clock.attest(T0 + 2 * H, 'dispatch');
    expect(clock.now()).toBe(T0 + 2 * H);
    expect(clock.status()).toBe('trusted');
  });
});
