/**
 * NMEA 0183 framing: bytes → checked sentences. A sentence is `$` + address + `,fields…` +
 * `*HH` + CR LF, at most 82 characters by the standard (receivers' proprietary sentences run
 * longer, so the limit here is configurable and defaults to 120). HH is the XOR of every
 * character between `$` and `*`, in hex.
 *
 * The framer never throws and never hands over a sentence whose checksum is missing or wrong.
 * It resynchronises on `$`: a `$` inside a sentence means the first one lost its CR LF. If what
 * came before is complete (`*HH` and a matching checksum) it is kept — the checksum vouches for it
 * — otherwise it is discarded; either way the new sentence begins. Bytes outside a sentence, a
 * control or non-ASCII byte inside one, and an overlong sentence are dropped and counted.
 */
import type { Framer } from '../serial/types.ts';

export interface NmeaSentence {
  /** `GP` (GPS), `GN` (multi-constellation), `GL`, `GA`, `BD`/`GB`, … or `P` for proprietary. */
  readonly talker: string;
  /** `GGA`, `RMC`, `ZDA`, … (for proprietary: the maker's code and type, e.g. `UBX`). */
  readonly type: string;
  /** Fields after the address, as text; empty fields are ''. */
  readonly fields: readonly string[];
  /** The sentence as received, without CR LF. */
  readonly raw: string;
}

export interface NmeaStats {
  sentences: number;
  badChecksum: number;
  noChecksum: number;
  /** Sentences cut off by a new `$` before their end. */
  truncated: number;
  overlong: number;
  /** Sentences with a control or non-ASCII byte inside. */
  corrupt: number;
  /** Bytes outside any sentence (noise, line idle garbage, a baud-rate mismatch). */
  skippedBytes: number;
}

const DOLLAR = 0x24;
const CR = 0x0d;
const LF = 0x0a;

export class NmeaFramer implements Framer<NmeaSentence> {
  private buf: number[] = [];
  private inSentence = false;
  readonly stats: NmeaStats = { sentences: 0, badChecksum: 0, noChecksum: 0, truncated: 0, overlong: 0, corrupt: 0, skippedBytes: 0 };

  constructor(private readonly maxLength = 120) {}

  push(chunk: Uint8Array): NmeaSentence[] {
    const out: NmeaSentence[] = [];
    for (const byte of chunk) {
      if (byte === DOLLAR) {
        if (this.inSentence) {
          const glued = this.buf.length > 3 && this.buf[this.buf.length - 3] === 0x2a ? this.finish() : undefined;
          if (glued) out.push(glued);
          else this.stats.truncated++;
        }
        this.buf = [DOLLAR];
        this.inSentence = true;
        continue;
      }
      if (!this.inSentence) {
        if (byte !== CR && byte !== LF) this.stats.skippedBytes++;
        continue;
      }
      if (byte === CR || byte === LF) {
        const sentence = this.finish();
        if (sentence) out.push(sentence);
        continue;
      }
      if (byte < 0x20 || byte > 0x7e) {
        this.stats.corrupt++;
        this.drop();
        continue;
      }
      this.buf.push(byte);
      if (this.buf.length > this.maxLength) {
        this.stats.overlong++;
        this.drop();
      }
    }
    return out;
  }

  reset(): void {
    this.drop();
  }

  private drop(): void {
    this.buf = [];
    this.inSentence = false;
  }

  private finish(): NmeaSentence | undefined {
    const text = String.fromCharCode(...this.buf);
    this.drop();
    return checkSentence(text, this.stats);
  }
}

/** Validates one sentence text (`$…*HH`, no CR LF); counts what is wrong into `stats`. */
export function checkSentence(text: string, stats?: NmeaStats): NmeaSentence | undefined {
  const star = text.length - 3;
  if (star < 1 || text[star] !== '*' || text.indexOf('*') !== star) {
    if (stats) stats.noChecksum++;
    return undefined;
  }
  const given = text.slice(star + 1);
  if (!/^[0-9A-Fa-f]{2}$/.test(given)) {
    if (stats) stats.noChecksum++;
    return undefined;
  }
  const body = text.slice(1, star);
  if (checksum(body) !== parseInt(given, 16)) {
    if (stats) stats.badChecksum++;
    return undefined;
  }
  const [address = '', ...fields] = body.split(',');
  if (!/^(?:[A-Z]{2}[A-Z0-9]{3}|P[A-Z0-9]{1,8})$/.test(address)) {
    if (stats) stats.corrupt++;
    return undefined;
  }
  if (stats) stats.sentences++;
  const proprietary = address.startsWith('P');
  return Object.freeze({
    talker: proprietary ? 'P' : address.slice(0, 2),
    type: proprietary ? address.slice(1) : address.slice(2),
    fields: Object.freeze(fields),
    raw: text,
  });
}

/** XOR of the characters between `$` and `*`. */
export function checksum(body: string): number {
  let sum = 0;
  for (let i = 0; i < body.length; i++) sum ^= body.charCodeAt(i);
  return sum;
}

/** `$body*HH` with the checksum computed (simulator, tests). */
export function sentence(body: string): string {
  return `$${body}*${checksum(body).toString(16).toUpperCase().padStart(2, '0')}`;
}
