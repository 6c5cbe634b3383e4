/**
 * The radar speed sensor: its serial link's lines parsed into readings and kept in the speed
 * buffer, with status for the retained health message.
 */
import type { SerialLink, SerialStatus } from '../serial/types.ts';
import type { RadarParser, RadarParserStats, SpeedReading } from './parser.ts';
import type { PassSpeed, SpeedBuffer } from './speed-buffer.ts';

export interface RadarStatus {
  readonly link: SerialStatus;
  readonly parser: RadarParserStats;
  readonly lastUnmatched?: string;
  readonly lastReading?: { readonly kmh: number; readonly direction: string; readonly at: number };
  readonly buffered: number;
}

export class Radar {
  private last: { reading: SpeedReading; at: number } | undefined;
  private readonly off: () => void;

  constructor(readonly link: SerialLink<string>, private readonly parser: RadarParser, private readonly buffer: SpeedBuffer) {
    this.off = link.onFrame((line, at) => {
      const reading = parser.parse(line);
      if (!reading) return;
      this.last = { reading, at };
      buffer.add(reading, at);
    });
  }

  start(): Promise<void> {
    return this.link.open();
  }

  speedFor(firstSeen: number, lastSeen: number): PassSpeed | undefined {
    return this.buffer.speedFor(firstSeen, lastSeen);
  }

  status(): RadarStatus {
    const unmatched = this.parser.lastUnmatchedLine();
    return {
      link: this.link.status(),
      parser: { ...this.parser.stats },
      ...(unmatched !== undefined ? { lastUnmatched: unmatched } : {}),
      ...(this.last ? { lastReading: { kmh: Math.round(this.last.reading.kmh * 10) / 10, direction: this.last.reading.direction, at: this.last.at } } : {}),
      buffered: this.buffer.size,
    };
  }

  async stop(): Promise<void> {
    this.off();
    await this.link.close();
  }
}
