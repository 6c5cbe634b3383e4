/**
 * MQTT 3.1.1 stays possible (`mqtt.protocolVersion: 4`) for a broker without MQTT 5: the embedded
 * aedes the demo falls back to. No shared subscription, no session expiry property — the hit is
 * still signed, encrypted, delivered, acked and out of the outbox.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Aedes } from 'aedes';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startReceiver, type Receiver } from '../../dispatch/receiver.ts';
import { configSchema } from '../../gateway/config/schema.ts';
import { createDeliveryWorld, hitId, until, type DeliveryWorld } from './delivery-fixture.ts';
import { startDevice, testHit, type TestDevice } from './delivery-device.ts';

const log = pino({ level: 'silent' });

describe('delivery over MQTT 3.1.1 (aedes)', () => {
  let world: DeliveryWorld;
  let broker: Aedes;
  let server: Server;
  let url: string;
  let receiver: Receiver;
  let device: TestDevice;
  let dir: string;

  beforeAll(async () => {
    world = await createDeliveryWorld(); // for its PKI
    broker = await Aedes.createBroker();
    server = createServer(broker.handle);
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', () => ok()));
    url = `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`;
    dir = mkdtempSync(join(tmpdir(), 'alpr-mqtt4-'));
    const { pki, dispatch } = world;
    receiver = await startReceiver({
      url, agency: 'test-pd', protocolVersion: 4, trustAnchorsPem: pki.caCertPem, decryptionKeyPem: dispatch.keyPem, decryptionCertPem: dispatch.certPem,
      signingKeyPem: dispatch.keyPem, signingChainPem: dispatch.certPem, dataDir: join(dir, 'dispatch'), log,
    });
    const config = await world.device('pole-4', join(dir, 'dev'));
    device = await startDevice({ ...config, mqtt: configSchema.shape.mqtt.parse({ url, protocolVersion: 4, reconnectInitialMs: 200, reconnectMaxMs: 1_000 }) }, log);
    await device.link.waitConnected(AbortSignal.timeout(20_000));
  }, 60_000);

  afterAll(async () => {
    await device?.close();
    await receiver?.stop();
    await new Promise<void>((ok) => (broker ? broker.close(() => ok()) : ok()));
    await new Promise<void>((ok) => (server ? server.close(() => ok()) : ok()));
    await world?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('delivers and is acked', async () => {
    const draft = testHit(hitId(4), 'pole-4', '4MQT311');
    await device.service.queueHit(draft);
    await until(() => receiver.get(draft.hitId) !== undefined && device.outbox.depth === 0, 20_000, 'the hit at dispatch and acked');
    expect(receiver.get(draft.hitId)?.hit).toMatchObject({ plate: '4MQT311', device: 'pole-4' });
  }, 60_000);
});
