import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createUuidV7, UUID_V7 } from '../../../gateway/ids.ts';
import { ConflictError, StoreError } from '../../../gateway/store/errors.ts';
import { dayOf } from '../../../gateway/store/layout.ts';
import type { Detection } from '../../../gateway/types.ts';
import { DAY_MS, INVESTIGATOR, SettableClock, T0, detection, jpeg, match, openTestStore, removeTempDirs } from './store-fixtures.ts';

afterEach(removeTempDirs);

describe('UUIDv7', () => {
  it('makes valid, time-ordered ids, monotonic within one millisecond', () => {
    const next = createUuidV7();
    const ids = [next(1_700_000_000_000), next(1_700_000_000_000), next(1_700_000_000_000), next(1_700_000_000_001)];
    for (const id of ids) expect(id).toMatch(UUID_V7);
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(4);
    expect(ids[0]?.slice(0, 13)).toBe('018bcfe5-6800');
  });
});

describe('DetectionStore (LevelDB on disk, encrypted)', () => {
  it('keeps detections and images across a reopen, by storage day and in capture order', async () => {
    const next = createUuidV7();
    const t0 = Date.parse('2026-11-20T23:59:59.000Z');
    const clock = new SettableClock(t0);
    const a = detection(next(t0), t0, '7ABC123');
    const b = detection(next(t0 + 2000), t0 + 2000, '8XYZ456');
    const c = detection(next(t0 + 3000), t0 + 3000, '1AAA111', { match: match('1AAA111'), matchedAt: t0 + 3100 });
    const first = await openTestStore({ clock });
    let store = first.store;
    const dir = first.dir;
    await store.put(a, { plate: jpeg('a'), overview: jpeg('ov', 5_000) });
    clock.t = t0 + 2000;
    const refB = await store.put(b, { plate: jpeg('b') });
    clock.t = t0 + 3000;
    const refC = await store.put(c, { plate: jpeg('c') });
    expect(refB).toEqual({ id: b.id, day: '2026-11-21', class: 'read', amended: false });
    expect(refC.class).toBe('hit');
    await store.close();

    store = (await openTestStore({ dir, clock })).store;
    const plates = async (day: string): Promise<string[]> => {
      const out: string[] = [];
      for await (const d of store.day(INVESTIGATOR, day)) out.push(d.plate);
      return out;
    };
    expect(await plates('2026-11-20')).toEqual(['7ABC123']);
    expect(await plates('2026-11-21')).toEqual(['8XYZ456', '1AAA111']);
    expect(await store.get(INVESTIGATOR, a.id)).toEqual(a);
    expect(await store.get(INVESTIGATOR, c.id, '2026-11-21')).toEqual(c);
    expect(Buffer.from((await store.image(INVESTIGATOR, a.id, 'overview')) ?? [])).toEqual(Buffer.from(jpeg('ov', 5_000)));
    expect(await store.image(INVESTIGATOR, b.id, 'overview')).toBeUndefined();
    const all: Detection[] = [];
    for await (const d of store.all(INVESTIGATOR)) all.push(d);
    expect(all.map((d) => d.plate)).toEqual(['7ABC123', '8XYZ456', '1AAA111']);
    await store.close();
    expect(readFileSync(join(dir, 'db', 'CURRENT'), 'utf8')).toMatch(/^MANIFEST-/);
  });

  it('files a record under the trusted day it was stored, whatever its capture clock said', async () => {
    const next = createUuidV7();
    const { store } = await openTestStore();
    const yearAgo = T0 - 365 * DAY_MS;
    const d = detection(next(yearAgo), yearAgo, '5JKL678');
    expect((await store.put(d, { plate: jpeg('x') })).day).toBe(dayOf(T0));
    expect(await store.get(INVESTIGATOR, d.id, dayOf(T0))).toEqual(d);
    await store.close();
  });

  it('amends a record put again under the same id (an early hit completed at the end of its pass)', async () => {
    const next = createUuidV7();
    const { store } = await openTestStore();
    const early = detection(next(T0), T0, '7ABC123', { match: match('7ABC123'), frames: 2 });
    const images = { plate: jpeg('p'), overview: jpeg('o') };
    await store.put(early, images);
    const whole = { ...early, frames: 9, lastSeen: T0 + 4000 };
    expect((await store.put(whole, images)).amended).toBe(true);
    expect((await store.get(INVESTIGATOR, early.id))?.frames).toBe(9);
    const found = await store.search(INVESTIGATOR, { plate: '7ABC123', from: T0 - DAY_MS, to: T0 + DAY_MS });
    expect(found.hits.map((h) => h.id)).toEqual([early.id]);
    await expect(store.put({ ...whole, plate: '7ABC128' }, images)).rejects.toThrow(ConflictError);
    const chain = await store.verifyChain(INVESTIGATOR, dayOf(T0), 'north');
    expect(chain).toMatchObject({ ok: true, links: 2 });
    await store.close();
  });

  it('creates the master and device keys at first boot, mode 0600, and keeps them', async () => {
    const { store, dir, events } = await openTestStore();
    expect(events.ofType('store.keys-created')).toHaveLength(1);
    await store.close();
    for (const f of ['master.key', 'device-key.pem']) expect(statSync(join(dir, 'keys', f)).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'keys')).mode & 0o777).toBe(0o700);
    const again = await openTestStore({ dir });
    expect(again.events.ofType('store.keys-created')).toHaveLength(0);
    expect(again.store.publicKey.kid).toBe(store.publicKey.kid);
    await again.store.close();
    expect(readdirSync(join(dir, 'keys')).sort()).toEqual(['device-key.pem', 'master.key']);
  });

  it('refuses ids that are not UUIDv7 and days that are not calendar days', async () => {
    const { store } = await openTestStore();
    await expect(store.put(detection('not-a-uuid', 0, 'ABC123'), { plate: jpeg('x') })).rejects.toThrow(StoreError);
    await expect(store.get(INVESTIGATOR, '../../etc')).rejects.toThrow(/is not a UUIDv7/);
    await expect(async () => {
      for await (const _ of store.day(INVESTIGATOR, '2026-1-1')) break;
    }).rejects.toThrow(/expected a calendar day/);
    await store.close();
  });
});
