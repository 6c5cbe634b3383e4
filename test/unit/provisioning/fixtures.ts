/** A small in-memory CA for unit tests that need real certificates but no EST server. */
import { X509Certificate, type KeyObject } from 'node:crypto';
import { generateP256Key, issueCertificate } from '../../../provisioning/x509.ts';

const DAY = 86_400_000;

export class TestCa {
  readonly key = generateP256Key();
  readonly cert: X509Certificate;
  constructor(readonly name = 'Test CA', now = Date.now()) {
    this.cert = new X509Certificate(issueCertificate({ subject: { commonName: name }, publicKey: this.key, signingKey: this.key, notBefore: new Date(now - DAY), notAfter: new Date(now + 3650 * DAY), ca: true }));
  }

  /** A device certificate valid from `from` for `days`. */
  issue(deviceId: string, key: KeyObject, from: number, days: number): X509Certificate {
    return new X509Certificate(issueCertificate({
      subject: { commonName: deviceId }, publicKey: key, issuer: this.cert, signingKey: this.key,
      notBefore: new Date(from), notAfter: new Date(from + days * DAY), extendedKeyUsage: ['clientAuth'],
    }));
  }
}

export { DAY };
