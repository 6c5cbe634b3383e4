/**
 * A network partition while the device replays a backlog: a TCP proxy between everyone and the
 * broker black-holes every byte (no reset, no close — silence, as a cut uplink looks). The device
 * must notice (keepalive), keep every hit in its outbox, refuse to hang (`reconnect()` rejects
 * in bounded time), and deliver the whole backlog once the network heals.
 */
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Receiver } from '../../dispatch/receiver.ts';
import { createDeliveryWorld, hitId, until, type DeliveryWorld } from './delivery-fixture.ts';
import { startDevice, testHit, type TestDevice } from './delivery-device.ts';

const BACKLOG = 300;
const log = pino({ level: 'silent' });

describe('network partition during replay', () => {
  let world: DeliveryWorld;
  let device: TestDevice;
  let receiver: Receiver;
  const seen = new Map<string, number>();

  beforeAll(async () => {
    world = await createDeliveryWorld();
    receiver = await world.startReceiver(log);
    receiver.on('hit', (h) => seen.set(h.hitId, (seen.get(h.hitId) ?? 0) + 1));
    const dataDir = mkdtempSync(join(world.dir, 'dev-'));
    // Small window so the replay takes a while; short keepalive so the silence is noticed in seconds.
    device = await startDevice(await world.device('pole-p', dataDir, { mqtt: { keepaliveS: 5, connectTimeoutMs: 3_000 }, delivery: { window: 8, ackTimeoutMs: 2_000 } }), log);
    await device.link.waitConnected(AbortSignal.timeout(20_000));
  }, 60_000);

  afterAll(async () => {
    await device?.close();
    await world?.dispose();
  });

  it('loses nothing and hangs nowhere', async () => {
    // Cut off: the backlog builds up on the pole.
    world.proxy.blackhole(true);
    world.proxy.dropAll();
    await until(() => !device.link.connected, 20_000, 'the device to see the link down');
    const ids = Array.from({ length: BACKLOG }, (_, i) => hitId(50_000 + i));
    for (const [i, id] of ids.entries()) await device.service.queueHit(testHit(id, 'pole-p', `P${String(i).padStart(5, '0')}Z`));
    expect(device.outbox.depth).toBe(BACKLOG);

    // Healed: the replay starts…
    world.proxy.blackhole(false);
    await until(() => seen.size >= 20, 60_000, 'the replay to start', () => `dispatch has ${seen.size}`);
    // …and the network goes silent in the middle of it.
    world.proxy.blackhole(true);
    const atCut = seen.size;
    expect(atCut).toBeLessThan(BACKLOG);
    await until(() => !device.link.connected, 30_000, 'the device to notice the silence (keepalive)');
    // A reconnect asked for now (a certificate rotation) fails in bounded time instead of hanging.
    const started = Date.now();
    await expect(device.service.reconnect(4_000)).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(device.outbox.depth).toBeGreaterThan(0);

    world.proxy.blackhole(false);
    await until(() => ids.every((id) => seen.has(id)) && device.outbox.depth === 0, 120_000, 'the whole backlog at dispatch and the outbox empty',
      () => `dispatch ${seen.size}/${BACKLOG}, outbox ${device.outbox.depth}, link ${device.link.connected}`);
    expect([...seen].filter(([, n]) => n > 1)).toEqual([]);
    expect(device.link.connected).toBe(true);
  }, 300_000);
});
