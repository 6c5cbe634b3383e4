/**
 * Fuzzing the NMEA framer: random bytes, valid streams with random damage, and every single-byte
 * substitution of real sentences. Whatever comes in, it never throws and never emits a sentence
 * whose checksum does not hold; a single damaged byte (other than a new '$') is always caught.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../../drivers/camera/prng.ts';
import { checksum, NmeaFramer, type NmeaSentence } from '../../../drivers/gps/nmea.ts';
import { decode } from '../../../drivers/gps/decode.ts';

const stream = readFileSync(new URL('../../fixtures/nmea/ublox-m8-3s.nmea', import.meta.url));
const lines = stream.toString('latin1').split('\r\n').filter((l) => l !== '');

function holds(s: NmeaSentence): boolean {
  const star = s.raw.lastIndexOf('*');
  return s.raw.startsWith('$') && star === s.raw.length - 3 && checksum(s.raw.slice(1, star)) === parseInt(s.raw.slice(star + 1), 16);
}

describe('NMEA fuzz', () => {
  it('random bytes: no throw, nothing emitted that fails its checksum, decoding never throws', () => {
    const rng = mulberry32(0xa1b2);
    const framer = new NmeaFramer();
    let emitted = 0;
    for (let round = 0; round < 2_000; round++) {
      const chunk = new Uint8Array(rng.int(1, 256));
      // Bias towards NMEA's own alphabet so that '$', '*', ',' and hex digits meet often.
      for (let i = 0; i < chunk.length; i++) chunk[i] = rng.next() < 0.5 ? rng.int(0, 255) : '$*,0123456789ABCDEFGPRMCZ\r\n'.charCodeAt(rng.int(0, 26));
      for (const s of framer.push(chunk)) {
        emitted++;
        expect(holds(s)).toBe(true);
        expect(() => decode(s)).not.toThrow();
      }
    }
    // A few random runs do satisfy the checksum by chance (1 in 256): the property above is what counts.
    expect(framer.stats.skippedBytes + framer.stats.noChecksum + framer.stats.badChecksum).toBeGreaterThan(emitted);
  });

  it('a valid stream with random insertions, deletions and flips: emitted sentences are genuine or checksum-true', () => {
    const rng = mulberry32(99);
    const originals = new Set(lines);
    let genuine = 0;
    for (let trial = 0; trial < 300; trial++) {
      const bytes = Array.from(stream);
      for (let k = rng.int(1, 8); k > 0; k--) {
        const at = rng.int(0, bytes.length - 1);
        const op = rng.int(0, 2);
        if (op === 0) bytes.splice(at, 1);
        else if (op === 1) bytes.splice(at, 0, rng.int(0, 255));
        else bytes[at] = (bytes[at] as number) ^ (1 << rng.int(0, 7));
      }
      const framer = new NmeaFramer();
      const buf = Uint8Array.from(bytes);
      const out: NmeaSentence[] = [];
      for (let at = 0; at < buf.length;) {
        const n = rng.int(1, 40);
        out.push(...framer.push(buf.subarray(at, at + n)));
        at += n;
      }
      for (const s of out) {
        expect(holds(s)).toBe(true);
        if (originals.has(s.raw)) genuine++;
      }
      expect(out.length).toBeLessThanOrEqual(lines.length + 8);
    }
    // Most sentences survive a few damaged bytes in a 33-sentence stream.
    expect(genuine).toBeGreaterThan(300 * 20);
  });

  it('every single-byte substitution of a sentence (except a new "$" or a checksum digit in the other case) is rejected', () => {
    const framer = new NmeaFramer();
    for (const line of lines.slice(0, 11)) {
      const original = Buffer.from(`${line}\r\n`, 'latin1');
      for (let pos = 0; pos < line.length; pos++) {
        for (let value = 0; value < 256; value++) {
          if (value === original[pos] || value === 0x24) continue;
          // The checksum's hex digits in the other case are the same number.
          if (pos >= line.length - 2 && String.fromCharCode(value).toUpperCase() === line[pos]) continue;
          const bytes = Buffer.from(original);
          bytes[pos] = value;
          const out = framer.push(bytes);
          if (out.length) throw new Error(`accepted ${JSON.stringify(out[0]?.raw)} (byte ${pos} of ${line} set to ${value})`);
          framer.reset();
        }
      }
    }
    expect(framer.stats.sentences).toBe(0);
  });
});
