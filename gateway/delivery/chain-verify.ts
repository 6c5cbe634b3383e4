/**
 * Checks an `x5c` chain (leaf first, base64 DER) against trust anchors: each certificate signed
 * by the next (the last by an anchor), each within its validity at `now`, intermediates marked
 * as CAs, and the leaf's CN what the caller expects. Used for what dispatch sends the device
 * (acks, commands); revocation of the dispatch identity is handled by rotating the CA bundle.
 */
import { X509Certificate } from 'node:crypto';
import { commonName } from './identity.ts';

export class ChainError extends Error {
  override readonly name = 'ChainError';
}

export function verifyChain(x5c: unknown, anchors: readonly X509Certificate[], expectedCn: string, now: number): X509Certificate {
  if (!Array.isArray(x5c) || x5c.length === 0 || x5c.length > 5 || !x5c.every((c) => typeof c === 'string')) {
    throw new ChainError('x5c: expected 1–5 base64 certificates');
  }
  let certs: X509Certificate[];
  try {
    certs = (x5c as string[]).map((c) => new X509Certificate(Buffer.from(c, 'base64')));
  } catch (err) {
    throw new ChainError(`x5c: unreadable certificate (${(err as Error).message})`);
  }
  const within = (c: X509Certificate): boolean => Date.parse(c.validFrom) <= now && now <= Date.parse(c.validTo);
  for (const [i, cert] of certs.entries()) {
    if (!within(cert)) throw new ChainError(`x5c[${i}] (${commonName(cert)}) is outside its validity (${cert.validFrom} – ${cert.validTo})`);
    if (i > 0 && !cert.ca) throw new ChainError(`x5c[${i}] (${commonName(cert)}) is not a CA certificate`);
    const next = certs[i + 1];
    if (next && !(cert.checkIssued(next) && cert.verify(next.publicKey))) throw new ChainError(`x5c[${i}] is not signed by x5c[${i + 1}]`);
  }
  const top = certs[certs.length - 1] as X509Certificate;
  const anchor = anchors.find((a) => within(a) && top.checkIssued(a) && top.verify(a.publicKey))
    // The chain may carry the anchor itself as its last element.
    ?? anchors.find((a) => within(a) && a.raw.equals(top.raw) && top.verify(a.publicKey));
  if (!anchor) throw new ChainError(`x5c: ${commonName(top)} is not issued by a trusted CA`);
  const leaf = certs[0] as X509Certificate;
  const cn = commonName(leaf);
  if (cn !== expectedCn) throw new ChainError(`signer CN ${JSON.stringify(cn)} is not the expected ${JSON.stringify(expectedCn)}`);
  return leaf;
}
