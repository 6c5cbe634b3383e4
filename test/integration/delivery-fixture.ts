/**
 * The world of the delivery fault tests: an agency CA (openssl), mosquitto with mutual TLS
 * behind a TCP proxy (so the broker can be restarted on a new port and the network partitioned
 * while the device keeps one address), the real dispatch receiver, and device configs whose
 * identity files sit where provisioning puts them ({dataDir}/identity).
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { startReceiver, type Receiver } from '../../dispatch/receiver.ts';
import { configSchema, type GatewayConfig } from '../../gateway/config/schema.ts';
import { createTestPki, type IssuedCert, type TestPki } from '../helpers/pki.ts';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.ts';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.ts';

export const AGENCY = 'test-pd';

export interface DeliveryWorld {
  readonly dir: string;
  readonly pki: TestPki;
  readonly dispatch: IssuedCert;
  readonly proxy: TcpProxy;
  /** The broker as devices and the receiver reach it (through the proxy). */
  readonly url: string;
  broker(): Mosquitto;
  /** SIGKILLs mosquitto and starts a fresh one (no persistence: sessions and queues are gone). */
  restartBroker(): Promise<void>;
  /** Identity files for `device` under `{dataDir}/identity`; returns the delivery config parts. */
  device(device: string, dataDir: string, over?: { mqtt?: Record<string, unknown>; delivery?: Record<string, unknown> }): Promise<Pick<GatewayConfig, 'dataDir' | 'mqtt' | 'delivery' | 'device'>>;
  startReceiver(log: Logger, name?: string): Promise<Receiver>;
  dispose(): Promise<void>;
}

export async function createDeliveryWorld(): Promise<DeliveryWorld> {
  const dir = mkdtempSync(join(tmpdir(), 'alpr-delivery-'));
  const pki = await createTestPki('Test Agency CA');
  const brokerCert = await pki.issue('broker', { server: true, ipAddresses: ['127.0.0.1'], dnsNames: ['localhost'] });
  const dispatch = await pki.issue('dispatch', { client: true });
  // mosquitto started as root drops to its own user, which must be able to read its files.
  chmodSync(pki.dir, 0o755);
  chmodSync(brokerCert.keyFile, 0o644);
  const tls = { cafile: pki.caCertFile, certfile: brokerCert.certFile, keyfile: brokerCert.keyFile, requireCertificate: true };
  const extraConfig = ['use_identity_as_username true', 'max_inflight_messages 100', 'max_queued_messages 10000'];
  let broker = await startMosquitto({ tls, extraConfig });
  const proxy = await startTcpProxy(broker.port);
  const receivers: Receiver[] = [];
  return {
    dir, pki, dispatch, proxy,
    url: `mqtts://127.0.0.1:${proxy.port}`,
    broker: () => broker,
    restartBroker: async () => {
      process.kill(broker.pid, 'SIGKILL');
      await broker.stop();
      broker = await startMosquitto({ tls, extraConfig });
      proxy.retarget(broker.port);
    },
    device: async (device, dataDir, over = {}) => {
      const cert = await pki.issue(device, { client: true });
      const idDir = join(dataDir, 'identity');
      mkdirSync(idDir, { recursive: true });
      writeFileSync(join(idDir, 'device.key.pem'), cert.keyPem, { mode: 0o600 });
      writeFileSync(join(idDir, 'device.crt.pem'), cert.certPem);
      writeFileSync(join(idDir, 'ca-bundle.pem'), pki.caCertPem);
      writeFileSync(join(idDir, 'dispatch-encryption.crt.pem'), dispatch.certPem);
      return {
        dataDir,
        device: { id: device, agency: AGENCY, site: 'Test Site', firmwareVersion: '0.1.0' },
        mqtt: configSchema.shape.mqtt.parse({ url: `mqtts://127.0.0.1:${proxy.port}`, reconnectInitialMs: 200, reconnectMaxMs: 1_000, connectTimeoutMs: 5_000, keepaliveS: 5, ...over.mqtt }),
        delivery: configSchema.shape.delivery.parse({ ackTimeoutMs: 3_000, maxBackoffMs: 5_000, ...over.delivery }),
      };
    },
    startReceiver: async (log, name = 'r1') => {
      const r = await startReceiver({
        url: `mqtts://127.0.0.1:${proxy.port}`,
        tls: { ca: pki.caCertPem, cert: dispatch.certPem, key: dispatch.keyPem },
        agency: AGENCY,
        trustAnchorsPem: pki.caCertPem,
        decryptionKeyPem: dispatch.keyPem,
        decryptionCertPem: dispatch.certPem,
        signingKeyPem: dispatch.keyPem,
        signingChainPem: dispatch.certPem,
        dataDir: join(dir, `receiver-${name}`),
        log,
      });
      receivers.push(r);
      return r;
    },
    dispose: async () => {
      for (const r of receivers) await r.stop().catch(() => undefined);
      await proxy.close();
      await broker.stop();
      await pki.dispose();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Polls `cond` every 50 ms until it holds; throws with `what` (and `detail()`) at the deadline. */
export async function until(cond: () => boolean, timeoutMs: number, what: string, detail: () => string = () => ''): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail() ? `\n${detail()}` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Deterministic UUIDv7-shaped hit ids (version 7, variant 10). */
export const hitId = (n: number): string => `019a9a3c-${(n >>> 16).toString(16).padStart(4, '0')}-7${(n & 0xfff).toString(16).padStart(3, '0')}-8000-${n.toString(16).padStart(12, '0')}`;
