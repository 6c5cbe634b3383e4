/**
 * Meaning of the three sentences the gateway uses. Each decoder returns a value or a reason it
 * could not (a field out of range names the field); a sentence that passed its checksum can still
 * carry nonsense from a receiver with no fix, and that must not reach the clock.
 *
 *   GGA  time, position, fix quality, satellites, HDOP, altitude  (time of day only, no date)
 *   RMC  time, validity (A/V), position, speed, course, date      (the full UTC time)
 *   ZDA  time, day, month, 4-digit year, local zone                (the full UTC time, no validity)
 */
import type { Detection } from '../../gateway/types.ts';
import type { NmeaSentence } from './nmea.ts';

/** GGA fix quality indicator 0–8 (declared with the detection that carries it). */
export type GpsFixQuality = NonNullable<Detection['gpsFix']>;

export const FIX_QUALITIES: readonly GpsFixQuality[] = ['none', 'gps', 'dgps', 'pps', 'rtk', 'float-rtk', 'estimated', 'manual', 'simulation'];

/** Fixes measured from satellites: their time and position are believed. Estimated, manual and simulated are not. */
export function isMeasuredFix(q: GpsFixQuality): boolean {
  return q === 'gps' || q === 'dgps' || q === 'pps' || q === 'rtk' || q === 'float-rtk';
}

export interface Position {
  readonly latitude: number;
  readonly longitude: number;
}

export interface Gga {
  readonly kind: 'GGA';
  readonly talker: string;
  /** ms since UTC midnight. */
  readonly timeOfDayMs: number;
  readonly position?: Position;
  readonly quality: GpsFixQuality;
  readonly satellites?: number;
  readonly hdop?: number;
  /** Metres above mean sea level. */
  readonly altitude?: number;
}

export interface Rmc {
  readonly kind: 'RMC';
  readonly talker: string;
  /** UTC ms since epoch (date + time). */
  readonly utc: number;
  readonly valid: boolean;
  readonly position?: Position;
  readonly speedKnots?: number;
  readonly courseDeg?: number;
}

export interface Zda {
  readonly kind: 'ZDA';
  readonly talker: string;
  readonly utc: number;
}

export type GpsMessage = Gga | Rmc | Zda;

export type Decoded = { readonly ok: true; readonly message: GpsMessage } | { readonly ok: false; readonly reason: string } | { readonly ok: false; readonly ignored: true };

const fail = (type: string, reason: string): Decoded => ({ ok: false, reason: `${type}: ${reason}` });

/** hhmmss[.sss] → ms since midnight. */
export function parseTime(text: string): number | undefined {
  const m = /^(\d{2})(\d{2})(\d{2}(?:\.\d{1,3})?)$/.exec(text);
  if (!m) return undefined;
  const h = Number(m[1]);
  const min = Number(m[2]);
  const s = Number(m[3]);
  // 60 allows a leap second.
  if (h > 23 || min > 59 || s >= 61) return undefined;
  return Math.round(((h * 60 + min) * 60 + s) * 1000);
}

/** ddmm.mmmm + N/S, or dddmm.mmmm + E/W → signed degrees. */
export function parseCoordinate(value: string, hemi: string, axis: 'lat' | 'lon'): number | undefined {
  const degDigits = axis === 'lat' ? 2 : 3;
  const m = new RegExp(`^(\\d{${degDigits}})(\\d{2}(?:\\.\\d+)?)$`).exec(value);
  if (!m) return undefined;
  const deg = Number(m[1]);
  const minutes = Number(m[2]);
  if (minutes >= 60) return undefined;
  const abs = deg + minutes / 60;
  if (abs > (axis === 'lat' ? 90 : 180)) return undefined;
  const sign = axis === 'lat' ? { N: 1, S: -1 }[hemi] : { E: 1, W: -1 }[hemi];
  if (sign === undefined) return undefined;
  return sign * abs;
}

function position(f: readonly string[], i: number): Position | undefined | 'bad' {
  const [lat, ns, lon, ew] = [f[i] ?? '', f[i + 1] ?? '', f[i + 2] ?? '', f[i + 3] ?? ''];
  if (lat === '' && lon === '') return undefined;
  const latitude = parseCoordinate(lat, ns, 'lat');
  const longitude = parseCoordinate(lon, ew, 'lon');
  if (latitude === undefined || longitude === undefined) return 'bad';
  return { latitude, longitude };
}

const optNumber = (text: string | undefined): number | undefined | 'bad' => {
  if (text === undefined || text === '') return undefined;
  const n = Number(text);
  return Number.isFinite(n) ? n : 'bad';
};

function utcOf(year: number, month: number, day: number, timeOfDayMs: number): number | undefined {
  if (month < 1 || month > 12 || day < 1 || day > 31) return undefined;
  const midnight = Date.UTC(year, month - 1, day);
  // Date.UTC rolls 31 February over into March; a real date round-trips.
  if (new Date(midnight).getUTCDate() !== day) return undefined;
  return midnight + timeOfDayMs;
}

export function decodeGga(s: NmeaSentence): Decoded {
  const f = s.fields;
  const time = parseTime(f[0] ?? '');
  if (time === undefined) return fail('GGA', `bad time ${JSON.stringify(f[0])}`);
  const qi = Number(f[5]);
  const quality = /^\d$/.test(f[5] ?? '') ? FIX_QUALITIES[qi] : undefined;
  if (quality === undefined) return fail('GGA', `bad fix quality ${JSON.stringify(f[5])}`);
  const pos = position(f, 1);
  if (pos === 'bad') return fail('GGA', `bad position ${JSON.stringify(f.slice(1, 5).join(','))}`);
  const sats = optNumber(f[6]);
  const hdop = optNumber(f[7]);
  const alt = optNumber(f[8]);
  if (sats === 'bad' || hdop === 'bad' || alt === 'bad') return fail('GGA', 'bad satellites, HDOP or altitude');
  if (quality !== 'none' && !pos) return fail('GGA', 'a fix without a position');
  return {
    ok: true,
    message: {
      kind: 'GGA', talker: s.talker, timeOfDayMs: time, quality,
      ...(pos ? { position: pos } : {}),
      ...(sats !== undefined ? { satellites: sats } : {}),
      ...(hdop !== undefined ? { hdop } : {}),
      ...(alt !== undefined ? { altitude: alt } : {}),
    },
  };
}

export function decodeRmc(s: NmeaSentence): Decoded {
  const f = s.fields;
  const time = parseTime(f[0] ?? '');
  if (time === undefined) return fail('RMC', `bad time ${JSON.stringify(f[0])}`);
  const status = f[1];
  if (status !== 'A' && status !== 'V') return fail('RMC', `bad status ${JSON.stringify(status)}`);
  const d = /^(\d{2})(\d{2})(\d{2})$/.exec(f[8] ?? '');
  if (!d) return fail('RMC', `bad date ${JSON.stringify(f[8])}`);
  // Two-digit year: 2000–2099. A receiver hit by the GPS week rollover reports a date 1024 weeks
  // early; that lands before the trusted clock's floor and is refused there.
  const utc = utcOf(2000 + Number(d[3]), Number(d[2]), Number(d[1]), time);
  if (utc === undefined) return fail('RMC', `bad date ${JSON.stringify(f[8])}`);
  const pos = position(f, 2);
  if (pos === 'bad') return fail('RMC', `bad position ${JSON.stringify(f.slice(2, 6).join(','))}`);
  const speed = optNumber(f[6]);
  const course = optNumber(f[7]);
  if (speed === 'bad' || course === 'bad') return fail('RMC', 'bad speed or course');
  // NMEA 2.3+: mode indicator N (no fix) overrides an 'A' status some receivers still send.
  const mode = f[11];
  const valid = status === 'A' && mode !== 'N' && mode !== 'E' && mode !== 'S' && pos !== undefined;
  return {
    ok: true,
    message: {
      kind: 'RMC', talker: s.talker, utc, valid,
      ...(pos ? { position: pos } : {}),
      ...(speed !== undefined ? { speedKnots: speed } : {}),
      ...(course !== undefined ? { courseDeg: course } : {}),
    },
  };
}

export function decodeZda(s: NmeaSentence): Decoded {
  const f = s.fields;
  const time = parseTime(f[0] ?? '');
  if (time === undefined) return fail('ZDA', `bad time ${JSON.stringify(f[0])}`);
  if (!/^\d{2}$/.test(f[1] ?? '') || !/^\d{2}$/.test(f[2] ?? '') || !/^\d{4}$/.test(f[3] ?? '')) return fail('ZDA', `bad date ${JSON.stringify(f.slice(1, 4).join(','))}`);
  const utc = utcOf(Number(f[3]), Number(f[2]), Number(f[1]), time);
  if (utc === undefined) return fail('ZDA', `bad date ${JSON.stringify(f.slice(1, 4).join(','))}`);
  return { ok: true, message: { kind: 'ZDA', talker: s.talker, utc } };
}

/** GGA, RMC and ZDA from any talker; every other sentence is ignored (not an error). */
export function decode(s: NmeaSentence): Decoded {
  switch (s.type) {
    case 'GGA':
      return decodeGga(s);
    case 'RMC':
      return decodeRmc(s);
    case 'ZDA':
      return decodeZda(s);
    default:
      return { ok: false, ignored: true };
  }
}
