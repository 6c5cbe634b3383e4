/**
 * The memo of device chains already checked answers only what verifyChain would answer: a new
 * CRL, a time outside the certificates' validity or a chain that failed before is checked again.
 */
import { X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChainMemo } from '../../../dispatch/chain-memo.ts';
import { ChainError } from '../../../provisioning/chain.ts';
import { loadCrls } from '../../../provisioning/crl.ts';
import { refusalOf } from '../../helpers/refusal.ts';
import { createTestPki, type IssuedCert, type TestPki } from '../../helpers/pki.ts';

const reasonOf = (fn: () => unknown): string => refusalOf(fn, ChainError, (e) => e.reason);
const x5c = (cert: IssuedCert): string[] => [new X509Certificate(cert.certPem).raw.toString('base64')];

describe('ChainMemo', () => {
  let pki: TestPki;
  let other: TestPki;
  let pole1: IssuedCert;
  let pole2: IssuedCert;
  let foreign: IssuedCert;
  let anchors: X509Certificate[];

  beforeAll(async () => {
    pki = await createTestPki('Agency CA');
    other = await createTestPki('Other CA');
    pole1 = await pki.issue('pole-1', { client: true });
    pole2 = await pki.issue('pole-2', { client: true });
    foreign = await other.issue('pole-1', { client: true });
    anchors = [new X509Certificate(pki.caCertPem)];
  }, 60_000);

  afterAll(async () => {
    await pki?.dispose();
    await other?.dispose();
  });

  it('gives the leaf and its key before the chain is checked, and the same leaf once it is', () => {
    const memo = new ChainMemo(anchors);
    const { leaf, key } = memo.leaf(x5c(pole1));
    expect(leaf.subject).toContain('CN=pole-1');
    expect(key.asymmetricKeyType).toBe('ec');
    expect(memo.verify(x5c(pole1), Date.now(), undefined)).toBe(leaf);
    expect(memo.verify(x5c(pole1), Date.now() + 60_000, undefined)).toBe(leaf);
    expect(reasonOf(() => memo.leaf(['not base64!']))).toBe('malformed');
  });

  it('checks again at a time outside the validity, under another CRL, and after a failure', async () => {
    const memo = new ChainMemo(anchors);
    const now = Date.now();
    expect(reasonOf(() => memo.verify(x5c(pole2), now, undefined))).toBe('accepted');
    const expiry = Date.parse(new X509Certificate(pole2.certPem).validTo);
    expect(reasonOf(() => memo.verify(x5c(pole2), expiry + 60_000, undefined))).toBe('expired-cert');
    await pki.revoke(pole2);
    const crls = loadCrls(await pki.crl(), anchors);
    expect(reasonOf(() => memo.verify(x5c(pole2), now, crls))).toBe('revoked');
    expect(reasonOf(() => memo.verify(x5c(pole1), now, crls))).toBe('accepted');
    expect(reasonOf(() => memo.verify(x5c(pole1), now, []))).toBe('crl-unavailable');
    expect(reasonOf(() => memo.verify(x5c(foreign), now, undefined))).toBe('untrusted-ca');
    expect(reasonOf(() => memo.verify(x5c(foreign), now, undefined))).toBe('untrusted-ca');
  });
});
