/**
 * UUIDv7 (RFC 9562 §5.7): 48-bit Unix-ms timestamp, then random bits. Time-ordered, so detection
 * keys sort by capture time. Within one millisecond a counter in rand_a keeps ids monotonic.
 */
import { randomBytes } from 'node:crypto';

export type RandomSource = (n: number) => Uint8Array;

export function createUuidV7(random: RandomSource = (n) => randomBytes(n)): (ms: number) => string {
  let lastMs = -1;
  let counter = 0;
  return (ms: number): string => {
    if (ms === lastMs) counter = (counter + 1) & 0xfff;
    else {
      lastMs = ms;
      counter = 0;
    }
    const bytes = random(16);
    const b = new Uint8Array(16);
    b.set(bytes.subarray(0, 16));
    const t = Math.max(0, Math.floor(ms));
    b[0] = Math.floor(t / 2 ** 40) & 0xff;
    b[1] = Math.floor(t / 2 ** 32) & 0xff;
    b[2] = (t >>> 24) & 0xff;
    b[3] = (t >>> 16) & 0xff;
    b[4] = (t >>> 8) & 0xff;
    b[5] = t & 0xff;
    b[6] = 0x70 | ((counter >> 8) & 0x0f);
    b[7] = counter & 0xff;
    b[8] = 0x80 | ((b[8] ?? 0) & 0x3f);
    const hex = Buffer.from(b).toString('hex');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  };
}

export const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
