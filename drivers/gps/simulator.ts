/**
 * The simulated GPS receiver for the serial twin: once a second, RMC, GGA and ZDA for the
 * current time at a fixed position, as a u-blox receiver sends them — through the mock serial
 * device, so the real link, framer, receiver and clock hook all run.
 */
import type { Timers } from '../camera/timers.ts';
import { sentence } from './nmea.ts';

export interface SimulatedFix {
  readonly latitude: number;
  readonly longitude: number;
  readonly altitude?: number;
  readonly satellites?: number;
}

const pad = (n: number, width: number): string => String(n).padStart(width, '0');

function coordinate(value: number, degDigits: number, hemis: readonly [string, string]): string {
  const abs = Math.abs(value);
  const deg = Math.floor(abs);
  const minutes = (abs - deg) * 60;
  return `${pad(deg, degDigits)}${minutes.toFixed(5).padStart(8, '0')},${value >= 0 ? hemis[0] : hemis[1]}`;
}

/** The three sentences for one epoch, CR LF terminated. */
export function nmeaEpoch(at: number, fix: SimulatedFix): string {
  const d = new Date(at);
  const time = `${pad(d.getUTCHours(), 2)}${pad(d.getUTCMinutes(), 2)}${pad(d.getUTCSeconds(), 2)}.${pad(Math.floor(d.getUTCMilliseconds() / 10), 2)}`;
  const date = `${pad(d.getUTCDate(), 2)}${pad(d.getUTCMonth() + 1, 2)}${pad(d.getUTCFullYear() % 100, 2)}`;
  const lat = coordinate(fix.latitude, 2, ['N', 'S']);
  const lon = coordinate(fix.longitude, 3, ['E', 'W']);
  return [
    sentence(`GNRMC,${time},A,${lat},${lon},0.010,,${date},,,A`),
    sentence(`GNGGA,${time},${lat},${lon},1,${pad(fix.satellites ?? 9, 2)},0.95,${(fix.altitude ?? 10).toFixed(1)},M,-32.1,M,,`),
    sentence(`GNZDA,${time},${pad(d.getUTCDate(), 2)},${pad(d.getUTCMonth() + 1, 2)},${d.getUTCFullYear()},00,00`),
  ].map((s) => `${s}\r\n`).join('');
}

export class NmeaSimulator {
  private timer: unknown;

  constructor(private readonly send: (bytes: string) => void, private readonly timers: Timers, private readonly fix: SimulatedFix) {}

  start(): void {
    this.tick();
  }

  stop(): void {
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private tick(): void {
    const now = this.timers.now();
    // The epoch is the whole second; the sentences follow it, as a receiver's do.
    this.send(nmeaEpoch(now - (now % 1000), this.fix));
    this.timer = this.timers.setTimeout(() => this.tick(), 1000 - (now % 1000) || 1000);
  }
}
