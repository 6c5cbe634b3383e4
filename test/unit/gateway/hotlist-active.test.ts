import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HotlistError } from '../../../gateway/hotlist/csv.ts';
import { FreshnessMonitor } from '../../../gateway/hotlist/freshness.ts';
import { writeListFile } from '../../../gateway/hotlist/list-file.ts';
import { REMATCH_ACCESS, storeScan, type DayStore, type ScanAccess } from '../../../gateway/hotlist/rematch.ts';
import { HotlistService } from '../../../gateway/hotlist/service.ts';
import type { Detection, GatewayEvent, HotlistEntry } from '../../../gateway/types.ts';

const HOUR = 3600_000;
const DAY = 24 * HOUR;
const T0 = Date.parse('2026-06-01T12:00:00Z');

/** A clock the test moves, and interval timers that fire only when told. */
class FakeClock {
  now = T0;
  readonly intervals = new Map<number, { fn: () => void; ms: number }>();
  private next = 1;
  readonly timers = {
    setInterval: (fn: () => void, ms: number): unknown => {
      this.intervals.set(this.next, { fn, ms });
      return this.next++;
    },
    clearInterval: (handle: unknown): void => void this.intervals.delete(handle as number),
  };
  /** Moves time on, firing each interval as often as it would have fired. */
  advance(ms: number): void {
    const end = this.now + ms;
    const step = Math.min(...[...this.intervals.values()].map((i) => i.ms), ms);
    while (this.now < end) {
      this.now = Math.min(end, this.now + step);
      for (const i of this.intervals.values()) i.fn();
    }
  }
}

const entry = (plate: string, listType: HotlistEntry['listType'] = 'stolen-vehicle', extra: Partial<HotlistEntry> = {}): HotlistEntry =>
  ({ id: `${listType}:${plate}`, plate, listType, priority: 70, ...extra });

let dir: string;
let clock: FakeClock;
let events: GatewayEvent[];
const log = { info: () => undefined, warn: () => undefined, error: () => undefined };

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'hotlist-active-'));
  clock = new FakeClock();
  events = [];
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function list(name: string, entries: HotlistEntry[], generatedAt: number): Promise<string> {
  const path = join(dir, name);
  await writeListFile(path, { listId: 'ca', generatedAt, source: name }, entries);
  return path;
}

function service(extra: { store?: DayStore } = {}): HotlistService {
  const s = new HotlistService({ path: join(dir, 'current.hotlist') }, { events: { emit: (e) => events.push(e) }, log, now: () => clock.now, timers: clock.timers });
  if (extra.store) s.attachHistory(storeScan(extra.store));
  return s;
}

describe('the list in force: replaced whole or not at all', () => {
  it('installs a new list, keeping the old file as .previous', async () => {
    await list('current.hotlist', [entry('7ABC123')], T0 - HOUR);
    const s = service();
    const first = await s.load();
    const next = await list('next.hotlist', [entry('7ABC123'), entry('8XYZ456')], T0);
    const result = await s.install(next);
    expect(result.added).toBe(1);
    expect(s.current().version).not.toBe(first.version);
    expect(s.current().match({ plate: '8XYZ456', at: T0 })?.entryId).toBe('stolen-vehicle:8XYZ456');
    expect(events.find((e) => e.type === 'hotlist-installed')).toMatchObject({ listVersion: result.matcher.version, entries: 2, added: 1 });
    expect(existsSync(join(dir, 'current.hotlist.previous'))).toBe(true);
    await s.stop();
  });

  it.each([
    ['a corrupt list file', async () => {
      const p = await list('bad.hotlist', [entry('8XYZ456')], T0);
      const b = readFileSync(p);
      b[b.length - 5] = b[b.length - 5]! ^ 0x01;
      writeFileSync(p, b);
      return p;
    }, /checksum|entry 1/],
    ['a truncated list file', async () => {
      const p = await list('bad.hotlist', [entry('8XYZ456')], T0);
      const b = readFileSync(p);
      writeFileSync(p, b.subarray(0, b.length - 10));
      return p;
    }, /truncated/],
    ['a CSV with personal columns', async () => {
      const p = join(dir, 'bad.csv');
      writeFileSync(p, 'plate,list_type,synopsis\n8XYZ456,bolo,armed\n');
      return p;
    }, /personal data/],
    ['a file that does not exist', async () => join(dir, 'nowhere.hotlist'), /ENOENT/],
  ])('keeps the previous list in force on %s', async (_name, make, reason) => {
    const current = await list('current.hotlist', [entry('7ABC123')], T0 - HOUR);
    const bytes = readFileSync(current);
    const s = service();
    const before = await s.load();
    const candidate = await make();
    const err = await s.install(candidate).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(HotlistError);
    expect((err as Error).message).toMatch(reason);
    expect(s.current()).toBe(before);
    expect(s.current().match({ plate: '7ABC123', at: T0 })?.entryId).toBe('stolen-vehicle:7ABC123');
    expect(readFileSync(current).equals(bytes)).toBe(true);
    expect(readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
    expect(events.at(-1)).toMatchObject({ type: 'hotlist-rejected', path: candidate });
    await s.stop();
  });

  it('boots from .previous when the current file is damaged, and says so', async () => {
    await list('current.hotlist', [entry('7ABC123')], T0 - HOUR);
    const s1 = service();
    await s1.load();
    await s1.install(await list('next.hotlist', [entry('8XYZ456')], T0));
    await s1.stop();
    writeFileSync(join(dir, 'current.hotlist'), 'garbage');
    const s2 = service();
    await s2.load();
    expect(s2.current().match({ plate: '7ABC123', at: T0 })).toBeDefined();
    expect(events.find((e) => e.type === 'hotlist-rejected')).toMatchObject({ fallback: join(dir, 'current.hotlist.previous') });
    await s2.stop();
  });
});

describe('freshness (P3) on a fake clock', () => {
  it('raises hotlist-stale past 24 h, once per version plus a reminder, and hotlist-fresh after a refresh', async () => {
    await list('current.hotlist', [entry('7ABC123')], T0 - 20 * HOUR);
    const s = service();
    await s.load();
    expect(events.filter((e) => e.type === 'hotlist-stale')).toEqual([]);
    clock.advance(5 * HOUR); // age 25 h
    const stale = events.filter((e) => e.type === 'hotlist-stale');
    expect(stale).toHaveLength(1);
    expect(stale[0]).toMatchObject({ listId: 'ca', listVersion: s.current().version, maxAgeMs: DAY });
    expect(stale[0]!.ageMs).toBeGreaterThan(DAY);
    expect(stale[0]!.at).toBeLessThanOrEqual(T0 + 4 * HOUR + 60_000);
    clock.advance(5 * HOUR);
    expect(events.filter((e) => e.type === 'hotlist-stale')).toHaveLength(1);
    clock.advance(2 * HOUR); // six hours after the first
    expect(events.filter((e) => e.type === 'hotlist-stale')).toHaveLength(2);
    // Every hit carries version and age, stale or not.
    expect(s.current().match({ plate: '7ABC123', at: clock.now })).toMatchObject({ listVersion: s.current().version, listAgeMs: 32 * HOUR, listStale: true });
    await s.install(await list('fresh.hotlist', [entry('7ABC123'), entry('1NEW111')], clock.now - HOUR));
    expect(events.at(-1)).toMatchObject({ type: 'hotlist-fresh', ageMs: HOUR });
    expect(s.current().match({ plate: '7ABC123', at: clock.now })).toMatchObject({ listAgeMs: HOUR, listStale: false });
    await s.stop();
    expect(clock.intervals.size).toBe(0);
  });

  it('uses the policy age it is given', () => {
    const seen: GatewayEvent[] = [];
    const m = new FreshnessMonitor({ list: () => ({ listId: 'x', version: 'v', generatedAt: T0, source: 's' }), events: { emit: (e) => seen.push(e) }, now: () => clock.now, maxAgeMs: 2 * HOUR, timers: clock.timers });
    m.start();
    clock.advance(HOUR);
    expect(seen).toEqual([]);
    clock.advance(HOUR + 60_000);
    expect(seen.map((e) => e.type)).toEqual(['hotlist-stale']);
    m.stop();
  });
});

describe('historical re-match of added entries', () => {
  /** An in-memory store with the evidence store's day(ctx, day) surface; it records who asked. */
  class PlantedStore implements DayStore {
    readonly asked: { ctx: ScanAccess; day: string }[] = [];
    constructor(private readonly detections: Detection[]) {}
    async *day(ctx: ScanAccess, day: string): AsyncGenerator<Detection> {
      this.asked.push({ ctx, day });
      for (const d of this.detections) if (new Date(d.capturedAt).toISOString().slice(0, 10) === day) yield d;
    }
  }
  const detection = (id: string, plate: string, capturedAt: number, extra: Partial<Detection> = {}): Detection => ({
    id, capturedAt, readAt: capturedAt, cameraId: 'cam-1', deviceId: 'dev-1', site: 'Main St', plate, confidence: 0.9,
    candidates: [{ text: plate, score: 0.9 }], box: { x: 0, y: 0, width: 10, height: 5 }, firstSeen: capturedAt, lastSeen: capturedAt,
    frames: 3, direction: 'away', versions: { model: 'm', firmware: 'f', config: 'c' }, clock: 'system', ...extra,
  });

  it('finds kept detections of the retention window that hit the new entries, partial plates included', async () => {
    const store = new PlantedStore([
      detection('d-old', '4TRK519', T0 - 40 * DAY), // beyond 30 days: gone by policy
      detection('d-partial', '4TRK519', T0 - 3 * DAY),
      detection('d-alt', 'XXXXXXX', T0 - 2 * DAY, { candidates: [{ text: 'XXXXXXX', score: 0.6 }, { text: '4TRK019', score: 0.4 }] }),
      detection('d-new', '8XYZ456', T0 - DAY),
      detection('d-known', '7ABC123', T0 - DAY), // already listed before: not a new lead
      detection('d-other', '1AAA111', T0 - HOUR),
    ]);
    await list('current.hotlist', [entry('7ABC123')], T0 - HOUR);
    const s = service({ store });
    await s.load();
    const result = await s.install(await list('next.hotlist', [entry('7ABC123'), entry('4TRK?19', 'partial'), entry('8XYZ456', 'amber')], T0));
    expect(result.added).toBe(2);
    await s.settled();
    const hits = events.filter((e) => e.type === 'historical-hit');
    expect(hits.map((e) => [e.detectionId, (e.match as { entryId: string }).entryId, (e.match as { kind: string }).kind]).sort()).toEqual([
      ['d-alt', 'partial:4TRK?19', 'wildcard'],
      ['d-new', 'amber:8XYZ456', 'exact'],
      ['d-partial', 'partial:4TRK?19', 'wildcard'],
    ]);
    expect(hits.find((e) => e.detectionId === 'd-partial')).toMatchObject({ capturedAt: T0 - 3 * DAY, cameraId: 'cam-1' });
    // The store was asked for the days of the window only, as an audited system access (P8).
    expect(store.asked.every((a) => a.ctx === REMATCH_ACCESS && a.ctx.purpose && a.ctx.caseNumber)).toBe(true);
    expect(store.asked.map((a) => a.day)).toHaveLength(31);
    expect(store.asked[0]!.day).toBe('2026-05-02');
    await s.stop();
  });
});
