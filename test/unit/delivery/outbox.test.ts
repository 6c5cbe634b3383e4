import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Outbox, type OutboxDb } from '../../../gateway/delivery/outbox.ts';
import { buildHitDraft } from '../../../gateway/delivery/hit-message.ts';
import { createDb, type Db } from '../../../gateway/store/db.ts';
import { IntegrityError } from '../../../gateway/store/errors.ts';
import { hitDetection } from './fixtures.ts';

const uuid = (n: number): string => `019a9a3c-0000-7000-8000-${n.toString(16).padStart(12, '0')}`;

function files(dir: string): string[] {
  return readdirSync(dir).map((f) => join(dir, f)).filter((f) => statSync(f).isFile());
}

// Bodies inline in LevelDB (as before segment files, and what an old outbox holds), and in segment files.
describe.each(['inline', 'segments'] as const)('outbox (LevelDB, synced, sealed; bodies %s)', (form) => {
  let dir: string;
  let db: Db;
  const key = randomBytes(32);
  let t = 1_800_000_000_000;
  const base = (): { dir?: string } => (form === 'segments' ? { dir: join(dir, 'outbox') } : {});
  const now = (): number => t;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'outbox-'));
    db = createDb(join(dir, 'db'));
    await db.open();
  });
  afterEach(async () => {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('drains hits before events before status, each in sequence order, and keeps order across a restart', async () => {
    let box = await Outbox.open({ db, key, now, ...base() });
    await box.add('event', 'ev-1', { type: 'camera-down' });
    await box.add('hit', uuid(1), { n: 1 });
    await box.add('status', 'st-1', { state: 'online' });
    await box.add('hit', uuid(2), { n: 2 });
    await box.add('event', 'ev-2', { type: 'tamper' });
    const order = ['hit', 'hit', 'event', 'event', 'status'];
    expect(box.list().map((e) => e.kind)).toEqual(order);
    expect(box.list().map((e) => e.id)).toEqual([uuid(1), uuid(2), 'ev-1', 'ev-2', 'st-1']);
    await db.close();
    db = createDb(join(dir, 'db'));
    await db.open();
    box = await Outbox.open({ db, key, now, ...base() });
    expect(box.list().map((e) => e.id)).toEqual([uuid(1), uuid(2), 'ev-1', 'ev-2', 'st-1']);
    expect((await box.read(uuid(2)))?.body).toEqual({ n: 2 });
  });

  it('keeps its sequence monotonic across restarts, even once emptied', async () => {
    let box = await Outbox.open({ db, key, now, ...base() });
    await box.add('hit', uuid(1), {});
    await box.add('hit', uuid(2), {});
    expect(await box.remove(uuid(1))).toBe(true);
    expect(await box.remove(uuid(1))).toBe(false);
    await box.remove(uuid(2));
    expect(box.depth).toBe(0);
    box = await Outbox.open({ db, key, now, ...base() });
    expect(await box.add('hit', uuid(3), {})).toBe(3);
    expect(box.lastSeq).toBe(3);
  });

  it('queues an id once; reports depth and the oldest entry age', async () => {
    const box = await Outbox.open({ db, key, now, ...base() });
    expect(await box.add('hit', uuid(1), { a: 1 })).toBe(1);
    t += 5_000;
    expect(await box.add('hit', uuid(1), { a: 2 })).toBe(1);
    expect(box.depth).toBe(1);
    expect(box.oldestAgeMs()).toBe(5_000);
    expect(() => box.add('hit', 'bad id!', {})).toThrow(/outbox id/);
  });

  it('refuses an entry moved under another key, and a wrong key', async () => {
    const box = await Outbox.open({ db, key, now, ...base() });
    await box.add('hit', uuid(1), { a: 1 });
    await box.add('hit', uuid(2), { a: 2 });
    const [k1, k2] = box.list().map((e) => e.key) as [string, string];
    await db.put(k2, (await db.get(k1))!);
    // The first send of an entry is served from what was just committed; what is read back from
    // disk (a re-send, or any send after a restart) is checked.
    expect((await box.read<{ a: number }>(uuid(2)))?.body).toEqual({ a: 2 });
    await expect(box.read(uuid(2))).rejects.toThrow(IntegrityError);
    const reopened = await Outbox.open({ db, key, now, ...base() });
    await expect(reopened.read(uuid(2))).rejects.toThrow(IntegrityError);
    const other = await Outbox.open({ db, key: randomBytes(32), now, ...base() });
    await expect(other.read(uuid(1))).rejects.toThrow(IntegrityError);
  });

  it('holds no plate text or image bytes on disk (canary grep of the database directory)', async () => {
    const box = await Outbox.open({ db, key, now, ...base() });
    const canaries = ['QZX9CAN', 'CANARY7Q', 'Z7Z7Z7Q'];
    const marker = Buffer.from('IMAGE-CANARY-BYTES-0123456789');
    for (const [i, plate] of canaries.entries()) {
      const draft = buildHitDraft('test-pd', hitDetection(uuid(10 + i), plate), { plate: marker, overview: marker });
      await box.add('hit', draft.hitId, draft);
    }
    await db.close(); // flush everything to the files
    const needles = [...canaries.map((c) => Buffer.from(c)), marker, Buffer.from(marker.toString('base64'))];
    // Where the bodies are: the grep below must see them.
    if (form === 'segments') expect(files(join(dir, 'outbox')).map((f) => statSync(f).size).reduce((x, y) => x + y, 0)).toBeGreaterThan(3 * marker.length);
    for (const file of [...files(join(dir, 'db')), ...(form === 'segments' ? files(join(dir, 'outbox')) : [])]) {
      const bytes = readFileSync(file);
      for (const needle of needles) expect(bytes.includes(needle), `${needle.toString()} found in ${file}`).toBe(false);
    }
    db = createDb(join(dir, 'db'));
    await db.open();
    const again = await Outbox.open({ db, key, now, ...base() });
    // …and the test would see them if they were there: the entries open to the plates.
    expect(((await again.read(uuid(10)))?.body as { plate: string }).plate).toBe('QZX9CAN');
  });
});

describe('outbox bodies in segment files', () => {
  let dir: string;
  let db: Db;
  const key = randomBytes(32);
  const now = (): number => 1_800_000_000_000;
  const segments = (): string[] => readdirSync(join(dir, 'outbox')).sort();

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'outbox-seg-'));
    db = createDb(join(dir, 'db'));
    await db.open();
  });
  afterEach(async () => {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps only a small pointer in the database', async () => {
    const box = await Outbox.open({ db, key, now, dir: join(dir, 'outbox') });
    await box.add('hit', uuid(1), { image: 'x'.repeat(100_000) });
    const [meta] = box.list();
    expect((await db.get(meta!.key))?.length).toBeLessThan(32);
    expect((await box.read<{ image: string }>(uuid(1)))?.body.image).toHaveLength(100_000);
    await box.close();
  });

  it('regression: an outbox written with bodies in the database drains in order once bodies go to segment files', async () => {
    const old = await Outbox.open({ db, key, now });
    await old.add('hit', uuid(1), { n: 1 });
    await old.add('event', 'ev-1', { n: 2 });
    const box = await Outbox.open({ db, key, now, dir: join(dir, 'outbox') });
    await box.add('hit', uuid(3), { n: 3 });
    expect(box.list().map((e) => e.id)).toEqual([uuid(1), uuid(3), 'ev-1']);
    const reopened = await Outbox.open({ db, key, now, dir: join(dir, 'outbox') });
    for (const [id, n] of [[uuid(1), 1], [uuid(3), 3], ['ev-1', 2]] as const) expect((await reopened.read(id))?.body).toEqual({ n });
    for (const id of [uuid(1), uuid(3), 'ev-1']) expect(await reopened.remove(id)).toBe(true);
    expect(reopened.depth).toBe(0);
    await box.close();
    await reopened.close();
  });

  it('a crash after the body is written but before its record: the add never resolved, and the bytes go at the next open', async () => {
    let fail = true;
    const failing: OutboxDb = {
      get: (k) => db.get(k),
      keys: (o) => db.keys(o),
      batch: async (ops, o) => {
        if (fail) throw new Error('power cut');
        await db.batch(ops, o);
      },
    };
    const box = await Outbox.open({ db: failing, key, now, dir: join(dir, 'outbox') });
    await expect(box.add('hit', uuid(1), { n: 1 })).rejects.toThrow(/power cut/);
    expect(segments()).toEqual(['00000001.seg']); // the body reached the disk, no record names it
    fail = false;
    const reopened = await Outbox.open({ db, key, now, dir: join(dir, 'outbox') });
    expect(reopened.depth).toBe(0);
    expect(segments()).toEqual([]);
    expect(await reopened.add('hit', uuid(2), { n: 2 })).toBe(1);
    expect((await reopened.read(uuid(2)))?.body).toEqual({ n: 2 });
    await reopened.close();
  });

  it('regression: a re-send reading an entry as its ack removes it (and its segment) gets nothing, not an error', async () => {
    let release = (): void => undefined;
    let gate: Promise<void> | undefined;
    // The pointer is read, then the read stalls (as on a busy disk) while the ack removes the entry and its segment.
    const slow: OutboxDb = {
      get: async (k) => {
        const value = await db.get(k);
        if (gate) await gate;
        return value;
      },
      keys: (o) => db.keys(o),
      batch: (ops, o) => db.batch(ops, o),
    };
    let box = await Outbox.open({ db, key, now, dir: join(dir, 'outbox'), maxSegmentBytes: 1 });
    await box.add('hit', uuid(1), { n: 1 });
    await box.close();
    box = await Outbox.open({ db: slow, key, now, dir: join(dir, 'outbox'), maxSegmentBytes: 1 }); // nothing served from memory
    await box.add('hit', uuid(2), { n: 2 }); // appends move on: segment 1 can go
    gate = new Promise((resolve) => (release = resolve));
    const read = box.read(uuid(1));
    expect(await box.remove(uuid(1))).toBe(true);
    expect(segments()).toEqual(['00000002.seg']);
    release();
    await expect(read).resolves.toBeUndefined();
    gate = undefined;
    expect((await box.read(uuid(2)))?.body).toEqual({ n: 2 });
    await box.close();
  });

  it('a segment goes once every entry in it has been delivered; records whose segment is gone (deletes lost in a power cut) are dropped at open', async () => {
    // 1-byte segments: every add starts a new one.
    let box = await Outbox.open({ db, key, now, dir: join(dir, 'outbox'), maxSegmentBytes: 1 });
    for (let i = 1; i <= 3; i++) await box.add('hit', uuid(i), { n: i });
    expect(segments()).toEqual(['00000001.seg', '00000002.seg', '00000003.seg']);
    await box.remove(uuid(1));
    expect(segments()).toEqual(['00000002.seg', '00000003.seg']);
    await box.remove(uuid(3)); // the segment being appended to stays until the log moves on
    expect(segments()).toEqual(['00000002.seg', '00000003.seg']);
    await box.close();

    // As after a power cut that kept segment 2's removal but lost the delete of its record.
    const [k2] = (await Outbox.open({ db, key, now })).list().map((e) => e.key); // uuid(2), still queued
    rmSync(join(dir, 'outbox', '00000002.seg'));
    box = await Outbox.open({ db, key, now, dir: join(dir, 'outbox') });
    expect(box.dropped).toEqual([uuid(2)]);
    expect(box.depth).toBe(0);
    expect(await db.get(k2!)).toBeUndefined();
    expect(segments()).toEqual([]); // segment 3 held only a delivered entry
    await box.close();
  });
});
