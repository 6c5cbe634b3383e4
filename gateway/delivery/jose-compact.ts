/**
 * The two JOSE compact forms of the hit envelope (envelope.ts), made and opened with node:crypto
 * directly: the JWE (RFC 7516; `ECDH-ES+A256KW` key agreement, RFC 7518 §4.6, and `A256GCM`,
 * §5.3) and the ES256 JWS inside it (RFC 7515, RFC 7518 §3.4). Only those algorithms exist
 * here. The pole seals with sealCompact; dispatch (dispatch/envelope.ts) opens with parseJwe,
 * decryptJwe, parseJws and verifyEs256, checking the headers in between for the reason it counts.
 *
 * The pole also checks dispatch's acks with parseJws/verifyEs256 (envelope.ts verifySigned);
 * jose still signs the small messages and dispatch checks events and command results with it.
 *
 * Why not jose for the hits: jose 6 works through WebCrypto, which on Node 20 imports a key for
 * every operation (the JWE's ephemeral key from JWK, the others from KeyObjects), round-trips
 * the ~200 KB segments through TextEncoder/TextDecoder and copies them again to hand each
 * primitive to a threadpool job. With a 100 KB image, opening a hit cost 2.7 ms of CPU that way
 * and 1.0 ms here, sealing one 2.1 ms and 0.9 ms (verifier.hit and sealHit on the 2-core bench
 * machine); the receiver's and the pole's profiles in bench delivery were mostly that.
 *
 * What jose refuses is refused here too: a `crit` or `zip` header, an `epk` off the P-256
 * curve (ECDH.computeSecret checks the point), a wrong-sized IV, tag, wrapped key or signature,
 * and base64url that is not the canonical encoding (stricter than jose: padding, stray
 * characters and non-zero trailing bits all fail). Tests check it against jose in both
 * directions (test/unit/delivery/jose-compact.test.ts).
 */
import { createCipheriv, createDecipheriv, createECDH, createHash, randomBytes, sign, verify, type ECDH, type KeyObject } from 'node:crypto';
import { b64uLength, Base64UrlError, decodeB64u, fromB64u as fromB64uText, writeB64u } from './b64u.ts';

export class CompactError extends Error {
  override readonly name = 'CompactError';
}

const DOT = 0x2e;

/** A base64url refusal (b64u.ts) as this module's error. */
function strict<T>(decode: () => T): T {
  try {
    return decode();
  } catch (err) {
    if (err instanceof Base64UrlError) throw new CompactError(err.message);
    throw err;
  }
}

/** Canonical base64url (RFC 7515 §2: no padding) or a CompactError naming `what`. */
export function fromB64u(text: string, what: string): Buffer {
  return strict(() => fromB64uText(text, what));
}

/** fromB64u of the ASCII bytes `src[start, end)` (the large parts: never one string). */
function fromB64uBytes(src: Buffer, start: number, end: number, what: string): Buffer {
  return strict(() => decodeB64u(src, start, end, what));
}

function jsonHeader(b64: string, what: string): Record<string, unknown> {
  let header: unknown;
  try {
    header = JSON.parse(fromB64u(b64, what).toString('utf8'));
  } catch {
    throw new CompactError(`${what} unreadable`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw new CompactError(`${what} is not a JSON object`);
  return header as Record<string, unknown>;
}

export interface CompactJwe {
  /** The protected header as sent: the GCM associated data. */
  readonly protectedB64: string;
  readonly header: Record<string, unknown>;
  readonly encryptedKey: Buffer;
  readonly iv: Buffer;
  readonly ciphertext: Buffer;
  readonly tag: Buffer;
}

/**
 * Splits a JWE compact form, reads its protected header and decodes the other parts; nothing is
 * decrypted yet. As bytes (what MQTT delivers), the ciphertext is decoded without making it a
 * string (b64u.ts).
 */
export function parseJwe(jwe: string | Buffer): CompactJwe {
  // A string past ASCII is no compact form (and latin1 would keep only each character's low byte).
  if (typeof jwe === 'string' && /[^ -~]/.test(jwe)) throw new CompactError('JWE compact string is not printable ASCII');
  const src = typeof jwe === 'string' ? Buffer.from(jwe, 'latin1') : jwe;
  const dots: number[] = [];
  for (let at = src.indexOf(DOT); at >= 0 && dots.length < 5; at = src.indexOf(DOT, at + 1)) dots.push(at);
  if (dots.length !== 4) throw new CompactError('not a JWE compact string (five parts)');
  const [d1, d2, d3, d4] = dots as [number, number, number, number];
  const part = (from: number, to: number, what: string): Buffer => fromB64u(src.toString('latin1', from, to), what);
  const protectedB64 = src.toString('latin1', 0, d1);
  return {
    protectedB64,
    header: jsonHeader(protectedB64, 'JWE protected header'),
    encryptedKey: part(d1 + 1, d2, 'JWE encrypted key'),
    iv: part(d2 + 1, d3, 'JWE iv'),
    ciphertext: fromB64uBytes(src, d3 + 1, d4, 'JWE ciphertext'),
    tag: part(d4 + 1, src.length, 'JWE tag'),
  };
}

/** Length-prefixed (32-bit big-endian), as Concat KDF's OtherInfo fields are (RFC 7518 §4.6.2). */
function prefixed(data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  return Buffer.concat([len, data]);
}

/**
 * NIST SP 800-56A Concat KDF with SHA-256 as RFC 7518 §4.6.2 uses it, for keys up to 256 bits
 * (one round): SHA-256(counter 1 ‖ Z ‖ AlgorithmID ‖ PartyUInfo ‖ PartyVInfo ‖ keydatalen).
 */
export function concatKdf(z: Buffer, keyBits: number, algorithmId: string, apu: Buffer, apv: Buffer): Buffer {
  if (keyBits > 256 || keyBits % 8 !== 0) throw new CompactError(`concat KDF: ${keyBits}-bit keys are not supported`);
  const counter = Buffer.from([0, 0, 0, 1]);
  const bits = Buffer.alloc(4);
  bits.writeUInt32BE(keyBits);
  const digest = createHash('sha256').update(counter).update(z).update(prefixed(Buffer.from(algorithmId, 'ascii'))).update(prefixed(apu)).update(prefixed(apv)).update(bits).digest();
  return digest.subarray(0, keyBits / 8);
}

/** SEC 1 uncompressed point prefix. */
const UNCOMPRESSED = Buffer.from([4]);

/**
 * Key agreement with node:crypto's ECDH object rather than diffieHellman() on KeyObjects: that
 * needs a KeyObject for the other side's point, made per message from its JWK (~0.07 ms of the
 * ~0.14 ms an agreement cost). One per private key, kept while the key lives.
 */
const agreements = new WeakMap<KeyObject, ECDH>();

function agreement(key: KeyObject): ECDH {
  let ecdh = agreements.get(key);
  if (!ecdh) {
    if (key.type !== 'private' || key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') throw new CompactError('the decryption key is not a P-256 private key');
    ecdh = createECDH('prime256v1');
    ecdh.setPrivateKey(fromB64u(key.export({ format: 'jwk' }).d ?? '', 'private key'));
    agreements.set(key, ecdh);
  }
  return ecdh;
}

/** A P-256 public key as an uncompressed point (for ECDH.computeSecret), kept per key. */
const points = new WeakMap<KeyObject, Buffer>();

function publicPoint(key: KeyObject): Buffer {
  let point = points.get(key);
  if (!point) {
    const { crv, x, y } = key.export({ format: 'jwk' });
    if (crv !== 'P-256' || !x || !y) throw new CompactError('the recipient key is not a P-256 key');
    point = Buffer.concat([UNCOMPRESSED, fromB64u(x, 'recipient x'), fromB64u(y, 'recipient y')]);
    points.set(key, point);
  }
  return point;
}

/**
 * update() then final() of a GCM cipher or decipher: final() checks (or makes) the tag and, GCM
 * being a stream mode, returns nothing more, so update's output is the result as it is — not
 * copied into a second buffer of 200 KB by Buffer.concat.
 */
export function gcmAll(gcm: { update(data: Buffer): Buffer; final(): Buffer }, data: Buffer): Buffer {
  const out = gcm.update(data);
  const rest = gcm.final();
  return rest.length === 0 ? out : Buffer.concat([out, rest]);
}

/** RFC 3394's default initial value: what AES key unwrap checks the result against. */
const KW_IV = Buffer.from('a6a6a6a6a6a6a6a6', 'hex');

/**
 * Decrypts an `ECDH-ES+A256KW` / `A256GCM` JWE with `key` (P-256 private). Throws a
 * CompactError for anything that does not authenticate or is not that scheme.
 */
export function decryptJwe(jwe: CompactJwe, key: KeyObject): Buffer {
  const { header } = jwe;
  if (header['alg'] !== 'ECDH-ES+A256KW' || header['enc'] !== 'A256GCM') throw new CompactError(`JWE ${String(header['alg'])}/${String(header['enc'])} is not ECDH-ES+A256KW/A256GCM`);
  if ('crit' in header) throw new CompactError('JWE names critical header parameters this receiver does not implement');
  if ('zip' in header) throw new CompactError('compressed JWE payloads are not accepted');
  const epk = header['epk'] as Record<string, unknown> | undefined;
  if (typeof epk !== 'object' || epk === null || epk['kty'] !== 'EC' || epk['crv'] !== 'P-256' || typeof epk['x'] !== 'string' || typeof epk['y'] !== 'string') {
    throw new CompactError('JWE epk is not a P-256 public key');
  }
  const ecdh = agreement(key);
  let z: Buffer;
  try {
    // Only the public members, as an uncompressed point: computeSecret refuses a point off the
    // curve (as the JWK import did, at half the cost).
    const x = fromB64u(epk['x'], 'JWE epk x');
    const y = fromB64u(epk['y'], 'JWE epk y');
    if (x.length !== 32 || y.length !== 32) throw new CompactError('coordinates are not 32 bytes');
    z = ecdh.computeSecret(Buffer.concat([UNCOMPRESSED, x, y]));
  } catch (err) {
    throw new CompactError(`JWE epk unusable: ${(err as Error).message}`);
  }
  const party = (name: 'apu' | 'apv'): Buffer => {
    const v = header[name];
    if (v === undefined) return Buffer.alloc(0);
    if (typeof v !== 'string') throw new CompactError(`JWE ${name} is not a string`);
    return fromB64u(v, `JWE ${name}`);
  };
  const kek = concatKdf(z, 256, 'ECDH-ES+A256KW', party('apu'), party('apv'));
  const { encryptedKey: wrapped, iv, tag, ciphertext } = jwe;
  if (wrapped.length !== 40) throw new CompactError(`JWE encrypted key is ${wrapped.length} bytes, not a wrapped 256-bit key`);
  let cek: Buffer;
  try {
    const unwrap = createDecipheriv('id-aes256-wrap', kek, KW_IV);
    cek = Buffer.concat([unwrap.update(wrapped), unwrap.final()]);
  } catch {
    throw new CompactError('JWE key does not unwrap (another recipient, or altered on the way)');
  }
  if (iv.length !== 12 || tag.length !== 16) throw new CompactError(`JWE iv/tag of ${iv.length}/${tag.length} bytes, expected 12/16`);
  try {
    const gcm = createDecipheriv('aes-256-gcm', cek, iv, { authTagLength: 16 });
    gcm.setAAD(Buffer.from(jwe.protectedB64, 'ascii'));
    gcm.setAuthTag(tag);
    return gcmAll(gcm, ciphertext);
  } catch {
    throw new CompactError('JWE does not authenticate (ciphertext, tag or header altered)');
  }
}

export interface CompactJws {
  /** The protected header as sent (base64url). */
  readonly protectedB64: string;
  readonly header: Record<string, unknown>;
  /** `header.payload` exactly as received: what the signature covers; the payload is the part after the first '.'. */
  readonly signingInput: Buffer;
  readonly signatureB64: string;
}

/** Splits a JWS compact form (the bytes a JWE decrypted to) and reads its protected header. */
export function parseJws(jws: Buffer): CompactJws {
  const first = jws.indexOf(DOT);
  const second = first < 0 ? -1 : jws.indexOf(DOT, first + 1);
  if (second < 0 || jws.indexOf(DOT, second + 1) >= 0) throw new CompactError('not a JWS compact string (three parts)');
  const protectedB64 = jws.toString('latin1', 0, first);
  return {
    protectedB64,
    header: jsonHeader(protectedB64, 'JWS protected header'),
    signingInput: jws.subarray(0, second),
    signatureB64: jws.toString('latin1', second + 1),
  };
}

/** Checks an ES256 signature with `key`; returns the payload bytes. Throws a CompactError when it does not verify. */
export function verifyEs256(jws: CompactJws, key: KeyObject): Buffer {
  if (jws.header['alg'] !== 'ES256') throw new CompactError(`JWS alg ${String(jws.header['alg'])}, expected ES256`);
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') throw new CompactError('the signer\'s key is not a P-256 key (ES256)');
  // jose refuses a crit it does not implement, and b64:false only comes with crit.
  if ('crit' in jws.header || 'b64' in jws.header) throw new CompactError('JWS names header parameters this receiver does not implement (crit, b64)');
  const signature = fromB64u(jws.signatureB64, 'JWS signature');
  let ok: boolean;
  try {
    ok = signature.length === 64 && verify('sha256', jws.signingInput, { key, dsaEncoding: 'ieee-p1363' }, signature);
  } catch {
    ok = false; // what OpenSSL cannot even check is no valid signature either
  }
  if (!ok) throw new CompactError('signature verification failed');
  const { signingInput } = jws;
  return fromB64uBytes(signingInput, signingInput.indexOf(DOT) + 1, signingInput.length, 'JWS payload');
}

export interface SealKeys {
  /** The signer's P-256 private key and its chain (base64 DER, leaf first) for `x5c`. */
  readonly signingKey: KeyObject;
  readonly x5c: readonly string[];
  /** The recipient's P-256 public key and its `kid`. */
  readonly recipient: KeyObject;
  readonly kid: string;
}

/** A JSON header, base64url. */
const b64uJson = (header: unknown): string => Buffer.from(JSON.stringify(header), 'utf8').toString('base64url');

/** One part of a compact form: text (headers, keys: short), or bytes (in parts or not) to write as base64url. */
type Part = string | Buffer | readonly Buffer[];

const byteLength = (p: Buffer | readonly Buffer[]): number => (Buffer.isBuffer(p) ? p.length : p.reduce((n, b) => n + b.length, 0));

/**
 * The parts joined by '.', each string as it is and each buffer as its base64url, written
 * straight into one buffer (no ~250 KB string built first: b64u.ts); `extra` bytes left at the end.
 */
function joinParts(parts: readonly Part[], extra = 0): Buffer {
  const size = parts.reduce((n, p) => n + (typeof p === 'string' ? p.length : b64uLength(byteLength(p))) + 1, -1);
  const out = Buffer.allocUnsafe(size + extra);
  let at = 0;
  parts.forEach((p, i) => {
    if (i > 0) at = out.writeUInt8(DOT, at);
    at = typeof p === 'string' ? at + out.write(p, at, 'latin1') : writeB64u(out, at, p);
  });
  return out;
}

/**
 * A JWS compact form, ES256, header `{alg, typ, x5c}` (what jose's CompactSign makes), as ASCII
 * bytes: header.payload, '.', and the signature (64 bytes: 86 base64url characters).
 */
export function signCompactBytes(payload: Buffer | readonly Buffer[], typ: string, key: KeyObject, x5c: readonly string[]): Buffer {
  const jws = joinParts([b64uJson({ alg: 'ES256', typ, x5c }), payload], 1 + 86);
  const signed = jws.length - 87;
  const signature = sign('sha256', jws.subarray(0, signed), { key, dsaEncoding: 'ieee-p1363' }).toString('base64url');
  jws.writeUInt8(DOT, signed);
  jws.write(signature, signed + 1, 'latin1');
  return jws;
}

/** signCompactBytes for a small JSON payload (acks, commands), as a string. */
export function signCompact(payload: unknown, typ: string, key: KeyObject, x5c: readonly string[]): string {
  return signCompactBytes(Buffer.from(JSON.stringify(payload), 'utf8'), typ, key, x5c).toString('latin1');
}

/**
 * Signs `payloadJson` (text, or its UTF-8 bytes, whole or in parts) ES256 with header `{alg, typ, x5c}` and
 * encrypts the JWS ECDH-ES+A256KW / A256GCM to `keys.recipient` with header `{alg, enc, cty,
 * kid, epk}` (what jose's CompactSign and CompactEncrypt made), a fresh ephemeral key and IV each
 * time. Returns the compact JWE as bytes (ASCII), ready to publish.
 */
export function sealCompact(payloadJson: string | Buffer | readonly Buffer[], typ: string, keys: SealKeys): Buffer {
  const jws = signCompactBytes(typeof payloadJson === 'string' ? Buffer.from(payloadJson, 'utf8') : payloadJson, typ, keys.signingKey, keys.x5c);

  // A fresh ephemeral key each time (an ECDH object: no KeyObjects or JWK export per hit).
  const ephemeral = createECDH('prime256v1');
  const point = ephemeral.generateKeys();
  const x = point.toString('base64url', 1, 33);
  const y = point.toString('base64url', 33, 65);
  const protectedB64 = b64uJson({ alg: 'ECDH-ES+A256KW', enc: 'A256GCM', cty: typ, kid: keys.kid, epk: { kty: 'EC', crv: 'P-256', x, y } });
  const kek = concatKdf(ephemeral.computeSecret(publicPoint(keys.recipient)), 256, 'ECDH-ES+A256KW', Buffer.alloc(0), Buffer.alloc(0));
  const cek = randomBytes(32);
  const wrap = createCipheriv('id-aes256-wrap', kek, KW_IV);
  const wrapped = Buffer.concat([wrap.update(cek), wrap.final()]);
  const iv = randomBytes(12);
  const gcm = createCipheriv('aes-256-gcm', cek, iv, { authTagLength: 16 });
  gcm.setAAD(Buffer.from(protectedB64, 'ascii'));
  const ciphertext = gcmAll(gcm, jws);
  return joinParts([protectedB64, wrapped, iv, ciphertext, gcm.getAuthTag()]);
}
