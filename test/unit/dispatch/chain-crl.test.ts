/**
 * Chain and CRL checks against material openssl made (test/helpers/pki.ts), including an
 * intermediate CA and a "CA" that is not one, which openssl is told to make here directly.
 */
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChainError, NOT_BEFORE_LEEWAY_MS, verifyChain } from '../../../provisioning/chain.ts';
import { checkCrlsInForce, CrlError, crlPemBlocks, isRevokedBy, loadCrls } from '../../../provisioning/crl.ts';
import { normaliseSerial } from '../../../provisioning/x509.ts';
import { refusalOf } from '../../helpers/refusal.ts';
import { createTestPki, type IssuedCert, type TestPki } from '../../helpers/pki.ts';

const reasonOf = (fn: () => unknown): string => refusalOf(fn, ChainError, (e) => e.reason);
const run = promisify(execFile);
const b64 = (pem: string): string => new X509Certificate(pem).raw.toString('base64');

describe('device chain and CRL checks', () => {
  let pki: TestPki;
  let other: TestPki;
  let pole1: IssuedCert;
  let pole2: IssuedCert;
  let foreign: IssuedCert;
  let anchors: X509Certificate[];
  let crl: string;
  let otherCrl: string;
  /** An intermediate CA under the agency CA, a leaf under it, and a leaf "issued" by pole-1 (not a CA). */
  let intermediatePem: string;
  let underIntermediatePem: string;
  let underLeafPem: string;

  async function openssl(args: string[]): Promise<void> {
    await run('/usr/bin/openssl', args, { cwd: pki.dir });
  }

  /** Signs a fresh P-256 key's certificate with `issuerCert`/`issuerKey`; `ca` sets basicConstraints. */
  async function signed(name: string, issuerCert: string, issuerKey: string, ca: boolean): Promise<string> {
    const d = pki.dir;
    await openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', join(d, `${name}.key`)]);
    await openssl(['req', '-new', '-key', join(d, `${name}.key`), '-subj', `/CN=${name}`, '-out', join(d, `${name}.csr`)]);
    await writeFile(join(d, `${name}.ext`), ca ? 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n' : 'basicConstraints=critical,CA:FALSE\n');
    await openssl(['x509', '-req', '-in', join(d, `${name}.csr`), '-CA', issuerCert, '-CAkey', issuerKey, '-CAcreateserial', '-days', '30', '-sha256', '-extfile', join(d, `${name}.ext`), '-out', join(d, `${name}.crt`)]);
    return readFile(join(d, `${name}.crt`), 'utf8');
  }

  beforeAll(async () => {
    pki = await createTestPki('Agency CA');
    other = await createTestPki('Other CA');
    pole1 = await pki.issue('pole-1', { client: true });
    pole2 = await pki.issue('pole-2', { client: true });
    foreign = await other.issue('pole-1', { client: true });
    await pki.revoke(pole2);
    crl = await pki.crl();
    otherCrl = await other.crl();
    anchors = [new X509Certificate(pki.caCertPem)];
    intermediatePem = await signed('intermediate', pki.caCertFile, pki.caKeyFile, true);
    underIntermediatePem = await signed('pole-9', join(pki.dir, 'intermediate.crt'), join(pki.dir, 'intermediate.key'), false);
    underLeafPem = await signed('pole-8', pole1.certFile, pole1.keyFile, false);
  }, 60_000);

  afterAll(async () => {
    await pki?.dispose();
    await other?.dispose();
  });

  describe('loadCrls (EC CRLs from openssl)', () => {
    it("reads the revoked serials, the update times, and finds the CA whose key signed it", () => {
      const [loaded] = loadCrls(crl, anchors);
      expect([...(loaded?.revoked ?? [])]).toEqual([normaliseSerial(pole2.serial)]);
      expect(loaded!.nextUpdate!.getTime() - loaded!.thisUpdate.getTime()).toBe(30 * 86_400_000);
      expect(loaded?.issuer.subject).toBe('CN=Agency CA');
    });

    it('reads a CRL that lists nothing', () => {
      const [loaded] = loadCrls(otherCrl, [new X509Certificate(other.caCertPem)]);
      expect(loaded?.revoked.size).toBe(0);
    });

    it('refuses a CRL signed by another CA, one altered after signing, and text that is no CRL', () => {
      expect(() => loadCrls(otherCrl, anchors)).toThrow(/not signed by any trusted CA/);
      const der = crlPemBlocks(crl)[0] as Buffer;
      const serialAt = der.indexOf(Buffer.from(pole2.serial.padStart(4, '0'), 'hex'));
      expect(serialAt).toBeGreaterThan(0);
      const altered = Buffer.from(der);
      altered[serialAt + 1] = (altered[serialAt + 1] as number) ^ 0x01; // un-revoke pole-2, as an attacker would
      const pem = (der: Buffer): string => `-----BEGIN X509 CRL-----\n${der.toString('base64')}\n-----END X509 CRL-----\n`;
      expect(() => loadCrls(pem(altered), anchors)).toThrow(/not signed by any trusted CA/);
      expect(() => loadCrls('hello', anchors)).toThrow(CrlError);
      expect(() => loadCrls(pem(Buffer.from([0x30, 0x03, 0x02, 0x01])), anchors)).toThrow(CrlError);
    });

    it('is in force between thisUpdate and nextUpdate only', () => {
      const crls = loadCrls(crl, anchors);
      const { thisUpdate, nextUpdate } = crls[0]!;
      expect(() => checkCrlsInForce(crls, thisUpdate.getTime() + 1000)).not.toThrow();
      expect(() => checkCrlsInForce(crls, nextUpdate!.getTime() + 1)).toThrow(/expired/);
      expect(() => checkCrlsInForce(crls, thisUpdate.getTime() - 3_600_000)).toThrow(/future/);
    });

    it('says revoked only for a serial its issuer listed', () => {
      const crls = loadCrls(crl, anchors);
      expect(isRevokedBy(new X509Certificate(pole2.certPem), crls)).toBe(true);
      expect(isRevokedBy(new X509Certificate(pole1.certPem), crls)).toBe(false);
      // Same serial from another CA: not this CRL's business.
      expect(isRevokedBy(new X509Certificate(foreign.certPem), crls)).toBe(false);
    });
  });

  describe('verifyChain', () => {
    const now = (): number => Date.now();

    it('accepts a device certificate of the agency CA, with or without the CA in x5c, and returns the leaf', () => {
      const leaf = verifyChain([b64(pole1.certPem)], anchors, now(), loadCrls(crl, anchors));
      expect(leaf.subject).toBe('CN=pole-1');
      expect(reasonOf(() => verifyChain([b64(pole1.certPem), b64(pki.caCertPem)], anchors, now()))).toBe('accepted');
    });

    it('accepts a leaf under an intermediate CA that x5c carries, not without it', () => {
      expect(reasonOf(() => verifyChain([b64(underIntermediatePem), b64(intermediatePem)], anchors, now()))).toBe('accepted');
      expect(reasonOf(() => verifyChain([b64(underIntermediatePem)], anchors, now()))).toBe('untrusted-ca');
    });

    it('refuses a chain through a certificate that is not a CA (basicConstraints)', () => {
      expect(reasonOf(() => verifyChain([b64(underLeafPem), b64(pole1.certPem)], anchors, now()))).toBe('untrusted-ca');
    });

    it('refuses a device of another CA, even with the same name', () => {
      expect(reasonOf(() => verifyChain([b64(foreign.certPem)], anchors, now()))).toBe('untrusted-ca');
      expect(reasonOf(() => verifyChain([b64(foreign.certPem), b64(other.caCertPem)], anchors, now()))).toBe('untrusted-ca');
    });

    it('checks validity at the time given', () => {
      const cert = new X509Certificate(pole1.certPem);
      const from = Date.parse(cert.validFrom);
      const to = Date.parse(cert.validTo);
      expect(reasonOf(() => verifyChain([b64(pole1.certPem)], anchors, from + 1000))).toBe('accepted');
      expect(reasonOf(() => verifyChain([b64(pole1.certPem)], anchors, to + 1000))).toBe('expired-cert');
      // A little leeway before notBefore (clocks, second-granular times), none after notAfter.
      expect(reasonOf(() => verifyChain([b64(pole1.certPem)], anchors, from - 1000))).toBe('accepted');
      expect(reasonOf(() => verifyChain([b64(pole1.certPem)], anchors, from - NOT_BEFORE_LEEWAY_MS - 1000))).toBe('expired-cert');
    });

    it('refuses a revoked device when a CRL is configured, and any device when no CRL from its CA is at hand', () => {
      const crls = loadCrls(crl, anchors);
      expect(reasonOf(() => verifyChain([b64(pole2.certPem)], anchors, now(), crls))).toBe('revoked');
      expect(reasonOf(() => verifyChain([b64(pole2.certPem)], anchors, now()))).toBe('accepted'); // no revocation source configured
      expect(reasonOf(() => verifyChain([b64(pole1.certPem)], anchors, now(), []))).toBe('crl-unavailable');
    });

    it('refuses garbage, a CA as the leaf, and over-long chains as malformed', () => {
      expect(reasonOf(() => verifyChain([], anchors, now()))).toBe('malformed');
      expect(reasonOf(() => verifyChain(['not base64!'], anchors, now()))).toBe('malformed');
      expect(reasonOf(() => verifyChain([Buffer.from('hello').toString('base64')], anchors, now()))).toBe('malformed');
      expect(reasonOf(() => verifyChain([b64(intermediatePem)], anchors, now()))).toBe('malformed');
      expect(reasonOf(() => verifyChain(Array(6).fill(b64(pole1.certPem)) as string[], anchors, now()))).toBe('malformed');
    });
  });
});
