/**
 * The demo's throw-away agency PKI (`make demo` only): a P-256 agency CA, the broker's server
 * certificate, the pole's device certificate and dispatch's certificate (its key opens hits and
 * signs acks and commands), made with provisioning's X.509 code and written where each side
 * reads them — the pole's under `{dataDir}/identity` as provisioning would leave them.
 * Made afresh at every start: nothing here protects anything real.
 */
import { X509Certificate, createPublicKey, type KeyObject } from 'node:crypto';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { certPem, generateP256Key, issueCertificate, privateKeyPem } from '../provisioning/x509.ts';

export interface DemoPki {
  readonly caFile: string;
  readonly caPem: string;
  readonly broker: { readonly certFile: string; readonly keyFile: string };
  readonly dispatch: { readonly certPem: string; readonly keyPem: string };
}

const DAY = 86_400_000;

export async function createDemoPki(dir: string, deviceId: string, identityDir: string, agency: string): Promise<DemoPki> {
  await mkdir(dir, { recursive: true });
  await mkdir(identityDir, { recursive: true, mode: 0o700 });
  const now = Date.now();
  const notBefore = new Date(now - 5 * 60_000);
  const notAfter = new Date(now + 30 * DAY);
  const caKey = generateP256Key();
  const ca = new X509Certificate(issueCertificate({ subject: { commonName: `${agency} demo CA`, organization: agency }, publicKey: createPublicKey(caKey), signingKey: caKey, notBefore, notAfter: new Date(now + 365 * DAY), ca: true }));
  const leaf = (commonName: string, usage: 'clientAuth' | 'serverAuth', key: KeyObject, alt?: { dns: string[]; ips: string[] }): string =>
    certPem(issueCertificate({ subject: { commonName, organization: agency }, ...(alt ? { altNames: alt } : {}), publicKey: createPublicKey(key), issuer: ca, signingKey: caKey, notBefore, notAfter, extendedKeyUsage: [usage] }));
  const brokerKey = generateP256Key();
  const deviceKey = generateP256Key();
  const dispatchKey = generateP256Key();
  const caPem = certPem(ca.raw);
  const dispatchCert = leaf('dispatch', 'clientAuth', dispatchKey);
  const files: [string, string, number][] = [
    [join(dir, 'ca.crt.pem'), caPem, 0o644],
    [join(dir, 'broker.crt.pem'), leaf('broker', 'serverAuth', brokerKey, { dns: ['localhost'], ips: ['127.0.0.1'] }), 0o644],
    // mosquitto started as root drops to its own user, which must read its key: demo only.
    [join(dir, 'broker.key.pem'), privateKeyPem(brokerKey), 0o644],
    [join(identityDir, 'device.key.pem'), privateKeyPem(deviceKey), 0o600],
    [join(identityDir, 'device.crt.pem'), leaf(deviceId, 'clientAuth', deviceKey), 0o644],
    [join(identityDir, 'ca-bundle.pem'), caPem, 0o644],
    [join(identityDir, 'dispatch-encryption.crt.pem'), dispatchCert, 0o644],
  ];
  for (const [path, text, mode] of files) {
    await writeFile(path, text, { mode });
    await chmod(path, mode);
  }
  await chmod(dir, 0o755);
  return {
    caFile: join(dir, 'ca.crt.pem'),
    caPem,
    broker: { certFile: join(dir, 'broker.crt.pem'), keyFile: join(dir, 'broker.key.pem') },
    dispatch: { certPem: dispatchCert, keyPem: privateKeyPem(dispatchKey) },
  };
}
