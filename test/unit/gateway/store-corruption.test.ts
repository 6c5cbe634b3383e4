import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createUuidV7 } from '../../../gateway/ids.ts';
import { readAuditEntries } from '../../../gateway/store/audit-verify.ts';
import { StoreLockedError } from '../../../gateway/store/errors.ts';
import { raw } from './store-raw.ts';
import { DAY_MS, INVESTIGATOR, SUPERVISOR, T0, detection, jpeg, openTestStore, removeTempDirs, type TestStore } from './store-fixtures.ts';

afterEach(removeTempDirs);

const next = createUuidV7();

/** Two batches of records in two table files (a reopen turns the write-ahead log into a table). */
async function twoTables(): Promise<TestStore & { first: string[]; second: string[] }> {
  const t = await openTestStore();
  const first: string[] = [];
  for (let i = 0; i < 5; i++) {
    const d = detection(next(T0 + i), T0 + i, `1FST00${i}`);
    await t.store.put(d, { plate: jpeg(`a${i}`) });
    first.push(d.id);
  }
  await t.store.close();
  const t2 = await openTestStore({ dir: t.dir, clock: t.clock, events: t.events });
  const second: string[] = [];
  for (let i = 0; i < 5; i++) {
    const d = detection(next(T0 + 100 + i), T0 + 100 + i, `2SND00${i}`);
    await t2.store.put(d, { plate: jpeg(`b${i}`) });
    second.push(d.id);
  }
  await t2.store.close();
  // Once more, so both batches sit in tables rather than a log.
  const t3 = await openTestStore({ dir: t.dir, clock: t.clock, events: t.events });
  await t3.store.close();
  return { ...t3, first, second };
}

const quarantined = (dir: string): string[] => (existsSync(join(dir, 'quarantine')) ? readdirSync(join(dir, 'quarantine')) : []);

describe('corruption on open: quarantine, rebuild, report — never a boot loop', () => {
  it('a damaged CURRENT file: the directory is quarantined, a repaired copy keeps every record', async () => {
    const { dir, clock, first, second } = await twoTables();
    writeFileSync(join(dir, 'db', 'CURRENT'), 'garbage');
    const { store, events } = await openTestStore({ dir, clock });
    const [report] = events.ofType('store.corruption');
    expect(report).toMatchObject({ outcome: 'repaired', reason: expect.stringMatching(/LevelDB could not open it/) });
    expect(quarantined(dir)).toHaveLength(1);
    for (const id of [...first, ...second]) expect(await store.get(INVESTIGATOR, id)).toBeDefined();
    const found = await store.search(INVESTIGATOR, { plate: '2SND*', from: T0 - DAY_MS, to: T0 + DAY_MS });
    expect(found.hits).toHaveLength(5);
    expect((await store.verifyAudit(SUPERVISOR)).ok).toBe(true);
    await store.close();
  });

  it('a missing table file: quarantined, repaired with what survives, indexes rebuilt, recovery audited', async () => {
    const { dir, clock, first, second } = await twoTables();
    const tables = readdirSync(join(dir, 'db')).filter((f) => f.endsWith('.ldb')).sort();
    expect(tables.length).toBeGreaterThanOrEqual(2);
    rmSync(join(dir, 'db', tables[tables.length - 1] as string));
    const { store, events } = await openTestStore({ dir, clock });
    expect(events.ofType('store.corruption')[0]).toMatchObject({ outcome: 'repaired', reason: expect.stringMatching(/missing files/) });
    const present = [];
    for (const id of [...first, ...second]) if (await store.get(INVESTIGATOR, id).catch(() => undefined)) present.push(id);
    const found = await store.search(INVESTIGATOR, { plate: '*00?', from: T0 - DAY_MS, to: T0 + DAY_MS });
    // Whatever survived is findable again: the index was rebuilt from the records.
    expect(present.length).toBeGreaterThan(0);
    expect(found.hits.map((h) => h.id).sort()).toEqual(present.sort());
    await store.close();
    expect(quarantined(dir)).toHaveLength(1);
    const { db, keyring, close } = await raw(dir);
    const recovered = (await readAuditEntries({ db, keyring })).filter((e) => e.action === 'store.recovered');
    await close();
    expect(recovered).toEqual([expect.objectContaining({ outcome: 'ok', detail: expect.stringMatching(/missing files/) })]);
  });

  it('a master key that does not open the database: quarantined, and the device runs on an empty one', async () => {
    const { dir, clock, first } = await twoTables();
    rmSync(join(dir, 'keys', 'master.key'));
    const { store, events } = await openTestStore({ dir, clock });
    expect(events.ofType('store.corruption')[0]).toMatchObject({ outcome: 'replaced', reason: expect.stringMatching(/master key does not open/) });
    expect(await store.get(INVESTIGATOR, first[0] as string)).toBeUndefined();
    await store.put(detection(next(T0 + 5000), T0 + 5000, '3NEW001'), { plate: jpeg('n') });
    await store.close();
    // The old database (its day databases too) and the data keys that opened it, all kept for forensics.
    expect(quarantined(dir).map((f) => f.replace(/-\d{4}-.*$/, '')).sort()).toEqual(['data-keys.json', 'days', 'db']);
    expect(events.ofType('store.corruption')[1]).toMatchObject({ outcome: 'replaced', reason: expect.stringMatching(/data-key file/) });
  });

  it('an unreadable data-key file: quarantined, the store runs on, and its old records count as leftovers', async () => {
    const { dir, clock, first } = await twoTables();
    writeFileSync(join(dir, 'keys', 'data-keys.json'), '{"v":1,"keys":');
    const { store, events } = await openTestStore({ dir, clock });
    expect(events.ofType('store.corruption')[0]).toMatchObject({ outcome: 'replaced', reason: expect.stringMatching(/data-keys\.json: not valid JSON/) });
    await expect(store.get(INVESTIGATOR, first[0] as string)).rejects.toThrow(/shredded/);
    clock.t = T0 + 31 * DAY_MS;
    const receipts = await store.purge();
    expect(receipts.find((r) => r.class === 'read')).toMatchObject({ reason: 'orphan', keyId: null, counts: { det: 10 } });
    await store.close();
  });

  it('a database held by a running gateway is not touched: a clear error, no quarantine', async () => {
    const { store, dir, clock } = await openTestStore();
    await expect(openTestStore({ dir, clock })).rejects.toThrow(StoreLockedError);
    expect(quarantined(dir)).toEqual([]);
    await store.close();
  });
});
