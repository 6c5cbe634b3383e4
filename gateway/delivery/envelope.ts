/**
 * The hit envelope of ARCHITECTURE.md, with `jose` for both layers:
 *   JWE compact (ECDH-ES+A256KW / A256GCM, kid = dispatch certificate thumbprint, cty alpr-hit+jws)
 *     └ JWS compact (ES256, typ alpr-hit+jws, x5c = device chain leaf first)
 *         └ hit message JSON (hit-message.ts)
 * Signed inside, encrypted outside: the signature is hidden from the broker, and dispatch can
 * keep the signed hit as evidence after decrypting. Sealed at each send (publishedAt changes).
 *
 * Also here: the device's own small signed replies (command results) and the check of what
 * dispatch signs (acks, commands) — same algorithm, same chain rules, one place.
 */
import { X509Certificate, type KeyObject } from 'node:crypto';
import { CompactSign, compactDecrypt, type CryptoKey } from 'jose';
import { ChainError, verifyChain } from './chain-verify.ts';
import type { HitMessage } from './hit-message.ts';
import type { DeviceIdentity, DispatchRecipient } from './identity.ts';
import { parseJws, sealCompact, verifyEs256, type CompactJws } from './jose-compact.ts';

export const HIT_TYP = 'alpr-hit+jws';
export const ACK_TYP = 'alpr-ack+jws';
/** Dispatch's ack of a device event, on the same `.../acks` topic. */
export const EVENT_ACK_TYP = 'alpr-event-ack+jws';
export const CMD_TYP = 'alpr-cmd+jws';
export const CMD_RESULT_TYP = 'alpr-cmd-result+jws';
/** A device event on `.../events`, signed by the device like its command results. */
export const EVENT_TYP = 'alpr-event+jws';
export const JWE_ALG = 'ECDH-ES+A256KW';
export const JWE_ENC = 'A256GCM';

const encoder = new TextEncoder();

export class EnvelopeError extends Error {
  override readonly name = 'EnvelopeError';
}

type Signer = Pick<DeviceIdentity, 'key' | 'x5c'> & { readonly signingKey?: CryptoKey };

/** Signs `payload` (JSON) with the device key, chain in `x5c`. */
export function signJson(typ: string, payload: unknown, identity: Signer): Promise<string> {
  return new CompactSign(encoder.encode(JSON.stringify(payload)))
    .setProtectedHeader({ alg: 'ES256', typ, x5c: [...identity.x5c] })
    .sign(identity.signingKey ?? identity.key);
}

/**
 * Signs and encrypts one send of a hit, with node:crypto (jose-compact.ts: jose's WebCrypto path
 * cost the pole ~1 ms of CPU more per hit with a 100 KB image); the result is what jose makes
 * and opens.
 */
export async function sealHit(message: HitMessage, identity: Signer, to: DispatchRecipient): Promise<string> {
  return sealHitBytes(JSON.stringify(message), identity, to).toString('latin1');
}

/**
 * sealHit for a message already in JSON (hit-message.ts stampHitJson), as the bytes to publish:
 * handed a 256 KB string, mqtt-packet measured its UTF-8 length and the socket encoded it again
 * (~0.5 ms a hit in the pole's profile).
 */
export function sealHitBytes(messageJson: string | Buffer | readonly Buffer[], identity: Signer, to: DispatchRecipient): Buffer {
  return sealCompact(messageJson, HIT_TYP, { signingKey: identity.key, x5c: identity.x5c, recipient: to.key, kid: to.kid });
}

/**
 * Opens an envelope (dispatch's job; used by the device's tests and bench to check what was
 * sent): decrypts, verifies the signature with the x5c leaf after checking its chain and CN.
 */
export async function openHit(jwe: string, decryptionKey: KeyObject, anchors: readonly X509Certificate[], device: string, now: number): Promise<{ message: unknown; jws: string }> {
  const { plaintext, protectedHeader } = await compactDecrypt(jwe, decryptionKey, { keyManagementAlgorithms: [JWE_ALG], contentEncryptionAlgorithms: [JWE_ENC] });
  if (protectedHeader.cty !== HIT_TYP) throw new EnvelopeError(`JWE cty ${String(protectedHeader.cty)}, expected ${HIT_TYP}`);
  const jws = new TextDecoder().decode(plaintext);
  const message = await verifySigned(jws, HIT_TYP, anchors, device, now);
  return { message, jws };
}

/**
 * Chains already verified, by their x5c and the anchors they were checked against: dispatch
 * signs every ack with the same chain, and parsing and checking it per ack costs more than the
 * ack's own signature. Validity dates are still checked at each use.
 */
export class ChainCache {
  private readonly entries = new Map<string, { certs: X509Certificate[]; leaf: X509Certificate; key: KeyObject }>();
  constructor(private readonly max = 16) {}

  get(key: string, now: number): X509Certificate | KeyObject | undefined {
    const hit = this.entries.get(key);
    if (!hit) return undefined;
    if (!hit.certs.every((c) => Date.parse(c.validFrom) <= now && now <= Date.parse(c.validTo))) {
      this.entries.delete(key);
      return undefined;
    }
    return hit.key;
  }

  set(key: string, certs: X509Certificate[], leaf: X509Certificate): KeyObject {
    if (this.entries.size >= this.max) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(key, { certs, leaf, key: leaf.publicKey });
    return leaf.publicKey;
  }
}

/**
 * Verifies a JWS of type `typ` signed by a chain to `anchors` whose leaf CN is `signerCn`; returns
 * its JSON payload. The signature with node:crypto (jose-compact.ts): one per ack, and jose's
 * WebCrypto job for it cost the pole more than the rest of handling the ack.
 */
export async function verifySigned(jws: string, typ: string, anchors: readonly X509Certificate[], signerCn: string, now: number, cache?: ChainCache): Promise<unknown> {
  let parsed: CompactJws;
  try {
    parsed = parseJws(Buffer.from(jws, 'utf8'));
  } catch {
    throw new EnvelopeError('not a JWS compact string');
  }
  const { header } = parsed;
  if (header['alg'] !== 'ES256') throw new EnvelopeError(`JWS alg ${String(header['alg'])}, expected ES256`);
  if (header['typ'] !== typ) throw new EnvelopeError(`JWS typ ${String(header['typ'])}, expected ${typ}`);
  const x5c = header['x5c'];
  const cacheKey = cache && Array.isArray(x5c) ? `${x5c.join('.')}|${signerCn}|${anchors.map((a) => a.fingerprint256).join(',')}` : undefined;
  let key = cacheKey ? cache?.get(cacheKey, now) : undefined;
  if (!key) {
    try {
      const leaf = verifyChain(x5c, anchors, signerCn, now);
      key = cacheKey && cache ? cache.set(cacheKey, (x5c as string[]).map((c) => new X509Certificate(Buffer.from(c, 'base64'))), leaf) : leaf.publicKey;
    } catch (err) {
      if (err instanceof ChainError) throw new EnvelopeError(`signer: ${err.message}`);
      throw err;
    }
  }
  let payload: Buffer;
  try {
    payload = verifyEs256(parsed, key as KeyObject);
  } catch {
    throw new EnvelopeError('JWS signature does not verify');
  }
  try {
    return JSON.parse(payload.toString('utf8')) as unknown;
  } catch {
    throw new EnvelopeError('JWS payload is not JSON');
  }
}
