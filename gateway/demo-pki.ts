/**
 * The demo's throw-away agency PKI (`make demo` and the delivery bench): provisioning's reference
 * CA (provisioning/demo-pki.ts) issues the broker's server certificate, the pole's device
 * certificate and dispatch's certificate (its key opens hits and signs acks and commands), and
 * publishes a CRL; the pole's files go under `{dataDir}/identity` as enrolment would leave them.
 * Made afresh at every start: nothing here protects anything real.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createDemoPki as createAgencyPki } from '../provisioning/demo-pki.ts';

export interface DemoPki {
  readonly caFile: string;
  readonly caPem: string;
  /** The agency CA's CRL (PEM): dispatch checks every device against it. */
  readonly crlPem: string;
  readonly broker: { readonly certFile: string; readonly keyFile: string };
  readonly dispatch: { readonly certPem: string; readonly keyPem: string };
}

export async function createDemoPki(dir: string, deviceId: string, dataDir: string, agency: string): Promise<DemoPki> {
  await rm(dir, { recursive: true, force: true });
  // mosquitto started as root drops to its own user, which must read the broker's key: demo only.
  const pki = await createAgencyPki(dir, { agency, devices: [deviceId], readableByBroker: true });
  await pki.installDevice(deviceId, dataDir);
  const dispatchCertPem = await readFile(pki.dispatch.cert, 'utf8');
  // Where the pole finds the certificate whose key it encrypts hits to (delivery.dispatchCertPath).
  await writeFile(join(dataDir, 'identity', 'dispatch-encryption.crt.pem'), dispatchCertPem, { mode: 0o644 });
  return {
    caFile: pki.caBundle,
    caPem: await readFile(pki.caBundle, 'utf8'),
    crlPem: await readFile(pki.crl, 'utf8'),
    broker: { certFile: pki.broker.cert, keyFile: pki.broker.key },
    dispatch: { certPem: dispatchCertPem, keyPem: await readFile(pki.dispatch.key, 'utf8') },
  };
}
