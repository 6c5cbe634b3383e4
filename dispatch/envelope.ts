/**
 * Opening a hit envelope (ARCHITECTURE.md "Hit envelope", contract 1 of issue #7): a JWE compact
 * string (ECDH-ES+A256KW / A256GCM) to the dispatch key, holding a JWS compact string (ES256,
 * device chain in x5c) over the hit JSON. Every failure is an {@link EnvelopeError} whose
 * `reason` is one of the counted rejection reasons.
 */
import type { KeyObject, X509Certificate } from 'node:crypto';
import { ChainError, commonName, type ChainFailure } from '../provisioning/chain.ts';
import type { VerifiedCrl } from '../provisioning/crl.ts';
import { ChainMemo } from './chain-memo.ts';
import { decryptJwe, parseJwe, parseJws, verifyEs256, type CompactJwe, type CompactJws } from '../gateway/delivery/jose-compact.ts';

export const HIT_JWE_ALG = 'ECDH-ES+A256KW';
export const HIT_JWE_ENC = 'A256GCM';
export const HIT_TYP = 'alpr-hit+jws';

export type RejectReason =
  | ChainFailure
  /** JWE did not authenticate: ciphertext, tag or header changed on the way. */
  | 'tampered'
  /** JWE addressed to another key (kid) or made with other algorithms. */
  | 'not-for-us'
  /** JWS signature does not verify with the x5c leaf's key. */
  | 'bad-signature'
  /** The certificate's CN is not the device the topic and message name. */
  | 'wrong-signer'
  /** publishedAt far outside the receiver's clock: an old envelope replayed. */
  | 'stale'
  /** A hitId already stored (acked again, not shown twice). */
  | 'replayed'
  /** The JSON is not a hit message this receiver understands. */
  | 'invalid-hit';

export class EnvelopeError extends Error {
  override readonly name = 'EnvelopeError';
  constructor(readonly reason: RejectReason, message: string) {
    super(message);
  }
}

export interface OpenOptions {
  readonly decryptionKey: KeyObject;
  /** base64url SHA-256 of the dispatch encryption certificate's DER; checked when given. */
  readonly kid?: string;
  readonly anchors: readonly X509Certificate[];
  /** Verified CRLs in force, or undefined when no revocation source is configured. */
  readonly crls: readonly VerifiedCrl[] | undefined;
  readonly now: number;
  /** How far publishedAt may lie behind / ahead of `now`. */
  readonly maxAgeMs: number;
  readonly maxSkewMs: number;
  /** Chains checked before (the receiver keeps one); without it every chain is checked afresh. */
  readonly chains?: ChainMemo;
}

/**
 * The device's JWS as it arrived, kept as evidence (hit-record.ts): the protected header (with
 * x5c) and signature as sent, and the payload bytes; `header.base64url(payload).signature` is
 * the compact JWS again, byte for byte (every part was checked to be canonical base64url).
 */
export interface SignedHit {
  readonly protectedB64: string;
  readonly payload: Buffer;
  readonly signatureB64: string;
}

export interface OpenedHit {
  /** The hit JSON, signature and chain checked; the caller validates its shape. */
  readonly message: Record<string, unknown>;
  readonly signed: SignedHit;
  readonly leaf: X509Certificate;
  readonly signerCn: string | undefined;
}

/** Decrypts, verifies the signature with the x5c leaf, then the chain at the message's publish time. */
export async function openHitEnvelope(payload: Uint8Array, opts: OpenOptions): Promise<OpenedHit> {
  const chains = opts.chains ?? new ChainMemo(opts.anchors, 8);
  // Parsed as the bytes that came (never one 270 KB string: b64u.ts), less surrounding whitespace.
  const jweBytes = trimAscii(Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength));
  // Every part must be canonical base64url (jose-compact.ts), the header a JSON object.
  let jwe: CompactJwe;
  try {
    jwe = parseJwe(jweBytes);
  } catch (err) {
    throw new EnvelopeError('malformed', `payload is not a JWE compact string: ${(err as Error).message}`);
  }
  const { header } = jwe;
  if (header['alg'] !== HIT_JWE_ALG || header['enc'] !== HIT_JWE_ENC) throw new EnvelopeError('not-for-us', `JWE alg/enc ${String(header['alg'])}/${String(header['enc'])}, expected ${HIT_JWE_ALG}/${HIT_JWE_ENC}`);
  if (opts.kid !== undefined && header['kid'] !== opts.kid) throw new EnvelopeError('not-for-us', `JWE kid ${String(header['kid'])} is not this receiver's key`);
  if (header['cty'] !== HIT_TYP) throw new EnvelopeError('malformed', `JWE cty ${String(header['cty'])}, expected ${HIT_TYP}`);

  let plaintext: Buffer;
  try {
    plaintext = decryptJwe(jwe, opts.decryptionKey);
  } catch (err) {
    // GCM tag, key unwrap or an altered header: whichever part changed, it is not what was sent.
    throw new EnvelopeError('tampered', `JWE does not decrypt: ${(err as Error).message}`);
  }

  let jws: CompactJws;
  try {
    jws = parseJws(plaintext);
  } catch {
    throw new EnvelopeError('malformed', 'inner JWS header unreadable');
  }
  if (jws.header['alg'] !== 'ES256') throw new EnvelopeError('malformed', `JWS alg ${String(jws.header['alg'])}, expected ES256`);
  if (jws.header['typ'] !== HIT_TYP) throw new EnvelopeError('malformed', `JWS typ ${String(jws.header['typ'])}, expected ${HIT_TYP}`);
  const x5c = jws.header['x5c'];
  if (!Array.isArray(x5c) || x5c.length === 0) throw new EnvelopeError('malformed', 'JWS header has no x5c chain');

  // The leaf's key first: a signature that does not verify makes the rest moot. The chain is
  // checked after, at the signed publish time.
  let leafKey: KeyObject;
  try {
    leafKey = chains.leaf(x5c).key;
  } catch (err) {
    throw toEnvelopeError(err);
  }
  let body: Buffer;
  try {
    body = verifyEs256(jws, leafKey);
  } catch (err) {
    throw new EnvelopeError('bad-signature', `JWS signature does not verify with the x5c leaf key: ${(err as Error).message}`);
  }
  let message: unknown;
  try {
    message = JSON.parse(body.toString('utf8'));
  } catch {
    throw new EnvelopeError('malformed', 'signed payload is not JSON');
  }
  if (typeof message !== 'object' || message === null || Array.isArray(message)) throw new EnvelopeError('invalid-hit', 'signed payload is not a JSON object');
  const publishedAt = (message as Record<string, unknown>)['publishedAt'];
  if (typeof publishedAt !== 'number' || !Number.isFinite(publishedAt)) throw new EnvelopeError('invalid-hit', 'publishedAt missing or not a number');
  if (publishedAt < opts.now - opts.maxAgeMs) throw new EnvelopeError('stale', `published ${new Date(publishedAt).toISOString()}, older than the ${opts.maxAgeMs} ms window`);
  if (publishedAt > opts.now + opts.maxSkewMs) throw new EnvelopeError('stale', `published ${new Date(publishedAt).toISOString()}, ahead of this receiver's clock by more than ${opts.maxSkewMs} ms`);

  let leaf: X509Certificate;
  try {
    leaf = chains.verify(x5c as string[], publishedAt, opts.crls);
  } catch (err) {
    throw toEnvelopeError(err);
  }
  return { message: message as Record<string, unknown>, signed: { protectedB64: jws.protectedB64, payload: body, signatureB64: jws.signatureB64 }, leaf, signerCn: commonName(leaf) };
}

/** `bytes` without the ASCII whitespace (space, tab, CR, LF) at either end. */
function trimAscii(bytes: Buffer): Buffer {
  const blank = (b: number | undefined): boolean => b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d;
  let start = 0;
  let end = bytes.length;
  while (start < end && blank(bytes[start])) start++;
  while (end > start && blank(bytes[end - 1])) end--;
  return bytes.subarray(start, end);
}

function toEnvelopeError(err: unknown): EnvelopeError {
  if (err instanceof ChainError) return new EnvelopeError(err.reason, err.message);
  return new EnvelopeError('malformed', (err as Error).message);
}
