/**
 * The writer that store-crash.test.ts kills: opens the evidence store in `argv[2]`, then keeps
 * writing detections from several concurrent writers (so batches group), ticking maintenance and
 * searching now and then, and prints `ack {id}` once each put has resolved — a promise the store
 * made that the record is on disk. stdout is a pipe, and pipe writes are synchronous on Linux:
 * a printed ack is in the pipe before the next instruction runs.
 */
import { randomBytes } from 'node:crypto';
import { createUuidV7 } from '../../gateway/ids.ts';
import { openDetectionStore } from '../../gateway/store/open.ts';
import type { Detection } from '../../gateway/types.ts';

const dataDir = process.argv[2] as string;
const store = await openDetectionStore({ dataDir, deviceId: 'crash-pole', events: { emit: () => undefined }, indexSegmentSize: 8 });
process.stdout.write('ready\n');
const newId = createUuidV7();
const ctx = { user: 'crash', source: 'local', purpose: 'crash test', caseNumber: 'crash' };
const cameras = ['north', 'south', 'east'];

async function writer(n: number): Promise<never> {
  for (let i = 0; ; i++) {
    const at = Date.now();
    const plate = `${n}${randomBytes(3).toString('hex').toUpperCase()}`;
    const d: Detection = {
      id: newId(at), capturedAt: at, readAt: at, cameraId: cameras[i % 3] as string, deviceId: 'crash-pole', site: 'x', plate,
      confidence: 0.9, candidates: [], box: { x: 0, y: 0, width: 1, height: 1 }, firstSeen: at, lastSeen: at, frames: 1,
      direction: 'unknown', versions: { model: 'm', firmware: 'f', config: 'c' }, clock: store.clockStatus(),
    };
    await store.put(d, { plate: randomBytes(3_000 + (i % 4) * 1_000), ...(i % 2 ? { overview: randomBytes(30_000) } : {}) });
    process.stdout.write(`ack ${d.id}\n`);
    if (n === 0 && i % 10 === 5) await store.tick();
    if (n === 1 && i % 15 === 7) await store.search(ctx, { plate: `${plate.slice(0, 3)}*`, from: at - 60_000, to: at });
  }
}

await Promise.all([0, 1, 2].map(writer));
