/**
 * mosquitto is killed (SIGKILL) and restarted 20 times while the device queues a 2,000-hit burst:
 * the broker loses its sessions and whatever it held each time (no persistence), yet every hit
 * reaches dispatch, none is stored twice there, and the device's outbox ends empty.
 */
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Receiver } from '../../dispatch/receiver.ts';
import { mulberry32 } from '../../drivers/camera/prng.ts';
import { createDeliveryWorld, hitId, until, type DeliveryWorld } from './delivery-fixture.ts';
import { startDevice, testHit, type TestDevice } from './delivery-device.ts';

const HITS = 2_000;
const RESTARTS = 20;
const log = pino({ level: 'silent' });

describe('broker killed and restarted during a burst', () => {
  let world: DeliveryWorld;
  let device: TestDevice;
  let receiver: Receiver;
  /** How many times dispatch reported each hit as new (its in-memory list keeps only the latest). */
  const seen = new Map<string, number>();

  beforeAll(async () => {
    world = await createDeliveryWorld();
    receiver = await world.startReceiver(log);
    receiver.on('hit', (h) => seen.set(h.hitId, (seen.get(h.hitId) ?? 0) + 1));
    const dataDir = mkdtempSync(join(world.dir, 'dev-'));
    device = await startDevice(await world.device('pole-1', dataDir, { delivery: { window: 64, ackTimeoutMs: 2_000 } }), log);
    await device.link.waitConnected(AbortSignal.timeout(20_000));
  }, 60_000);

  afterAll(async () => {
    await device?.close();
    await world?.dispose();
  });

  it(`delivers all ${HITS} hits exactly once after dedup across ${RESTARTS} broker kills`, async () => {
    const rng = mulberry32(7);
    const ids = Array.from({ length: HITS }, (_, i) => hitId(10_000 + i));
    let queued = 0;
    const burst = (async () => {
      for (const id of ids) {
        await device.service.queueHit(testHit(id, 'pole-1', `B${(queued % 100_000).toString().padStart(5, '0')}X`));
        queued++;
        // Paced like a busy pole, so the burst spans all the kills.
        if (queued % 4 === 0) await new Promise((r) => setTimeout(r, 30));
      }
    })();
    const connectsBefore = device.link.counters.connects;
    let duringBurst = 0;
    for (let i = 0; i < RESTARTS; i++) {
      await new Promise((r) => setTimeout(r, rng.int(100, 400)));
      if (queued < HITS) duringBurst++;
      const connects = device.link.counters.connects;
      await world.restartBroker();
      // Each kill must cut a live session: wait for the device to be back before the next one.
      await until(() => device.link.counters.connects > connects && device.link.connected, 30_000, `the device to reconnect after kill ${i + 1}`);
    }
    await burst;
    const detail = (): string => `dispatch has ${seen.size} (dup ${receiver.stats().duplicates}), outbox ${device.outbox.depth}, device ${JSON.stringify(device.service.stats)} ${JSON.stringify(device.service.sender.stats)}`;
    await until(() => ids.every((id) => seen.has(id)), 180_000, 'every hit at dispatch', detail);
    await until(() => device.outbox.depth === 0, 60_000, 'the outbox to empty', detail);
    // Each hit is taken as new once at dispatch, whatever was re-sent.
    expect([...seen].filter(([, times]) => times > 1)).toEqual([]);
    expect(new Set(seen.keys())).toEqual(new Set(ids));
    expect(device.link.counters.connects - connectsBefore).toBeGreaterThanOrEqual(RESTARTS);
    // The kills fell while hits were still being queued, not after the burst.
    expect(duringBurst).toBeGreaterThanOrEqual(RESTARTS / 2);
  }, 300_000);
});
