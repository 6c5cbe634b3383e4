/** The trusted clock's GPS hook (gateway/store/clock.ts gpsTime), driven by fake time. */
import { describe, expect, it } from 'vitest';
import { TrustedClock } from '../../../gateway/store/clock.ts';
import type { GatewayEvent } from '../../../gateway/events.ts';
import { FakeTime } from '../../helpers/fake-time.ts';

const T0 = Date.parse('2026-11-22T19:30:00.000Z');
const MIN = 60_000;

const sink = (): { events: GatewayEvent[]; emit(e: GatewayEvent): void } => {
  const events: GatewayEvent[] = [];
  return { events, emit: (e) => void events.push(e) };
};

describe('TrustedClock.gpsTime', () => {
  it('a Pi booted at 1970 with no NTP becomes trusted on GPS alone and stays so while fixes come', () => {
    const time = new FakeTime(0);
    const events = sink();
    const clock = new TrustedClock({ source: time, events });
    expect(clock.status()).toBe('unsynchronised');
    expect(clock.gpsTime(T0, time.monotonic())).toBe(true);
    expect(clock.status()).toBe('trusted');
    time.pass(30_000);
    expect(clock.now()).toBe(T0 + 30_000);
    expect(clock.status()).toBe('trusted');
    expect(events.events.filter((e) => e.type === 'clock.attested')).toHaveLength(1);
    expect(events.events.filter((e) => e.type === 'clock.jump-refused')).toHaveLength(0);
  });

  it('without further fixes past the hold, the system clock is consulted again (and refused here)', () => {
    const time = new FakeTime(0);
    const events = sink();
    const clock = new TrustedClock({ source: time, events });
    clock.gpsTime(T0, time.monotonic(), 10 * MIN);
    time.pass(11 * MIN);
    expect(clock.now()).toBe(T0 + 11 * MIN);
    expect(clock.status()).toBe('unsynchronised');
    expect(events.events.map((e) => e.type)).toContain('clock.jump-refused');
    // The next fix brings it back.
    clock.gpsTime(T0 + 11 * MIN, time.monotonic());
    expect(clock.status()).toBe('trusted');
  });

  it('a fix that agrees with a trusted reckoning re-anchors quietly; a far one is attested', () => {
    const time = new FakeTime(T0);
    const events = sink();
    const clock = new TrustedClock({ source: time, persisted: T0, events });
    time.pass(MIN);
    clock.gpsTime(T0 + MIN + 400, time.monotonic());
    expect(events.events).toEqual([]);
    expect(clock.now()).toBe(T0 + MIN + 400);
    clock.gpsTime(T0 + 2 * 3_600_000, time.monotonic());
    expect(events.events.map((e) => e.type)).toEqual(['clock.attested']);
    expect(events.events[0]).toMatchObject({ source: 'gps', attested: T0 + 2 * 3_600_000 });
    expect(clock.now()).toBe(T0 + 2 * 3_600_000);
  });

  it('uses the monotonic time of the sentence, not of the call', () => {
    const time = new FakeTime(T0);
    const clock = new TrustedClock({ source: time, persisted: T0 });
    const arrived = time.monotonic();
    time.pass(250);
    clock.gpsTime(T0 + 1000, arrived);
    expect(clock.now()).toBe(T0 + 1250);
  });

  it('never steps backwards for a fix slightly behind', () => {
    const time = new FakeTime(T0);
    const clock = new TrustedClock({ source: time, persisted: T0 });
    expect(clock.now()).toBe(T0);
    clock.gpsTime(T0 - 2000, time.monotonic());
    expect(clock.now()).toBe(T0);
    time.pass(2500);
    expect(clock.now()).toBe(T0 + 500);
  });

  it('a week-rollover date (1024 weeks early) is refused, once evented, and changes nothing', () => {
    const time = new FakeTime(T0);
    const events = sink();
    const clock = new TrustedClock({ source: time, persisted: T0, events });
    const rolledOver = T0 - 1024 * 7 * 24 * 3_600_000;
    expect(clock.gpsTime(rolledOver, time.monotonic())).toBe(false);
    expect(clock.gpsTime(rolledOver + 1000, time.monotonic())).toBe(false);
    expect(events.events.map((e) => e.type)).toEqual(['clock.gps-refused']);
    expect(clock.now()).toBe(T0);
    expect(clock.status()).toBe('trusted');
  });
});
