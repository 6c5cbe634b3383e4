/**
 * base64url (RFC 4648 §5, no padding: RFC 7515 §2) for the hit envelope's compact forms, strict
 * on the way in, and for the large parts (a hit's JWS payload, the JWE ciphertext: 200–270 KB)
 * without ever making the whole part a JavaScript string.
 *
 * Why: V8 puts a string over 128 KB in its large-object space, each in pages of its own mapped
 * for it, touched (zeroed by the kernel) and unmapped after the next collection. Encoding 200 KB
 * to one string and writing it out cost ~135 µs of CPU on the bench machine, in 64 KB pieces
 * ~20 µs (young-generation strings, collected for almost nothing); decoding alike (~100–145 µs
 * against ~22 µs). The pole encodes two such parts per hit and dispatch decodes two.
 */

export class Base64UrlError extends Error {
  override readonly name = 'Base64UrlError';
}

/** Input characters per piece: a multiple of 4, so each piece decodes on its own to whole bytes. */
const DECODE_PIECE = 65_536;
/** Input bytes per piece: a multiple of 3, so each piece encodes to whole groups, no padding between. */
const ENCODE_PIECE = 49_152;
const PLUS = 0x2b;
const SLASH = 0x2f;

/** Characters of the unpadded base64url of `n` bytes. */
export function b64uLength(n: number): number {
  return Math.floor(n / 3) * 4 + [0, 2, 3][n % 3]!;
}

/**
 * Canonical base64url (no padding) or a Base64UrlError naming `what`. Buffer's decoder skips
 * what is not base64, stops at '=' and takes '+' and '/' too. So: no character skipped or cut
 * (the length says so), none of the other alphabet, and the last group encodes back to itself
 * (zero trailing bits) — the same as comparing bytes.toString('base64url') with the text,
 * without re-encoding it all. The unit test tries every other byte value in every position.
 */
export function fromB64u(text: string, what: string): Buffer {
  const bytes = Buffer.from(text, 'base64url');
  const rest = text.length % 4;
  const ok = rest !== 1
    && bytes.length === Math.floor((text.length * 3) / 4)
    && text.indexOf('+') < 0
    && text.indexOf('/') < 0
    && (rest === 0 || bytes.subarray(bytes.length - (rest - 1)).toString('base64url') === text.slice(text.length - rest));
  if (!ok) throw new Base64UrlError(`${what} is not base64url`);
  return bytes;
}

/** fromB64u of the ASCII text `src[start, end)`, decoded piece by piece into one buffer. */
export function decodeB64u(src: Buffer, start: number, end: number, what: string): Buffer {
  const length = end - start;
  const rest = length % 4;
  const text = src.subarray(start, end);
  const expected = Math.floor((length * 3) / 4);
  if (rest === 1 || text.indexOf(PLUS) >= 0 || text.indexOf(SLASH) >= 0) throw new Base64UrlError(`${what} is not base64url`);
  const out = Buffer.allocUnsafe(expected);
  let at = 0;
  for (let i = 0; i < length; i += DECODE_PIECE) {
    // A character skipped inside a piece leaves it short of whole groups: fewer bytes in all.
    at += out.write(text.toString('latin1', i, Math.min(length, i + DECODE_PIECE)), at, 'base64url');
  }
  const ok = at === expected && (rest === 0 || out.subarray(expected - (rest - 1)).toString('base64url') === text.toString('latin1', length - rest));
  if (!ok) throw new Base64UrlError(`${what} is not base64url`);
  return out;
}

/**
 * Writes the base64url of `bytes` into `out` at `at`, piece by piece; returns the offset after
 * it. `bytes` may come in parts, encoded as if one buffer (a large one, then small ones: only
 * the first's last 0–2 bytes are copied, to join the rest).
 */
export function writeB64u(out: Buffer, at: number, bytes: Buffer | readonly Buffer[]): number {
  if (!Buffer.isBuffer(bytes)) {
    const [first = Buffer.alloc(0), ...rest] = bytes;
    const whole = first.length - (first.length % 3);
    return writeB64u(out, writeB64u(out, at, first.subarray(0, whole)), Buffer.concat([first.subarray(whole), ...rest]));
  }
  for (let i = 0; i < bytes.length; i += ENCODE_PIECE) {
    at += out.write(bytes.toString('base64url', i, Math.min(bytes.length, i + ENCODE_PIECE)), at, 'latin1');
  }
  return at;
}
