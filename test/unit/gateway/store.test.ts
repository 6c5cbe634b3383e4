import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createUuidV7, UUID_V7 } from '../../../gateway/ids.ts';
import { DetectionStore, StoreError, dayOf } from '../../../gateway/store/detection-store.ts';
import type { Detection } from '../../../gateway/types.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function detection(id: string, capturedAt: number, plate: string): Detection {
  return {
    id, capturedAt, readAt: capturedAt + 50, cameraId: 'north', deviceId: 'pole-1', site: 'Main & 1st', plate,
    confidence: 0.93, candidates: [{ text: plate, score: 0.93 }], box: { x: 1, y: 2, width: 3, height: 4 },
    firstSeen: capturedAt - 500, lastSeen: capturedAt + 500, frames: 4, direction: 'left',
    versions: { model: 'm', firmware: 'f', config: 'c' }, clock: 'system',
  };
}

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

describe('DetectionStore (LevelDB on disk)', () => {
  it('keeps detections and images across a reopen, by day and in time order', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'alpr-store-'));
    dirs.push(dir);
    const next = createUuidV7();
    const t0 = Date.parse('2026-11-20T23:59:59.000Z');
    const a = detection(next(t0), t0, '7ABC123');
    const b = detection(next(t0 + 2000), t0 + 2000, '8XYZ456');
    const c = detection(next(t0 + 3000), t0 + 3000, '1AAA111');
    let store = new DetectionStore(dir);
    await store.open();
    await store.put(b, { plate: new Uint8Array([2]) });
    await store.put(a, { plate: new Uint8Array([1]), overview: new Uint8Array([9, 9]) });
    await store.put(c, { plate: new Uint8Array([3]) });
    await store.close();

    store = new DetectionStore(dir);
    await store.open();
    expect(dayOf(a.capturedAt)).toBe('2026-11-20');
    const day1: string[] = [];
    for await (const d of store.day('2026-11-20')) day1.push(d.plate);
    const day2: string[] = [];
    for await (const d of store.day('2026-11-21')) day2.push(d.plate);
    expect(day1).toEqual(['7ABC123']);
    expect(day2).toEqual(['8XYZ456', '1AAA111']);
    expect(await store.get(a.id, a.capturedAt)).toEqual(a);
    expect([...(await store.image(a.id, a.capturedAt, 'overview')) ?? []]).toEqual([9, 9]);
    expect(await store.image(b.id, b.capturedAt, 'overview')).toBeUndefined();
    await store.close();
    expect(readdirSync(dir)).toContain('CURRENT');
    expect(readFileSync(join(dir, 'CURRENT'), 'utf8')).toMatch(/^MANIFEST-/);
  });

  it('refuses ids that are not UUIDv7 and days that are not yyyy-mm-dd', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'alpr-store-'));
    dirs.push(dir);
    const store = new DetectionStore(dir);
    await store.open();
    await expect(store.put(detection('not-a-uuid', 0, 'ABC123'), { plate: new Uint8Array() })).rejects.toThrow(StoreError);
    await expect(store.get('../../etc', 0)).rejects.toThrow(/is not a UUIDv7/);
    await expect(async () => {
      for await (const _ of store.day('2026-1-1')) break;
    }).rejects.toThrow(/expected yyyy-mm-dd/);
    await store.close();
  });
});
