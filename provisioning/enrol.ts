/**
 * Enrolment and renewal against an EST server. Everything that can fail (network, TLS, token,
 * the server's answer, checks on what it issued) happens before anything is written, so a failed
 * attempt leaves the identity on disk as it was.
 */
import { createPublicKey, type KeyObject, type X509Certificate } from 'node:crypto';
import { deviceAltNames, deviceSubject, type DeviceName } from './device-names.ts';
import { EstError, type EstClient } from './est/client.ts';
import type { IdentityStore } from './identity.ts';
import { createCsr, generateP256Key, notAfterMs, notBeforeMs, serialHex } from './x509.ts';

export interface EnrolResult {
  readonly serial: string;
  readonly notAfter: number;
  readonly subject: string;
  readonly caCount: number;
}

const spki = (k: KeyObject | X509Certificate): Buffer => ('raw' in k ? k.publicKey : createPublicKey(k)).export({ type: 'spki', format: 'der' });

/**
 * Checks what the server issued before it is trusted: our key, our name, a chain to one of the
 * anchors, valid now. Any failure is an EstError of kind 'response'.
 */
export function checkIssued(chain: readonly X509Certificate[], key: KeyObject, anchors: readonly X509Certificate[], deviceId: string, now: number): X509Certificate {
  const leaf = chain[0];
  if (!leaf) throw new EstError('response', 'the EST server issued no certificate');
  if (!spki(leaf).equals(spki(key))) throw new EstError('response', 'the issued certificate is for another key');
  const cn = /^CN=(.*)$/m.exec(leaf.subject)?.[1];
  if (cn !== deviceId) throw new EstError('response', `the issued certificate names ${JSON.stringify(cn)}, not this device (${deviceId})`);
  for (let i = 0; ; i++) {
    const cert = chain[i] as X509Certificate;
    const next = chain[i + 1];
    if (next) {
      if (!cert.checkIssued(next) || !cert.verify(next.publicKey)) throw new EstError('response', `certificate ${i + 1} of the issued chain is not signed by the next one`);
      continue;
    }
    if (!anchors.some((a) => cert.checkIssued(a) && cert.verify(a.publicKey))) throw new EstError('response', 'the issued certificate does not chain to the CA the server published (wrong CA?)');
    break;
  }
  if (notBeforeMs(leaf) > now + 10 * 60_000 || notAfterMs(leaf) <= now) throw new EstError('response', `the issued certificate is not valid now (${leaf.validFrom} – ${leaf.validTo}); check the device clock`);
  return leaf;
}

export interface EnrolDeps {
  readonly identity: IdentityStore;
  readonly est: EstClient;
  readonly device: DeviceName;
  readonly now: () => number;
}

/**
 * First enrolment (or re-enrolment after expiry or revocation) with a one-time token. The key is
 * the one made at first boot; `rekey` makes a new one (after a revocation, always rekey).
 */
export async function enrol(deps: EnrolDeps, token: string, opts: { rekey?: boolean } = {}): Promise<EnrolResult> {
  if (token.trim() === '') throw new EstError('unauthorized', 'no enrolment token (ask security staff for one: "alpr ca issue-token")');
  const hadCertificate = await deps.identity.hasCertificate();
  const key = opts.rekey && hadCertificate ? generateP256Key() : await deps.identity.ensureKey();
  const anchors = await deps.est.caCerts();
  const csr = createCsr(key, deviceSubject(deps.device), deviceAltNames(deps.device));
  const chain = await deps.est.simpleEnroll(csr, { deviceId: deps.device.deviceId, token: token.trim() });
  const leaf = checkIssued(chain, key, anchors, deps.device.deviceId, deps.now());

  await deps.identity.stage(chain, opts.rekey && hadCertificate ? key : undefined);
  await deps.identity.activate();
  await deps.identity.commit();
  await deps.identity.writeCaBundle(anchors);
  return { serial: serialHex(leaf), notAfter: notAfterMs(leaf), subject: leaf.subject.replace(/\n/g, ', '), caCount: anchors.length };
}

export interface Renewal {
  readonly chain: readonly X509Certificate[];
  /** Present when rekeyed. */
  readonly key?: KeyObject;
  readonly anchors: readonly X509Certificate[];
}

/**
 * Asks for a replacement certificate over mutual TLS with the current one; nothing is written.
 * /cacerts is read first, so a CA rotation's new bundle reaches the device with its renewal.
 */
export async function requestRenewal(deps: EnrolDeps, opts: { rekey: boolean }): Promise<Renewal> {
  const current = await deps.identity.read();
  if (!current) throw new EstError('forbidden', 'no certificate to renew with: enrol first (a new token from security staff)');
  if (notAfterMs(current.leaf) <= deps.now()) throw new EstError('forbidden', 'the device certificate has expired: it cannot renew itself; enrol again with a new token from security staff');
  const anchors = await deps.est.caCerts();
  const key = opts.rekey ? generateP256Key() : current.key;
  const csr = createCsr(key, deviceSubject(deps.device), deviceAltNames(deps.device));
  const certPem = current.chain.map((c) => c.toString()).join('');
  const chain = await deps.est.simpleReenroll(csr, { key: current.key, certPem });
  checkIssued(chain, key, anchors, deps.device.deviceId, deps.now());
  return { chain, ...(opts.rekey ? { key } : {}), anchors };
}
