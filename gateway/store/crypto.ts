/**
 * AES-256-GCM for every value at rest. A sealed value is
 *   [version 0x01][IV 12 bytes][tag 16 bytes][ciphertext]
 * and its associated data is the full key it is stored under, so a value moved to another key
 * (or another day, or another hold) fails its tag just like a flipped byte does. IVs are random:
 * one data key seals at most a day's records, far below GCM's 2^32 random-IV bound.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import type { RandomSource } from '../ids.ts';
import { IntegrityError } from './errors.ts';

const VERSION = 0x01;
const IV = 12;
const TAG = 16;
const HEADER = 1 + IV + TAG;

export const systemRandom: RandomSource = (n) => randomBytes(n);

export function seal(key: Uint8Array, plaintext: Uint8Array, aad: string, random: RandomSource = systemRandom): Buffer {
  const iv = random(IV);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const head = Buffer.allocUnsafe(HEADER);
  head[0] = VERSION;
  head.set(iv, 1);
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  head.set(cipher.getAuthTag(), 1 + IV);
  return Buffer.concat([head, body]);
}

/** The plaintext, or an IntegrityError naming `aad` (the key) when anything was altered. */
export function open(key: Uint8Array, sealed: Uint8Array, aad: string): Buffer {
  if (sealed.length < HEADER || sealed[0] !== VERSION) throw new IntegrityError(aad, 'not a sealed value of a known version');
  const buf = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.length);
  const decipher = createDecipheriv('aes-256-gcm', key, buf.subarray(1, 1 + IV));
  decipher.setAAD(Buffer.from(aad, 'utf8'));
  decipher.setAuthTag(buf.subarray(1 + IV, HEADER));
  // GCM's update output is the whole plaintext (final only checks the tag): no concat copy.
  const plaintext = decipher.update(buf.subarray(HEADER));
  try {
    decipher.final();
  } catch {
    // final() throws only on a tag mismatch: the value was altered, truncated or moved.
    throw new IntegrityError(aad);
  }
  return plaintext;
}

export const sealText = (key: Uint8Array, text: string, aad: string, random?: RandomSource): Buffer => seal(key, Buffer.from(text, 'utf8'), aad, random);
export const openText = (key: Uint8Array, sealed: Uint8Array, aad: string): string => open(key, sealed, aad).toString('utf8');

export function sha256(...parts: (Uint8Array | string)[]): Buffer {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
}

export const utf8 = (s: string): Buffer => Buffer.from(s, 'utf8');
export const fromUtf8 = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.length).toString('utf8');
