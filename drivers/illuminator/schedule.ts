/**
 * Darkness from the site's position and the sun (suncalc v2). Dark is between the evening and
 * the morning crossing of a sun altitude: civil twilight (−6°, the default — when a camera
 * without IR starts to lose plates), nautical (−12°) or sunset (−0.833°), from suncalc's times
 * for the solar day nearest `at`. Where the sun does not cross that altitude on a day (polar
 * night, midnight sun), or for a custom angle, the sun's altitude at `at` decides; suncalc gives
 * that one refraction-corrected, which near the horizon reads about half a degree higher than the
 * geometric altitude the named times use.
 */
import { getPosition, getTimes } from 'suncalc';

export type DarkAt = 'sunset' | 'civil' | 'nautical' | number;

export interface SitePosition {
  readonly latitude: number;
  readonly longitude: number;
}

const NAMED = {
  sunset: { angle: -0.833, morning: 'sunrise', evening: 'sunset' },
  civil: { angle: -6, morning: 'dawn', evening: 'dusk' },
  nautical: { angle: -12, morning: 'nauticalDawn', evening: 'nauticalDusk' },
} as const;

export function thresholdDeg(darkAt: DarkAt): number {
  return typeof darkAt === 'number' ? darkAt : NAMED[darkAt].angle;
}

/** Apparent altitude of the sun's centre, degrees. */
export function sunAltitudeDeg(at: number, site: SitePosition): number {
  return getPosition(new Date(at), site.latitude, site.longitude).altitude;
}

function crossings(at: number, site: SitePosition, darkAt: Exclude<DarkAt, number>): { morning: number; evening: number } | undefined {
  const names = NAMED[darkAt];
  const times = getTimes(new Date(at), site.latitude, site.longitude);
  const morning = times[names.morning];
  const evening = times[names.evening];
  return morning && evening ? { morning: morning.getTime(), evening: evening.getTime() } : undefined;
}

export function isDark(at: number, site: SitePosition, darkAt: DarkAt): boolean {
  if (typeof darkAt !== 'number') {
    const day = crossings(at, site, darkAt);
    // The solar day nearest `at` has its noon within 12 h of it: before its morning crossing or
    // after its evening one is night.
    if (day) return at < day.morning || at >= day.evening;
  }
  return sunAltitudeDeg(at, site) < thresholdDeg(darkAt);
}

/** When the schedule next changes, for status (named thresholds; looks three days ahead). */
export function nextChange(at: number, site: SitePosition, darkAt: DarkAt): number | undefined {
  if (typeof darkAt === 'number') return undefined;
  const candidates: number[] = [];
  for (let day = -1; day <= 2; day++) {
    const c = crossings(at + day * 86_400_000, site, darkAt);
    if (c) for (const t of [c.morning, c.evening]) if (t > at) candidates.push(t);
  }
  return candidates.length ? Math.min(...candidates) : undefined;
}
