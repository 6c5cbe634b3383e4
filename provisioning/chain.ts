/**
 * Path validation for an `x5c` chain (leaf first) against the agency's trust anchors — a device's
 * at dispatch, dispatch's on the device —
 * with Node's X509Certificate: each link issued and signed by the next, every certificate valid
 * at the time given, every issuer a CA (basicConstraints), the top one issued by an anchor, none
 * revoked by a CRL its issuer signed. Each failure carries the reason the receiver counts.
 */
import { X509Certificate } from 'node:crypto';
import { isRevokedBy, type VerifiedCrl } from './crl.ts';

export type ChainFailure = 'malformed' | 'untrusted-ca' | 'expired-cert' | 'revoked' | 'crl-unavailable';

export class ChainError extends Error {
  override readonly name = 'ChainError';
  constructor(readonly reason: ChainFailure, message: string) {
    super(message);
  }
}

/** Deep enough for anchor → intermediate → leaf with room to spare; longer is refused. */
const MAX_CHAIN = 5;

/** All certificates in a PEM bundle. */
export function parsePemBundle(pem: string, what: string): X509Certificate[] {
  const blocks = [...pem.matchAll(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g)].map((m) => m[0]);
  if (blocks.length === 0) throw new Error(`${what}: no certificate found in the PEM text`);
  return blocks.map((b, i) => {
    try {
      return new X509Certificate(b);
    } catch (err) {
      throw new Error(`${what}: certificate #${i + 1} unreadable (${(err as Error).message})`, { cause: err });
    }
  });
}

/**
 * A certificate issued moments ago may start a little after the signer's clock (second-granular
 * notBefore, a CA clock ahead of the pole's): this much leeway at the start, none at the end.
 */
export const NOT_BEFORE_LEEWAY_MS = 5 * 60_000;

function validAt(cert: X509Certificate, at: number): boolean {
  return new Date(cert.validFrom).getTime() - NOT_BEFORE_LEEWAY_MS <= at && at <= new Date(cert.validTo).getTime();
}

function name(cert: X509Certificate): string {
  return cert.subject.replace(/\n/g, ', ');
}

/** The subject common name ("CN=…"), or undefined. */
export function commonName(cert: X509Certificate): string | undefined {
  for (const line of cert.subject.split('\n')) if (line.startsWith('CN=')) return line.slice(3);
  return undefined;
}

/**
 * Checks `x5c` (base64 DER, leaf first) and returns the parsed leaf. `crls` undefined means no
 * revocation source is configured; an empty array means a configured source that lists nothing.
 */
export function verifyChain(x5c: readonly string[], anchors: readonly X509Certificate[], at: number, crls?: readonly VerifiedCrl[]): X509Certificate {
  if (x5c.length === 0) throw new ChainError('malformed', 'x5c is empty');
  if (x5c.length > MAX_CHAIN) throw new ChainError('malformed', `x5c holds ${x5c.length} certificates, more than ${MAX_CHAIN}`);
  const chain = x5c.map((b64, i) => {
    if (typeof b64 !== 'string' || !/^[A-Za-z0-9+/]+=*$/.test(b64)) throw new ChainError('malformed', `x5c[${i}] is not base64`);
    try {
      return new X509Certificate(Buffer.from(b64, 'base64'));
    } catch (err) {
      throw new ChainError('malformed', `x5c[${i}] is not a certificate (${(err as Error).message})`);
    }
  });
  // A sender may include the anchor itself; it proves nothing, so it is dropped and the link to
  // the configured anchor is checked instead.
  const anchorPrints = new Set(anchors.map((a) => a.fingerprint256));
  while (chain.length > 1 && anchorPrints.has((chain[chain.length - 1] as X509Certificate).fingerprint256)) chain.pop();
  const leaf = chain[0] as X509Certificate;
  if (leaf.ca) throw new ChainError('malformed', `leaf ${name(leaf)} is a CA certificate, not a device`);

  for (let i = 0; i < chain.length; i++) {
    const cert = chain[i] as X509Certificate;
    const issuer = chain[i + 1];
    if (issuer) {
      if (!cert.checkIssued(issuer) || !cert.verify(issuer.publicKey)) throw new ChainError('untrusted-ca', `x5c[${i}] ${name(cert)} is not signed by x5c[${i + 1}] ${name(issuer)}`);
      if (!issuer.ca) throw new ChainError('untrusted-ca', `x5c[${i + 1}] ${name(issuer)} is not a CA (basicConstraints) but issued ${name(cert)}`);
    } else {
      const anchor = anchors.find((a) => cert.checkIssued(a) && cert.verify(a.publicKey));
      if (!anchor) throw new ChainError('untrusted-ca', `${name(cert)} (issuer ${cert.issuer.replace(/\n/g, ', ')}) is not issued by a trusted agency CA`);
      if (!validAt(anchor, at)) throw new ChainError('expired-cert', `trust anchor ${name(anchor)} is not valid at ${new Date(at).toISOString()}`);
    }
    if (!validAt(cert, at)) throw new ChainError('expired-cert', `${name(cert)} is valid ${cert.validFrom} to ${cert.validTo}, not at ${new Date(at).toISOString()}`);
    if (crls && isRevokedBy(cert, crls)) throw new ChainError('revoked', `${name(cert)} serial ${cert.serialNumber} is revoked`);
  }
  if (crls && !crls.some((crl) => leaf.checkIssued(crl.issuer))) {
    throw new ChainError('crl-unavailable', `no CRL from ${leaf.issuer.replace(/\n/g, ', ')} to check ${name(leaf)} against`);
  }
  return leaf;
}
