/**
 * The dispatch receiver against a real mosquitto with mutual TLS and certificates openssl made:
 * sealed hits are decrypted, verified and acked (signed, checked here with the device side's
 * verifier); tampered, wrongly signed, foreign, revoked, expired, malformed and replayed ones are
 * refused or ignored with their reason; two receivers share one subscription and pass each other
 * their records, sealed (a record not sealed by the group is refused); a restarted receiver still
 * drops what it stored before.
 */
import { X509Certificate, createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACK_TYP, CMD_TYP, verifySigned } from '../../gateway/delivery/envelope.ts';
import { startReceiver, type Receiver, type ReceiverOptions, type Rejection } from '../../dispatch/receiver.ts';
import { recordKey, sealRecord } from '../../dispatch/replication.ts';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.ts';
import { createTestPki, type IssuedCert, type TestPki } from '../helpers/pki.ts';
import { dispatchCerts, makeHit, seal, type DispatchCerts } from '../unit/dispatch/fixtures.ts';

const AGENCY = 'test-pd';
const log = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

interface Ack {
  readonly topic: string;
  readonly payload: Record<string, unknown>;
}

describe('dispatch receiver over mosquitto with mutual TLS', () => {
  let pki: TestPki;
  let otherPki: TestPki;
  let certs: DispatchCerts;
  let pole1: IssuedCert;
  let pole2: IssuedCert;
  let revoked: IssuedCert;
  let expired: IssuedCert;
  let foreign: IssuedCert;
  let crl: string;
  let broker: Mosquitto;
  let device: MqttClient;
  let dataDir: string;
  const acks: Ack[] = [];
  const commands: { topic: string; jws: string }[] = [];
  const receivers: Receiver[] = [];

  async function receiver(over: Partial<ReceiverOptions> = {}): Promise<Receiver> {
    const r = await startReceiver({
      url: broker.url,
      tls: { ca: pki.caCertPem, cert: certs.dispatch.certPem, key: certs.dispatch.keyPem },
      agency: AGENCY,
      trustAnchorsPem: pki.caCertPem,
      crl: () => crl,
      decryptionKeyPem: certs.encryption.keyPem,
      decryptionCertPem: certs.encryption.certPem,
      signingKeyPem: certs.dispatch.keyPem,
      signingChainPem: certs.dispatch.certPem,
      dataDir: join(dataDir, 'main'),
      log,
      ...over,
    });
    receivers.push(r);
    return r;
  }

  async function stopReceiver(r: Receiver): Promise<void> {
    await r.stop();
    receivers.splice(receivers.indexOf(r), 1);
  }

  /** Resolves with the first event matching `pred`, or fails after `ms`. */
  function next<T>(r: Receiver, event: 'hit' | 'rejected', pred: (v: T) => boolean, ms = 20_000): Promise<T> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        r.off(event, on as never);
        reject(new Error(`no ${event} event within ${ms} ms`));
      }, ms);
      const on = (v: T): void => {
        if (!pred(v)) return;
        clearTimeout(timer);
        r.off(event, on as never);
        resolve(v);
      };
      r.on(event, on as never);
    });
  }

  async function until(cond: () => boolean, what: string, ms = 20_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!cond()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  const acksFor = (hitId: string): Ack[] => acks.filter((a) => a.payload['hitId'] === hitId);

  /** The test plays every device over one connection (pole-1's certificate) and listens for acks and commands. */
  async function connectDevice(): Promise<void> {
    device = await mqtt.connectAsync(broker.url, { protocolVersion: 5, ca: pki.caCertPem, cert: pole1.certPem, key: pole1.keyPem, clientId: 'test-devices' });
    const anchors = [new X509Certificate(pki.caCertPem)];
    device.on('message', (topic, payload) => {
      if (topic.endsWith('/acks')) {
        void verifySigned(payload.toString(), ACK_TYP, anchors, 'dispatch', Date.now()).then((p) => acks.push({ topic, payload: p as Record<string, unknown> }));
      } else if (topic.includes('/cmd/')) commands.push({ topic, jws: payload.toString() });
    });
    await device.subscribeAsync([`alpr/v1/${AGENCY}/+/acks`, `alpr/v1/${AGENCY}/+/cmd/#`], { qos: 1 });
  }

  beforeAll(async () => {
    pki = await createTestPki('Test Agency CA');
    otherPki = await createTestPki('Other Agency CA');
    certs = await dispatchCerts(pki);
    pole1 = await pki.issue('pole-1', { client: true });
    pole2 = await pki.issue('pole-2', { client: true });
    revoked = await pki.issue('pole-3', { client: true });
    expired = await pki.issue('pole-4', { client: true, notBefore: '20200101000000Z', notAfter: '20210101000000Z' });
    foreign = await otherPki.issue('pole-1', { client: true });
    await pki.revoke(revoked);
    crl = await pki.crl();
    dataDir = await mkdtemp(join(tmpdir(), 'dispatch-it-'));
    // mosquitto started as root drops to its own user, which must be able to read its files.
    await chmod(pki.dir, 0o755);
    await chmod(certs.broker.keyFile, 0o644);
    broker = await startMosquitto({
      tls: { cafile: pki.caCertFile, certfile: certs.broker.certFile, keyfile: certs.broker.keyFile },
      extraConfig: ['use_identity_as_username true'],
    });
    await connectDevice();
  }, 60_000);

  afterAll(async () => {
    for (const r of [...receivers]) await r.stop();
    await device?.endAsync();
    await broker?.stop();
    await pki?.dispose();
    await otherPki?.dispose();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('decrypts, verifies and stores a sealed hit, and acks it signed by dispatch', async () => {
    const r = await receiver();
    const msg = makeHit('pole-1', AGENCY, Date.now());
    const got = next<{ hitId: string }>(r, 'hit', (h) => h.hitId === msg.hitId);
    await device.publishAsync(`alpr/v1/${AGENCY}/pole-1/hits`, await seal(msg, pole1, certs.encryption), { qos: 1 });
    const hit = await got;
    expect(r.get(msg.hitId)?.hit).toEqual(msg);
    expect(r.get(msg.hitId)?.signer).toEqual({ cn: 'pole-1', serial: pole1.serial });
    await until(() => acksFor(msg.hitId).length === 1, 'the ack');
    const [ack] = acksFor(msg.hitId);
    expect(ack?.topic).toBe(`alpr/v1/${AGENCY}/pole-1/acks`);
    expect(ack?.payload).toMatchObject({ hitId: msg.hitId, device: 'pole-1', receivedAt: expect.any(Number) });
    expect(ack?.payload['disposition']).toBeUndefined();
    expect(hit.hitId).toBe(msg.hitId);
    const stats = r.stats();
    expect(stats.received).toBe(1);
    expect(stats.latencyMs.p50).toBeGreaterThanOrEqual(900);
  }, 60_000);

  it('refuses tampered, wrongly signed, foreign, revoked, expired and malformed hits with their reason, and acks none', async () => {
    const r = receivers[0] as Receiver;
    const now = Date.now();
    const cases: { name: string; topicDevice: string; payload: () => Promise<string>; reason: Rejection['reason']; hitId: string }[] = [];
    const add = (name: string, topicDevice: string, reason: Rejection['reason'], make: (hitId: string) => Promise<string>): void => {
      const hitId = makeHit(topicDevice, AGENCY, now).hitId;
      cases.push({ name, topicDevice, reason, hitId, payload: () => make(hitId) });
    };
    add('tampered ciphertext', 'pole-1', 'tampered', async (hitId) => {
      const jwe = await seal(makeHit('pole-1', AGENCY, now, { hitId }), pole1, certs.encryption);
      const parts = jwe.split('.');
      const ct = parts[3] as string;
      parts[3] = (ct[0] === 'A' ? 'B' : 'A') + ct.slice(1);
      return parts.join('.');
    });
    add('signed by another device of the agency', 'pole-1', 'wrong-signer', (hitId) => seal(makeHit('pole-1', AGENCY, now, { hitId }), pole2, certs.encryption));
    add("pole-2's key under pole-1's certificate", 'pole-1', 'bad-signature', (hitId) => seal(makeHit('pole-1', AGENCY, now, { hitId }), pole2, certs.encryption, pole1));
    add('a pole-1 certificate from another CA', 'pole-1', 'untrusted-ca', (hitId) => seal(makeHit('pole-1', AGENCY, now, { hitId }), foreign, certs.encryption));
    add('a revoked device', 'pole-3', 'revoked', (hitId) => seal(makeHit('pole-3', AGENCY, now, { hitId }), revoked, certs.encryption));
    add('an expired certificate', 'pole-4', 'expired-cert', (hitId) => seal(makeHit('pole-4', AGENCY, now, { hitId }), expired, certs.encryption));
    add('not a JWE', 'pole-1', 'malformed', () => Promise.resolve('{"plate":"7ABC123"}'));
    add('message naming another device than its topic', 'pole-2', 'device-mismatch', (hitId) => seal(makeHit('pole-1', AGENCY, now, { hitId }), pole2, certs.encryption));
    add('a hit message missing its images', 'pole-1', 'invalid-hit', (hitId) => {
      const { images: _images, ...rest } = makeHit('pole-1', AGENCY, now, { hitId });
      return seal(rest as never, pole1, certs.encryption);
    });
    add('an envelope published a week ago', 'pole-1', 'stale', (hitId) => seal(makeHit('pole-1', AGENCY, now, { hitId, publishedAt: now - 7 * 86_400_000 }), pole1, certs.encryption));

    for (const c of cases) {
      const rejected = next<Rejection>(r, 'rejected', (x) => x.device === c.topicDevice && x.reason !== 'replayed');
      await device.publishAsync(`alpr/v1/${AGENCY}/${c.topicDevice}/hits`, await c.payload(), { qos: 1 });
      const got = await rejected;
      expect({ case: c.name, reason: got.reason }).toEqual({ case: c.name, reason: c.reason });
      expect(got.detail).toMatch(/\S/);
    }
    // A valid hit after them all: once its ack is in, any ack for a refused one would be too.
    const barrier = makeHit('pole-1', AGENCY, Date.now());
    await device.publishAsync(`alpr/v1/${AGENCY}/pole-1/hits`, await seal(barrier, pole1, certs.encryption), { qos: 1 });
    await until(() => acksFor(barrier.hitId).length === 1, 'the barrier ack');
    for (const c of cases) {
      expect(acksFor(c.hitId), c.name).toEqual([]);
      expect(r.get(c.hitId), c.name).toBeUndefined();
    }
    const counts = r.stats().rejected;
    for (const reason of ['tampered', 'wrong-signer', 'bad-signature', 'untrusted-ca', 'revoked', 'expired-cert', 'malformed', 'device-mismatch', 'invalid-hit', 'stale']) expect(counts[reason], reason).toBeGreaterThanOrEqual(1);
  }, 90_000);

  it('acks a replayed hit again but keeps and shows it once', async () => {
    const r = receivers[0] as Receiver;
    const msg = makeHit('pole-1', AGENCY, Date.now());
    const envelope = await seal(msg, pole1, certs.encryption);
    const shown: string[] = [];
    const onHit = (h: { hitId: string }): void => void shown.push(h.hitId);
    r.on('hit', onHit);
    const before = r.stats().duplicates;
    const replayed = next<Rejection>(r, 'rejected', (x) => x.reason === 'replayed' && x.detail?.includes(msg.hitId) === true);
    await device.publishAsync(`alpr/v1/${AGENCY}/pole-1/hits`, envelope, { qos: 1 });
    await until(() => acksFor(msg.hitId).length === 1, 'the first ack');
    // The same envelope again (a replay), and a fresh re-send of the same hit (a lost ack).
    await device.publishAsync(`alpr/v1/${AGENCY}/pole-1/hits`, envelope, { qos: 1 });
    await replayed;
    await device.publishAsync(`alpr/v1/${AGENCY}/pole-1/hits`, await seal({ ...msg, attempt: 2, publishedAt: Date.now() }, pole1, certs.encryption), { qos: 1 });
    await until(() => acksFor(msg.hitId).length === 3, 'three acks');
    r.off('hit', onHit);
    expect(shown.filter((id) => id === msg.hitId)).toHaveLength(1);
    expect(r.stats().duplicates - before).toBe(2);
    expect(r.list().filter((h) => h.hitId === msg.hitId)).toHaveLength(1);
  }, 60_000);

  it('records a disposition and sends it to the device as a signed ack; sends cert-seen once per new serial', async () => {
    const r = receivers[0] as Receiver;
    const msg = makeHit('pole-1', AGENCY, Date.now());
    const got = next<{ hitId: string }>(r, 'hit', (h) => h.hitId === msg.hitId);
    await device.publishAsync(`alpr/v1/${AGENCY}/pole-1/hits`, await seal(msg, pole1, certs.encryption), { qos: 1 });
    await got;
    await expect(r.dispose(msg.hitId, 'misread', '   ', 'op-7')).rejects.toThrow(/reason/);
    await r.dispose(msg.hitId, 'misread', 'plate reads 7ABG123 on the crop', 'op-7');
    await until(() => acksFor(msg.hitId).some((a) => a.payload['disposition'] === 'misread'), 'the disposition ack');
    expect(acksFor(msg.hitId).find((a) => a.payload['disposition'])?.payload).toMatchObject({ hitId: msg.hitId, device: 'pole-1', disposition: 'misread', reason: 'plate reads 7ABG123 on the crop', by: 'op-7', at: expect.any(Number) });
    expect(r.get(msg.hitId)?.dispositions).toEqual([expect.objectContaining({ disposition: 'misread', by: 'op-7' })]);
    await expect(r.dispose(msg.hitId, 'confirmed', 'x', 'op-7')).rejects.toThrow(/already misread/);

    const status = (serial: string): string => JSON.stringify({ state: 'online', device: 'pole-1', at: Date.now(), certificate: { serial, notAfter: Date.now() + 1e9 }, outbox: { depth: 0, oldestAgeMs: 0 } });
    await device.publishAsync(`alpr/v1/${AGENCY}/pole-1/status`, status(pole1.serial), { qos: 1 });
    await until(() => commands.length === 1, 'cert-seen');
    await device.publishAsync(`alpr/v1/${AGENCY}/pole-1/status`, status(pole1.serial), { qos: 1 });
    await device.publishAsync(`alpr/v1/${AGENCY}/pole-1/status`, status('ABCDEF'), { qos: 1 });
    await until(() => commands.length === 2, 'cert-seen for the new serial');
    const anchors = [new X509Certificate(pki.caCertPem)];
    const sent = await Promise.all(commands.map((c) => verifySigned(c.jws, CMD_TYP, anchors, 'dispatch', Date.now())));
    expect(commands.map((c) => c.topic)).toEqual([`alpr/v1/${AGENCY}/pole-1/cmd/cert-seen`, `alpr/v1/${AGENCY}/pole-1/cmd/cert-seen`]);
    expect(sent).toEqual([
      expect.objectContaining({ name: 'cert-seen', device: 'pole-1', args: { serial: pole1.serial } }),
      expect.objectContaining({ name: 'cert-seen', device: 'pole-1', args: { serial: 'ABCDEF' } }),
    ]);
    const [first] = sent as { iat: number; exp: number; id: string }[];
    expect(first?.exp).toBeGreaterThan(first?.iat ?? Infinity);
    expect(r.devices()['pole-1']).toMatchObject({ state: 'online', certificate: { serial: 'ABCDEF' } });
  }, 60_000);

  it('after a restart still drops a hit it stored before, and re-sends its disposition', async () => {
    const r = receivers[0] as Receiver;
    const msg = makeHit('pole-1', AGENCY, Date.now());
    const got = next<{ hitId: string }>(r, 'hit', (h) => h.hitId === msg.hitId);
    await device.publishAsync(`alpr/v1/${AGENCY}/pole-1/hits`, await seal(msg, pole1, certs.encryption), { qos: 1 });
    await got;
    await r.dispose(msg.hitId, 'visually-verified', 'crop matches 7ABC123 CA', 'op-2');
    await stopReceiver(r);

    const again = await receiver();
    expect(again.get(msg.hitId)?.dispositions).toHaveLength(1);
    await expect(again.dispose(msg.hitId, 'visually-verified', 'again', 'op-2')).rejects.toThrow(/already visually-verified; it can still be misread or confirmed/);
    const shown: string[] = [];
    again.on('hit', (h) => shown.push(h.hitId));
    const before = acksFor(msg.hitId).length;
    const dup = next<Rejection>(again, 'rejected', (x) => x.reason === 'replayed');
    await device.publishAsync(`alpr/v1/${AGENCY}/pole-1/hits`, await seal({ ...msg, attempt: 2, publishedAt: Date.now() }, pole1, certs.encryption), { qos: 1 });
    await dup;
    await until(() => acksFor(msg.hitId).length >= before + 2, 'the ack and the disposition again');
    expect(acksFor(msg.hitId).slice(before).map((a) => a.payload['disposition'] ?? null).sort()).toEqual([null, 'visually-verified'].sort());
    expect(shown).toEqual([]);
    expect(again.stats()).toMatchObject({ received: 0, duplicates: 1 });
  }, 60_000);

  it('shares the load between two receivers in one group: each takes part, each stores and shows all once, dispositions follow', async () => {
    for (const r of [...receivers]) await stopReceiver(r);
    const a = await receiver({ dataDir: join(dataDir, 'a') });
    const b = await receiver({ dataDir: join(dataDir, 'b') });
    const shownA: string[] = [];
    const shownB: string[] = [];
    a.on('hit', (h) => shownA.push(h.hitId));
    b.on('hit', (h) => shownB.push(h.hitId));
    const sent: { hitId: string; envelope: string }[] = [];
    for (let i = 0; i < 40; i++) {
      const msg = makeHit('pole-1', AGENCY, Date.now());
      const envelope = await seal(msg, pole1, certs.encryption);
      sent.push({ hitId: msg.hitId, envelope });
      await device.publishAsync(`alpr/v1/${AGENCY}/pole-1/hits`, envelope, { qos: 1 });
    }
    const ids = sent.map((s) => s.hitId).sort();
    await until(() => shownA.length >= 40 && shownB.length >= 40, 'every hit on both receivers', 60_000);
    // The broker split the hits between them; each acked only its own share.
    expect(a.stats().received).toBeGreaterThan(0);
    expect(b.stats().received).toBeGreaterThan(0);
    expect(a.stats().received + b.stats().received).toBe(40);
    expect([...shownA].sort()).toEqual(ids);
    expect([...shownB].sort()).toEqual(ids);
    await until(() => sent.every((s) => acksFor(s.hitId).length === 1), 'one ack per hit');

    // Every re-send lands as a duplicate wherever the broker puts it: acked again, shown nowhere.
    for (const s of sent) await device.publishAsync(`alpr/v1/${AGENCY}/pole-1/hits`, s.envelope, { qos: 1 });
    await until(() => sent.every((s) => acksFor(s.hitId).length === 2), 'the re-sends acked');
    expect(a.stats().duplicates + b.stats().duplicates).toBe(40);
    expect(shownA).toHaveLength(40);
    expect(shownB).toHaveLength(40);

    // A disposition made at one console shows at the other's.
    const first = sent[0]?.hitId as string;
    await a.dispose(first, 'visually-verified', 'crop matches the entry', 'op-4');
    await until(() => b.get(first)?.dispositions.length === 1, 'the disposition at the peer');
    expect(b.get(first)?.dispositions[0]).toMatchObject({ disposition: 'visually-verified', by: 'op-4', reason: 'crop matches the entry' });

    // A status reaches both; one cert-seen goes out for a new serial, not one per receiver.
    const before = commands.length;
    await device.publishAsync(`alpr/v1/${AGENCY}/pole-1/status`, JSON.stringify({ state: 'online', device: 'pole-1', at: Date.now(), certificate: { serial: 'C0FFEE', notAfter: Date.now() + 1e9 } }), { qos: 1 });
    await until(() => a.devices()['pole-1']?.['certificate'] !== undefined && b.devices()['pole-1']?.['certificate'] !== undefined, 'the status at both receivers');
    await until(() => commands.length === before + 1, 'one cert-seen');
    await new Promise((r) => setTimeout(r, 300)); // a second one would have come by now
    expect(commands.length).toBe(before + 1);
  }, 120_000);

  it('regression: a peer takes a passed-on hit only as a record a receiver of its group sealed, for the device of its topic', async () => {
    for (const r of [...receivers]) await stopReceiver(r);
    const r = await receiver({ dataDir: join(dataDir, 'records') });
    const msg = makeHit('pole-1', AGENCY, Date.now());
    const stored = { v: 1, hitId: msg.hitId, agency: AGENCY, device: 'pole-1', hit: msg, receivedAt: Date.now() - 50, latencyMs: 850, transitMs: 50, signer: { cn: 'pole-1', serial: pole1.serial }, dispositions: [] };
    const json = Buffer.from(JSON.stringify(stored));
    const topic = (device: string): string => `alpr-dispatch/v1/${AGENCY}/dispatch/records/${device}`;
    const groupKey = recordKey(createPrivateKey(certs.encryption.keyPem), AGENCY, 'dispatch');
    // Played by the test's client, as a broker (or anyone allowed to publish there) could.
    const refused = async (payload: Buffer, on: string, reason: Rejection['reason']): Promise<void> => {
      const rejected = next<Rejection>(r, 'rejected', (x) => x.reason === reason && x.detail?.includes('peer') === true);
      await device.publishAsync(on, payload, { qos: 1 });
      await rejected;
    };
    await refused(sealRecord(recordKey(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, AGENCY, 'dispatch'), topic('pole-1'), json), topic('pole-1'), 'tampered');
    await refused(sealRecord(groupKey, topic('pole-1'), json), topic('pole-2'), 'tampered');
    await refused(sealRecord(groupKey, topic('pole-2'), json), topic('pole-2'), 'invalid-hit');
    await refused(sealRecord(groupKey, topic('pole-1'), Buffer.from(JSON.stringify({ ...stored, receivedAt: Date.now() - 2 * 86_400_000 }))), topic('pole-1'), 'stale');
    await refused(Buffer.from(await seal(msg, pole1, certs.encryption)), topic('pole-1'), 'tampered');
    // The record as a receiver of the group seals it: stored and shown as that receiver stored it, not acked here.
    const shown = next<{ hitId: string; receivedAt: number }>(r, 'hit', (h) => h.hitId === msg.hitId);
    await device.publishAsync(topic('pole-1'), sealRecord(groupKey, topic('pole-1'), json), { qos: 1 });
    expect((await shown).receivedAt).toBe(stored.receivedAt);
    expect(r.get(msg.hitId)?.hit).toEqual(msg);
    expect(r.stats().received).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 200)); // an ack would have come by now
    expect(acksFor(msg.hitId)).toEqual([]);
  }, 60_000);

  it('takes a burst far beyond the messages it handles at once: every hit stored, shown and acked once', async () => {
    for (const r of [...receivers]) await stopReceiver(r);
    const r = await receiver({ dataDir: join(dataDir, 'burst') });
    const shown = new Set<string>();
    r.on('hit', (h) => shown.add(h.hitId));
    const envelopes: { hitId: string; envelope: string }[] = [];
    for (let i = 0; i < 300; i++) {
      const msg = makeHit('pole-1', AGENCY, Date.now());
      envelopes.push({ hitId: msg.hitId, envelope: await seal(msg, pole1, certs.encryption) });
    }
    await Promise.all(envelopes.map((e) => device.publishAsync(`alpr/v1/${AGENCY}/pole-1/hits`, e.envelope, { qos: 1 })));
    await until(() => shown.size === 300, 'all 300 hits', 60_000);
    await until(() => envelopes.every((e) => acksFor(e.hitId).length === 1), 'one ack each', 60_000);
    expect(r.stats()).toMatchObject({ received: 300, duplicates: 0 });
  }, 120_000);

  it('refuses every hit while its CRL is out of date or missing (fail closed)', async () => {
    for (const r of [...receivers]) await stopReceiver(r);
    let current: string | undefined = crl;
    const now = Date.now();
    // 40 days on: the openssl CRL (30 days) has passed its nextUpdate; the certificates have not expired.
    const r = await receiver({ dataDir: join(dataDir, 'crl'), crl: () => current, now: () => now + 40 * 86_400_000 });
    const msg = makeHit('pole-1', AGENCY, now + 40 * 86_400_000);
    const refused = next<Rejection>(r, 'rejected', (x) => x.reason === 'crl-unavailable');
    await device.publishAsync(`alpr/v1/${AGENCY}/pole-1/hits`, await seal(msg, pole1, certs.encryption), { qos: 1 });
    expect((await refused).detail).toMatch(/expired/);
    current = undefined;
    const none = next<Rejection>(r, 'rejected', (x) => x.reason === 'crl-unavailable');
    await device.publishAsync(`alpr/v1/${AGENCY}/pole-1/hits`, await seal(msg, pole1, certs.encryption), { qos: 1 });
    expect((await none).detail).toMatch(/no CRL/);
    expect(acksFor(msg.hitId)).toEqual([]);
  }, 60_000);

  it('keeps a disposition made while the broker is away and sends it after a restart', async () => {
    for (const r of [...receivers]) await stopReceiver(r);
    const dir = join(dataDir, 'outage');
    const first = await receiver({ dataDir: dir, stopGraceMs: 500 });
    const msg = makeHit('pole-1', AGENCY, Date.now());
    const got = next<{ hitId: string }>(first, 'hit', (h) => h.hitId === msg.hitId);
    await device.publishAsync(`alpr/v1/${AGENCY}/pole-1/hits`, await seal(msg, pole1, certs.encryption), { qos: 1 });
    await got;
    await until(() => acksFor(msg.hitId).length === 1, 'the receipt ack');

    await device.endAsync();
    await broker.stop();
    await first.dispose(msg.hitId, 'confirmed', 'entering agency confirms: vehicle still stolen', 'op-9');
    await stopReceiver(first); // the ack never reached a broker

    broker = await startMosquitto({
      tls: { cafile: pki.caCertFile, certfile: certs.broker.certFile, keyfile: certs.broker.keyFile },
      extraConfig: ['use_identity_as_username true'],
    });
    await connectDevice();
    const second = await receiver({ dataDir: dir });
    expect(second.get(msg.hitId)?.dispositions.map((d) => d.disposition)).toEqual(['confirmed']);
    await until(() => acksFor(msg.hitId).some((a) => a.payload['disposition'] === 'confirmed'), 'the disposition after the restart');
    expect(acksFor(msg.hitId).find((a) => a.payload['disposition'])?.payload).toMatchObject({ disposition: 'confirmed', by: 'op-9' });
  }, 90_000);
});
