/**
 * A small PKI for the demo and for tests: the agency CA (a reference CA, so it can also run the
 * EST server), the broker's TLS certificate (mosquitto), dispatch's certificate, and device
 * certificates, each as PEM files, plus a CRL. Nothing here is for production use.
 *
 *   const pki = await createDemoPki(dir, { agency: 'demo-pd', devices: ['pole-1'] });
 *   startMosquitto({ tls: { cafile: pki.caBundle, certfile: pki.broker.cert, keyfile: pki.broker.key } });
 *   await pki.installDevice('pole-1', dataDir);   // {dataDir}/identity/{device.key.pem, device.crt.pem, ca-bundle.pem}
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic-file.ts';
import { CertificateAuthority } from './ca/authority.ts';
import { IdentityStore } from './identity.ts';
import { privateKeyPem, serialHex } from './x509.ts';

export interface PemPair {
  /** Path of the private key, PKCS#8 PEM, mode 0600. */
  readonly key: string;
  /** Path of the certificate chain, leaf first. */
  readonly cert: string;
  readonly serial: string;
}

export interface DemoPki {
  readonly dir: string;
  readonly authority: CertificateAuthority;
  /** The agency CA certificate (the trust anchor everyone uses). */
  readonly caCert: string;
  /** Same as caCert today; the file to hand to TLS `ca` options (it holds both roots during a rotation). */
  readonly caBundle: string;
  readonly broker: PemPair;
  readonly dispatch: PemPair;
  readonly devices: Readonly<Record<string, PemPair>>;
  /** The CRL(s), PEM. */
  readonly crl: string;
  /** Copies a device's pair and the CA bundle into `{dataDir}/identity/` as the gateway expects them. */
  installDevice(deviceId: string, dataDir: string): Promise<void>;
  /** A further device certificate (recorded, revocable). */
  addDevice(deviceId: string, days?: number): Promise<PemPair>;
}

export interface DemoPkiOptions {
  readonly agency?: string;
  readonly devices?: readonly string[];
  /** CN of dispatch's certificate (config `delivery.dispatchIdentity`). */
  readonly dispatchCn?: string;
  readonly brokerDns?: readonly string[];
  readonly brokerIps?: readonly string[];
  readonly deviceDays?: number;
  /**
   * mosquitto started as root drops to its own user and must then read the broker's key and the
   * CA bundle: make the PKI directory traversable and the broker key world-readable. Demo and tests only.
   */
  readonly readableByBroker?: boolean;
}

export async function createDemoPki(dir: string, o: DemoPkiOptions = {}): Promise<DemoPki> {
  const agency = o.agency ?? 'demo-pd';
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const authority = new CertificateAuthority(join(dir, 'ca'));
  await authority.init({ agency, deviceValidityDays: o.deviceDays ?? 90, serverDns: o.brokerDns ?? ['localhost'], serverIps: o.brokerIps ?? ['127.0.0.1'] });
  const caBundle = join(dir, 'ca-bundle.pem');
  await writeFileAtomic(caBundle, (await authority.caCertificates()).map((c) => c.toString()).join(''));

  const write = async (name: string, issued: Awaited<ReturnType<CertificateAuthority['issueDirect']>>): Promise<PemPair> => {
    const pair = { key: join(dir, `${name}.key.pem`), cert: join(dir, `${name}.crt.pem`), serial: serialHex(issued.chain[0]!) };
    await writeFileAtomic(pair.key, privateKeyPem(issued.key), 0o600);
    await writeFileAtomic(pair.cert, issued.chain.map((c) => c.toString()).join(''));
    return pair;
  };
  const broker = await write('broker', await authority.issueDirect({ commonName: (o.brokerDns ?? ['localhost'])[0] ?? 'broker', altNames: { dns: o.brokerDns ?? ['localhost'], ips: o.brokerIps ?? ['127.0.0.1'] }, extendedKeyUsage: ['serverAuth'], days: 825 }));
  const dispatch = await write('dispatch', await authority.issueDirect({ commonName: o.dispatchCn ?? 'dispatch', extendedKeyUsage: ['clientAuth', 'serverAuth'], days: 825 }));
  const devices: Record<string, PemPair> = {};
  const addDevice = async (id: string, days?: number): Promise<PemPair> => {
    const pair = await write(`device-${id}`, await authority.issueDirect({ commonName: id, altNames: { uris: [`urn:alpr:agency:${agency}`, `urn:alpr:device:${agency}:${id}`] }, extendedKeyUsage: ['clientAuth'], ...(days !== undefined ? { days } : {}) }));
    devices[id] = pair;
    return pair;
  };
  for (const id of o.devices ?? []) await addDevice(id);
  if (o.readableByBroker) {
    const { chmod } = await import('node:fs/promises');
    await chmod(dir, 0o755);
    await chmod(broker.key, 0o644);
  }
  const crl = join(dir, 'crl.pem');
  await writeFileAtomic(crl, await authority.publishCrl());

  return {
    dir, authority, caCert: authority.file('cert'), caBundle, broker, dispatch, devices, crl, addDevice,
    async installDevice(deviceId, dataDir) {
      const pair = devices[deviceId];
      if (!pair) throw new Error(`demo PKI: no device ${deviceId} (known: ${Object.keys(devices).join(', ') || 'none'})`);
      const { readFile } = await import('node:fs/promises');
      const store = new IdentityStore(dataDir);
      await mkdir(store.dir, { recursive: true, mode: 0o700 });
      await writeFileAtomic(store.path('key'), await readFile(pair.key, 'utf8'), 0o600);
      await writeFileAtomic(store.path('cert'), await readFile(pair.cert, 'utf8'));
      await writeFileAtomic(store.path('ca'), await readFile(caBundle, 'utf8'));
    },
  };
}
