/**
 * Certificate revocation lists for the receiver. The DER reading is provisioning's (`parseCrl`
 * in provisioning/x509.ts, on forge.asn1 — node-forge's own X.509 code reads RSA CRLs only);
 * what is added here is what a receiver needs per message: each CRL's signature checked once
 * against a trust anchor when its text changes, its freshness checked at every use, and the
 * revocation test against the CRL of the certificate's own issuer.
 */
import type { X509Certificate } from 'node:crypto';
import { normaliseSerial, parseCrl, type ParsedCrl } from './x509.ts';

export class CrlError extends Error {
  override readonly name = 'CrlError';
}

export interface VerifiedCrl {
  readonly crl: ParsedCrl;
  /** The trust anchor whose key signed it. */
  readonly issuer: X509Certificate;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date | undefined;
  /** Serial numbers as provisioning's normaliseSerial writes them. */
  readonly revoked: ReadonlySet<string>;
}

/** Every `-----BEGIN X509 CRL-----` block of a PEM text, as DER. */
export function crlPemBlocks(pem: string): Buffer[] {
  const out: Buffer[] = [];
  for (const m of pem.matchAll(/-----BEGIN X509 CRL-----([\s\S]*?)-----END X509 CRL-----/g)) out.push(Buffer.from((m[1] ?? '').replace(/\s+/g, ''), 'base64'));
  return out;
}

/** The CRLs of a PEM bundle, each with the trusted CA that signed it; any other is refused. */
export function loadCrls(pem: string, issuers: readonly X509Certificate[]): VerifiedCrl[] {
  const blocks = crlPemBlocks(pem);
  if (blocks.length === 0) throw new CrlError('CRL: no "X509 CRL" PEM block found');
  return blocks.map((der, n) => {
    let crl: ParsedCrl;
    try {
      crl = parseCrl(der);
    } catch (err) {
      throw new CrlError(`CRL #${n + 1}: ${(err as Error).message}`);
    }
    const issuer = issuers.find((ca) => crl.signedBy(ca));
    if (!issuer) throw new CrlError(`CRL #${n + 1}: not signed by any trusted CA`);
    return { crl, issuer, thisUpdate: crl.thisUpdate, nextUpdate: crl.nextUpdate, revoked: crl.revoked };
  });
}

/**
 * Freshness at `now`: a CRL past its nextUpdate (or not yet in force) is refused rather than
 * trusted, so a stale list cannot hide a revocation that a newer one would show.
 */
export function checkCrlsInForce(crls: readonly VerifiedCrl[], now: number, skewMs = 5 * 60_000): void {
  crls.forEach((crl, n) => {
    if (crl.thisUpdate.getTime() > now + skewMs) throw new CrlError(`CRL #${n + 1}: thisUpdate ${crl.thisUpdate.toISOString()} is in the future`);
    if (crl.nextUpdate && crl.nextUpdate.getTime() < now) throw new CrlError(`CRL #${n + 1}: expired (nextUpdate ${crl.nextUpdate.toISOString()})`);
  });
}

/** Revoked per a CRL its issuer signed. */
export function isRevokedBy(cert: X509Certificate, crls: readonly VerifiedCrl[]): boolean {
  const serial = normaliseSerial(cert.serialNumber);
  return crls.some((crl) => cert.checkIssued(crl.issuer) && crl.revoked.has(serial));
}
