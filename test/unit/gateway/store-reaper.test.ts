import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createUuidV7 } from '../../../gateway/ids.ts';
import { dayOf } from '../../../gateway/store/layout.ts';
import { Reaper } from '../../../gateway/store/reaper.ts';
import { DAY_MS, INVESTIGATOR, T0, detection, jpeg, openTestStore, removeTempDirs, tempDir } from './store-fixtures.ts';

afterEach(removeTempDirs);

const MB = 1024 * 1024;
const next = createUuidV7();
const errors: string[] = [];
const onError = (err: unknown, what: string): void => void errors.push(`${what}: ${(err as Error).message}`);

function file(path: string, bytes: number): string {
  writeFileSync(path, Buffer.alloc(bytes, 7));
  return path;
}

const trash = (dir: string): string[] => (existsSync(join(dir, 'trash')) ? readdirSync(join(dir, 'trash')) : []);

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(cond()).toBe(true);
}

describe('reaper: purged files freed in the background', () => {
  it('moves a file or a directory out of the way at once, then frees it a slice per pause', async () => {
    const dir = tempDir();
    const pauses: number[] = [];
    const reaper = new Reaper(join(dir, 'trash'), onError, async (ms) => void pauses.push(ms), { sliceBytes: MB, pauseMs: 9 });
    const big = file(join(dir, 'image-000000.blob'), 5 * MB);
    mkdirSync(join(dir, 'day'));
    file(join(dir, 'day', '000005.ldb'), 3 * MB);
    file(join(dir, 'day', 'LOG'), 10);

    await reaper.bury(big, 'blob-2026-11-20-image-000000');
    await reaper.bury(join(dir, 'day'), 'day-2026-11-20');
    // Gone from where they were the moment bury returns: nothing can open them there again.
    expect(existsSync(big)).toBe(false);
    expect(existsSync(join(dir, 'day'))).toBe(false);
    await reaper.idle();
    expect(trash(dir)).toEqual([]);
    expect(reaper.freed).toBe(8 * MB + 10);
    // 4 steps for the 5 MB file, 2 for the 3 MB one: each followed by the background pause.
    expect(pauses).toEqual([9, 9, 9, 9, 9, 9]);
    expect(reaper.busy).toBe(false);
    expect(errors).toEqual([]);
  });

  it('a missing path is nothing to do; after stop nothing more is taken', async () => {
    const dir = tempDir();
    const reaper = new Reaper(join(dir, 'trash'), onError);
    await reaper.bury(join(dir, 'not-there'), 'x');
    await reaper.idle();
    await reaper.stop();
    await expect(reaper.bury(file(join(dir, 'f'), 10), 'f')).rejects.toThrow(/closing/);
    expect(existsSync(join(dir, 'f'))).toBe(true);
  });

  it('stopped part-way, it leaves the rest in the trash, and the next reaper frees it', async () => {
    const dir = tempDir();
    let release = (): void => undefined;
    const reaper = new Reaper(join(dir, 'trash'), onError, () => new Promise<void>((r) => (release = r)), { sliceBytes: MB, pauseMs: 5 });
    await reaper.bury(file(join(dir, 'a.blob'), 6 * MB), 'a');
    await until(() => reaper.freed === 0 && trash(dir).length === 1 && statSync(join(dir, 'trash', trash(dir)[0] as string)).size === 5 * MB);
    const stopping = reaper.stop();
    release();
    await stopping;
    const [left] = trash(dir);
    expect(statSync(join(dir, 'trash', left as string)).size).toBe(5 * MB);

    const again = new Reaper(join(dir, 'trash'), onError, async () => undefined);
    again.start();
    await again.idle();
    expect(trash(dir)).toEqual([]);
    expect(again.freed).toBe(5 * MB);
  });

  it('drain() frees the rest at full speed (disk pressure)', async () => {
    const dir = tempDir();
    const pauses: number[] = [];
    let release = (): void => undefined;
    const pause = (ms: number): Promise<void> => {
      pauses.push(ms);
      return ms === 1 ? Promise.resolve() : new Promise<void>((r) => (release = r));
    };
    const reaper = new Reaper(join(dir, 'trash'), onError, pause, { sliceBytes: MB, pauseMs: 40 });
    await reaper.bury(file(join(dir, 'a.blob'), 9 * MB), 'a');
    await until(() => pauses.length === 1);
    const drained = reaper.drain();
    release();
    await drained;
    expect(trash(dir)).toEqual([]);
    // One background step (1 MB), then 2 MB steps with 1 ms pauses: 8 MB left → 3 steps.
    expect(pauses).toEqual([40, 1, 1, 1]);
  });
});

describe('the store frees purged days in the background', () => {
  it('a purged day leaves its place at once, its files go from the trash, and a close part-way is finished at the next open', async () => {
    const { store, clock, dir } = await openTestStore();
    const day = dayOf(T0);
    for (let i = 0; i < 3; i++) await store.put(detection(next(T0 + i), T0 + i, `5REA00${i}`), { plate: jpeg(`p${i}`), overview: jpeg(`o${i}`) });
    clock.t = T0 + 31 * DAY_MS;
    await store.purge();
    expect(existsSync(join(dir, 'days', day))).toBe(false);
    expect(existsSync(join(dir, 'blobs', day))).toBe(false);
    await store.settled();
    expect(trash(dir)).toEqual([]);

    // What a crash or a close leaves in the trash is freed after the next open.
    mkdirSync(join(dir, 'trash', 'x-day-2026-01-01'), { recursive: true });
    file(join(dir, 'trash', 'x-day-2026-01-01', '000001.ldb'), 3 * MB);
    file(join(dir, 'trash', 'y-blob'), 2 * MB);
    await store.close();
    const reopened = await openTestStore({ dir, clock });
    await reopened.store.settled();
    expect(trash(dir)).toEqual([]);
    await reopened.store.close();
  });

  it('disk pressure first waits for files already being freed, rather than purge a day of reads', async () => {
    const dir = tempDir();
    // Space held by files in the trash: the probe sees it used until they are gone.
    mkdirSync(join(dir, 'trash'), { recursive: true });
    file(join(dir, 'trash', 'old-day-images'), 32 * MB);
    const probe = async () => ({ freeBytes: trash(dir).length > 0 ? 5 : 50, totalBytes: 100 });
    const { store, clock } = await openTestStore({ dir, minFreePercent: 10, diskProbe: probe });
    const yesterday = detection(next(T0 - DAY_MS), T0 - DAY_MS, '6OLD001');
    clock.t = T0 - DAY_MS;
    await store.put(yesterday, { plate: jpeg('y') });
    clock.t = T0;
    const check = await store.checkDisk();
    expect(check).toMatchObject({ state: 'ok', purged: [] });
    expect(await store.get(INVESTIGATOR, yesterday.id)).toBeDefined();
    await store.close();
  });
});
