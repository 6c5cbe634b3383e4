import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decode, parseCoordinate, parseTime, type Gga, type Rmc, type Zda } from '../../../drivers/gps/decode.ts';
import { checkSentence, NmeaFramer, sentence, type NmeaSentence } from '../../../drivers/gps/nmea.ts';
import { mulberry32 } from '../../../drivers/camera/prng.ts';

const fixture = (name: string): Buffer => readFileSync(new URL(`../../fixtures/nmea/${name}`, import.meta.url));

/** Feeds `bytes` to a fresh framer in chunks cut at the given sizes (repeating). */
function frame(bytes: Uint8Array, cut: (i: number) => number = () => bytes.length): { sentences: NmeaSentence[]; framer: NmeaFramer } {
  const framer = new NmeaFramer();
  const sentences: NmeaSentence[] = [];
  for (let at = 0, i = 0; at < bytes.length; i++) {
    const n = Math.max(1, cut(i));
    sentences.push(...framer.push(bytes.subarray(at, at + n)));
    at += n;
  }
  return { sentences, framer };
}

const GGA = '$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*47';
const RMC = '$GPRMC,123519,A,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W*6A';
const ZDA = '$GPZDA,201530.00,04,07,2002,00,00*60';

describe('NMEA framing', () => {
  it('the textbook GGA, RMC and ZDA check out', () => {
    for (const s of [GGA, RMC, ZDA]) expect(checkSentence(s)?.raw).toBe(s);
    expect(checkSentence(GGA)).toMatchObject({ talker: 'GP', type: 'GGA' });
    expect(sentence('GPZDA,201530.00,04,07,2002,00,00')).toBe(ZDA);
  });

  it('a u-blox stream gives the same sentences whole, byte by byte, and cut at random', () => {
    const bytes = fixture('ublox-m8-3s.nmea');
    const whole = frame(bytes).sentences;
    expect(whole).toHaveLength(33);
    expect(whole.map((s) => s.type).slice(0, 11)).toEqual(['RMC', 'VTG', 'GGA', 'GSA', 'GSA', 'GSV', 'GSV', 'GSV', 'GSV', 'GLL', 'ZDA']);
    expect(frame(bytes, () => 1).sentences).toEqual(whole);
    const rng = mulberry32(7);
    for (let trial = 0; trial < 20; trial++) expect(frame(bytes, () => rng.int(1, 90)).sentences).toEqual(whole);
  });

  it('corrupt bytes: bad and missing checksums, truncation, glued sentences, noise, NUL, overlong', () => {
    const bytes = fixture('corrupt.nmea');
    const { sentences, framer } = frame(bytes);
    expect(sentences.map((s) => s.raw)).toEqual([GGA, RMC, ZDA, GGA]);
    expect(framer.stats).toMatchObject({ sentences: 4, badChecksum: 1, noChecksum: 1, truncated: 1, corrupt: 1, overlong: 1 });
    expect(framer.stats.skippedBytes).toBeGreaterThan(7);
    // Cut anywhere, the same outcome.
    for (const size of [1, 2, 3, 7, 13, 64]) expect(frame(bytes, () => size).sentences.map((s) => s.raw)).toEqual([GGA, RMC, ZDA, GGA]);
  });

  it('sentences glued without CR LF are both kept when each checksum holds', () => {
    const { sentences } = frame(Buffer.from(`${GGA}${RMC}${ZDA}\r\n`));
    expect(sentences.map((s) => s.type)).toEqual(['GGA', 'RMC', 'ZDA']);
  });

  it('lower-case checksum digits are accepted; a field with "*" inside is not', () => {
    expect(checkSentence(`${RMC.slice(0, -2)}6a`)?.type).toBe('RMC');
    expect(checkSentence('$GPZDA,2015*0.00,04,07,2002,00,00*60')).toBeUndefined();
  });

  it('reset drops a partial sentence (the port was reopened)', () => {
    const framer = new NmeaFramer();
    expect(framer.push(Buffer.from(GGA.slice(0, 20)))).toEqual([]);
    framer.reset();
    expect(framer.push(Buffer.from(`${GGA.slice(20)}\r\n${ZDA}\r\n`)).map((s) => s.type)).toEqual(['ZDA']);
  });
});

describe('NMEA decoding', () => {
  it('GGA: position, quality, satellites, HDOP, altitude', () => {
    const d = decode(checkSentence(GGA) as NmeaSentence);
    expect(d.ok).toBe(true);
    const m = (d as { message: Gga }).message;
    expect(m).toMatchObject({ kind: 'GGA', quality: 'gps', satellites: 8, hdop: 0.9, altitude: 545.4, timeOfDayMs: (12 * 3600 + 35 * 60 + 19) * 1000 });
    expect(m.position?.latitude).toBeCloseTo(48.1173, 4);
    expect(m.position?.longitude).toBeCloseTo(11.516667, 5);
  });

  it('RMC: full UTC from date and time, valid flag, south and west are negative', () => {
    const m = (decode(checkSentence(RMC) as NmeaSentence) as { message: Rmc }).message;
    expect(new Date(m.utc).toISOString()).toBe('2094-03-23T12:35:19.000Z');
    expect(m.valid).toBe(true);
    const sw = decode(checkSentence(sentence('GNRMC,193000.00,A,3748.26400,S,12216.27200,W,0.012,,221126,,,D')) as NmeaSentence);
    const r = (sw as { message: Rmc }).message;
    expect(new Date(r.utc).toISOString()).toBe('2026-11-22T19:30:00.000Z');
    expect(r.position?.latitude).toBeCloseTo(-37.8044, 4);
    expect(r.position?.longitude).toBeCloseTo(-122.2712, 4);
  });

  it('RMC with status A but mode N (no fix) is not valid', () => {
    const m = (decode(checkSentence(sentence('GNRMC,193000.00,A,3748.26400,N,12216.27200,W,0,,221126,,,N')) as NmeaSentence) as { message: Rmc }).message;
    expect(m.valid).toBe(false);
  });

  it('ZDA: four-digit year', () => {
    const m = (decode(checkSentence(ZDA) as NmeaSentence) as { message: Zda }).message;
    expect(new Date(m.utc).toISOString()).toBe('2002-07-04T20:15:30.000Z');
  });

  it('fields out of range are refused with the field named', () => {
    const bad = (body: string): string => {
      const d = decode(checkSentence(sentence(body)) as NmeaSentence);
      return d.ok ? 'ok' : 'reason' in d ? d.reason : 'ignored';
    };
    expect(bad('GPGGA,246000,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,')).toMatch(/GGA: bad time/);
    expect(bad('GPGGA,123519,4860.000,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,')).toMatch(/GGA: bad position/);
    expect(bad('GPGGA,123519,4807.038,X,01131.000,E,1,08,0.9,545.4,M,46.9,M,,')).toMatch(/GGA: bad position/);
    expect(bad('GPGGA,123519,4807.038,N,01131.000,E,9,08,0.9,545.4,M,46.9,M,,')).toMatch(/GGA: bad fix quality/);
    expect(bad('GPGGA,123519,,,,,1,08,0.9,545.4,M,46.9,M,,')).toMatch(/a fix without a position/);
    expect(bad('GPRMC,123519,A,4807.038,N,01131.000,E,022.4,084.4,310294,003.1,W')).toMatch(/RMC: bad date "310294"/);
    expect(bad('GPRMC,123519,Q,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W')).toMatch(/RMC: bad status/);
    expect(bad('GPZDA,201530.00,04,13,2002,00,00')).toMatch(/ZDA: bad date/);
    expect(bad('GPGSV,3,1,10,05,36,291,40')).toBe('ignored');
  });

  it('coordinate and time helpers', () => {
    expect(parseCoordinate('00000.000', 'E', 'lon')).toBe(0);
    expect(parseCoordinate('9000.000', 'S', 'lat')).toBe(-90);
    expect(parseCoordinate('9000.001', 'N', 'lat')).toBeUndefined();
    expect(parseCoordinate('18100.000', 'E', 'lon')).toBeUndefined();
    expect(parseTime('235960')).toBe(86_400_000); // a leap second
    expect(parseTime('2359')).toBeUndefined();
  });
});
