import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GpsReceiver } from '../../../drivers/gps/receiver.ts';
import { NmeaFramer, sentence } from '../../../drivers/gps/nmea.ts';
import type { GatewayEvent } from '../../../gateway/events.ts';
import { captureLog } from './log.ts';
import { ManualTimers } from './manual-timers.ts';

const fixture = (name: string): Buffer => readFileSync(new URL(`../../fixtures/nmea/${name}`, import.meta.url));

function setup(opts: { clockEveryMs?: number } = {}) {
  const timers = new ManualTimers();
  let mono = 5_000;
  const feeds: [number, number][] = [];
  const events: GatewayEvent[] = [];
  const receiver = new GpsReceiver({
    timers, monotonic: () => mono, log: captureLog().log, events: { emit: (e) => void events.push(e) },
    clock: (utc, at) => void feeds.push([utc, at]), staleMs: 10_000, ...opts,
  });
  const framer = new NmeaFramer();
  const feed = (bytes: Buffer | string): void => {
    for (const s of framer.push(Buffer.from(bytes))) receiver.handle(s);
  };
  return { timers, receiver, feeds, events, feed, advance: (ms: number) => { mono += ms; timers.t += ms; } };
}

describe('GpsReceiver', () => {
  it('cold start: RTC time without a fix never reaches the clock; the first fix does', () => {
    const { receiver, feeds, events, feed } = setup();
    const bytes = fixture('cold-start.nmea').toString('latin1').split('\r\n');
    feed(`${bytes.slice(0, 3).join('\r\n')}\r\n`);
    expect(receiver.fix()).toBe('none');
    expect(feeds).toEqual([]);
    feed(`${bytes.slice(3).join('\r\n')}`);
    expect(receiver.fix()).toBe('gps');
    expect(feeds.map(([utc]) => new Date(utc).toISOString())).toEqual(['2026-11-22T19:30:10.000Z']);
    expect(feeds[0]?.[1]).toBe(5_000);
    expect(events.map((e) => e.type)).toEqual(['gps.fix-acquired']);
    const status = receiver.status();
    expect(status).toMatchObject({ fix: 'gps', satellites: 6, hdop: 1.91, altitude: 12, clockFeeds: 1, decodeErrors: 0 });
    expect(status.position?.latitude).toBeCloseTo(37.8044, 4);
    expect(status.position?.longitude).toBeCloseTo(-122.2712, 4);
  });

  it('a DGPS stream feeds the clock once per clockEveryMs, not per sentence', () => {
    const { receiver, feeds, feed, advance } = setup({ clockEveryMs: 2_000 });
    const lines = fixture('ublox-m8-3s.nmea').toString('latin1').split('\r\n').filter(Boolean);
    for (let second = 0; second < 3; second++) {
      feed(`${lines.slice(second * 11, second * 11 + 11).join('\r\n')}\r\n`);
      advance(1_000);
    }
    expect(receiver.fix()).toBe('dgps');
    expect(feeds.map(([utc]) => new Date(utc).toISOString())).toEqual(['2026-11-22T19:30:00.000Z', '2026-11-22T19:30:02.000Z']);
  });

  it('the fix is lost when sentences stop (receiver unplugged), with an event; position is kept', () => {
    const { receiver, events, feed, timers } = setup();
    feed(fixture('cold-start.nmea'));
    expect(receiver.fix()).toBe('gps');
    timers.fireAll();
    expect(receiver.fix()).toBe('none');
    expect(events.map((e) => e.type)).toEqual(['gps.fix-acquired', 'gps.fix-lost']);
    expect(receiver.lastPosition()?.latitude).toBeCloseTo(37.8044, 4);
  });

  it('GGA quality 0 after a fix is a loss; estimated (dead reckoning) is not a measured fix and its ZDA is not believed', () => {
    const { receiver, events, feeds, feed } = setup({ clockEveryMs: 0 });
    feed(fixture('cold-start.nmea'));
    feeds.length = 0;
    feed(`${sentence('GNGGA,193011.00,3748.26400,N,12216.27200,W,6,00,99.0,12.0,M,-32.1,M,,')}\r\n${sentence('GNZDA,193011.00,22,11,2026,00,00')}\r\n`);
    expect(receiver.fix()).toBe('estimated');
    expect(feeds).toEqual([]);
    expect(events.map((e) => e.type)).toEqual(['gps.fix-acquired', 'gps.fix-lost']);
  });

  it('a receiver that sends only RMC: validity comes from RMC', () => {
    const { receiver, feed } = setup();
    feed(`${sentence('GPRMC,193000.00,A,3748.264,N,12216.272,W,0.0,,221126,,')}\r\n`);
    expect(receiver.fix()).toBe('gps');
    feed(`${sentence('GPRMC,193001.00,V,,,,,,,221126,,')}\r\n`);
    expect(receiver.fix()).toBe('none');
  });

  it('sentences that check out but carry nonsense are counted, not applied', () => {
    const { receiver, feed } = setup();
    feed(`${sentence('GPGGA,123519,4860.000,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,')}\r\n`);
    expect(receiver.fix()).toBe('none');
    expect(receiver.status()).toMatchObject({ decodeErrors: 1, lastDecodeError: expect.stringMatching(/GGA: bad position/) as unknown as string });
  });
});
