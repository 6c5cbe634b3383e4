/**
 * The outbox's sealed values in the store's format (gateway/store/crypto.ts: version 0x01 ‖ IV
 * 12 ‖ GCM tag 16 ‖ ciphertext, associated data = the entry's key), made and opened without the
 * copies that format's seal/open make for a general caller: the text is encrypted as it is (no
 * UTF-8 buffer first), the value stays in two parts for the segment log to write (no concat of
 * header and ciphertext); opening is the store's own `open`, which takes GCM's update output as
the plaintext (final adds nothing). For a
 * ~150 KB hit that is three buffers of that size fewer each way — buffers V8 counts as external
 * memory, whose churn sets how often it collects (bench delivery's device profile: a tenth of
 * its CPU in the collector). Values either side makes, the other opens (unit test).
 */
import { createCipheriv } from 'node:crypto';
import type { RandomSource } from '../ids.ts';
import { systemRandom } from '../store/crypto.ts';

const VERSION = 0x01;
const IV = 12;
const TAG = 16;
const HEADER = 1 + IV + TAG;

/** `text` (UTF-8) sealed under `key` with `aad`: [header, ciphertext], together the store's sealed value. */
export function sealTextParts(key: Uint8Array, text: string, aad: string, random: RandomSource = systemRandom): [Buffer, Buffer] {
  const iv = random(IV);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const body = cipher.update(text, 'utf8');
  cipher.final(); // GCM: no more output, makes the tag
  const head = Buffer.allocUnsafe(HEADER);
  head[0] = VERSION;
  head.set(iv, 1);
  head.set(cipher.getAuthTag(), 1 + IV);
  return [head, body];
}

/** The plaintext of a sealed value, or an IntegrityError naming `aad` when anything was altered (the store's own open, which copies nothing). */
export { open as openSealed } from '../store/crypto.ts';
