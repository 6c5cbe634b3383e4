import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Level } from 'level';
import { afterEach, describe, expect, it } from 'vitest';
import { createUuidV7 } from '../../../gateway/ids.ts';
import { IntegrityError } from '../../../gateway/store/errors.ts';
import { K, dayOf } from '../../../gateway/store/layout.ts';
import { INVESTIGATOR, SUPERVISOR, T0, DAY_MS, detection, jpeg, match, openTestStore, removeTempDirs } from './store-fixtures.ts';

afterEach(removeTempDirs);

const next = createUuidV7();

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).map((f) => join(dir, f)).filter((f) => statSync(f).isFile());
}

/** Every file of the data directory that holds `needle`, byte for byte. */
function grep(dir: string, needle: Buffer): string[] {
  return filesUnder(dir).filter((f) => readFileSync(f).includes(needle));
}

async function rawValue(dbDir: string, key: string): Promise<Uint8Array> {
  const db = new Level<string, Uint8Array>(dbDir, { valueEncoding: 'view' });
  try {
    return (await db.get(key)) as Uint8Array;
  } finally {
    await db.close();
  }
}

describe('encryption at rest', () => {
  it('leaves no canary plate, image, case note or search term in any file of the data directory', async () => {
    const CANARIES = ['QZ7XK9W', 'JX4QQ8Z', 'WQ9ZX7K'];
    const IMAGE = 'CANARY-IMAGE-BYTES';
    const { store, dir, clock } = await openTestStore();
    const ids: string[] = [];
    for (const [i, plate] of CANARIES.entries()) {
      const at = T0 + i * 1000;
      const d = detection(next(at), at, plate, {
        candidates: [{ text: plate, score: 0.9 }, { text: `${plate.slice(0, 6)}X`, score: 0.1 }],
        ...(i === 0 ? { match: match(plate) } : {}),
      });
      await store.put(d, { plate: jpeg(IMAGE, 8_000), overview: jpeg(IMAGE, 20_000) });
      ids.push(d.id);
    }
    await store.search(INVESTIGATOR, { plate: 'QZ7XK9W', from: T0 - DAY_MS, to: T0 + DAY_MS });
    await store.search(INVESTIGATOR, { plate: '*X4QQ8*', from: T0 - DAY_MS, to: T0 + DAY_MS });
    await store.placeHold(SUPERVISOR, { caseNumber: 'VPD-1', reason: 'vehicle WQ9ZX7K seen leaving the scene', refs: ids.map((id) => ({ id })) });
    await store.tick();
    clock.t += 1000;
    await store.close();

    const files = filesUnder(dir);
    expect(files.some((f) => f.endsWith('.log') || f.endsWith('.ldb'))).toBe(true);
    for (const c of CANARIES) {
      expect(grep(dir, Buffer.from(c, 'latin1'))).toEqual([]);
      expect(grep(dir, Buffer.from(c.toLowerCase(), 'latin1'))).toEqual([]);
      expect(grep(dir, Buffer.from(c, 'utf16le'))).toEqual([]);
    }
    expect(grep(dir, Buffer.from(IMAGE, 'latin1'))).toEqual([]);
    expect(grep(dir, Buffer.from(jpeg(IMAGE, 8_000)).subarray(100, 164))).toEqual([]);
    expect(grep(dir, Buffer.from('seen leaving the scene'))).toEqual([]);

    // …while the store itself still reads them back.
    const reopened = await openTestStore({ dir, clock });
    expect((await reopened.store.get(INVESTIGATOR, ids[0] as string))?.plate).toBe('QZ7XK9W');
    await reopened.store.close();
  });

  it('a flipped byte in a stored value is caught by its tag and never returned as data', async () => {
    const { store, dir, clock, events } = await openTestStore();
    const d = detection(next(T0), T0, '6FLP123');
    const other = detection(next(T0 + 5), T0 + 5, '6FLP124');
    await store.put(d, { plate: jpeg('x') });
    await store.put(other, { plate: jpeg('y') });
    await store.close();

    const key = K.record('read', dayOf(T0), d.id);
    // The record lives in its storage day's database (days.ts).
    const value = Buffer.from(await rawValue(join(dir, 'days', dayOf(T0)), key));
    // Flip one byte of the ciphertext where it lies in the database's files.
    const window = value.subarray(40, 72);
    const [file, ...more] = grep(dir, window);
    expect(file).toBeDefined();
    expect(more).toEqual([]);
    const bytes = readFileSync(file as string);
    const at = bytes.indexOf(window) + 5;
    bytes[at] = (bytes[at] as number) ^ 0x01;
    writeFileSync(file as string, bytes);

    const again = await openTestStore({ dir, clock, events });
    await expect(again.store.get(INVESTIGATOR, d.id)).rejects.toThrow(IntegrityError);
    // Browsing the day skips the damaged record, reports it, and returns the rest.
    const plates: string[] = [];
    for await (const x of again.store.day(INVESTIGATOR, dayOf(T0))) plates.push(x.plate);
    expect(plates).toEqual(['6FLP124']);
    expect(events.ofType('store.integrity')).toHaveLength(1);
    expect(JSON.stringify(events.ofType('store.integrity'))).not.toContain('6FLP123');
    const chain = await again.store.verifyChain(SUPERVISOR, dayOf(T0), 'north');
    expect(chain).toMatchObject({ ok: false, problem: { id: d.id, reason: expect.stringMatching(/record altered/) } });
    await again.store.close();
  });

  it('image files: a flipped byte or a missing file is caught, and a purged day leaves no file behind', async () => {
    const { store, dir, clock } = await openTestStore();
    const d = detection(next(T0), T0, '7IMG001');
    const e = detection(next(T0 + 1), T0 + 1, '7IMG002');
    await store.put(d, { plate: jpeg('p', 4_000), overview: jpeg('o', 30_000) });
    await store.put(e, { plate: jpeg('q', 4_000) });
    const blobDir = join(dir, 'blobs', dayOf(T0));
    const [file] = readdirSync(blobDir);
    expect(file).toMatch(/^image-000000\.blob$/);
    const bytes = readFileSync(join(blobDir, file as string));
    bytes[4_100] = (bytes[4_100] as number) ^ 0x80; // inside the first overview
    writeFileSync(join(blobDir, file as string), bytes);
    await expect(store.image(INVESTIGATOR, d.id, 'overview')).rejects.toThrow(IntegrityError);
    expect(Buffer.from((await store.image(INVESTIGATOR, d.id, 'plate')) ?? [])).toEqual(Buffer.from(jpeg('p', 4_000)));
    clock.t = T0 + 31 * DAY_MS;
    const receipts = await store.purge();
    expect(receipts.find((r) => r.class === 'image')?.counts).toEqual({ img: 3, blobFiles: 1 });
    expect(existsSync(blobDir)).toBe(false);
    await store.close();
  });

  it('a value moved to another key (another record, another day) fails its tag', async () => {
    const { store, dir, clock } = await openTestStore();
    const a = detection(next(T0), T0, '2MOV001');
    const b = detection(next(T0 + 1), T0 + 1, '2MOV002');
    await store.put(a, { plate: jpeg('a') });
    await store.put(b, { plate: jpeg('b') });
    await store.close();
    const db = new Level<string, Uint8Array>(join(dir, 'days', dayOf(T0)), { valueEncoding: 'view' });
    const va = (await db.get(K.record('read', dayOf(T0), a.id))) as Uint8Array;
    await db.put(K.record('read', dayOf(T0), b.id), va);
    await db.close();
    const again = await openTestStore({ dir, clock });
    expect((await again.store.get(INVESTIGATOR, a.id))?.plate).toBe('2MOV001');
    await expect(again.store.get(INVESTIGATOR, b.id)).rejects.toThrow(IntegrityError);
    await again.store.close();
  });
});
