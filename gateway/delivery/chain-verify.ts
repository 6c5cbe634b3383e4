/**
 * Checks an `x5c` chain (leaf first, base64 DER) of what dispatch sends the device (acks,
 * commands) with the agency's path validation (provisioning/chain.ts: each certificate signed by
 * the next, the last by an anchor, validity, CA flags), and that the leaf is the dispatch identity
 * the device expects. Revocation of the dispatch identity is handled by rotating the CA bundle.
 */
import type { X509Certificate } from 'node:crypto';
import { ChainError, commonName, verifyChain as verifyPath } from '../../provisioning/chain.ts';

export { ChainError };

export function verifyChain(x5c: unknown, anchors: readonly X509Certificate[], expectedCn: string, now: number): X509Certificate {
  if (!Array.isArray(x5c) || !x5c.every((c) => typeof c === 'string')) throw new ChainError('malformed', 'x5c: expected an array of base64 certificates');
  const leaf = verifyPath(x5c as string[], anchors, now);
  const cn = commonName(leaf);
  if (cn !== expectedCn) throw new ChainError('untrusted-ca', `signer CN ${JSON.stringify(cn)} is not the expected ${JSON.stringify(expectedCn)}`);
  return leaf;
}
