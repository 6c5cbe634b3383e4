/**
 * Golden checks of the hand-assembled ASN.1: OpenSSL must accept our CSR, certificates, CRL and
 * certs-only PKCS#7, and our parsers must refuse what is not well formed.
 */
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { toPem } from '../../../provisioning/asn1.ts';
import { certsOnly, readCertsOnly } from '../../../provisioning/pkcs7.ts';
import {
  createCrl, createCsr, crlPem, generateP256Key, isRevoked, issueCertificate, parseCrl, parseCsr, serialHex, X509Error,
} from '../../../provisioning/x509.ts';

const dir = mkdtempSync(join(tmpdir(), 'x509-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string | Buffer): string => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};
const openssl = (...args: string[]): string => execFileSync('/usr/bin/openssl', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

const now = new Date();
const inDays = (d: number): Date => new Date(now.getTime() + d * 86_400_000);
const caKey = generateP256Key();
const ca = new X509Certificate(issueCertificate({ subject: { commonName: 'Test Root', organization: 'metro-pd' }, publicKey: caKey, signingKey: caKey, notBefore: now, notAfter: inDays(365), ca: true }));
const deviceKey = generateP256Key();
const leaf = new X509Certificate(issueCertificate({
  subject: { commonName: 'pole-1', organization: 'metro-pd' }, altNames: { uris: ['urn:alpr:agency:metro-pd'], dns: ['pole-1.local'], ips: ['127.0.0.1', '::1'] },
  publicKey: deviceKey, issuer: ca, signingKey: caKey, notBefore: now, notAfter: inDays(90), extendedKeyUsage: ['clientAuth'],
}));

describe('CSR', () => {
  it('openssl verifies its self-signature and reads subject and SAN; parseCsr reads them back', () => {
    const der = createCsr(deviceKey, { commonName: 'pole-1', organization: 'metro-pd' }, { uris: ['urn:alpr:site:Main%20St'] });
    const path = file('req.pem', toPem('CERTIFICATE REQUEST', der));
    const text = execFileSync('/usr/bin/openssl', ['req', '-in', path, '-verify', '-noout', '-text'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expect(text).toMatch(/O = metro-pd, CN = pole-1/);
    expect(text).toMatch(/URI:urn:alpr:site:Main%20St/);
    expect(text).toMatch(/ecdsa-with-SHA256/);
    const parsed = parseCsr(der);
    expect(parsed.subject).toEqual({ commonName: 'pole-1', organization: 'metro-pd' });
    expect(parsed.altNames.uris).toEqual(['urn:alpr:site:Main%20St']);
  });

  it('refuses garbage, a flipped signature bit and a truncated request, naming the problem', () => {
    expect(() => parseCsr(Buffer.from('garbage'))).toThrow(X509Error);
    expect(() => parseCsr(Buffer.from('garbage'))).toThrow(/not DER/);
    const der = createCsr(deviceKey, { commonName: 'pole-1' }, {});
    const tampered = Buffer.from(der);
    tampered[40] = (tampered[40] ?? 0) ^ 0x01; // inside the signed info
    expect(() => parseCsr(tampered)).toThrow(/does not verify|malformed|unreadable/);
    expect(() => parseCsr(der.subarray(0, der.length - 5))).toThrow(/not DER/);
  });

  it('refuses a request signed with a key that is not P-256', () => {
    const opensslReq = file('rsa.pem', '');
    openssl('req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'rsa.key'), '-subj', '/CN=pole-1', '-out', opensslReq);
    const pem = execFileSync('/usr/bin/openssl', ['req', '-in', opensslReq, '-outform', 'DER'], { stdio: ['ignore', 'pipe', 'pipe'] });
    expect(() => parseCsr(pem)).toThrow(/ecdsa-with-SHA256|P-256/);
  });
});

describe('certificates', () => {
  it('openssl verifies the chain and sees the extensions a device certificate needs', () => {
    const caPath = file('ca.pem', ca.toString());
    const leafPath = file('leaf.pem', leaf.toString());
    expect(openssl('verify', '-CAfile', caPath, '-purpose', 'sslclient', leafPath)).toContain(': OK');
    const text = openssl('x509', '-in', leafPath, '-noout', '-text');
    expect(text).toMatch(/CA:FALSE/);
    expect(text).toMatch(/TLS Web Client Authentication/);
    expect(text).toMatch(/IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1/);
    expect(openssl('x509', '-in', caPath, '-noout', '-text')).toMatch(/CA:TRUE[\s\S]*Certificate Sign, CRL Sign/);
    expect(leaf.checkIssued(ca) && leaf.verify(ca.publicKey)).toBe(true);
    expect(serialHex(leaf)).toMatch(/^[0-9A-F]{32}$/);
  });

  it('refuses to issue a certificate whose validity is empty', () => {
    expect(() => issueCertificate({ subject: { commonName: 'x' }, publicKey: deviceKey, signingKey: caKey, issuer: ca, notBefore: now, notAfter: now })).toThrow(/notAfter/);
  });

  it('certs-only PKCS#7 round-trips and openssl prints its certificates', () => {
    const der = certsOnly([leaf, ca]);
    const printed = openssl('pkcs7', '-inform', 'DER', '-in', file('p7.der', der), '-print_certs', '-noout');
    expect(printed).toMatch(/subject=O = metro-pd, CN = pole-1/);
    expect(readCertsOnly(der).map((c) => c.fingerprint256)).toEqual([leaf.fingerprint256, ca.fingerprint256]);
    expect(() => readCertsOnly(der.subarray(0, der.length - 30))).toThrow(/truncated or corrupt/);
  });
});

describe('CRL', () => {
  it('openssl -crl_check rejects a revoked certificate and accepts one not listed', () => {
    const other = new X509Certificate(issueCertificate({ subject: { commonName: 'pole-2' }, publicKey: generateP256Key(), issuer: ca, signingKey: caKey, notBefore: now, notAfter: inDays(90) }));
    const crl = createCrl({ issuer: ca, signingKey: caKey, revoked: [{ serial: serialHex(leaf), at: now, reason: 'keyCompromise' }], thisUpdate: now, nextUpdate: inDays(7), number: 4 });
    const caPath = file('ca2.pem', ca.toString());
    const crlPath = file('crl.pem', crlPem(crl));
    expect(openssl('crl', '-in', crlPath, '-CAfile', caPath, '-noout', '-text')).toMatch(/CRL Number: \s*4[\s\S]*Key Compromise/);
    expect(() => openssl('verify', '-crl_check', '-CAfile', caPath, '-CRLfile', crlPath, file('leaf2.pem', leaf.toString()))).toThrow(/certificate revoked/);
    expect(openssl('verify', '-crl_check', '-CAfile', caPath, '-CRLfile', crlPath, file('other.pem', other.toString()))).toContain(': OK');
    expect(isRevoked(leaf, crlPem(crl), [ca])).toBe(true);
    expect(isRevoked(other.toString(), crlPem(crl), [ca])).toBe(false);
    expect(parseCrl(crl).nextUpdate?.getTime()).toBeCloseTo(inDays(7).getTime(), -4);
  });

  it('isRevoked refuses a CRL from the right issuer name signed by the wrong key', () => {
    const impostorKey = generateP256Key();
    const forged = createCrl({ issuer: ca, signingKey: impostorKey, revoked: [], thisUpdate: now, nextUpdate: inDays(7), number: 1 });
    expect(() => isRevoked(leaf, crlPem(forged), [ca])).toThrow(/not signed by a trusted CA/);
    expect(() => isRevoked(leaf, 'no crl here')).toThrow(/no CRL found/);
  });
});
