import { afterEach, describe, expect, it } from 'vitest';
import { mulberry32 } from '../../../drivers/camera/prng.ts';
import { createUuidV7 } from '../../../gateway/ids.ts';
import { dayOf, range } from '../../../gateway/store/layout.ts';
import { compilePlatePattern, encodeSegment, scanSegment, type IndexEntry } from '../../../gateway/store/plate-index.ts';
import { INVESTIGATOR, T0, detection, jpeg, match, openTestStore, removeTempDirs } from './store-fixtures.ts';
import { Level } from 'level';
import { join } from 'node:path';

afterEach(removeTempDirs);

const next = createUuidV7();
const ALL = { from: 0, to: Number.MAX_SAFE_INTEGER };

function plates(n: number, seed: number): string[] {
  const rng = mulberry32(seed);
  const chars = 'ABCDEFGHJKLMNPRSTUVWXYZ0123456789';
  return Array.from({ length: n }, () => Array.from({ length: rng.int(5, 8) }, () => chars[rng.int(0, chars.length - 1)]).join(''));
}

/** The meaning of a pattern, written the slow, obvious way. */
function globMatches(pattern: string, plate: string): boolean {
  const re = new RegExp(`^${pattern.replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
  return re.test(plate);
}

describe('plate index segments', () => {
  it('find exactly what a plain glob match finds, with time and camera filters', () => {
    const ps = plates(3000, 7);
    const entries: IndexEntry[] = ps.map((plate, i) => ({ id: next(T0 + i), plate, camera: i % 3 ? 'north' : 'south' }));
    const seg = encodeSegment(entries);
    for (const pattern of ['7A*', '*AB*', '?A?1', 'A*9', '*1?3*', 'Z?Z*', '*K*2*']) {
      const got = scanSegment(seg, { ...ALL, regex: compilePlatePattern(pattern) }).map((e) => e.plate).sort();
      expect(got, pattern).toEqual(ps.filter((p) => globMatches(pattern, p)).sort());
    }
    const south = scanSegment(seg, { from: T0 + 100, to: T0 + 999, camera: 'south', regex: compilePlatePattern('**A*3*') });
    expect(south.length).toBeGreaterThan(0);
    expect(south.map((e) => e.id)).toEqual(entries.filter((e, i) => i >= 100 && i <= 999 && i % 3 === 0 && globMatches('*A*3*', e.plate)).map((e) => e.id));
  });

  it('stay fast on the worst patterns allowed (no catastrophic backtracking)', () => {
    const entries: IndexEntry[] = Array.from({ length: 50_000 }, (_, i) => ({ id: next(T0 + i), plate: 'AAAAAAAAAAA', camera: 'north' }));
    const seg = encodeSegment(entries);
    for (const pattern of ['*A*A*A?B', '*A?*A?*A?B', '?????????AB']) {
      const t = performance.now();
      expect(scanSegment(seg, { ...ALL, regex: compilePlatePattern(pattern) })).toEqual([]);
      expect(performance.now() - t, pattern).toBeLessThan(1000);
    }
  });
});

describe('search over the store', () => {
  it('merges loose entries into sealed segments and finds the same results before and after', async () => {
    const { store, dir } = await openTestStore({ indexSegmentSize: 16 });
    const ps = plates(70, 3);
    const ids: string[] = [];
    for (const [i, plate] of ps.entries()) {
      const d = detection(next(T0 + i), T0 + i, plate, i % 10 === 0 ? { match: match(plate) } : { cameraId: i % 2 ? 'north' : 'south' });
      await store.put(d, { plate: jpeg(plate) });
      ids.push(d.id);
    }
    await store.close();
    const db = new Level<string, Uint8Array>(join(dir, 'days', dayOf(T0)));
    const keys = await db.keys(range('idx!read!')).all();
    await db.close();
    expect(keys.filter((k) => k.includes('!s!')).length).toBeGreaterThanOrEqual(3);
    expect(keys.filter((k) => k.includes('!e!')).length).toBeLessThan(16);

    const again = await openTestStore({ dir, indexSegmentSize: 16 });
    const q = { from: T0 - 1000, to: T0 + 1000 };
    for (const pattern of [`*${ps[5]?.slice(1, 3)}*`, `${ps[9]?.slice(0, 2)}*`, `?*${ps[11]?.slice(-2)}`]) {
      if (pattern.replace(/[*?]/g, '').length < 2) continue;
      const found = await again.store.search(INVESTIGATOR, { ...q, plate: pattern });
      expect(found.hits.map((h) => h.plate).sort(), pattern).toEqual(ps.filter((p) => globMatches(pattern, p)).sort());
      expect(found.truncated).toBe(false);
    }
    const hitsOnly = await again.store.search(INVESTIGATOR, { ...q, kind: 'hits' });
    expect(hitsOnly.hits.map((h) => h.id)).toEqual(ids.filter((_, i) => i % 10 === 0));
    const south = await again.store.search(INVESTIGATOR, { ...q, cameraId: 'south', kind: 'reads' });
    expect(south.hits).toHaveLength(ps.filter((_, i) => i % 10 !== 0 && i % 2 === 0).length);
    const limited = await again.store.search(INVESTIGATOR, { ...q, limit: 5 });
    expect(limited).toMatchObject({ truncated: true });
    expect(limited.hits.map((h) => h.id)).toEqual(ids.slice(0, 5));
    await again.store.close();
  });
});
