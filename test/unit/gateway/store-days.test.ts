import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createUuidV7 } from '../../../gateway/ids.ts';
import { createDb } from '../../../gateway/store/db.ts';
import { DataDb } from '../../../gateway/store/days.ts';
import { DAY_SUBLEVEL_PREFIXES, K, dayOf, dayOfKey, range } from '../../../gateway/store/layout.ts';
import { utf8 } from '../../../gateway/store/crypto.ts';
import { raw } from './store-raw.ts';
import { DAY_MS, INVESTIGATOR, SUPERVISOR, T0, detection, jpeg, match, openTestStore, removeTempDirs, tempDir } from './store-fixtures.ts';

afterEach(removeTempDirs);
const next = createUuidV7();

async function dataDb(dir: string): Promise<DataDb> {
  const main = createDb(join(dir, 'db'));
  await main.open();
  const data = new DataDb(main, dir, () => T0, (day, r) => {
    throw new Error(`unexpected recovery of ${day}: ${r.reason}`);
  });
  await data.openAll();
  return data;
}

describe('one database per storage day', () => {
  it('routes a day\'s keys to its own database, the rest to the device database', async () => {
    expect(dayOfKey(K.record('read', '2026-11-20', '01a1f8d3-ea00-7000-a038-4285b04bb8b0'))).toBe('2026-11-20');
    expect(dayOfKey(K.indexPrefix('hit', '2026-11-21'))).toBe('2026-11-21');
    expect(dayOfKey(K.head('2026-11-22', 'north'))).toBe('2026-11-22');
    expect(dayOfKey(K.audit('2026-11-20', 3))).toBeUndefined(); // audit outlives the day's data
    expect(dayOfKey(K.meta('format'))).toBeUndefined();

    const dir = tempDir();
    const data = await dataDb(dir);
    const a = K.record('read', '2026-11-20', '01a1f8d3-ea00-7000-a038-4285b04bb8b0');
    const b = K.link('2026-11-21', 'north', 0);
    // Reading a day that has no database finds nothing and creates nothing.
    expect(await data.get(a)).toBeUndefined();
    expect(await data.keys(range('det!2026-11-20!')).all()).toEqual([]);
    for await (const _ of data.iterator(range('det!2026-11-20!'))) throw new Error('nothing to iterate');
    await data.batch([{ type: 'del', key: a }]);
    expect(existsSync(join(dir, 'days'))).toBe(false);

    await data.batch([
      { type: 'put', key: a, value: utf8('x') },
      { type: 'put', key: b, value: utf8('y') },
      { type: 'put', key: K.meta('note'), value: utf8('z') },
    ]);
    expect(data.days()).toEqual(['2026-11-20', '2026-11-21']);
    expect(readdirSync(join(dir, 'days')).sort()).toEqual(['2026-11-20', '2026-11-21']);
    expect(Buffer.from((await data.get(b)) ?? []).toString()).toBe('y');
    expect(await data.main.get(a)).toBeUndefined();
    expect(Buffer.from((await data.main.get(K.meta('note'))) ?? []).toString()).toBe('z');
    // A range is one day's: asking across days is a programming error, said plainly.
    expect(() => data.keys({ gt: 'det!2026-11-20!', lt: 'det!2026-11-21!' })).toThrow(/spans more than one storage day/);

    expect(await data.dropDay('2026-11-20')).toBeGreaterThan(0);
    expect(data.days()).toEqual(['2026-11-21']);
    expect(existsSync(join(dir, 'days', '2026-11-20'))).toBe(false);
    expect(await data.get(a)).toBeUndefined();
    await data.close();

    // Reopened: the days present are found again.
    const again = await dataDb(dir);
    expect(again.days()).toEqual(['2026-11-21']);
    expect(Buffer.from((await again.get(b)) ?? []).toString()).toBe('y');
    await again.close();
  });

  it('keeps at most maxOpen day databases open, closing the least recently used idle one, never one being read', async () => {
    const dir = tempDir();
    const main = createDb(join(dir, 'db'));
    await main.open();
    const data = new DataDb(main, dir, () => T0, () => undefined, undefined, 2);
    const days = ['2026-11-01', '2026-11-02', '2026-11-03', '2026-11-04'];
    for (const day of days) await data.batch(Array.from({ length: 50 }, (_, i) => ({ type: 'put' as const, key: K.link(day, 'north', i), value: utf8(`${day}/${i}`) })));
    expect(data.days()).toEqual(days);
    expect(data.openDays()).toEqual(['2026-11-03', '2026-11-04']);
    // A closed day is opened again when asked for.
    expect(Buffer.from((await data.get(K.link('2026-11-01', 'north', 7))) ?? []).toString()).toBe('2026-11-01/7');
    expect(data.openDays()).toHaveLength(2);
    // A day being iterated stays open while others come and go.
    const it = data.values(range(K.linkPrefix('2026-11-02', 'north')))[Symbol.asyncIterator]();
    expect(Buffer.from((await it.next()).value as Uint8Array).toString()).toBe('2026-11-02/0');
    for (const day of ['2026-11-03', '2026-11-04', '2026-11-01']) await data.get(K.link(day, 'north', 1));
    expect(data.openDays()).toContain('2026-11-02');
    let n = 1;
    for (let r = await it.next(); !r.done; r = await it.next()) n++;
    expect(n).toBe(50);
    // Once it ends, it can go.
    await data.get(K.link('2026-11-03', 'north', 1));
    await data.get(K.link('2026-11-04', 'north', 1));
    expect(data.openDays()).toEqual(['2026-11-03', '2026-11-04']);
    await data.close();
    const again = new DataDb(createDb(join(dir, 'db')), dir, () => T0, () => undefined, undefined, 2);
    await again.main.open();
    expect(await again.openAll()).toEqual(days);
    expect(again.openDays()).toEqual(['2026-11-03', '2026-11-04']);
    expect(await again.keys(range(K.linkPrefix('2026-11-01', 'north'))).all()).toHaveLength(50);
    await again.close();
  });

  it('moves a single-database store\'s day keys into day databases at open, and reads, searches and verifies it after', async () => {
    const { store, dir, clock } = await openTestStore();
    const reads = [detection(next(T0), T0, '7MOV001'), detection(next(T0 + 1), T0 + 1, '7MOV002', { match: match('7MOV002') })];
    for (const d of reads) await store.put(d, { plate: jpeg(d.plate), overview: jpeg(`o${d.plate}`, 6_000) });
    clock.t = T0 + DAY_MS;
    const later = detection(next(T0 + DAY_MS), T0 + DAY_MS, '7MOV003');
    await store.put(later, { plate: jpeg('later') });
    await store.close();

    // Rewrite it as the firmware before day databases kept it: every key in db/.
    const main = createDb(join(dir, 'db'));
    await main.open();
    let keys = 0;
    for (const day of readdirSync(join(dir, 'days'))) {
      const db = createDb(join(dir, 'days', day));
      await db.open();
      const all = (await db.iterator({}).all()).filter(([k]) => k !== 'meta!day');
      await main.batch(all.map(([key, value]) => ({ type: 'put' as const, key, value })));
      keys += all.length;
      await db.close();
    }
    await main.close();
    rmSync(join(dir, 'days'), { recursive: true });

    const again = await openTestStore({ dir, clock });
    expect(again.events.ofType('store.layout-migrated')).toEqual([expect.objectContaining({ keysMoved: keys })]);
    expect(again.events.ofType('store.corruption')).toEqual([]);
    expect(readdirSync(join(dir, 'days')).sort()).toEqual([dayOf(T0), dayOf(T0 + DAY_MS)]);
    for (const d of [...reads, later]) expect((await again.store.get(INVESTIGATOR, d.id))?.plate).toBe(d.plate);
    expect(Buffer.from((await again.store.image(INVESTIGATOR, reads[0]!.id, 'plate')) ?? [])).toEqual(Buffer.from(jpeg('7MOV001')));
    const found = await again.store.search(INVESTIGATOR, { plate: '7MOV*', from: T0 - DAY_MS, to: T0 + 2 * DAY_MS });
    expect(found.hits.map((h) => h.plate).sort()).toEqual(['7MOV001', '7MOV002', '7MOV003']);
    expect(await again.store.verifyChain(SUPERVISOR, dayOf(T0), 'north')).toMatchObject({ ok: true, links: 2 });
    await again.store.close();

    // Nothing of a day is left in the device database.
    await main.open();
    for (const prefix of DAY_SUBLEVEL_PREFIXES) expect(await main.keys({ ...range(prefix), limit: 1 }).all()).toEqual([]);
    await main.close();
  });

  it('a day left with no data by a purge that did not drop it whole is removed too', async () => {
    const { store, dir, clock } = await openTestStore();
    const d = detection(next(T0), T0, '4EMP001');
    await store.put(d, { plate: jpeg('e') });
    await store.close();
    // Only its plate index left: no record, image pointer or chain (so its chain is never due).
    const { db, close } = await raw(dir);
    const day = dayOf(T0);
    for (const prefix of [`det!${day}!`, `img!${day}!`, K.linkPrefix(day, 'north'), `hed!${day}!`]) {
      const keys = await db.keys(range(prefix)).all();
      await db.batch(keys.map((key) => ({ type: 'del' as const, key })));
    }
    expect(await db.keys(range(K.indexPrefix('read', day))).all()).toHaveLength(1);
    await close();

    clock.t = T0 + 31 * DAY_MS;
    const again = await openTestStore({ dir, clock });
    const receipts = await again.store.purge();
    expect(receipts.find((r) => r.class === 'read')?.counts).toMatchObject({ det: 0, 'idx!read': 1 });
    expect(receipts.some((r) => r.class === 'chain')).toBe(false);
    expect(existsSync(join(dir, 'days', day))).toBe(false);
    await again.store.close();
  });

  it('a damaged day database is quarantined and repaired at open, reported, and the store runs on', async () => {
    const { store, dir, clock } = await openTestStore();
    const ds = [detection(next(T0), T0, '5DMG001'), detection(next(T0 + 1), T0 + 1, '5DMG002')];
    for (const d of ds) await store.put(d, { plate: jpeg(d.plate) });
    await store.close();
    writeFileSync(join(dir, 'days', dayOf(T0), 'CURRENT'), 'garbage');

    const again = await openTestStore({ dir, clock });
    const [report] = again.events.ofType('store.corruption');
    expect(report).toMatchObject({ outcome: 'repaired', quarantinedTo: expect.stringContaining(`day-${dayOf(T0)}-`) });
    expect(readdirSync(join(dir, 'quarantine')).some((f) => f.startsWith(`day-${dayOf(T0)}-`))).toBe(true);
    // RepairDB salvages the tables; the index is rebuilt from what survived.
    const found = await again.store.search(INVESTIGATOR, { plate: '5DMG*', from: T0 - DAY_MS, to: T0 + DAY_MS });
    const present = [];
    for (const d of ds) if (await again.store.get(INVESTIGATOR, d.id).catch(() => undefined)) present.push(d.id);
    expect(found.hits.map((h) => h.id).sort()).toEqual(present.sort());
    // And it keeps working: a new record on the same day is stored and read back.
    const more = detection(next(T0 + 2), T0 + 2, '5DMG003');
    await again.store.put(more, { plate: jpeg('m') });
    expect((await again.store.get(INVESTIGATOR, more.id))?.plate).toBe('5DMG003');
    await again.store.close();
  });
});
