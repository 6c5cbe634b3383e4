/**
 * The gateway process with its control plane switched on, as a pole with hardware and the local
 * console would run: a simulated GPIO bank and a simulated GPS on the serial twin, the console
 * over HTTPS, a camera (a clip file), mosquitto with mutual TLS and the real dispatch receiver.
 * What composition-root wiring must get right: the console answers on its own certificate; the
 * retained status carries the hardware, the certificate state and the outbox; the GPS fix reaches
 * dispatch as a device event that dispatch stores and acks (so it leaves the pole's outbox); the
 * process stops cleanly on SIGTERM.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDispatch, type RunningDispatch } from '../../dispatch/main.ts';
import type { DeviceEventRecord } from '../../dispatch/hit-store.ts';
import { startDemoBroker, type DemoBroker } from '../../gateway/demo-broker.ts';
import { createDemoPki, type DemoPki } from '../../gateway/demo-pki.ts';
import { testClip } from '../helpers/clips.ts';
import { freePort } from '../helpers/ports.ts';
import { exited, terminate } from '../helpers/processes.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
const AGENCY = 'cp-pd';
const DEVICE = 'pole-cp';

function get(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    // The console's own self-signed certificate before enrolment: not checked here.
    const req = request({ host: '127.0.0.1', port, path, rejectUnauthorized: false }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function until<T>(probe: () => T | undefined | Promise<T | undefined>, timeoutMs: number, what: string, log: () => string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n--- gateway log ---\n${log().slice(-4000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('gateway with hardware twins and the local console', () => {
  let dir: string;
  let pki: DemoPki;
  let broker: DemoBroker;
  let dispatch: RunningDispatch;
  let gateway: ChildProcess;
  let apiPort: number;
  let gatewayLog = '';
  const events: DeviceEventRecord[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'alpr-control-'));
    // mosquitto started as root drops to its own user, which must reach the PKI folder inside.
    chmodSync(dir, 0o755);
    const dataDir = join(dir, 'data');
    pki = await createDemoPki(join(dir, 'pki'), DEVICE, dataDir, AGENCY);
    broker = await startDemoBroker(join(dir, 'pki'), pki);
    if (broker.kind !== 'mosquitto') throw new Error('this test needs mosquitto (make deps)');
    dispatch = await startDispatch({
      mqttUrl: broker.url,
      httpPort: 0,
      tls: { ca: pki.caPem, cert: pki.dispatch.certPem, key: pki.dispatch.keyPem },
      agency: AGENCY,
      trustAnchorsPem: pki.caPem,
      crl: () => pki.crlPem,
      decryptionKeyPem: pki.dispatch.keyPem,
      decryptionCertPem: pki.dispatch.certPem,
      signingKeyPem: pki.dispatch.keyPem,
      signingChainPem: pki.dispatch.certPem,
      dataDir: join(dir, 'dispatch'),
      log: pino({ level: 'silent' }),
    });
    dispatch.receiver.on('event', (e) => events.push(e));
    const clip = await testClip({ seed: 9, width: 640, height: 360, fps: 5, vehicles: [{ plate: '5CPL123' }], secondsPerVehicle: 4, headwaySec: 4 });
    const hotlist = join(dir, 'hotlist.csv');
    writeFileSync(hotlist, 'plate,state,list_type,priority\n1AAA111,,stolen-vehicle,90\n');
    apiPort = await freePort();
    gateway = spawn(process.execPath, ['--import', 'tsx', 'gateway/main.ts'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        ALPR_DEVICE_ID: DEVICE,
        ALPR_AGENCY: AGENCY,
        ALPR_SITE: 'Control Plane Ave',
        ALPR_DATA_DIR: dataDir,
        ALPR_CAMERAS: JSON.stringify([{ id: 'north', url: clip.path, loop: true, fps: 2 }]),
        ALPR_RECOGNIZER_KIND: 'scripted',
        ALPR_HOTLIST_PATH: hotlist,
        ALPR_MQTT_URL: broker.url,
        ALPR_STATUS_INTERVAL_MS: '1000',
        ALPR_HARDWARE_GPIO_BACKEND: 'simulated',
        ALPR_HARDWARE_POSITION: '38.1041,-122.2566',
        ALPR_HARDWARE_STATUS_LED: JSON.stringify({ line: { chip: 'sim', offset: 22 } }),
        ALPR_HARDWARE_TRIGGER: JSON.stringify({ line: { chip: 'sim', offset: 27 } }),
        ALPR_HARDWARE_GPS: JSON.stringify({ serial: { path: '/dev/simulated-gps', backend: 'simulated' }, feedClock: true }),
        ALPR_API_ENABLED: 'true',
        ALPR_API_HOST: '127.0.0.1',
        ALPR_API_PORT: String(apiPort),
        ALPR_LOG_LEVEL: 'info',
      },
    });
    gateway.stdout?.on('data', (b: Buffer) => (gatewayLog += b.toString()));
    gateway.stderr?.on('data', (b: Buffer) => (gatewayLog += b.toString()));
  }, 120_000);

  afterAll(async () => {
    if (gateway) await terminate(gateway, 10_000);
    await dispatch?.stop();
    await broker?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('serves the local console over HTTPS: first-run setup, and the OpenAPI document', async () => {
    const setup = await until(() => get(apiPort, '/').catch(() => undefined), 60_000, 'the console to listen', () => gatewayLog);
    expect(setup.status).toBeLessThan(400);
    const openapi = await get(apiPort, '/api/openapi.json');
    expect(openapi.status).toBe(200);
    expect(JSON.parse(openapi.body)).toHaveProperty('paths');
    // No account exists yet, so nothing with data answers: no default credentials anywhere.
    expect((await get(apiPort, '/api/detections?plate=1AAA111')).status).toBeGreaterThanOrEqual(400);
  }, 90_000);

  it('publishes a retained status with the hardware, the certificate state and the outbox', async () => {
    const client = await mqtt.connectAsync(broker.url, { ca: pki.caPem, cert: pki.dispatch.certPem, key: pki.dispatch.keyPem, protocolVersion: 5 });
    try {
      const statuses: Record<string, unknown>[] = [];
      client.on('message', (_t, payload) => statuses.push(JSON.parse(payload.toString()) as Record<string, unknown>));
      await client.subscribeAsync(`alpr/v1/${AGENCY}/${DEVICE}/status`, { qos: 1 });
      const status = await until(() => statuses.find((s) => (s['hardware'] as { gps?: { fix?: string } } | undefined)?.gps?.fix && (s['hardware'] as { gps: { fix: string } }).gps.fix !== 'none'), 60_000, 'a status with a GPS fix', () => gatewayLog);
      expect(status).toMatchObject({ state: 'online', certificate: { serial: expect.any(String) }, outbox: { depth: expect.any(Number) } });
      expect(status['certificateState']).toMatchObject({ state: expect.any(String) });
      expect(status['hardware']).toMatchObject({ gps: { fix: expect.any(String) }, led: expect.any(Object), trigger: expect.any(Object) });
    } finally {
      await client.endAsync();
    }
  }, 90_000);

  it('raises the GPS fix as a device event that dispatch stores and acks', async () => {
    const fix = await until(() => events.find((e) => e.type === 'gps.fix-acquired'), 60_000, 'gps.fix-acquired at dispatch', () => gatewayLog);
    expect(fix.device).toBe(DEVICE);
    const stored = await dispatch.receiver.events(DEVICE);
    expect(stored.map((e) => e.id)).toContain(fix.id);
  }, 90_000);

  it('stops cleanly on SIGTERM', async () => {
    gateway.kill('SIGTERM');
    await exited(gateway);
    expect(gateway.exitCode).toBe(0);
  }, 60_000);
});
