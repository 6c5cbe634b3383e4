import { afterEach, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createUuidV7 } from '../../../gateway/ids.ts';
import { TrustedClock } from '../../../gateway/store/clock.ts';
import { FakeTime } from '../../helpers/fake-time.ts';
import { dayOf } from '../../../gateway/store/layout.ts';
import { duePartitions, type DeletionReceipt } from '../../../gateway/store/retention.ts';
import { verifyStatement } from '../../../gateway/store/signer.ts';
import { DAY_MS, INVESTIGATOR, SUPERVISOR, T0, detection, deviceKey, jpeg, match, openTestStore, removeTempDirs } from './store-fixtures.ts';
import type { DetectionStore } from '../../../gateway/store/detection-store.ts';
import { MemoryEventSink } from './store-events.ts';

afterEach(removeTempDirs);

const next = createUuidV7();
const R30 = { readsDays: 30, hitsDays: 30, imagesDays: 30, auditDays: 365 };

async function ids(store: DetectionStore, day: string): Promise<string[]> {
  const out: string[] = [];
  for await (const d of store.day(INVESTIGATOR, day)) out.push(d.id);
  return out;
}

describe('retention planning', () => {
  it('keeps a day through day + N and purges it from day + N + 1, per class', () => {
    const present = [
      { cls: 'read' as const, day: '2026-10-21' }, { cls: 'read' as const, day: '2026-10-20' },
      { cls: 'hit' as const, day: '2026-10-20' }, { cls: 'audit' as const, day: '2026-10-20' }, { cls: 'chain' as const, day: '2026-10-20' },
    ];
    const due = duePartitions('2026-11-20', { ...R30, hitsDays: 90 }, present);
    expect(due).toEqual([{ cls: 'read', day: '2026-10-20' }]);
    expect(duePartitions('2026-11-21', { ...R30, hitsDays: 90 }, present).map((p) => `${p.cls}/${p.day}`)).toEqual(['read/2026-10-20', 'read/2026-10-21']);
  });
});

describe('retention on a fake clock', () => {
  it('day 30 kept, day 31 gone; held records survive; the signed receipt matches what was written', async () => {
    const { store, clock, events, dir } = await openTestStore({ retention: R30 });
    const day = dayOf(T0);
    const written: string[] = [];
    for (let i = 0; i < 5; i++) {
      const d = detection(next(T0 + i), T0 + i, `8KLM00${i}`, i === 3 ? { match: match('8KLM003') } : {});
      await store.put(d, { plate: jpeg(`p${i}`), overview: jpeg(`o${i}`) });
      written.push(d.id);
    }
    const hold = await store.placeHold(SUPERVISOR, { caseNumber: 'VPD-1', reason: 'evidence', refs: [{ id: written[1] as string }] });

    clock.t = T0 + 30 * DAY_MS;
    expect(await store.purge()).toEqual([]);
    expect(await ids(store, day)).toEqual(written);

    expect(existsSync(join(dir, 'days', day))).toBe(true);
    clock.t = T0 + 31 * DAY_MS;
    const receipts = await store.purge();
    expect(await ids(store, day)).toEqual([]);
    // Every class of the day was due: its database went whole (the counts come from before).
    expect(existsSync(join(dir, 'days', day))).toBe(false);
    const byClass = Object.fromEntries(receipts.map((r) => [r.class, r]));
    expect(byClass.read).toMatchObject({ day, reason: 'retention', counts: { det: 4, 'idx!read': 4 }, total: 8 });
    expect(byClass.hit).toMatchObject({ day, counts: { hit: 1, him: 2, 'idx!hit': 1 } });
    expect(byClass.image).toMatchObject({ day, counts: { img: 8 } });
    expect(byClass.chain?.counts).toMatchObject({ lnk: 5 });
    expect(byClass.read?.keyId).toMatch(/^[0-9a-f]{16}$/);
    // Each receipt is raised as an event and verifies with the device key.
    const raised = events.ofType('store.purge-receipt');
    expect(raised).toHaveLength(4);
    for (const e of raised) {
      const r = await verifyStatement<DeletionReceipt>(e.receipt as string, deviceKey(store), 'alpr-deletion-receipt');
      expect(r).toEqual(receipts.find((x) => x.class === r.class));
    }
    expect(await store.receipts()).toHaveLength(4);
    const [held] = await store.listHolds(SUPERVISOR);
    expect(held?.state).toBe('active');
    expect(held?.id).toBe(hold.id);
    expect((await store.exportHold(SUPERVISOR, hold.id, { release: { agency: 'DA', requester: 'ADA X', purpose: 'prosecution', approver: 'Lt Y' }, recipient: { password: 'a long enough password' } })).manifest.records.map((r) => r.id)).toEqual([written[1]]);
    await store.close();
  });

  it('keeps hits longer than reads when configured, and images no longer than their period', async () => {
    const { store, clock, dir } = await openTestStore({ retention: { readsDays: 30, hitsDays: 60, imagesDays: 10, auditDays: 365 } });
    const read = detection(next(T0), T0, '1ABC111');
    const hit = detection(next(T0 + 1), T0 + 1, '2ABC222', { match: match('2ABC222') });
    await store.put(read, { plate: jpeg('r') });
    await store.put(hit, { plate: jpeg('h') });
    clock.t = T0 + 11 * DAY_MS;
    await store.purge();
    expect(await store.get(INVESTIGATOR, read.id)).toBeDefined();
    expect(await store.image(INVESTIGATOR, read.id, 'plate')).toBeUndefined();
    expect(await store.image(INVESTIGATOR, hit.id, 'plate')).toBeDefined();
    clock.t = T0 + 31 * DAY_MS;
    await store.purge();
    expect(await store.get(INVESTIGATOR, read.id)).toBeUndefined();
    expect(await store.get(INVESTIGATOR, hit.id)).toBeDefined();
    // The day's hits and chain are still due later: its database stays, the reads deleted from it.
    expect(existsSync(join(dir, 'days', dayOf(T0)))).toBe(true);
    clock.t = T0 + 61 * DAY_MS;
    await store.purge();
    expect(await store.get(INVESTIGATOR, hit.id)).toBeUndefined();
    expect(existsSync(join(dir, 'days', dayOf(T0)))).toBe(false);
    await store.close();
  });

  it('under disk pressure purges the oldest reads first — never hits, held records or today — and raises the alarm', async () => {
    let free = 5;
    const { store, clock, events } = await openTestStore({ retention: R30, minFreePercent: 10, diskProbe: async () => ({ freeBytes: free, totalBytes: 100 }) });
    const put = async (dayOffset: number, plate: string, hit = false): Promise<string> => {
      const at = T0 + dayOffset * DAY_MS;
      clock.t = at;
      const d = detection(next(at), at, plate, hit ? { match: match(plate) } : {});
      await store.put(d, { plate: jpeg(plate) });
      return d.id;
    };
    const oldRead = await put(0, '1OLD001');
    const oldHit = await put(0, '1HIT001', true);
    const heldRead = await put(1, '1HLD001');
    const midRead = await put(1, '1MID001');
    const today = await put(2, '1NOW001');
    await store.placeHold(SUPERVISOR, { caseNumber: 'C-9', reason: 'evidence', refs: [{ id: heldRead }] });

    // Freed space shows up only after a day's purge: say two days of reads are enough.
    let purges = 0;
    events.emit = ((orig) => (e) => {
      if (e.type === 'store.purge-receipt' && e.class === 'read' && ++purges === 2) free = 20;
      orig.call(events, e);
    })(events.emit);
    const check = await store.checkDisk();
    expect(check.state).toBe('pressure');
    expect(check.purged.every((r) => r.reason === 'disk-pressure' && (r.class === 'read' || r.class === 'image'))).toBe(true);
    expect(events.ofType('store.disk-pressure')).toHaveLength(1);
    expect(await store.get(INVESTIGATOR, oldRead)).toBeUndefined();
    expect(await store.get(INVESTIGATOR, midRead)).toBeUndefined();
    expect(await store.get(INVESTIGATOR, oldHit)).toBeDefined();
    expect(await store.get(INVESTIGATOR, today)).toBeDefined();
    expect((await store.listHolds(SUPERVISOR))[0]?.records.map((r) => r.id)).toEqual([heldRead]);

    free = 5;
    const critical = await store.checkDisk();
    expect(critical.state).toBe('critical');
    expect(events.ofType('store.disk-critical')).toHaveLength(1);
    expect(await store.get(INVESTIGATOR, today)).toBeDefined();
    free = 50;
    expect((await store.checkDisk()).state).toBe('ok');
    expect(events.ofType('store.disk-ok')).toHaveLength(1);
    await store.close();
  });
});


describe('retention with the trusted clock when the system clock jumps', () => {
  async function scenario(jumpMs: number) {
    const time = new FakeTime(T0, 0);
    // The device has run before: its saved reckoning is now.
    const events = new MemoryEventSink();
    const clock = new TrustedClock({ source: time, persisted: T0, bootWindowMs: 30 * 60_000, events });
    const { store } = await openTestStore({ clock, retention: R30, events });
    const recent = detection(next(T0), T0, '3REC333');
    await store.put(recent, { plate: jpeg('r') });
    time.pass(2 * 3_600_000); // well past the boot window
    time.wallMs += jumpMs;
    const late = detection(next(time.wallMs), time.wallMs, '3LAT333');
    const ref = await store.put(late, { plate: jpeg('l') });
    return { store, events, time, clock, recent, ref };
  }

  it('rolled back a year: new records are filed today, nothing is purged early, retention still runs', async () => {
    const { store, events, time, recent, ref } = await scenario(-365 * DAY_MS);
    expect(ref.day).toBe(dayOf(T0));
    expect(events.ofType('clock.jump-refused')).toHaveLength(1);
    await store.purge();
    expect(await store.get(INVESTIGATOR, recent.id)).toBeDefined();
    expect(await store.get(INVESTIGATOR, ref.id, ref.day)).toBeDefined();
    // The reckoning keeps counting real elapsed time: 31 days on, the day is purged all the same.
    time.monoMs += 31 * DAY_MS;
    time.wallMs += 31 * DAY_MS;
    await store.purge();
    expect(await store.get(INVESTIGATOR, recent.id)).toBeUndefined();
    expect(store.clockStatus()).toBe('unsynchronised');
    await store.close();
  });

  it('rolled forward a year: refused, nothing purged early, records still filed on the real day', async () => {
    const { store, events, recent, ref } = await scenario(365 * DAY_MS);
    expect(events.ofType('clock.jump-refused')[0]).toMatchObject({ deltaMs: 365 * DAY_MS });
    expect(ref.day).toBe(dayOf(T0));
    expect(await store.purge()).toEqual([]);
    expect(await store.get(INVESTIGATOR, recent.id)).toBeDefined();
    expect(store.clockStatus()).toBe('unsynchronised');
    await store.close();
  });
});
