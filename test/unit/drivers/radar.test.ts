import { describe, expect, it, vi } from 'vitest';
import { customFormat, RADAR_FORMATS } from '../../../drivers/radar/formats.ts';
import { RadarParser } from '../../../drivers/radar/parser.ts';
import { Radar } from '../../../drivers/radar/radar.ts';
import { SpeedBuffer } from '../../../drivers/radar/speed-buffer.ts';
import { LineFramer } from '../../../drivers/serial/line-framer.ts';
import { SerialPortLink } from '../../../drivers/serial/serialport-link.ts';
import { captureLog } from './log.ts';
import { ManualTimers } from './manual-timers.ts';
import { mockDevice } from './serial-devices.ts';

describe('radar formats', () => {
  it('icoms-1: sign and unit in the line', () => {
    const p = new RadarParser(RADAR_FORMATS['icoms-1']);
    expect(p.parse('+045 km/h')).toMatchObject({ kmh: 45, direction: 'approaching' });
    expect(p.parse('-030 mph ')?.kmh).toBeCloseTo(48.28, 2);
    expect(p.parse('-030 mph')?.direction).toBe('receding');
  });

  it('icoms-2: K/M unit and I/O direction letters', () => {
    const p = new RadarParser(RADAR_FORMATS['icoms-2']);
    expect(p.parse('045KI')).toMatchObject({ kmh: 45, direction: 'approaching' });
    expect(p.parse('030MO')?.direction).toBe('receding');
    expect(p.parse('030XO')).toBeUndefined();
    expect(p.stats.unmatched).toBe(1);
  });

  it('signed and digits take the unit from config; 000 is no target, not a reading', () => {
    const signed = new RadarParser(RADAR_FORMATS.signed, 'mph');
    expect(signed.parse('+045')?.kmh).toBeCloseTo(72.42, 2);
    const digits = new RadarParser(RADAR_FORMATS.digits, 'km/h');
    expect(digits.parse('055')).toMatchObject({ kmh: 55, direction: 'unknown' });
    expect(digits.parse('000')).toBeUndefined();
    expect(digits.stats).toEqual({ readings: 1, unmatched: 0, noTarget: 1 });
  });

  it('a line in another format is counted unmatched and shown in status', () => {
    const p = new RadarParser(RADAR_FORMATS.digits, 'km/h');
    expect(p.parse('+045 km/h')).toBeUndefined();
    expect(p.lastUnmatchedLine()).toBe('+045 km/h');
  });

  it('signed without a configured unit matches nothing (no guessing)', () => {
    expect(new RadarParser(RADAR_FORMATS.signed).parse('+045')).toBeUndefined();
  });

  it('custom formats from config, with their mistakes named', () => {
    const agd = customFormat({ pattern: '^(?<dir>[AR]),(?<speed>\\d{3}\\.\\d),(?<unit>[MK])$', units: { M: 'mph', K: 'km/h' }, directions: { A: 'approaching', R: 'receding' } });
    expect(new RadarParser(agd).parse('R,050.0,K')).toMatchObject({ kmh: 50, direction: 'receding' });
    expect(() => customFormat({ pattern: '^(\\d+$', unit: 'km/h' })).toThrow(/radar format pattern .*Invalid regular expression/);
    expect(() => customFormat({ pattern: '^(\\d+)$', unit: 'km/h' })).toThrow(/needs a named group \(\?<speed>/);
    expect(() => customFormat({ pattern: '^(?<speed>\\d+)$' })).toThrow(/give "unit"/);
  });
});

describe('SpeedBuffer', () => {
  const r = (kmh: number, direction: 'approaching' | 'receding' = 'approaching') => ({ kmh, direction, raw: '' });

  it('gives the peak of the readings around a pass, with median, count and direction', () => {
    const b = new SpeedBuffer({ slackMs: 1_000 });
    b.add(r(30), 1_000);
    b.add(r(52), 9_500);
    b.add(r(55), 10_000);
    b.add(r(54), 10_500);
    b.add(r(20, 'receding'), 14_000);
    expect(b.speedFor(10_000, 12_000)).toEqual({ kmh: 55, medianKmh: 54, samples: 3, direction: 'approaching', at: 10_000 });
    expect(b.speedFor(3_000, 5_000)).toBeUndefined();
    expect(() => b.speedFor(5, 4)).toThrow(/before firstSeen/);
  });

  it('forgets readings older than keepMs and beyond maxReadings', () => {
    const b = new SpeedBuffer({ keepMs: 10_000, maxReadings: 3 });
    for (let t = 0; t <= 20_000; t += 1_000) b.add(r(40 + t / 1_000), t);
    expect(b.size).toBe(3);
    expect(b.speedFor(0, 15_000, 0)).toBeUndefined();
    expect(b.speedFor(18_000, 20_000, 0)?.samples).toBe(3);
  });

  it('an out-of-order reading is filed by its time', () => {
    const b = new SpeedBuffer();
    b.add(r(40), 2_000);
    b.add(r(90), 1_000);
    expect(b.speedFor(900, 1_100, 0)?.kmh).toBe(90);
  });
});

describe('Radar over a serial link (binding-mock twin)', () => {
  it('lines split across reads become readings kept for speedFor', async () => {
    const device = mockDevice();
    await device.plug();
    const timers = new ManualTimers();
    const link = new SerialPortLink({ name: 'radar', path: device.path, baudRate: 9600, binding: device.binding, framer: new LineFramer(32), timers, log: captureLog().log });
    const radar = new Radar(link, new RadarParser(RADAR_FORMATS['icoms-1']), new SpeedBuffer());
    await radar.start();
    await device.send('h\r\n+04');
    await device.send('8 km/h\r\n+05');
    await device.send('1 km/h\r\n000 km/h\r\n');
    await vi.waitFor(() => expect(radar.status().parser.readings).toBe(2), { timeout: 10_000, interval: 10 });
    expect(radar.status()).toMatchObject({ parser: { readings: 2, unmatched: 1 }, lastUnmatched: '000 km/h', lastReading: { kmh: 51, direction: 'approaching' }, buffered: 2 });
    expect(radar.speedFor(timers.t, timers.t)?.kmh).toBe(51);
    await radar.stop();
    await device.dispose();
  });
});
