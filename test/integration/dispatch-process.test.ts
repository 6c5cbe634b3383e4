/**
 * `npm run dispatch` as its own process, configured by environment as docs/dispatch.md says:
 * it connects to mosquitto over mutual TLS, prints a line per hit, serves the console, refuses a
 * revoked pole by the CRL file, and stops cleanly on SIGTERM. A missing setting is named.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/ports.ts';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.ts';
import { exited, terminate } from '../helpers/processes.ts';
import { createTestPki, type IssuedCert, type TestPki } from '../helpers/pki.ts';
import { dispatchCerts, makeHit, seal, type DispatchCerts } from '../unit/dispatch/fixtures.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
const AGENCY = 'test-pd';

describe('the dispatch process', () => {
  let pki: TestPki;
  let certs: DispatchCerts;
  let pole1: IssuedCert;
  let pole2: IssuedCert;
  let broker: Mosquitto;
  let dir: string;
  let child: ChildProcess | undefined;
  let out = '';

  beforeAll(async () => {
    pki = await createTestPki();
    certs = await dispatchCerts(pki);
    pole1 = await pki.issue('pole-1', { client: true });
    pole2 = await pki.issue('pole-2', { client: true });
    await pki.revoke(pole2);
    await chmod(pki.dir, 0o755);
    await chmod(certs.broker.keyFile, 0o644);
    broker = await startMosquitto({ tls: { cafile: pki.caCertFile, certfile: certs.broker.certFile, keyfile: certs.broker.keyFile } });
    dir = await mkdtemp(join(tmpdir(), 'dispatch-proc-'));
    await writeFile(join(dir, 'crl.pem'), await pki.crl());
  }, 60_000);

  afterAll(async () => {
    if (child) await terminate(child, 5_000);
    await broker?.stop();
    await pki?.dispose();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  function env(over: Record<string, string> = {}): NodeJS.ProcessEnv {
    return {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      DISPATCH_MQTT_URL: broker.url,
      DISPATCH_BROKER_CA_FILE: pki.caCertFile,
      DISPATCH_CLIENT_CERT_FILE: certs.dispatch.certFile,
      DISPATCH_CLIENT_KEY_FILE: certs.dispatch.keyFile,
      DISPATCH_AGENCY: AGENCY,
      DISPATCH_TRUST_ANCHORS_FILE: pki.caCertFile,
      DISPATCH_CRL_FILE: join(dir, 'crl.pem'),
      DISPATCH_DECRYPTION_KEY_FILE: certs.encryption.keyFile,
      DISPATCH_DECRYPTION_CERT_FILE: certs.encryption.certFile,
      DISPATCH_SIGNING_KEY_FILE: certs.dispatch.keyFile,
      DISPATCH_SIGNING_CHAIN_FILE: certs.dispatch.certFile,
      DISPATCH_DATA_DIR: join(dir, 'data'),
      DISPATCH_LOG_LEVEL: 'info',
      ...over,
    };
  }

  async function until(cond: () => boolean, what: string, ms = 30_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!cond()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${out.slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  it('names a missing setting and exits 1', async () => {
    const { DISPATCH_SIGNING_KEY_FILE: _, ...rest } = env();
    const p = spawn(process.execPath, ['--import', 'tsx', 'dispatch/main.ts'], { cwd: ROOT, env: rest, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    p.stderr?.on('data', (b: Buffer) => (err += b.toString()));
    const code = await new Promise<number | null>((resolve) => p.once('exit', resolve));
    expect(code).toBe(1);
    expect(err).toMatch(/DISPATCH_SIGNING_KEY_FILE is not set/);
  }, 60_000);

  it('receives and prints a hit, refuses a revoked pole, serves the console, stops on SIGTERM', async () => {
    const port = await freePort();
    child = spawn(process.execPath, ['--import', 'tsx', 'dispatch/main.ts'], { cwd: ROOT, env: env({ DISPATCH_HTTP_PORT: String(port) }), stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr?.on('data', (b: Buffer) => (out += b.toString()));
    await until(() => out.includes('dispatch console listening'), 'the console');

    const device = await mqtt.connectAsync(broker.url, { protocolVersion: 5, ca: pki.caCertPem, cert: pole1.certPem, key: pole1.keyPem });
    try {
      const revoked = makeHit('pole-2', AGENCY, Date.now());
      await device.publishAsync(`alpr/v1/${AGENCY}/pole-2/hits`, await seal(revoked, pole2, certs.encryption), { qos: 1 });
      const hit = makeHit('pole-1', AGENCY, Date.now(), { plate: '8XYZ321' });
      await device.publishAsync(`alpr/v1/${AGENCY}/pole-1/hits`, await seal(hit, pole1, certs.encryption), { qos: 1 });
      await until(() => /HIT 8XYZ321 .*device=pole-1/.test(out), 'the HIT line');
      await until(() => /"reason":"revoked"/.test(out), 'the revoked pole refused in the log');
    } finally {
      await device.endAsync();
    }
    const health = (await (await fetch(`http://127.0.0.1:${port}/healthz`)).json()) as { hits: number; stats: { rejected: Record<string, number> } };
    expect(health.hits).toBe(1);
    expect(health.stats.rejected['revoked']).toBe(1);

    child.kill('SIGTERM');
    await exited(child);
    expect(child.exitCode).toBe(0);
    child = undefined;
  }, 90_000);
});
