import { afterEach, describe, expect, it } from 'vitest';
import { createUuidV7 } from '../../../gateway/ids.ts';
import type { MaintenanceTimers } from '../../../gateway/store/maintenance.ts';
import { INVESTIGATOR, T0, DAY_MS, detection, jpeg, openTestStore, removeTempDirs } from './store-fixtures.ts';
import { raw } from './store-raw.ts';

afterEach(removeTempDirs);

const next = createUuidV7();

/** Timers that fire only when the test says so. */
class ManualTimers implements MaintenanceTimers {
  fns: (() => void)[] = [];
  setInterval(fn: () => void): unknown {
    this.fns.push(fn);
    return this.fns.length;
  }
  clearInterval(): void {
    this.fns = [];
  }
}

describe('maintenance tick', () => {
  it('signs moved chain heads each tick, checkpoints the audit log every 15 minutes, purges hourly', async () => {
    const { store, clock, events, dir } = await openTestStore();
    const timers = new ManualTimers();
    store.start(timers);
    await store.tick(); // the round start() began
    expect(timers.fns).toHaveLength(1);

    await store.put(detection(next(T0), T0, '4TCK001'), { plate: jpeg('a') });
    await store.search(INVESTIGATOR, { from: T0 - 1, to: T0 + 1 });
    clock.advance(60_000);
    timers.fns[0]?.();
    await store.tick();
    expect(events.ofType('audit.checkpoint')).toHaveLength(0); // 1 minute after the first checkpoint round
    const verified = await store.verifyChain({ ...INVESTIGATOR }, '2026-11-20', 'north');
    expect(verified).toMatchObject({ ok: true, links: 1 });

    clock.advance(15 * 60_000);
    await store.tick();
    expect(events.ofType('audit.checkpoint')).toHaveLength(1);

    // A day later the next purge round finds nothing due; 31 days later the day goes.
    clock.t = T0 + 31 * DAY_MS;
    await store.tick();
    expect(events.ofType('store.purge-receipt').map((e) => e.class).sort()).toEqual(['chain', 'image', 'read']);
    await store.close();
    expect(timers.fns).toHaveLength(0);

    const r = await raw(dir);
    expect(await r.db.has('hed!2026-11-20!north')).toBe(false); // purged with its day
    const clockRecord = JSON.parse(Buffer.from((await r.db.get('meta!clock')) as Uint8Array).toString()) as { t: number };
    await r.close();
    expect(clockRecord.t).toBe(T0 + 31 * DAY_MS);
  });
});
