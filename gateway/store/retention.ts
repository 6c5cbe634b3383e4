/**
 * Retention: which (class, day) partitions are due (pure), and the purge of one partition —
 * sign the day's chain heads, shred the day's key, range-delete, compact, then a signed deletion
 * receipt raised as an event and an audit entry. Data of a day whose key is already gone (a purge
 * cut short by a power cut) is purged the same way, so every purge finishes eventually.
 *
 * A day's data is kept through day + N and purged from day + N + 1 on: with 30 days, a record
 * written on 1 November is there on 1 December and gone on 2 December.
 */
import { SYSTEM } from './access.ts';
import type { StoreCore, RetentionDays } from './core.ts';
import { fromUtf8, utf8 } from './crypto.ts';
import { SYNC } from './db.ts';
import { K, CLASS_SUBLEVELS, classPrefixes, daysBetween, dayOf, range, type DataClass, type PurgeClass } from './layout.ts';
import { openEntry, type AnchorStatement } from './audit-log.ts';

export interface Partition {
  readonly cls: PurgeClass;
  readonly day: string;
}

export type PurgeReason = 'retention' | 'disk-pressure' | 'orphan';

export interface DeletionReceipt {
  readonly type: 'alpr.deletion-receipt';
  readonly v: 1;
  readonly device: string;
  readonly reason: PurgeReason | 'hold-release';
  readonly class: PurgeClass | 'hold';
  readonly day?: string;
  readonly holdId?: string;
  /** Id of the shredded key; null when it was already gone. */
  readonly keyId: string | null;
  /** Keys deleted per key prefix. */
  readonly counts: Readonly<Record<string, number>>;
  readonly total: number;
  readonly shreddedAt: number;
  readonly completedAt: number;
  readonly chainHeads?: readonly { camera: string; seq: number; hash: string }[];
  readonly clock: string;
}

const DATA_CLASSES: readonly PurgeClass[] = ['read', 'hit', 'image', 'chain', 'audit'];
/** The classes kept in a storage day's own database (days.ts). */
const DAY_CLASSES: readonly PurgeClass[] = ['read', 'hit', 'image', 'chain'];

export function retentionDays(cls: PurgeClass, r: RetentionDays): number {
  switch (cls) {
    case 'read': return r.readsDays;
    case 'hit': return r.hitsDays;
    case 'image': return r.imagesDays;
    case 'audit': return r.auditDays;
    // Links hold only digests; they stay while any record of their day may still be asked about.
    case 'chain': return Math.max(r.readsDays, r.hitsDays, r.imagesDays);
  }
}

/** The partitions present that are past their period on `today`, oldest first. */
export function duePartitions(today: string, r: RetentionDays, present: readonly Partition[]): Partition[] {
  return present
    .filter((p) => daysBetween(p.day, today) > retentionDays(p.cls, r))
    .sort((a, b) => (a.day < b.day ? -1 : a.day > b.day ? 1 : DATA_CLASSES.indexOf(a.cls) - DATA_CLASSES.indexOf(b.cls)));
}

/** Distinct days under `{sublevel}!` in the device database, found by skipping from one day to the next. */
async function daysUnder(core: StoreCore, sublevel: string): Promise<string[]> {
  const prefix = `${sublevel}!`;
  const out: string[] = [];
  let from = prefix;
  for (;;) {
    const [next] = await core.db.keys({ gt: from, lt: `${prefix}\xff`, limit: 1 }).all();
    if (next === undefined) return out;
    const day = next.slice(prefix.length, prefix.length + 10);
    out.push(day);
    from = `${prefix}${day}!\xff`;
  }
}

/** Every (class, day) that has a key or any data. */
export async function presentPartitions(core: StoreCore): Promise<Partition[]> {
  const seen = new Map<string, Partition>();
  for (const name of core.keyring.names()) {
    const [cls, day] = name.split('!');
    if (cls && day && cls !== 'hold') seen.set(name, { cls: cls as DataClass, day });
  }
  for (const sub of CLASS_SUBLEVELS.audit) for (const day of await daysUnder(core, sub)) seen.set(`audit!${day}`, { cls: 'audit', day });
  // Every other class of a day lives in that day's database.
  for (const day of core.data.days()) {
    for (const cls of DAY_CLASSES) {
      for (const prefix of classPrefixes(cls, day)) {
        if ((await core.data.keys({ ...range(prefix), limit: 1 }).all()).length) seen.set(`${cls}!${day}`, { cls, day });
      }
    }
  }
  for (const { cls, day } of await core.blobs.partitions()) seen.set(`${cls}!${day}`, { cls, day });
  return [...seen.values()];
}

/** Before the audit day goes: where the chain will start, signed. */
async function anchorAudit(core: StoreCore, day: string): Promise<void> {
  const [lastKey] = await core.db.keys({ ...range(`aud!${day}!`), reverse: true, limit: 1 }).all();
  const dataKey = core.keyring.find(`audit!${day}`);
  if (lastKey === undefined || !dataKey) return;
  const raw = await core.db.get(lastKey);
  if (raw === undefined) return;
  const { hash, entry } = openEntry(dataKey.key, lastKey, raw);
  const statement: AnchorStatement = { type: 'alpr.audit-anchor', v: 1, device: core.signer.deviceId, seq: entry.seq + 1, prev: hash, at: core.clock.now() };
  await core.db.put(K.meta('audit-anchor'), utf8(await core.signer.sign('alpr-audit-anchor', statement)), SYNC);
  const stale = await core.db.keys({ gt: 'ckp!', lt: K.checkpoint(statement.seq) }).all();
  if (stale.length) await core.db.batch(stale.map((key) => ({ type: 'del' as const, key })));
}

/**
 * A purge shares the database with the cameras' synced writes, and LevelDB runs one write at a
 * time: a large delete batch holds every put queued behind it. So deletes go in small steps that
 * each start only when the group-commit writer has nothing queued, and yield between them.
 *
 * Compaction is the other way round: each deleted range is compacted in ONE call. Slicing a day's
 * range into many compactions (20 k keys each, tried) rewrote overlapping table files again and
 * again: the store bench's put p99 while a 100 k-record day was purged measured 45.7 / 46.8 ms
 * sliced, 27.4 / 33.6 ms whole (5 k slices: 53 ms; no compaction at all: 20 ms), and the purge
 * itself 4.8 s sliced, 3.2–3.6 s whole.
 */
const DELETE_STEP = 400;

/** A writer that is never idle (a flood of puts) must not stop a purge: wait at most this long. */
const MAX_YIELD_MS = 50;

const yieldToWriters = async (core: StoreCore): Promise<void> => {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([core.writer.idle(), new Promise((resolve) => (timer = setTimeout(resolve, MAX_YIELD_MS)))]);
  clearTimeout(timer);
  // An iterator with keys buffered resolves in microtasks only: without this, timers and I/O
  // callbacks (the writer's fsyncs completing) would wait for the whole range.
  await new Promise((resolve) => setImmediate(resolve));
};

/** Deletes every key under `prefix` in small steps (not compacted yet); returns how many. */
export async function deletePrefix(core: StoreCore, prefix: string): Promise<number> {
  let n = 0;
  let keys: string[] = [];
  const flush = async (): Promise<void> => {
    if (keys.length) await core.data.batch(keys.map((key) => ({ type: 'del' as const, key })));
    keys = [];
  };
  for await (const key of core.data.keys(range(prefix))) {
    keys.push(key);
    n++;
    if (keys.length >= DELETE_STEP) {
      await yieldToWriters(core);
      await flush();
    }
  }
  await yieldToWriters(core);
  await flush();
  return n;
}

/**
 * Counts the keys under `prefix` (a day about to be dropped whole, already shredded) for its
 * receipt, stepping aside for the writer every COUNT_STEP keys as deletePrefix does: reading a
 * day's tables takes a core for about a second, and the cameras' puts come first.
 */
async function countPrefix(core: StoreCore, prefix: string): Promise<number> {
  let n = 0;
  for await (const _ of core.data.keys(range(prefix))) {
    if (++n % COUNT_STEP === 0) await yieldToWriters(core);
  }
  return n;
}

const COUNT_STEP = 2048;

/**
 * Compacts the ranges just deleted, so the bytes leave the live files and the space is free —
 * each range in one call (see DELETE_STEP), started when the writer is idle.
 */
export async function compactPrefixes(core: StoreCore, prefixes: readonly string[]): Promise<void> {
  for (const prefix of prefixes) {
    const r = range(prefix);
    await yieldToWriters(core);
    await core.data.compactRange(r.gt, r.lt);
  }
}

export async function signReceipt(core: StoreCore, receipt: DeletionReceipt): Promise<string> {
  const jws = await core.signer.sign('alpr-deletion-receipt', receipt);
  const subject = receipt.holdId !== undefined ? `hold-${receipt.holdId}` : `${receipt.class}-${receipt.day ?? ''}`;
  await core.db.put(K.receipt(dayOf(receipt.completedAt), receipt.completedAt, subject), utf8(jws), SYNC);
  core.events.emit({ type: 'store.purge-receipt', at: receipt.completedAt, reason: receipt.reason, class: receipt.class, day: receipt.day, holdId: receipt.holdId, total: receipt.total, keyId: receipt.keyId, receipt: jws });
  return jws;
}

/**
 * Purges partitions: for each, sign its day's chain heads and shred its key (crypto-shredding
 * first), then range-delete; then compact every deleted range; then one signed receipt each
 * (raised as an event) and an audit entry. Returns the receipts in the order given.
 */
export async function purgePartitions(core: StoreCore, partitions: readonly Partition[], reason: PurgeReason): Promise<DeletionReceipt[]> {
  const done: { p: Partition; keyId: string | null; shreddedAt: number; counts: Record<string, number>; heads?: { camera: string; seq: number; hash: string }[] }[] = [];
  // A day's chain goes last of its classes (its period is the longest): once it is due, the whole
  // day database goes, so its keys are counted for the receipts, not deleted one by one.
  const dropping = new Set(partitions.filter((p) => p.cls === 'chain').map((p) => p.day));
  const compact: string[] = [];
  for (const p of partitions) {
    const heads = p.cls === 'audit' ? undefined : (await core.chains.signDay(p.day)).map(({ camera, seq, hash }) => ({ camera, seq, hash }));
    if (p.cls === 'audit') await anchorAudit(core, p.day);
    const shreddedAt = core.clock.now();
    const keyId = p.cls === 'chain' ? null : ((await core.keyring.shred(`${p.cls}!${p.day}`)) ?? null);
    const counts: Record<string, number> = {};
    // Named by sublevel (`det`, `idx!read`, …): the day is the receipt's own field.
    const whole = dropping.has(p.day) && p.cls !== 'audit';
    for (const prefix of classPrefixes(p.cls, p.day)) {
      counts[prefix.slice(0, -1).replace(`!${p.day}`, '')] = whole ? await countPrefix(core, prefix) : await deletePrefix(core, prefix);
      if (!whole) compact.push(prefix);
    }
    if (p.cls === 'image' || p.cls === 'hit') counts.blobFiles = (await core.blobs.drop(p.cls, p.day)).files;
    if (p.cls === 'chain') core.chains.forgetDay(p.day);
    if (p.cls === 'read' || p.cls === 'hit') core.index.forgetDay(p.day);
    done.push({ p, keyId, shreddedAt, counts, ...(heads ? { heads } : {}) });
  }
  for (const day of dropping) await core.data.dropDay(day);
  await compactPrefixes(core, compact);
  // A day left with no data by a partial purge (one that had an index but no chain, say) goes too.
  for (const day of new Set(partitions.filter((p) => p.cls !== 'audit' && !dropping.has(p.day)).map((p) => p.day))) {
    if (core.data.days().includes(day) && (await core.data.dayIsEmpty(day))) await core.data.dropDay(day);
  }
  const out: DeletionReceipt[] = [];
  for (const { p, keyId, shreddedAt, counts, heads } of done) {
    const receipt: DeletionReceipt = {
      type: 'alpr.deletion-receipt', v: 1, device: core.signer.deviceId, reason: keyId === null && p.cls !== 'chain' ? 'orphan' : reason,
      class: p.cls, day: p.day, keyId, counts, total: Object.values(counts).reduce((a, b) => a + b, 0),
      shreddedAt, completedAt: core.clock.now(), ...(heads ? { chainHeads: heads } : {}), clock: core.clock.status(),
    };
    await signReceipt(core, receipt);
    await core.audit.append({
      user: SYSTEM.user, source: SYSTEM.source, action: 'purge', purpose: reason === 'disk-pressure' ? 'disk pressure' : 'retention policy',
      terms: { class: p.cls, day: p.day, reason: receipt.reason }, outcome: 'ok', resultCount: receipt.total,
    });
    out.push(receipt);
  }
  return out;
}

/** Every receipt stored, oldest first (JWS strings). */
export async function receipts(core: StoreCore): Promise<string[]> {
  const out: string[] = [];
  for await (const v of core.db.values(range('rcp!'))) out.push(fromUtf8(v));
  return out;
}

/** Purges everything due today. */
export async function purgeDue(core: StoreCore): Promise<DeletionReceipt[]> {
  const today = dayOf(core.clock.now());
  return purgePartitions(core, duePartitions(today, core.retention, await presentPartitions(core)), 'retention');
}
