/**
 * The console's TLS certificate: the device certificate from enrolment
 * (`{dataDir}/identity/device.crt.pem` + `device.key.pem`) when it is there, a configured pair
 * when one is given, otherwise a self-signed one generated on the device (key by node:crypto,
 * certificate by node-forge; no openssl child) and kept under `{dataDir}/console/tls/` so a
 * technician's browser exception survives a restart. A kept one is renewed 30 days before expiry.
 */
import { X509Certificate, generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import forge from 'node-forge';
import { writeFileDurable } from '../store/key-files.ts';

export interface TlsMaterial {
  readonly cert: string;
  readonly key: string;
  readonly source: 'device' | 'configured' | 'self-signed';
  readonly subject: string;
  readonly notAfter: number;
  /** Why the device certificate was not used, when it was present but unfit. */
  readonly note?: string;
}

const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';

/** Why a certificate cannot serve HTTPS now, or undefined if it can. */
export function unfitForServer(cert: string, now: number): string | undefined {
  const x = new X509Certificate(cert);
  // keyUsage here is the extended key usage list; absent means any use.
  if (x.keyUsage !== undefined && !x.keyUsage.includes(SERVER_AUTH)) return 'it is for client authentication only (no serverAuth)';
  if (Date.parse(x.validTo) <= now) return `it expired ${x.validTo}`;
  if (Date.parse(x.validFrom) > now) return `it is not valid before ${x.validFrom}`;
  return undefined;
}

const RENEW_BEFORE_MS = 30 * 86_400_000;

async function readPair(certPath: string, keyPath: string): Promise<{ cert: string; key: string } | undefined> {
  try {
    return { cert: await readFile(certPath, 'utf8'), key: await readFile(keyPath, 'utf8') };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

function describe(cert: string): { subject: string; notAfter: number } {
  const x = new X509Certificate(cert);
  return { subject: x.subject.replace(/\n/g, ', '), notAfter: Date.parse(x.validTo) };
}

/** A self-signed certificate for `commonName`, valid for `days` from `now`. */
export function selfSigned(commonName: string, now: number, days = 397, usage: 'serverAuth' | 'clientAuth' = 'serverAuth'): { cert: string; key: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const keyPem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }).toString());
  // Positive (leading 01) and random, as RFC 5280 asks of serial numbers.
  cert.serialNumber = `01${randomBytes(15).toString('hex')}`;
  cert.validity.notBefore = new Date(now - 3_600_000);
  cert.validity.notAfter = new Date(now + days * 86_400_000);
  const attrs = [{ name: 'commonName', value: commonName }, { name: 'organizationName', value: 'ALPR gateway local console' }];
  cert.setSubject(attrs);
  cert.setIssuer(attrs);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
    { name: 'extKeyUsage', [usage]: true },
    { name: 'subjectAltName', altNames: [{ type: 2, value: commonName }, { type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }] },
  ]);
  cert.sign(forge.pki.privateKeyFromPem(keyPem), forge.md.sha256.create());
  return { cert: forge.pki.certificateToPem(cert), key: keyPem };
}

export interface TlsOptions {
  readonly dataDir: string;
  readonly deviceId: string;
  readonly certPath?: string;
  readonly keyPath?: string;
  readonly now: number;
}

export async function loadTls(o: TlsOptions): Promise<TlsMaterial> {
  if (o.certPath !== undefined && o.keyPath !== undefined) {
    const pair = await readPair(o.certPath, o.keyPath);
    if (!pair) throw new Error(`api.tlsCertPath/tlsKeyPath: ${o.certPath} or ${o.keyPath} does not exist`);
    return { ...pair, source: 'configured', ...describe(pair.cert) };
  }
  const device = await readPair(join(o.dataDir, 'identity', 'device.crt.pem'), join(o.dataDir, 'identity', 'device.key.pem'));
  // The agency's device certificates may be issued for MQTT client authentication only; a browser
  // refuses such a certificate from a server, so the console then keeps its own.
  const problem = device ? unfitForServer(device.cert, o.now) : undefined;
  if (device && problem === undefined) return { ...device, source: 'device', ...describe(device.cert) };
  const note = problem !== undefined ? `device certificate not used: ${problem}` : undefined;
  const dir = join(o.dataDir, 'console', 'tls');
  const certPath = join(dir, 'local.crt.pem');
  const keyPath = join(dir, 'local.key.pem');
  const kept = await readPair(certPath, keyPath);
  if (kept) {
    const d = describe(kept.cert);
    if (d.notAfter - o.now > RENEW_BEFORE_MS) return { ...kept, source: 'self-signed', ...d, ...(note ? { note } : {}) };
  }
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const made = selfSigned(o.deviceId, o.now);
  await writeFileDurable(keyPath, made.key);
  await writeFileDurable(certPath, made.cert, 0o644);
  return { ...made, source: 'self-signed', ...describe(made.cert), ...(note ? { note } : {}) };
}
