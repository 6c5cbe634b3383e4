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
 * curve (Node's JWK import checks the point), a wrong-sized IV, tag, wrapped key or signature,
 * and base64url that is not the canonical encoding (stricter than jose: padding, stray
 * characters and non-zero trailing bits all fail). Tests check it against jose in both
 * directions (test/unit/delivery/jose-compact.test.ts).
 */
import { createCipheriv, createDecipheriv, createHash, createPublicKey, diffieHellman, generateKeyPairSync, randomBytes, sign, verify, type KeyObject } from 'node:crypto';

export class CompactError extends Error {
  override readonly name = 'CompactError';
}

/** Canonical base64url (RFC 7515 §2: no padding) or a CompactError naming `what`. */
export function fromB64u(text: string, what: string): Buffer {
  const bytes = Buffer.from(text, 'base64url');
  // Buffer's decoder skips what is not base64, stops at '=' and takes '+' and '/' too. So: no
  // character skipped or cut (the length says so), none of the other alphabet, and the last
  // group encodes back to itself (zero trailing bits). The same as comparing
  // bytes.toString('base64url') with the text, without re-encoding 200 KB (a third of the
  // cost of opening a hit). The unit test tries every other byte value in every position.
  const rest = text.length % 4;
  const ok = rest !== 1
    && bytes.length === Math.floor((text.length * 3) / 4)
    && text.indexOf('+') < 0
    && text.indexOf('/') < 0
    && (rest === 0 || bytes.subarray(bytes.length - (rest - 1)).toString('base64url') === text.slice(text.length - rest));
  if (!ok) throw new CompactError(`${what} is not base64url`);
  return bytes;
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

/** Splits a JWE compact string, reads its protected header and decodes the other parts; nothing is decrypted yet. */
export function parseJwe(jwe: string): CompactJwe {
  const parts = jwe.split('.');
  if (parts.length !== 5) throw new CompactError('not a JWE compact string (five parts)');
  const [protectedB64, encryptedKey, iv, ciphertext, tag] = parts as [string, string, string, string, string];
  return {
    protectedB64,
    header: jsonHeader(protectedB64, 'JWE protected header'),
    encryptedKey: fromB64u(encryptedKey, 'JWE encrypted key'),
    iv: fromB64u(iv, 'JWE iv'),
    ciphertext: fromB64u(ciphertext, 'JWE ciphertext'),
    tag: fromB64u(tag, 'JWE tag'),
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
  let ephemeral: KeyObject;
  try {
    // Only the public members: the import checks that the point lies on the curve.
    ephemeral = createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: epk['x'], y: epk['y'] }, format: 'jwk' });
  } catch (err) {
    throw new CompactError(`JWE epk unusable: ${(err as Error).message}`);
  }
  const party = (name: 'apu' | 'apv'): Buffer => {
    const v = header[name];
    if (v === undefined) return Buffer.alloc(0);
    if (typeof v !== 'string') throw new CompactError(`JWE ${name} is not a string`);
    return fromB64u(v, `JWE ${name}`);
  };
  const kek = concatKdf(diffieHellman({ privateKey: key, publicKey: ephemeral }), 256, 'ECDH-ES+A256KW', party('apu'), party('apv'));
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
    return Buffer.concat([gcm.update(ciphertext), gcm.final()]);
  } catch {
    throw new CompactError('JWE does not authenticate (ciphertext, tag or header altered)');
  }
}

export interface CompactJws {
  readonly header: Record<string, unknown>;
  /** `header.payload` exactly as received: what the signature covers. */
  readonly signingInput: Buffer;
  readonly payloadB64: string;
  readonly signatureB64: string;
}

const DOT = 0x2e;

/** Splits a JWS compact form (the bytes a JWE decrypted to) and reads its protected header. */
export function parseJws(jws: Buffer): CompactJws {
  const first = jws.indexOf(DOT);
  const second = first < 0 ? -1 : jws.indexOf(DOT, first + 1);
  if (second < 0 || jws.indexOf(DOT, second + 1) >= 0) throw new CompactError('not a JWS compact string (three parts)');
  return {
    header: jsonHeader(jws.toString('latin1', 0, first), 'JWS protected header'),
    signingInput: jws.subarray(0, second),
    payloadB64: jws.toString('latin1', first + 1, second),
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
  return fromB64u(jws.payloadB64, 'JWS payload');
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

/** The ASCII strings `parts` joined by '.', written straight into one buffer (no ~250 KB string built first). */
function joinAscii(parts: readonly string[], extra = 0): Buffer {
  const out = Buffer.allocUnsafe(parts.reduce((n, p) => n + p.length + 1, -1) + extra);
  let at = 0;
  parts.forEach((p, i) => {
    if (i > 0) at = out.writeUInt8(DOT, at);
    at += out.write(p, at, 'latin1');
  });
  return out;
}

/**
 * Signs `payloadJson` ES256 with header `{alg, typ, x5c}` and encrypts the JWS ECDH-ES+A256KW /
 * A256GCM to `keys.recipient` with header `{alg, enc, cty, kid, epk}` (what jose's CompactSign
 * and CompactEncrypt made), a fresh ephemeral key and IV each time. Returns the compact JWE as
 * bytes (ASCII), ready to publish.
 */
export function sealCompact(payloadJson: string, typ: string, keys: SealKeys): Buffer {
  // header.payload, then room for '.' and the signature (64 bytes: 86 base64url characters).
  const jws = joinAscii([b64uJson({ alg: 'ES256', typ, x5c: keys.x5c }), Buffer.from(payloadJson, 'utf8').toString('base64url')], 1 + 86);
  const signed = jws.length - 87;
  const signature = sign('sha256', jws.subarray(0, signed), { key: keys.signingKey, dsaEncoding: 'ieee-p1363' }).toString('base64url');
  jws.writeUInt8(DOT, signed);
  jws.write(signature, signed + 1, 'latin1');

  const ephemeral = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const { x, y } = ephemeral.publicKey.export({ format: 'jwk' });
  const protectedB64 = b64uJson({ alg: 'ECDH-ES+A256KW', enc: 'A256GCM', cty: typ, kid: keys.kid, epk: { kty: 'EC', crv: 'P-256', x, y } });
  const kek = concatKdf(diffieHellman({ privateKey: ephemeral.privateKey, publicKey: keys.recipient }), 256, 'ECDH-ES+A256KW', Buffer.alloc(0), Buffer.alloc(0));
  const cek = randomBytes(32);
  const wrap = createCipheriv('id-aes256-wrap', kek, KW_IV);
  const wrapped = Buffer.concat([wrap.update(cek), wrap.final()]);
  const iv = randomBytes(12);
  const gcm = createCipheriv('aes-256-gcm', cek, iv, { authTagLength: 16 });
  gcm.setAAD(Buffer.from(protectedB64, 'ascii'));
  const ciphertext = Buffer.concat([gcm.update(jws), gcm.final()]);
  return joinAscii([protectedB64, wrapped.toString('base64url'), iv.toString('base64url'), ciphertext.toString('base64url'), gcm.getAuthTag().toString('base64url')]);
}
