/**
 * Radar speed output formats, as data. Traffic radars (ICOMS TMA, Decatur, Houston Radar, and
 * many OEM Doppler modules) print one ASCII line per measurement; the built-in formats are the
 * common ones (after the ICOMS TMA-296 manual, message types 1–3, and the plain "three digits and
 * CR" that many radars send, with "000" meaning no target):
 *
 *   icoms-1       "+045 km/h" / "-030 mph"   sign: + approaching, - receding; unit in the line
 *   icoms-2       "045KI" / "030MO"          K km/h, M mph; I approaching (in), O receding (out)
 *   signed        "+045" / "-030"            unit from config
 *   digits        "045"                      unit from config, no direction
 *
 * A site with another radar gives a `custom` format: a regular expression with a named group
 * `speed` and optionally `dir` and `unit`, plus maps for their values.
 */

export type SpeedUnit = 'km/h' | 'mph' | 'knots' | 'm/s';
export type Travel = 'approaching' | 'receding' | 'unknown';

export interface RadarFormat {
  readonly name: string;
  /** Must have a named group `speed`; may have `dir` and `unit`. */
  readonly pattern: RegExp;
  /** Unit when the line has none. */
  readonly unit?: SpeedUnit;
  readonly units?: Readonly<Record<string, SpeedUnit>>;
  readonly directions?: Readonly<Record<string, Travel>>;
}

const SIGN: Record<string, Travel> = { '+': 'approaching', '-': 'receding' };

export const RADAR_FORMATS = {
  'icoms-1': { name: 'icoms-1', pattern: /^(?<dir>[+-])(?<speed>\d{3}) ?(?<unit>km\/h|mph) *$/, units: { 'km/h': 'km/h', mph: 'mph' }, directions: SIGN },
  'icoms-2': { name: 'icoms-2', pattern: /^(?<speed>\d{3})(?<unit>[KM])(?<dir>[IO])$/, units: { K: 'km/h', M: 'mph' }, directions: { I: 'approaching', O: 'receding' } },
  signed: { name: 'signed', pattern: /^(?<dir>[+-])(?<speed>\d{1,3}(?:\.\d)?)$/, directions: SIGN },
  digits: { name: 'digits', pattern: /^(?<speed>\d{3})$/ },
} as const satisfies Record<string, RadarFormat>;

export type BuiltInRadarFormat = keyof typeof RADAR_FORMATS;

/** A format from config: the pattern as text, checked here so a bad one fails at boot with its reason. */
export interface CustomRadarFormat {
  readonly pattern: string;
  readonly unit?: SpeedUnit | undefined;
  readonly units?: Readonly<Record<string, SpeedUnit>> | undefined;
  readonly directions?: Readonly<Record<string, Travel>> | undefined;
}

export function customFormat(spec: CustomRadarFormat): RadarFormat {
  let pattern: RegExp;
  try {
    pattern = new RegExp(spec.pattern);
  } catch (err) {
    throw new Error(`radar format pattern ${JSON.stringify(spec.pattern)}: ${(err as Error).message}`, { cause: err });
  }
  if (!/\(\?<speed>/.test(spec.pattern)) throw new Error(`radar format pattern ${JSON.stringify(spec.pattern)}: needs a named group (?<speed>…)`);
  if (/\(\?<unit>/.test(spec.pattern) ? !spec.units : !spec.unit) {
    throw new Error(`radar format pattern ${JSON.stringify(spec.pattern)}: give "unit", or a (?<unit>…) group with a "units" map`);
  }
  return { name: 'custom', pattern, ...(spec.unit ? { unit: spec.unit } : {}), ...(spec.units ? { units: spec.units } : {}), ...(spec.directions ? { directions: spec.directions } : {}) };
}

const TO_KMH: Record<SpeedUnit, number> = { 'km/h': 1, mph: 1.609344, knots: 1.852, 'm/s': 3.6 };

export function toKmh(value: number, unit: SpeedUnit): number {
  return value * TO_KMH[unit];
}
