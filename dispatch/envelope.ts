/**
 * Opening a hit envelope (ARCHITECTURE.md "Hit envelope", contract 1 of issue #7): a JWE compact
 * string (ECDH-ES+A256KW / A256GCM) to the dispatch key, holding a JWS compact string (ES256,
 * device chain in x5c) over the hit JSON. Every failure is an {@link EnvelopeError} whose
 * `reason` is one of the counted rejection reasons.
 */
import { X509Certificate, type KeyObject } from 'node:crypto';
import { compactDecrypt, compactVerify, decodeProtectedHeader } from 'jose';
import { ChainError, commonName, verifyChain, type ChainFailure } from '../provisioning/chain.ts';
import type { VerifiedCrl } from '../provisioning/crl.ts';

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
}

export interface OpenedHit {
  /** The hit JSON, signature and chain checked; the caller validates its shape. */
  readonly message: Record<string, unknown>;
  readonly leaf: X509Certificate;
  readonly signerCn: string | undefined;
}

const text = new TextDecoder();

/** Decrypts, verifies the signature with the x5c leaf, then the chain at the message's publish time. */
export async function openHitEnvelope(payload: Uint8Array, opts: OpenOptions): Promise<OpenedHit> {
  const jwe = text.decode(payload).trim();
  if (!/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]*){4}$/.test(jwe)) throw new EnvelopeError('malformed', 'payload is not a JWE compact string');
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(jwe);
  } catch {
    throw new EnvelopeError('malformed', 'JWE protected header unreadable');
  }
  if (header.alg !== HIT_JWE_ALG || header.enc !== HIT_JWE_ENC) throw new EnvelopeError('not-for-us', `JWE alg/enc ${String(header.alg)}/${String(header.enc)}, expected ${HIT_JWE_ALG}/${HIT_JWE_ENC}`);
  if (opts.kid !== undefined && header.kid !== opts.kid) throw new EnvelopeError('not-for-us', `JWE kid ${String(header.kid)} is not this receiver's key`);
  if (header.cty !== HIT_TYP) throw new EnvelopeError('malformed', `JWE cty ${String(header.cty)}, expected ${HIT_TYP}`);

  let jws: string;
  try {
    const { plaintext } = await compactDecrypt(jwe, opts.decryptionKey, { keyManagementAlgorithms: [HIT_JWE_ALG], contentEncryptionAlgorithms: [HIT_JWE_ENC] });
    jws = text.decode(plaintext);
  } catch (err) {
    // GCM tag, key unwrap or an altered header: whichever part changed, it is not what was sent.
    throw new EnvelopeError('tampered', `JWE does not decrypt: ${(err as Error).message}`);
  }

  let jwsHeader: ReturnType<typeof decodeProtectedHeader>;
  try {
    jwsHeader = decodeProtectedHeader(jws);
  } catch {
    throw new EnvelopeError('malformed', 'inner JWS header unreadable');
  }
  if (jwsHeader.alg !== 'ES256') throw new EnvelopeError('malformed', `JWS alg ${String(jwsHeader.alg)}, expected ES256`);
  if (jwsHeader.typ !== HIT_TYP) throw new EnvelopeError('malformed', `JWS typ ${String(jwsHeader.typ)}, expected ${HIT_TYP}`);
  const x5c = jwsHeader.x5c;
  if (!Array.isArray(x5c) || x5c.length === 0) throw new EnvelopeError('malformed', 'JWS header has no x5c chain');

  // The leaf's key first: a signature that does not verify makes the rest moot. The chain is
  // checked after, at the signed publish time.
  let leafForKey: X509Certificate;
  try {
    leafForKey = parseLeaf(x5c);
  } catch (err) {
    throw toEnvelopeError(err);
  }
  let body: Uint8Array;
  try {
    ({ payload: body } = await compactVerify(jws, leafForKey.publicKey, { algorithms: ['ES256'] }));
  } catch (err) {
    throw new EnvelopeError('bad-signature', `JWS signature does not verify with the x5c leaf key: ${(err as Error).message}`);
  }
  let message: unknown;
  try {
    message = JSON.parse(text.decode(body));
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
    leaf = verifyChain(x5c, opts.anchors, publishedAt, opts.crls);
  } catch (err) {
    throw toEnvelopeError(err);
  }
  return { message: message as Record<string, unknown>, leaf, signerCn: commonName(leaf) };
}

/** Parses x5c[0] only (for its key); the chain's validation follows the signature check. */
function parseLeaf(x5c: readonly unknown[]): X509Certificate {
  const b64 = x5c[0];
  if (typeof b64 !== 'string' || !/^[A-Za-z0-9+/]+=*$/.test(b64)) throw new ChainError('malformed', 'x5c[0] is not a base64 string');
  try {
    return new X509Certificate(Buffer.from(b64, 'base64'));
  } catch (err) {
    throw new ChainError('malformed', `x5c[0] is not a certificate (${(err as Error).message})`);
  }
}

function toEnvelopeError(err: unknown): EnvelopeError {
  if (err instanceof ChainError) return new EnvelopeError(err.reason, err.message);
  return new EnvelopeError('malformed', (err as Error).message);
}
