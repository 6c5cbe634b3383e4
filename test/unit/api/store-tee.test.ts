import { afterEach, expect, it } from 'vitest';
import { withDetectionTee } from '../../../gateway/api/store-tee.ts';
import { createUuidV7 } from '../../../gateway/ids.ts';
import { INVESTIGATOR, T0, detection, jpeg, openTestStore, removeTempDirs, type TestStore } from '../gateway/store-fixtures.ts';

let ts: TestStore | undefined;
afterEach(async () => {
  await ts?.store.close();
  ts = undefined;
  removeTempDirs();
});

it('stores first, then offers the detection; an observer that throws does not fail the put', async () => {
  ts = await openTestStore();
  const seen: string[] = [];
  const errors: unknown[] = [];
  let fail = false;
  const teed = withDetectionTee(ts.store, (d) => {
    if (fail) throw new Error('observer broke');
    seen.push(d.plate);
  }, (err) => errors.push(err));
  const next = createUuidV7();
  await teed.put(detection(next(T0), T0, 'ABC123'), { plate: jpeg('a') });
  fail = true;
  await teed.put(detection(next(T0 + 1), T0 + 1, 'XYZ777'), { plate: jpeg('b') });
  expect(seen).toEqual(['ABC123']);
  expect(errors).toHaveLength(1);
  // Both are stored, and the rest of the store works through the tee.
  const found = await teed.search(INVESTIGATOR, { from: T0 - 1000, to: T0 + 1000 });
  expect(found.hits.map((h) => h.plate).sort()).toEqual(['ABC123', 'XYZ777']);
  expect(teed.deviceId).toBe('pole-1');
});
