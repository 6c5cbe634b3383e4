import { afterEach, describe, expect, it } from 'vitest';
import { createUuidV7 } from '../../../gateway/ids.ts';
import { K, dayOf } from '../../../gateway/store/layout.ts';
import { DAY_MS, SUPERVISOR, T0, detection, jpeg, match, openTestStore, removeTempDirs, type TestStore } from './store-fixtures.ts';
import { raw } from './store-raw.ts';

afterEach(removeTempDirs);

const next = createUuidV7();
const DAY = dayOf(T0);

/** 40 detections on two cameras, written concurrently (so several share one group commit). */
async function written(options: Parameters<typeof openTestStore>[0] = {}): Promise<TestStore & { ids: string[] }> {
  const t = await openTestStore(options);
  const ds = Array.from({ length: 40 }, (_, i) => detection(next(T0 + i), T0 + i, `9CH${String(i).padStart(4, '0')}`, {
    cameraId: i % 2 ? 'north' : 'south', ...(i % 7 === 0 ? { match: match('9CH0000') } : {}),
  }));
  await Promise.all(ds.map((d, i) => t.store.put(d, { plate: jpeg(`p${i}`), ...(i % 3 ? { overview: jpeg(`o${i}`) } : {}) })));
  return { ...t, ids: ds.map((d) => d.id) };
}

async function tamper(t: TestStore, fn: (db: Awaited<ReturnType<typeof raw>>['db']) => Promise<void>): Promise<TestStore> {
  await t.store.close();
  const r = await raw(t.dir);
  await fn(r.db);
  await r.close();
  return openTestStore({ dir: t.dir, clock: t.clock });
}

describe('hash chains per camera and day', () => {
  it('chain every record, concurrently written, and sign their heads on the tick', async () => {
    const t = await written();
    await t.store.tick();
    for (const camera of ['north', 'south']) expect(await t.store.verifyChain(SUPERVISOR, DAY, camera)).toMatchObject({ ok: true, links: 20, purged: 0 });
    await t.store.close();
    const r = await raw(t.dir);
    expect(await r.db.has(K.head(DAY, 'north'))).toBe(true);
    await r.close();
  });

  it('name a record deleted outside retention', async () => {
    const t = await written();
    const again = await tamper(t, (db) => db.del(K.record('read', DAY, t.ids[3] as string)));
    expect(await again.store.verifyChain(SUPERVISOR, DAY, 'north')).toMatchObject({ ok: false, problem: { id: t.ids[3], reason: 'record deleted outside retention' } });
    await again.store.close();
  });

  it('name a link removed from the middle, and links cut off after the signed head', async () => {
    const t = await written();
    await t.store.tick();
    const again = await tamper(t, (db) => db.del(K.link(DAY, 'north', 7)));
    expect((await again.store.verifyChain(SUPERVISOR, DAY, 'north')).problem).toMatchObject({ seq: 7, reason: expect.stringMatching(/link missing/) });
    await again.store.close();
    const cut = await tamper(again, async (db) => {
      for (let i = 7; i < 20; i++) await db.del(K.link(DAY, 'south', i));
    });
    expect((await cut.store.verifyChain(SUPERVISOR, DAY, 'south')).problem?.reason).toMatch(/links after 6 were removed: the signed head is at 19/);
    await cut.store.close();
  });

  it('still verifies once the reads of its day are purged by retention and the hits remain', async () => {
    const t = await written({ retention: { readsDays: 30, hitsDays: 90, imagesDays: 30, auditDays: 365 } });
    t.clock.t = T0 + 31 * DAY_MS;
    await t.store.purge();
    const report = await t.store.verifyChain(SUPERVISOR, DAY, 'south');
    expect(report).toMatchObject({ ok: true, links: 20 });
    expect(report.purged).toBe(17);
    await t.store.close();
  });
});
