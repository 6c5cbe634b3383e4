/**
 * Rotation without loss, on real parts: the reference CA and EST server, mosquitto with mutual
 * TLS, the real dispatch receiver (which sends cert-seen when a device's status shows a new
 * serial), and the device's delivery stack. 20 rekeying rotations run back to back while hits
 * are queued at 5 per second; every hit must reach dispatch, and the last ones must be signed
 * with the certificate the last rotation committed. Then a rotation that dispatch never confirms
 * rolls back to the certificate in use, and a revoked device is refused by a receiver that
 * checks the CA's CRL and by EST.
 */
import { readFileSync } from 'node:fs';
import { chmod, copyFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startReceiver, type Receiver } from '../../dispatch/receiver.ts';
import { parseConfig } from '../../gateway/config/load.ts';
import { createDemoPki, type DemoPki } from '../../provisioning/demo-pki.ts';
import { requestRenewal, type EnrolDeps } from '../../provisioning/enrol.ts';
import { EstClient } from '../../provisioning/est/client.ts';
import { startEstServer, type RunningEstServer } from '../../provisioning/est/server.ts';
import { IdentityStore } from '../../provisioning/identity.ts';
import { CertificateRotator } from '../../provisioning/rotation.ts';
import { ProvisioningService } from '../../provisioning/service.ts';
import { serialHex } from '../../provisioning/x509.ts';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.ts';
import { startDevice, testHit, type TestDevice } from './delivery-device.ts';
import { hitId, until } from './delivery-fixture.ts';

const log = pino({ level: 'silent' });
const AGENCY = 'test-pd';
const DEVICE = 'pole-r1';
// make soak: SOAK_ROTATIONS=500 (not ALPR_*: the config loader refuses unknown ALPR_ variables)
const ROTATIONS = Number(process.env.SOAK_ROTATIONS ?? 20);

let root: string;
let pki: DemoPki;
let est: RunningEstServer;
let broker: Mosquitto;
let receiver: Receiver;
let device: TestDevice;
let identity: IdentityStore;
let provisioning: ProvisioningService;
let estDeps: EnrolDeps;
const events: { type: string; [k: string]: unknown }[] = [];
/** Every hit queued by the load test, in order; `queueOne` adds one without waiting for the outbox. */
const queued: string[] = [];
let queueFailure: unknown;
function queueOne(): void {
  const n = queued.length + 1;
  const id = hitId(n);
  queued.push(id);
  device.service.queueHit(testHit(id, DEVICE, `7ROT${String(n % 1000).padStart(3, '0')}`)).catch((err: unknown) => (queueFailure = err));
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'rotation-'));
  await chmod(root, 0o755);
  pki = await createDemoPki(join(root, 'pki'), { agency: AGENCY, readableByBroker: true });
  broker = await startMosquitto({
    tls: { cafile: pki.caBundle, certfile: pki.broker.cert, keyfile: pki.broker.key },
    extraConfig: ['use_identity_as_username true', 'max_inflight_messages 100', 'max_queued_messages 10000'],
  });
  est = await startEstServer({ ca: pki.authority, log });
  const caPem = await readFile(pki.caBundle, 'utf8');
  const dispatchKey = await readFile(pki.dispatch.key, 'utf8');
  const dispatchCert = await readFile(pki.dispatch.cert, 'utf8');
  receiver = await startReceiver({
    url: broker.url, tls: { ca: caPem, cert: dispatchCert, key: dispatchKey }, agency: AGENCY, trustAnchorsPem: caPem,
    decryptionKeyPem: dispatchKey, decryptionCertPem: dispatchCert, signingKeyPem: dispatchKey, signingChainPem: dispatchCert,
    dataDir: join(root, 'receiver'), log,
    // get() answers from the hits kept in memory (500 by default); the soak queues more than that.
    keep: 100_000,
  });

  // Provisioning as gateway/main.ts assembles it: boot() enrols with the token from config
  // (first boot), delivery starts on the identity written, attach() wires rotation through it.
  const dataDir = join(root, 'device');
  identity = new IdentityStore(dataDir);
  estDeps = { identity, est: new EstClient({ url: est.url, trust: caPem }), device: { deviceId: DEVICE, agency: AGENCY, site: 'Test Site' }, now: Date.now };
  const config = parseConfig({
    device: { id: DEVICE, agency: AGENCY, site: 'Test Site' }, dataDir, cameras: [{ id: 'north', url: 'unused.mp4' }], hotlist: { path: 'unused.csv' },
    mqtt: { url: broker.url, reconnectInitialMs: 200, reconnectMaxMs: 1_000, connectTimeoutMs: 10_000, keepaliveS: 5 },
    delivery: { ackTimeoutMs: 3_000, maxBackoffMs: 5_000 },
    provisioning: { estUrl: est.url, estCa: pki.caBundle, enrolmentToken: await pki.authority.issueToken(DEVICE), certSeenTimeoutMs: 20_000 },
  });
  const timers = { setTimeout: (f: () => void, ms: number): unknown => setTimeout(f, ms), clearTimeout: (h: unknown) => clearTimeout(h as NodeJS.Timeout) };
  provisioning = new ProvisioningService(config, { events: { emit: (e) => events.push(e) }, log, now: Date.now, timers });
  const boot = await provisioning.boot();
  expect(boot.problem).toBeUndefined();
  expect(boot.enrolled?.serial).toMatch(/^[0-9A-F]{32}$/);
  await copyFile(pki.dispatch.cert, join(identity.dir, 'dispatch-encryption.crt.pem'));

  device = await startDevice(config, log);
  await device.link.waitConnected(AbortSignal.timeout(20_000));
  // Besides the steady 5/s, one hit is queued as the old connection is dropped and one as the
  // new one comes up, before dispatch has confirmed: the windows where a hit in flight could be lost.
  provisioning.attach({
    reconnect: async () => {
      queueOne();
      await device.service.reconnect();
      queueOne();
    },
  }, device.service.commands);
}, 120_000);

afterAll(async () => {
  provisioning?.stop();
  await device?.close();
  await receiver?.stop();
  await est?.close();
  await broker?.stop();
  await rm(root, { recursive: true, force: true });
});

describe('certificate rotation under load', () => {
  it(`${ROTATIONS} rotations while hits arrive at 5/s: every hit reaches dispatch, the new certificate is in use`, async () => {
    const load = setInterval(queueOne, 200);
    const serials = [serialHex((await identity.read())!.leaf)];
    try {
      for (let i = 0; i < ROTATIONS; i++) {
        const out = await provisioning.rotate(true, 'schedule');
        expect(out, `rotation ${i + 1}`).toMatchObject({ ok: true, previousSerial: serials[serials.length - 1] });
        if (out.ok) serials.push(out.serial);
      }
      // a few more hits after the last rotation, signed with its certificate
      const after = queued.length + 5;
      await until(() => queued.length >= after, 10_000, 'hits after the last rotation');
    } finally {
      clearInterval(load);
    }
    expect(queueFailure).toBeUndefined();
    await until(() => queued.every((id) => receiver.get(id) !== undefined), 60_000, 'every hit at dispatch', () => `${queued.filter((id) => receiver.get(id) === undefined).length} of ${queued.length} missing`);
    await until(() => device.outbox.depth === 0, 30_000, 'the outbox to drain');

    expect(new Set(serials).size).toBe(ROTATIONS + 1);
    const current = (await identity.read())!;
    expect(serialHex(current.leaf)).toBe(serials[serials.length - 1]);
    expect(device.identity().serial.toUpperCase().replace(/^0+/, '')).toBe(serialHex(current.leaf));
    const last = receiver.get(queued[queued.length - 1]!)!;
    expect(last.signer.serial.toUpperCase().replace(/^0+/, '')).toBe(serialHex(current.leaf));
    // two per rotation in its risky windows, plus the steady load
    expect(queued.length).toBeGreaterThanOrEqual(2 * ROTATIONS + 5);
    expect(events.filter((e) => e.type === 'cert-rotated')).toHaveLength(ROTATIONS);
    expect(provisioning.certificate()).toMatchObject({ state: 'valid', serial: serialHex(current.leaf) });
    expect(await identity.pending()).toBe(false);
  }, 300_000);

  it('a rotation dispatch never confirms is rolled back and the device reconnects with the certificate it had', async () => {
    const before = serialHex((await identity.read())!.leaf);
    const silent = new CertificateRotator({
      identity, renew: (opts) => requestRenewal(estDeps, opts),
      // a dispatch that never answers: the confirmation times out
      link: { reconnect: () => device.service.reconnect(), waitForCertSeen: (serial, ms) => new Promise((_, reject) => setTimeout(() => reject(new Error(`no cert-seen for ${serial} in ${ms} ms`)), ms)) },
      events: { emit: () => undefined }, log, now: Date.now, certSeenTimeoutMs: 500,
    });
    const out = await silent.rotate({ rekey: true, reason: 'command' });
    expect(out).toMatchObject({ ok: false, stage: 'confirm', rolledBack: true });
    expect(serialHex((await identity.read())!.leaf)).toBe(before);
    await device.link.waitConnected(AbortSignal.timeout(20_000));
    const id = hitId(900_001);
    await device.service.queueHit(testHit(id, DEVICE, '7ROLL01'));
    await until(() => receiver.get(id) !== undefined, 30_000, 'a hit after the rollback');
    expect(receiver.get(id)!.signer.serial.toUpperCase().replace(/^0+/, '')).toBe(before);
  }, 120_000);

  it('a revoked device: the receiver checking the CRL refuses its hits, EST refuses to renew it', async () => {
    const caPem = await readFile(pki.caBundle, 'utf8');
    const dispatchKey = await readFile(pki.dispatch.key, 'utf8');
    const dispatchCert = await readFile(pki.dispatch.cert, 'utf8');
    // a second dispatch (its own share group, so it sees every hit) that reads the CA's CRL per message
    const checking = await startReceiver({
      url: broker.url, tls: { ca: caPem, cert: dispatchCert, key: dispatchKey }, agency: AGENCY, trustAnchorsPem: caPem, shareGroup: 'crl-check',
      decryptionKeyPem: dispatchKey, decryptionCertPem: dispatchCert, signingKeyPem: dispatchKey, signingChainPem: dispatchCert,
      dataDir: join(root, 'receiver-crl'), log, crl: () => readFileSync(pki.authority.file('crl'), 'utf8'),
    });
    const rejected: { reason: string; device?: string }[] = [];
    checking.on('rejected', (r) => rejected.push(r as never));
    try {
      const accepted = hitId(900_100);
      await device.service.queueHit(testHit(accepted, DEVICE, '7CRL001'));
      await until(() => checking.get(accepted) !== undefined, 30_000, 'a hit accepted before revocation');

      const serial = serialHex((await identity.read())!.leaf);
      expect(await pki.authority.revoke(serial, 'keyCompromise')).toEqual([serial]);
      const refused = hitId(900_101);
      await device.service.queueHit(testHit(refused, DEVICE, '7CRL002'));
      await until(() => rejected.some((r) => r.reason === 'revoked' && r.device === DEVICE), 30_000, 'the revoked device refused', () => JSON.stringify(rejected));
      expect(checking.get(refused)).toBeUndefined();
      await expect(requestRenewal(estDeps, { rekey: true })).rejects.toMatchObject({ kind: 'forbidden', message: expect.stringContaining('revoked') });
    } finally {
      await checking.stop();
    }
  }, 120_000);
});
