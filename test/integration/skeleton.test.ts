/**
 * The walking skeleton, on real parts: a generated clip served by GStreamer's RTSP server, the
 * gateway as its own process (ffmpeg child, ONNX recogniser in a worker, LevelDB), a real
 * mosquitto with mutual TLS (certificates from openssl), and the dispatch receiver. A listed
 * plate must reach dispatch signed by the pole and encrypted to dispatch, with the right plate,
 * camera and time, and be acked; an unlisted one must be stored and not sent; nothing may be left
 * running.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDispatch, type RunningDispatch } from '../../dispatch/main.ts';
import type { ReceivedHit } from '../../dispatch/receiver.ts';
import { openDetectionStore } from '../../gateway/store/open.ts';
import type { Detection } from '../../gateway/types.ts';
import { testClip } from '../helpers/clips.ts';
import { createTestPki, type IssuedCert, type TestPki } from '../helpers/pki.ts';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.ts';
import { descendants, exited, listProcesses, terminate } from '../helpers/processes.ts';
import { startRtspServer, type RtspServer } from '../helpers/rtsp-server.ts';

const LISTED = '7ABC123';
const UNLISTED = '4XYZ987';
const ROOT = new URL('../..', import.meta.url).pathname;

describe('walking skeleton: RTSP camera → gateway → mosquitto → dispatch', () => {
  let rtsp: RtspServer;
  let broker: Mosquitto;
  let pki: TestPki;
  let dispatchCert: IssuedCert;
  let dispatch: RunningDispatch;
  let gateway: ChildProcess;
  let dataDir: string;
  let gatewayLog = '';
  const hits: ReceivedHit[] = [];
  /** What dispatch refused, and why (shown when a wait times out). */
  const rejections: string[] = [];
  let startedAt = 0;
  let exitCode: number | null = null;

  beforeAll(async () => {
    const clip = await testClip({
      seed: 5,
      width: 960,
      height: 540,
      fps: 10,
      vehicles: [{ plate: LISTED, stateName: 'California' }, { plate: UNLISTED, stateName: 'Nevada' }],
      secondsPerVehicle: 4,
      headwaySec: 4,
    });
    dataDir = mkdtempSync(join(tmpdir(), 'alpr-skeleton-'));
    const hotlist = join(dataDir, 'hotlist.csv');
    writeFileSync(hotlist, `plate,state,list_type,priority\n${LISTED},,stolen-vehicle,90\n1AAA111,ca,amber,95\n`);
    rtsp = await startRtspServer({ clip: clip.path });
    pki = await createTestPki('Skeleton Agency CA');
    const brokerCert = await pki.issue('broker', { server: true, ipAddresses: ['127.0.0.1'] });
    const device = await pki.issue('pole-it', { client: true });
    dispatchCert = await pki.issue('dispatch', { client: true });
    // mosquitto started as root drops to its own user, which must be able to read its files.
    chmodSync(pki.dir, 0o755);
    chmodSync(brokerCert.keyFile, 0o644);
    broker = await startMosquitto({ tls: { cafile: pki.caCertFile, certfile: brokerCert.certFile, keyfile: brokerCert.keyFile }, extraConfig: ['use_identity_as_username true'] });
    // Where provisioning leaves the device's identity and dispatch's encryption certificate.
    const identity = join(dataDir, 'data', 'identity');
    mkdirSync(identity, { recursive: true });
    writeFileSync(join(identity, 'device.key.pem'), device.keyPem, { mode: 0o600 });
    writeFileSync(join(identity, 'device.crt.pem'), device.certPem);
    writeFileSync(join(identity, 'ca-bundle.pem'), pki.caCertPem);
    writeFileSync(join(identity, 'dispatch-encryption.crt.pem'), dispatchCert.certPem);
    dispatch = await startDispatch({
      mqttUrl: broker.url,
      tls: { ca: pki.caCertPem, cert: dispatchCert.certPem, key: dispatchCert.keyPem },
      agency: 'test-pd',
      trustAnchorsPem: pki.caCertPem,
      decryptionKeyPem: dispatchCert.keyPem,
      decryptionCertPem: dispatchCert.certPem,
      signingKeyPem: dispatchCert.keyPem,
      signingChainPem: dispatchCert.certPem,
      dataDir: join(dataDir, 'dispatch'),
      log: pino({ level: 'silent' }),
      onHit: (h) => hits.push(h),
    });
    dispatch.receiver.on('rejected', (r) => rejections.push(JSON.stringify(r)));
    startedAt = Date.now();
    gateway = spawn(process.execPath, ['--import', 'tsx', 'gateway/main.ts'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        ALPR_DEVICE_ID: 'pole-it',
        ALPR_AGENCY: 'test-pd',
        ALPR_SITE: 'Integration Ave',
        ALPR_DATA_DIR: join(dataDir, 'data'),
        ALPR_CAMERAS: `north=${rtsp.url}`,
        ALPR_HOTLIST_PATH: hotlist,
        ALPR_MQTT_URL: broker.url,
        ALPR_TRACKING_EXPIRY_MS: '1500',
        ALPR_STATUS_INTERVAL_MS: '1000',
        ALPR_LOG_LEVEL: 'info',
      },
    });
    gateway.stdout?.on('data', (b: Buffer) => (gatewayLog += b.toString()));
    gateway.stderr?.on('data', (b: Buffer) => (gatewayLog += b.toString()));
    gateway.once('exit', (code) => (exitCode = code));
  }, 120_000);

  afterAll(async () => {
    if (gateway) await terminate(gateway, 10_000);
    await dispatch?.stop();
    await broker?.stop();
    await rtsp?.stop();
    await pki?.dispose();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  /** Polls `cond` on a short interval until it holds or the deadline passes. */
  async function until(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!cond()) {
      if (exitCode !== null) throw new Error(`gateway exited (${exitCode}) while waiting for ${what}\n${gatewayLog.slice(-4000)}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\nrejected at dispatch: ${rejections.slice(-3).join('\n')}\n${gatewayLog.slice(-4000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  it('delivers the listed plate to dispatch with the right plate, camera and time', async () => {
    await until(() => hits.some((h) => h.hit.plate === LISTED), 90_000, `a hit on ${LISTED}`);
    const hit = hits.find((h) => h.hit.plate === LISTED)?.hit;
    expect(hit).toMatchObject({ v: 2, plate: LISTED, camera: 'north', device: 'pole-it', agency: 'test-pd', site: 'Integration Ave' });
    // Signed by the pole's certificate (verified, chain to the agency CA, by the receiver).
    expect(hits.find((h) => h.hit.plate === LISTED)?.signer.cn).toBe('pole-it');
    expect(hit?.match).toMatchObject({ kind: 'exact', listType: 'stolen-vehicle', listedPlate: LISTED, entryId: `stolen-vehicle:${LISTED}` });
    // Every hit says which list version matched and how old that list was (P3).
    expect(hit?.match.listVersion).toMatch(/\S/);
    expect(hit?.hotlist.version).toBe(hit?.match.listVersion);
    expect(hit?.hotlist.ageMs).toBeGreaterThanOrEqual(0);
    expect(hit?.hotlist.stale).toBe(false);
    expect(hit?.match.explanation).toBe(`exact match on ${LISTED}`);
    // Captured after the gateway started, and at dispatch within a few seconds of capture.
    const received = hits.find((h) => h.hit.plate === LISTED);
    expect(hit?.capturedAt).toBeGreaterThanOrEqual(startedAt);
    expect(received?.latencyMs).toBeGreaterThanOrEqual(0);
    expect(received?.latencyMs).toBeLessThan(5_000);
    expect(hit?.readAt).toBeGreaterThanOrEqual(hit?.capturedAt ?? Infinity);
    expect(hit?.publishedAt).toBeGreaterThanOrEqual(hit?.matchedAt ?? Infinity);
    // The pole hears dispatch's signed ack and the hit leaves its outbox.
    await until(() => /"msg":"hit acknowledged by dispatch"/.test(gatewayLog), 30_000, 'the ack at the gateway');
    // The dispatcher gets the plate image to verify the read against (P5).
    expect(Buffer.from(hit?.images.plate ?? '', 'base64').subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
  }, 120_000);

  it('keeps a retained status with each camera streaming and the hot list in force', async () => {
    const client = await mqtt.connectAsync(broker.url, { protocolVersion: 5, ca: pki.caCertPem, cert: dispatchCert.certPem, key: dispatchCert.keyPem });
    try {
      const status = await new Promise<Record<string, unknown>>((resolve) => {
        client.on('message', (_t, payload) => {
          const s = JSON.parse(payload.toString()) as Record<string, unknown>;
          const cams = s['cameras'] as { state: string }[] | undefined;
          if (cams?.[0]?.state === 'streaming') resolve(s);
        });
        void client.subscribeAsync('alpr/v1/test-pd/pole-it/status', { qos: 1 });
      });
      expect(status).toMatchObject({ state: 'online', device: 'pole-it', cameras: [{ cameraId: 'north', state: 'streaming' }], hotlist: { version: expect.any(String) }, certificate: { serial: expect.any(String), notAfter: expect.any(Number) }, outbox: { depth: expect.any(Number) } });
      const [camera] = status['cameras'] as { framesIn: number; framesAnalysed: number }[];
      expect(camera?.framesIn).toBeGreaterThan(0);
      expect(camera?.framesAnalysed).toBeGreaterThan(0);
    } finally {
      await client.endAsync();
    }
  }, 60_000);

  it('stores the unlisted plate as a detection and sends no hit for it; stops cleanly', async () => {
    // Each vehicle leaves a detection ("detection kept" or "hot-list hit" in the log); wait for
    // the unlisted one's pass to end, then stop the gateway so its database can be opened here.
    const kept = (): number => (gatewayLog.match(/"msg":"(detection kept|hot-list hit)"/g) ?? []).length;
    await until(() => kept() >= 2, 90_000, 'two detections');
    gateway.kill('SIGTERM');
    await exited(gateway);
    expect(exitCode).toBe(0);
    expect(gatewayLog).toMatch(/"msg":"gateway stopped"/);

    // The gateway has stopped, so its database can be opened here (with the keys it created).
    const store = await openDetectionStore({ dataDir: join(dataDir, 'data'), events: { emit: () => undefined } });
    const detections: Detection[] = [];
    for await (const d of store.all({ user: 'test', source: 'local', purpose: 'integration test', caseNumber: 'skeleton' })) detections.push(d);
    await store.close();
    const plates = detections.map((d) => d.plate);
    expect(plates).toContain(LISTED);
    expect(plates).toContain(UNLISTED);
    const unlisted = detections.find((d) => d.plate === UNLISTED);
    expect(unlisted?.match).toBeUndefined();
    expect(unlisted?.cameraId).toBe('north');
    expect(detections.find((d) => d.plate === LISTED)?.match?.kind).toBe('exact');
    expect(hits.some((h) => h.hit.plate === UNLISTED)).toBe(false);
    // Each hit reaches dispatch once.
    expect(new Set(hits.map((h) => h.hit.hitId)).size).toBe(hits.length);

    // No process of the gateway's is left: its ffmpeg went with it. An orphaned ffmpeg would have
    // been re-parented to init, so look machine-wide for one reading this test's stream.
    const readers = (await listProcesses()).filter((p) => p.cmdline.includes(rtsp.url));
    expect(readers.map((p) => `${p.pid} ${p.cmdline}`)).toEqual([]);
    await rtsp.stop();
    await broker.stop();
    const left = await descendants({ name: /ffmpeg|mosquitto|rtsp_server|tsx|gateway\/main/ });
    expect(left.map((p) => `${p.pid} ${p.cmdline}`)).toEqual([]);
  }, 120_000);
});
