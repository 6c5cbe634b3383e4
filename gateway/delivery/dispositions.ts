/**
 * What dispatch decided about each hit (P5: alert → visually verified or misread → confirmed
 * with the entering agency), kept on the device as per-list false-hit statistics: a list whose
 * hits are often misreads needs looking at (a look-alike rule too loose, a bad entry).
 *
 *   obx!d!{hitId}  → {listId, disposition?}   written when the hit is queued, so a disposition
 *                                             arriving after the hit left the outbox still
 *                                             finds its list; removed after `keepMs`
 *   obx!stats      → {lists: {listId: {hits, visuallyVerified, misread, confirmed}}}
 * Counts are by each hit's latest disposition (a verified hit later confirmed counts once, as
 * confirmed). No plate text: list ids and counts only.
 */
import { fromUtf8, utf8 } from '../store/crypto.ts';
import type { OutboxDb, OutboxOp } from './outbox.ts';

export type Disposition = 'visually-verified' | 'misread' | 'confirmed';

export interface ListStats {
  hits: number;
  visuallyVerified: number;
  misread: number;
  confirmed: number;
}

export interface ListReport extends ListStats {
  /** misread ÷ hits with a disposition; null before any. */
  readonly falseHitRate: number | null;
}

const STATS_KEY = 'obx!stats';
const FIELD: Record<Disposition, keyof ListStats> = { 'visually-verified': 'visuallyVerified', misread: 'misread', confirmed: 'confirmed' };

interface HitRecord {
  readonly listId: string;
  readonly at: number;
  readonly disposition?: Disposition;
}

export class DispositionBook {
  private lists: Record<string, ListStats> = {};
  private tail: Promise<unknown> = Promise.resolve();

  private constructor(private readonly db: OutboxDb, private readonly now: () => number, private readonly keepMs: number) {}

  static async open(db: OutboxDb, now: () => number, keepMs = 30 * 86_400_000): Promise<DispositionBook> {
    const book = new DispositionBook(db, now, keepMs);
    const raw = await db.get(STATS_KEY);
    if (raw) book.lists = (JSON.parse(fromUtf8(raw)) as { lists: Record<string, ListStats> }).lists;
    return book;
  }

  /**
   * A hit is being queued for `listId`: the writes to make in the outbox's own batch (so the
   * count and the record cannot disagree with the outbox after a power cut).
   */
  hitQueuedOps(hitId: string, listId: string): OutboxOp[] {
    this.list(listId).hits++;
    return [
      { type: 'put', key: `obx!d!${hitId}`, value: utf8(JSON.stringify({ listId, at: this.now() } satisfies HitRecord)) },
      { type: 'put', key: STATS_KEY, value: this.encoded() },
    ];
  }

  /**
   * Applies a disposition; returns the hit's list and whether anything changed (a repeated
   * ack changes nothing), or undefined for a hit this device does not know.
   */
  apply(hitId: string, disposition: Disposition): Promise<{ listId: string; changed: boolean; previous?: Disposition } | undefined> {
    return this.serial(async () => {
      const raw = await this.db.get(`obx!d!${hitId}`);
      if (!raw) return undefined;
      const rec = JSON.parse(fromUtf8(raw)) as HitRecord;
      if (rec.disposition === disposition) return { listId: rec.listId, changed: false, previous: disposition };
      const stats = this.list(rec.listId);
      if (rec.disposition) stats[FIELD[rec.disposition]] = Math.max(0, stats[FIELD[rec.disposition]] - 1);
      stats[FIELD[disposition]]++;
      await this.db.batch([
        { type: 'put', key: `obx!d!${hitId}`, value: utf8(JSON.stringify({ ...rec, disposition } satisfies HitRecord)) },
        { type: 'put', key: STATS_KEY, value: this.encoded() },
      ], { sync: true });
      return { listId: rec.listId, changed: true, ...(rec.disposition ? { previous: rec.disposition } : {}) };
    });
  }

  /** Forgets hit records older than `keepMs` (the counts stay). */
  prune(): Promise<number> {
    return this.serial(async () => {
      const keys = await this.db.keys({ gt: 'obx!d!', lt: 'obx!d!\xff' }).all();
      const old: string[] = [];
      for (const key of keys) {
        const raw = await this.db.get(key);
        if (raw && this.now() - (JSON.parse(fromUtf8(raw)) as HitRecord).at > this.keepMs) old.push(key);
      }
      if (old.length) await this.db.batch(old.map((key) => ({ type: 'del' as const, key })), { sync: true });
      return old.length;
    });
  }

  report(): Record<string, ListReport> {
    return Object.fromEntries(Object.entries(this.lists).map(([id, s]) => {
      const decided = s.visuallyVerified + s.misread + s.confirmed;
      return [id, { ...s, falseHitRate: decided ? s.misread / decided : null }];
    }));
  }

  private list(listId: string): ListStats {
    return (this.lists[listId] ??= { hits: 0, visuallyVerified: 0, misread: 0, confirmed: 0 });
  }

  private encoded(): Uint8Array {
    return utf8(JSON.stringify({ lists: this.lists }));
  }

  private serial<T>(work: () => Promise<T>): Promise<T> {
    const run = this.tail.then(work, work);
    this.tail = run.catch(() => undefined);
    return run;
  }
}
