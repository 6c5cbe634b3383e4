/**
 * Radar lines → speed readings. The line framer (drivers/serial/line-framer.ts) cuts the stream;
 * this matches each line against the configured format. A line that does not match is counted
 * and dropped — a radar set to another format shows up as a climbing `unmatched` count in status.
 * A zero speed means "no target" on these radars and is not a reading.
 */
import { toKmh, type RadarFormat, type SpeedUnit, type Travel } from './formats.ts';

export interface SpeedReading {
  readonly kmh: number;
  readonly direction: Travel;
  readonly raw: string;
}

export interface RadarParserStats {
  readings: number;
  unmatched: number;
  noTarget: number;
}

export class RadarParser {
  readonly stats: RadarParserStats = { readings: 0, unmatched: 0, noTarget: 0 };
  private lastUnmatched: string | undefined;

  constructor(private readonly format: RadarFormat, private readonly unit?: SpeedUnit) {}

  parse(line: string): SpeedReading | undefined {
    const m = this.format.pattern.exec(line.trim());
    const speedText = m?.groups?.['speed'];
    const speed = speedText === undefined ? NaN : Number(speedText);
    const unitText = m?.groups?.['unit'];
    const unit = unitText !== undefined ? this.format.units?.[unitText] : (this.format.unit ?? this.unit);
    const dirText = m?.groups?.['dir'];
    const direction: Travel | undefined = dirText === undefined ? 'unknown' : this.format.directions?.[dirText];
    if (!m || !Number.isFinite(speed) || speed < 0 || unit === undefined || direction === undefined) {
      this.stats.unmatched++;
      this.lastUnmatched = line.slice(0, 40);
      return undefined;
    }
    if (speed === 0) {
      this.stats.noTarget++;
      return undefined;
    }
    this.stats.readings++;
    return { kmh: toKmh(speed, unit), direction, raw: line };
  }

  /** The last line that did not match (for status: shows a misconfigured format at a glance). */
  lastUnmatchedLine(): string | undefined {
    return this.lastUnmatched;
  }
}
