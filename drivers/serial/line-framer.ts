/**
 * A line framer for ASCII protocols: frames end at CR, LF or both. A line longer than
 * `maxLength` is discarded up to its end (a lost terminator must not glue the stream into one
 * endless frame), and bytes outside printable ASCII are counted and the line dropped, so a
 * parser above never sees binary noise. Until the first terminator after start or reset the
 * bytes are skipped: a port opened mid-line would otherwise hand over the tail of a line ("45"
 * of "+045") as if it were whole.
 */
import type { Framer } from './types.ts';

export interface LineFramerStats {
  lines: number;
  overlong: number;
  binary: number;
}

export class LineFramer implements Framer<string> {
  private buf: number[] = [];
  private dropping = true;
  private dirty = false;
  readonly stats: LineFramerStats = { lines: 0, overlong: 0, binary: 0 };

  constructor(private readonly maxLength = 128) {}

  push(chunk: Uint8Array): string[] {
    const out: string[] = [];
    for (const byte of chunk) {
      if (byte === 0x0d || byte === 0x0a) {
        if (!this.dropping && this.buf.length) {
          if (this.dirty) this.stats.binary++;
          else {
            this.stats.lines++;
            out.push(String.fromCharCode(...this.buf));
          }
        }
        this.buf = [];
        this.dropping = false;
        this.dirty = false;
        continue;
      }
      if (this.dropping) continue;
      if (byte < 0x20 || byte > 0x7e) this.dirty = true;
      this.buf.push(byte);
      if (this.buf.length > this.maxLength) {
        this.stats.overlong++;
        this.buf = [];
        this.dropping = true;
        this.dirty = false;
      }
    }
    return out;
  }

  reset(): void {
    this.buf = [];
    this.dropping = true;
    this.dirty = false;
  }
}
