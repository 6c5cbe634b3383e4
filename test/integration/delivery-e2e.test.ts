/**
 * Hit delivery end to end on real parts: the device's delivery stack, mosquitto with mutual TLS
 * and certificates from openssl, the real dispatch receiver. A hit arrives, is verified and
 * decrypted, is acked and leaves the outbox; a disposition comes back and is recorded; a signed
 * command runs and is answered; the retained status carries the certificate and the outbox.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Receiver } from '../../dispatch/receiver.ts';
import { createDeliveryWorld, hitId, until, type DeliveryWorld } from './delivery-fixture.ts';
import { startDevice, testHit, type TestDevice } from './delivery-device.ts';

const log = pino({ level: 'silent' });

describe('delivery end to end: device → mosquitto (mTLS) → dispatch receiver → ack', () => {
  let world: DeliveryWorld;
  let device: TestDevice;
  let receiver: Receiver;
  let dataDir: string;

  beforeAll(async () => {
    world = await createDeliveryWorld();
    receiver = await world.startReceiver(log);
    dataDir = mkdtempSync(join(world.dir, 'dev-'));
    device = await startDevice(await world.device('pole-1', dataDir), log);
    await device.link.waitConnected(AbortSignal.timeout(20_000));
  }, 60_000);

  afterAll(async () => {
    await device?.close();
    await world?.dispose();
  });

  it('a hit arrives verified and decrypted, is acked, and leaves the outbox', async () => {
    const draft = testHit(hitId(1), 'pole-1', '7ABC123');
    await device.service.queueHit(draft);
    await until(() => receiver.get(draft.hitId) !== undefined, 20_000, 'the hit at dispatch');
    const got = receiver.get(draft.hitId);
    expect(got?.hit).toMatchObject({ v: 2, hitId: draft.hitId, plate: '7ABC123', device: 'pole-1', camera: 'north', attempt: 1 });
    expect(got?.signer.cn).toBe('pole-1');
    expect(got?.hit.images.plate).toBe(draft.images.plate);
    await until(() => device.outbox.depth === 0, 20_000, 'the ack to empty the outbox');
    expect(device.service.stats.acked).toBe(1);
  }, 60_000);

  it('an event is stored at dispatch and leaves the outbox only on dispatch\'s signed event ack', async () => {
    const seen: string[] = [];
    receiver.on('event', (e) => seen.push(e.type));
    device.service.emit({ type: 'tamper.opened', at: Date.now(), door: 'cabinet' });
    await until(() => seen.includes('tamper.opened'), 20_000, 'the event at dispatch');
    const stored = (await receiver.events('pole-1')).find((e) => e.type === 'tamper.opened');
    expect(stored).toMatchObject({ type: 'tamper.opened', device: 'pole-1', door: 'cabinet' });
    expect(stored?.id).toMatch(/^[0-9a-f-]{36}$/);
    await until(() => device.outbox.depth === 0, 20_000, 'the event ack to empty the outbox');
    expect(device.service.stats.rejectedAcks).toBe(0);

    // An event not signed by the pole (anyone on the broker could publish one) is refused.
    const forged = await world.pki.issue('forger', { client: true });
    const client = await mqtt.connectAsync(world.url, { ca: world.pki.caCertPem, cert: forged.certPem, key: forged.keyPem, protocolVersion: 5 });
    try {
      const forgedId = hitId(77);
      await client.publishAsync('alpr/v1/test-pd/pole-1/events', JSON.stringify({ id: forgedId, device: 'pole-1', type: 'tamper.closed', at: Date.now() }), { qos: 1 });
      device.service.emit({ type: 'camera-health', at: Date.now(), state: 'cleared' });
      await until(() => seen.includes('camera-health'), 20_000, 'the signed event after the forged one');
      expect((await receiver.events('pole-1')).map((e) => e.id)).not.toContain(forgedId);
      expect(seen).not.toContain('tamper.closed');
    } finally {
      await client.endAsync();
    }
  }, 60_000);

  it('records a misread disposition in the audit log and the per-list false-hit statistics', async () => {
    const draft = testHit(hitId(2), 'pole-1', '8DEF456');
    await device.service.queueHit(draft);
    await until(() => receiver.get(draft.hitId) !== undefined, 20_000, 'the hit at dispatch');
    await receiver.dispose(draft.hitId, 'misread', 'plate reads 8DEF458 on the crop', 'dispatcher-7');
    await until(() => device.audit.length > 0, 20_000, 'the disposition on the device');
    expect(device.audit[0]).toMatchObject({ action: 'hit.disposition', user: 'dispatcher-7', source: 'dispatch', outcome: 'ok', terms: { hitId: draft.hitId, listId: 'ncic', disposition: 'misread' }, detail: 'plate reads 8DEF458 on the crop' });
    expect(device.dispositions.report()['ncic']).toMatchObject({ hits: 2, misread: 1, falseHitRate: 1 });
    expect(device.service.status()).toMatchObject({ falseHits: { ncic: { misread: 1 } } });
  }, 60_000);

  it('runs a signed ping and answers on cmd-result; refuses an unknown command', async () => {
    const results: { id: string; name: string; ok: boolean; error?: string }[] = [];
    receiver.on('command-result', (r) => results.push(r as never));
    await receiver.sendCommand('pole-1', 'ping', {});
    await until(() => results.some((r) => r.name === 'ping'), 20_000, 'the ping result');
    expect(results.find((r) => r.name === 'ping')?.ok).toBe(true);
    await receiver.sendCommand('pole-1', 'self-destruct', {});
    await until(() => results.some((r) => r.name === 'self-destruct'), 20_000, 'the refusal');
    expect(results.find((r) => r.name === 'self-destruct')).toMatchObject({ ok: false, error: expect.stringMatching(/unknown command/) });
  }, 60_000);

  it('keeps a retained status with the certificate serial and expiry and the outbox depth', async () => {
    device.service.setStatus({ cameras: [] });
    const client = await mqtt.connectAsync(world.url, { protocolVersion: 5, ca: world.pki.caCertPem, cert: world.dispatch.certPem, key: world.dispatch.keyPem });
    try {
      const status = await new Promise<Record<string, unknown>>((resolve) => {
        client.on('message', (_t, payload) => resolve(JSON.parse(payload.toString()) as Record<string, unknown>));
        void client.subscribeAsync('alpr/v1/test-pd/pole-1/status', { qos: 1 });
      });
      expect(status).toMatchObject({ state: 'online', device: 'pole-1', certificate: { serial: device.identity().serial, notAfter: device.identity().notAfter }, outbox: { depth: 0 } });
    } finally {
      await client.endAsync();
    }
  }, 60_000);

  it('a pole not enrolled yet starts anyway, keeps its hit in the outbox, and delivers it once its certificate is there', async () => {
    const laterDir = mkdtempSync(join(world.dir, 'later-'));
    const config = await world.device('pole-late', laterDir);
    // Before enrolment: no identity files at all.
    const idDir = join(laterDir, 'identity');
    const files = ['device.key.pem', 'device.crt.pem', 'ca-bundle.pem', 'dispatch-encryption.crt.pem'];
    const saved = files.map((f) => [f, readFileSync(join(idDir, f), 'utf8')] as const);
    rmSync(idDir, { recursive: true });
    const late = await startDevice(config, log);
    try {
      const draft = testHit(hitId(40), 'pole-late', '4LAT123');
      await late.service.queueHit(draft);
      await new Promise((r) => setTimeout(r, 1_500)); // several failed connects
      expect(late.link.connected).toBe(false);
      expect(late.outbox.depth).toBe(1);
      // Enrolment leaves the files; the link's next attempt reads them.
      mkdirSync(idDir, { recursive: true });
      for (const [f, text] of saved) writeFileSync(join(idDir, f), text, { mode: f.includes('key') ? 0o600 : 0o644 });
      await until(() => receiver.get(draft.hitId) !== undefined, 20_000, 'the queued hit at dispatch after enrolment');
      await until(() => late.outbox.depth === 0, 20_000, 'the ack to empty the outbox');
    } finally {
      await late.close();
    }
  }, 60_000);

  it('reconnect() uses the certificate on disk now (rotation): hits are signed with the new one; a broken file is refused', async () => {
    const before = device.identity().serial;
    const idDir = join(dataDir, 'identity');
    const rotated = await world.pki.issue('pole-1-rotated', { client: true, commonName: 'pole-1' });
    writeFileSync(join(idDir, 'device.key.pem'), rotated.keyPem);
    writeFileSync(join(idDir, 'device.crt.pem'), rotated.certPem);
    await device.service.reconnect(20_000);
    expect(device.link.connected).toBe(true);
    expect(device.identity().serial).toBe(rotated.serial);
    expect(device.identity().serial).not.toBe(before);
    const draft = testHit(hitId(3), 'pole-1', '9GHI789');
    await device.service.queueHit(draft);
    await until(() => receiver.get(draft.hitId) !== undefined, 20_000, 'the hit signed with the new certificate');
    expect(BigInt(`0x${receiver.get(draft.hitId)?.signer.serial ?? '0'}`)).toBe(BigInt(`0x${rotated.serial}`));

    // A certificate that does not match the key: reconnect() rejects, naming the problem.
    writeFileSync(join(idDir, 'device.crt.pem'), world.dispatch.certPem);
    await expect(device.service.reconnect(10_000)).rejects.toThrow(/does not belong to the key/);
    writeFileSync(join(idDir, 'device.crt.pem'), rotated.certPem);
    await device.link.waitConnected(AbortSignal.timeout(20_000));
  }, 90_000);
});
