/**
 * Command ids already received, kept on disk until their command expires, so a command
 * captured off the wire cannot be replayed after a restart (a pulled plug is easy to arrange on a
 * pole). `obx!cmd!{exp:15}!{id}` → empty; expiry first, so the expired ones are one range.
 */
import type { OutboxDb } from './outbox.ts';

const PREFIX = 'obx!cmd!';

export class ReplayBook {
  private constructor(private readonly db: OutboxDb, private readonly seen: Map<string, number>) {}

  static async open(db: OutboxDb, now: number): Promise<ReplayBook> {
    const seen = new Map<string, number>();
    const expired: string[] = [];
    for (const key of await db.keys({ gt: PREFIX, lt: `${PREFIX}\xff` }).all()) {
      const m = /^obx!cmd!(\d{15})!(.+)$/.exec(key);
      if (!m) continue;
      const exp = Number(m[1]);
      if (exp <= now) expired.push(key);
      else seen.set(m[2] as string, exp);
    }
    if (expired.length) await db.batch(expired.map((key) => ({ type: 'del' as const, key })), { sync: false });
    return new ReplayBook(db, seen);
  }

  /** The ids with their expiry, for the command bus's in-memory check. */
  entries(): [string, number][] {
    return [...this.seen];
  }

  /** Records an id before its command runs (synced: a crash mid-command must not reopen it). */
  async add(id: string, exp: number): Promise<void> {
    this.seen.set(id, exp);
    await this.db.batch([{ type: 'put', key: `${PREFIX}${String(Math.max(0, Math.floor(exp))).padStart(15, '0')}!${id}`, value: new Uint8Array(0) }], { sync: true });
  }
}
