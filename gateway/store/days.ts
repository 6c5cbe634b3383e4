/**
 * The store's data in two kinds of LevelDB database: the device database (`db/`: metadata, the
 * audit log, holds, receipts, checkpoints, delivery's outbox) and one database per storage day
 * (`days/{day}/`: that day's records, image pointers, plate index, chain links and heads).
 *
 * Why a database per day: a day past retention is then dropped whole — its keys are already
 * shredded, its files are freed a slice at a time and unlinked — instead of deleting half a
 * million keys one batch at a time and compacting the range, which ran beside the cameras' synced
 * writes and took a core from them for seconds (docs/store.md has the figures).
 *
 * `DataDb` routes each key by its text (layout.ts `dayOfKey`): a key of a day-partitioned
 * sublevel goes to its day's database, any other key to the device database. A range routes by
 * its lower bound and must stay within one day. Reads of a day that has no database find nothing
 * and create nothing; the first write of a day creates its database.
 */
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { UnusableDatabaseError, openWithRecovery, type RecoveryReport } from './corruption.ts';
import { fromUtf8, utf8 } from './crypto.ts';
import { SYNC, type BatchOp, type Db } from './db.ts';
import { freeFile } from './free-file.ts';
import { DAY_SUBLEVEL_PREFIXES, dayOfKey, range } from './layout.ts';
import type { Reaper } from './reaper.ts';

export interface RangeOptions {
  readonly gt?: string;
  readonly gte?: string;
  readonly lt?: string;
  readonly lte?: string;
  readonly reverse?: boolean;
  readonly limit?: number;
}

export interface Iter<T> extends AsyncIterable<T> {
  all(): Promise<T[]>;
}

/** What the store's parts need of a key-value database; a plain `Db` is one too. */
export interface KV {
  get(key: string): Promise<Uint8Array | undefined>;
  has(key: string): Promise<boolean>;
  put(key: string, value: Uint8Array, options?: { sync?: boolean }): Promise<void>;
  batch(ops: BatchOp[], options?: { sync?: boolean }): Promise<void>;
  iterator(options: RangeOptions): Iter<[string, Uint8Array]>;
  keys(options: RangeOptions): Iter<string>;
  values(options: RangeOptions): Iter<Uint8Array>;
  compactRange(start: string, end: string): Promise<void>;
}

const DAY_DIR = /^\d{4}-\d{2}-\d{2}$/;
/** Each day database names its day, so one moved or copied into the wrong place is refused. */
const DAY_META = 'meta!day';

function dayCheck(day: string): (db: Db) => Promise<void> {
  return async (db) => {
    const raw = await db.get(DAY_META);
    if (raw === undefined) {
      const [any] = await db.keys({ limit: 1 }).all();
      if (any !== undefined) throw new UnusableDatabaseError(`day database ${day}: it holds data but no day record`);
      await db.put(DAY_META, utf8(JSON.stringify({ v: 1, day })), SYNC);
      return;
    }
    let doc: { v?: unknown; day?: unknown } = {};
    try {
      doc = JSON.parse(fromUtf8(raw)) as typeof doc;
    } catch {
      // unreadable: refused below
    }
    if (doc.v !== 1 || doc.day !== day) throw new UnusableDatabaseError(`day database ${day}: its day record does not name it (${fromUtf8(raw).slice(0, 60)})`);
  };
}

/** A day database in use: released when the operation (or iteration) that took it ends. */
interface Lease {
  readonly db: Db;
  release(): void;
}

class LeasedIter<T> implements Iter<T> {
  constructor(
    private readonly lease: () => Promise<Lease | undefined>,
    private readonly make: (db: Db) => Iter<T>,
  ) {}

  async *[Symbol.asyncIterator](): AsyncGenerator<T> {
    const lease = await this.lease();
    if (!lease) return;
    try {
      yield* this.make(lease.db);
    } finally {
      lease.release();
    }
  }

  async all(): Promise<T[]> {
    const lease = await this.lease();
    if (!lease) return [];
    try {
      return await this.make(lease.db).all();
    } finally {
      lease.release();
    }
  }
}

interface Slot {
  readonly db: Promise<Db>;
  users: number;
  lastUsed: number;
}

/**
 * Day databases kept open at once; the least recently used idle one is closed beyond this. Enough
 * for a search over the default 30 days without reopening any: with 12, a 30-day search closed
 * and reopened databases all the way (store bench: 468 ms against ~125 ms).
 */
export const DEFAULT_MAX_OPEN_DAYS = 40;

export class DataDb implements KV {
  /** Days with a database on disk. */
  private readonly known = new Set<string>();
  private readonly slots = new Map<string, Slot>();
  private readonly closing = new Map<string, Promise<void>>();
  private clock = 0;

  constructor(
    /** The device database (owned here from now on: closed by `close()`). */
    readonly main: Db,
    private readonly dataDir: string,
    private readonly now: () => number,
    /** A day database was damaged and has been repaired or replaced (corruption.ts). */
    private readonly onRecovered: (day: string, report: RecoveryReport) => void,
    /** Frees dropped days in the background; without one (tools, tests) they are freed at once. */
    private readonly reaper?: Reaper,
    /**
     * Each open LevelDB holds four files open and up to its table cache more; a year of hit
     * retention is 365 databases, so only this many stay open, the rest opened when asked for.
     */
    private readonly maxOpen = DEFAULT_MAX_OPEN_DAYS,
  ) {}

  /**
   * Opens (and checks) every day database present, so damage is found at boot, not at the first
   * search; returns the days, oldest first. Only the newest `maxOpen` stay open.
   */
  async openAll(): Promise<string[]> {
    const days = (await readdir(join(this.dataDir, 'days')).catch(() => [] as string[])).filter((d) => DAY_DIR.test(d)).sort();
    for (const day of days) {
      this.known.add(day);
      (await this.lease(day, false))?.release();
    }
    return days;
  }

  /** Days that have a database, oldest first. */
  days(): string[] {
    return [...this.known].sort();
  }

  /** Day databases open now (tests, status). */
  openDays(): string[] {
    return [...this.slots.keys()].sort();
  }

  /** Whether a day's database holds nothing but its day record (or there is none). */
  async dayIsEmpty(day: string): Promise<boolean> {
    return this.withDay(day, false, async (db) => (await db.keys({ limit: 2 }).all()).every((k) => k === DAY_META), true);
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    const day = dayOfKey(key);
    if (day === undefined) return this.main.get(key);
    return this.withDay(day, false, (db) => db.get(key), undefined);
  }

  async has(key: string): Promise<boolean> {
    const day = dayOfKey(key);
    if (day === undefined) return this.main.has(key);
    return this.withDay(day, false, (db) => db.has(key), false);
  }

  async put(key: string, value: Uint8Array, options: { sync?: boolean } = {}): Promise<void> {
    const day = dayOfKey(key);
    if (day === undefined) return this.main.put(key, value, options);
    await this.withDay(day, true, (db) => db.put(key, value, options), undefined);
  }

  async del(key: string, options: { sync?: boolean } = {}): Promise<void> {
    const day = dayOfKey(key);
    if (day === undefined) return this.main.del(key, options);
    await this.withDay(day, false, (db) => db.del(key, options), undefined);
  }

  /**
   * Atomic within one database. Ops of several days are written one database after another:
   * callers that need all-or-nothing (the group-commit writer) give one day's ops at a time.
   */
  async batch(ops: BatchOp[], options: { sync?: boolean } = {}): Promise<void> {
    const groups = new Map<string, BatchOp[]>();
    for (const op of ops) {
      const day = dayOfKey(op.key) ?? '';
      const list = groups.get(day);
      if (list) list.push(op);
      else groups.set(day, [op]);
    }
    for (const [day, list] of groups) {
      if (day === '') await this.main.batch(list, options);
      // Deletes alone never create a day; puts do.
      else await this.withDay(day, list.some((op) => op.type === 'put'), (db) => db.batch(list, options), undefined);
    }
  }

  iterator(options: RangeOptions): Iter<[string, Uint8Array]> {
    return this.ranged(options, (db) => db.iterator({ ...options }));
  }

  keys(options: RangeOptions): Iter<string> {
    return this.ranged(options, (db) => db.keys({ ...options }));
  }

  values(options: RangeOptions): Iter<Uint8Array> {
    return this.ranged(options, (db) => db.values({ ...options }));
  }

  async compactRange(start: string, end: string): Promise<void> {
    const day = this.rangeDay(start, end);
    if (day === undefined) return this.main.compactRange(start, end);
    await this.withDay(day, false, (db) => db.compactRange(start, end), undefined);
  }

  /**
   * Drops a day's database whole: closed (once nothing reads it), its directory moved to the
   * reaper's trash and freed there in the background (reaper.ts), or freed here a slice at a
   * time when there is no reaper. Its keys must have been shredded first (retention.ts).
   * Returns the bytes it held.
   */
  async dropDay(day: string): Promise<number> {
    this.known.delete(day);
    await this.closeSlot(day, true);
    const dir = join(this.dataDir, 'days', day);
    let bytes = 0;
    const names = await readdir(dir).catch(() => [] as string[]);
    if (this.reaper) {
      for (const name of names) bytes += (await stat(join(dir, name)).catch(() => undefined))?.size ?? 0;
      await this.reaper.bury(dir, `day-${day}`);
      return bytes;
    }
    for (const name of names) bytes += await freeFile(join(dir, name));
    await rm(dir, { recursive: true, force: true });
    return bytes;
  }

  /** Closes every day database, then the device database. */
  async close(): Promise<void> {
    for (const day of [...this.slots.keys()]) await this.closeSlot(day, false);
    await Promise.all(this.closing.values());
    await this.main.close();
  }

  private ranged<T>(options: RangeOptions, make: (db: Db) => Iter<T>): Iter<T> {
    const day = this.rangeDay(options.gt ?? options.gte, options.lt ?? options.lte);
    if (day === undefined) return make(this.main);
    return new LeasedIter(() => this.lease(day, false), make);
  }

  private rangeDay(lower: string | undefined, upper: string | undefined): string | undefined {
    const day = lower === undefined ? undefined : dayOfKey(lower);
    const upperDay = upper === undefined ? undefined : dayOfKey(upper);
    // A programming error, not input: every range the store asks for lies within one sublevel and day.
    if (day !== upperDay) throw new Error(`range ${JSON.stringify(lower)}…${JSON.stringify(upper)} spans more than one storage day`);
    return day;
  }

  private async withDay<T>(day: string, create: boolean, fn: (db: Db) => Promise<T>, none: T): Promise<T> {
    const lease = await this.lease(day, create);
    if (!lease) return none;
    try {
      return await fn(lease.db);
    } finally {
      lease.release();
    }
  }

  /** The day's database, opened if need be; undefined when it has none and `create` is false. */
  private async lease(day: string, create: boolean): Promise<Lease | undefined> {
    let slot = this.slots.get(day);
    if (!slot) {
      if (!create && !this.known.has(day)) return undefined;
      const opened = this.openDay(day);
      const fresh: Slot = { db: opened, users: 0, lastUsed: 0 };
      slot = fresh;
      this.slots.set(day, fresh);
      opened.then(() => this.known.add(day), () => {
        if (this.slots.get(day) === fresh) this.slots.delete(day);
      });
    }
    const held = slot;
    held.users++;
    held.lastUsed = ++this.clock;
    let db: Db;
    try {
      db = await held.db;
    } catch (err) {
      held.users--;
      throw err;
    }
    let released = false;
    return {
      db,
      release: () => {
        if (released) return;
        released = true;
        held.users--;
        this.evict();
      },
    };
  }

  private async openDay(day: string): Promise<Db> {
    await this.closing.get(day); // the same directory's LOCK must be free again
    await mkdir(join(this.dataDir, 'days'), { recursive: true, mode: 0o700 });
    const { db, report } = await openWithRecovery(this.dataDir, dayCheck(day), this.now, { path: join('days', day), name: `day-${day}` });
    if (report) this.onRecovered(day, report);
    return db;
  }

  /** Closes the least recently used idle databases beyond maxOpen. */
  private evict(): void {
    while (this.slots.size > this.maxOpen) {
      let victim: [string, Slot] | undefined;
      for (const entry of this.slots) if (entry[1].users === 0 && (!victim || entry[1].lastUsed < victim[1].lastUsed)) victim = entry;
      if (!victim) return;
      void this.closeSlot(victim[0], false);
    }
  }

  /** Closes a day's database; with `waitIdle`, first lets whatever reads it finish (up to 10 s). */
  private async closeSlot(day: string, waitIdle: boolean): Promise<void> {
    const slot = this.slots.get(day);
    if (!slot) return this.closing.get(day);
    if (waitIdle) for (let waited = 0; slot.users > 0 && waited < 10_000; waited += 20) await new Promise((r) => setTimeout(r, 20));
    if (this.slots.get(day) !== slot) return this.closing.get(day);
    this.slots.delete(day);
    const done = slot.db.then((db) => db.close(), () => undefined).catch(() => undefined).finally(() => {
      if (this.closing.get(day) === done) this.closing.delete(day);
    });
    this.closing.set(day, done);
    return done;
  }
}

/**
 * A store written before day databases kept every day's keys in the device database. They are
 * moved into their days' databases once, at open, a chunk at a time: each chunk is written to
 * the day databases (synced) before it is deleted from the device database, so a power cut in
 * between leaves a copy that the next open moves again, never a key in neither. Returns how many.
 */
export async function moveDayKeys(data: DataDb): Promise<number> {
  let moved = 0;
  for (const prefix of DAY_SUBLEVEL_PREFIXES) {
    const r = range(prefix);
    let here = 0;
    for (;;) {
      const chunk = await data.main.iterator({ ...r, limit: 1000 }).all();
      if (!chunk.length) break;
      await data.batch(chunk.map(([key, value]) => ({ type: 'put' as const, key, value })), SYNC);
      await data.main.batch(chunk.map(([key]) => ({ type: 'del' as const, key })), SYNC);
      here += chunk.length;
    }
    if (here) await data.main.compactRange(r.gt, r.lt);
    moved += here;
  }
  return moved;
}
