/**
 * Builds the evidence store: device keys (created at first boot), the database (opened with the
 * corruption policy of corruption.ts, then checked against the master key), the trusted clock
 * (resumed from its saved reckoning) and every part, wired together. After a repair, indexes are
 * rebuilt from the records and the recovery is raised as an event and written to the audit log.
 */
import { existsSync } from 'node:fs';
import { mkdir, rename } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { EventSink } from '../events.ts';
import { createUuidV7, type RandomSource } from '../ids.ts';
import { AuditLog } from './audit-log.ts';
import { BlobStore } from './blobs.ts';
import { ChainBook } from './chain-book.ts';
import { TrustedClock, type Clock, type TrustedClockOptions } from './clock.ts';
import { DEFAULT_RETENTION, type RetentionDays, type StoreCore } from './core.ts';
import { UnusableDatabaseError, openWithRecovery, type RecoveryReport } from './corruption.ts';
import { fromUtf8, openText, sealText, systemRandom, utf8 } from './crypto.ts';
import { SYNC, type Db } from './db.ts';
import { DataDb, moveDayKeys } from './days.ts';
import { DetectionStore } from './detection-store.ts';
import { DiskPressure, type DiskProbe } from './disk-pressure.ts';
import { IntegrityError, InvalidInputError, KeyMaterialError } from './errors.ts';
import { Holds } from './holds.ts';
import { IndexBook } from './index-book.ts';
import { loadOrCreateKeys } from './key-files.ts';
import { Keyring } from './keyring.ts';
import { K, range } from './layout.ts';
import { DEFAULT_INTERVALS, Maintenance, type MaintenanceIntervals } from './maintenance.ts';
import { Mutex } from './mutex.ts';
import { Reaper } from './reaper.ts';
import { Records } from './records.ts';
import { DeviceSigner } from './signer.ts';
import { Writer } from './writer.ts';
import type { IndexEntry } from './plate-index.ts';

export interface StoreOptions {
  readonly dataDir: string;
  /** Needed to create a store; an existing one keeps the id it was created with. */
  readonly deviceId?: string;
  readonly events: EventSink;
  /** A clock to use instead of the trusted clock (tests, tools). */
  readonly clock?: Clock;
  readonly clockOptions?: Omit<TrustedClockOptions, 'persisted' | 'events'>;
  readonly retention?: Partial<RetentionDays>;
  readonly minFreePercent?: number;
  readonly forbiddenReleasePurposes?: readonly string[];
  readonly random?: RandomSource;
  readonly diskProbe?: DiskProbe;
  readonly intervals?: Partial<MaintenanceIntervals>;
  /** Loose index entries merged per segment (default 1024; small in crash tests). */
  readonly indexSegmentSize?: number;
  /** Non-fatal background failures; the default raises them as `store.error` events. */
  readonly onError?: (err: unknown, what: string) => void;
}

const KEYCHECK = 'alpr-keycheck-v1';

/** The database's own checks, run on open: format known, master key right, metadata readable. */
function checker(master: Buffer, deviceId: string | undefined, random: RandomSource, now: () => number) {
  return async (db: Db): Promise<void> => {
    const format = await db.get(K.meta('format'));
    if (format === undefined) {
      const [any] = await db.keys({ limit: 1 }).all();
      if (any !== undefined) throw new UnusableDatabaseError('it holds data but no format record');
      if (!deviceId) throw new InvalidInputError('deviceId is needed to create a store');
      await db.batch([
        { type: 'put', key: K.meta('format'), value: utf8(JSON.stringify({ v: 1, device: deviceId, createdAt: now() })) },
        { type: 'put', key: K.meta('keycheck'), value: sealText(master, KEYCHECK, K.meta('keycheck'), random) },
      ], SYNC);
      return;
    }
    const doc = JSON.parse(fromUtf8(format)) as { v?: number };
    if (doc.v !== 1) throw new UnusableDatabaseError(`format version ${String(doc.v)} is not understood by this firmware`);
    const check = await db.get(K.meta('keycheck'));
    try {
      if (check === undefined || openText(master, check, K.meta('keycheck')) !== KEYCHECK) throw new IntegrityError(K.meta('keycheck'));
    } catch (err) {
      if (err instanceof IntegrityError) throw new UnusableDatabaseError('the master key does not open this database');
      throw err;
    }
    // Reading the metadata end to end surfaces a damaged table now, not at the first purge.
    for await (const _ of db.iterator(range('meta!'))) { /* read through */ }
  };
}

/** After a repair: the plate index of every day is rebuilt from the records that survived. */
async function rebuildIndexes(core: StoreCore, records: Records): Promise<number> {
  let n = 0;
  const days = new Set<string>();
  for (const name of core.keyring.names()) {
    const [cls, day] = name.split('!');
    if ((cls === 'read' || cls === 'hit') && day) days.add(day);
  }
  for (const day of days) {
    const byClass: Record<'read' | 'hit', IndexEntry[]> = { read: [], hit: [] };
    for await (const r of records.day(day)) byClass[r.ref.class].push({ id: r.ref.id, plate: r.detection.plate, camera: r.detection.cameraId });
    for (const cls of ['read', 'hit'] as const) {
      const stale = await core.data.keys(range(K.indexPrefix(cls, day))).all();
      if (stale.length) await core.data.batch(stale.map((key) => ({ type: 'del' as const, key })));
      await core.index.bulkLoad(cls, day, byClass[cls]);
      n += byClass[cls].length;
    }
  }
  return n;
}

export async function openDetectionStore(options: StoreOptions): Promise<DetectionStore> {
  const random = options.random ?? systemRandom;
  const events = options.events;
  const keys = await loadOrCreateKeys(join(options.dataDir, 'keys'), random);
  const bootNow = options.clock ? () => options.clock!.now() : () => Date.now();
  const { db, report } = await openWithRecovery(options.dataDir, checker(keys.master, options.deviceId, random, bootNow), bootNow);
  // The day databases belonged to the database just replaced: they go to quarantine beside it.
  if (report?.outcome === 'replaced') await quarantineDays(options.dataDir, report.quarantinedTo);
  // Day databases damaged at boot are reported once the store is built; later ones at once.
  const dayReports: RecoveryReport[] = [];
  let onDayRecovered = (_day: string, r: RecoveryReport): void => void dayReports.push(r);
  // Its errors go to onError, known once the clock is (below); it does nothing before start().
  let reapError = (_err: unknown, _what: string): void => undefined;
  const reaper = new Reaper(join(options.dataDir, 'trash'), (err, what) => reapError(err, what));
  const data = new DataDb(db, options.dataDir, bootNow, (day, r) => onDayRecovered(day, r), reaper);

  try {
    await data.openAll();
    const moved = await moveDayKeys(data);
    const format = JSON.parse(fromUtf8((await db.get(K.meta('format'))) ?? utf8('{}'))) as { device?: string };
    const deviceId = format.device ?? options.deviceId ?? 'unknown';
    const saved = await db.get(K.meta('clock'));
    const persisted = saved ? (JSON.parse(fromUtf8(saved)) as { t?: number }).t : undefined;
    const clock = options.clock ?? new TrustedClock({ ...options.clockOptions, ...(persisted !== undefined ? { persisted } : {}), events });
    const onError = options.onError ?? ((err: unknown, what: string) => {
      events.emit({ type: err instanceof IntegrityError ? 'store.integrity' : 'store.error', at: clock.now(), what, error: (err as Error).message });
    });
    const signer = await DeviceSigner.create(keys.signing, keys.verifying, deviceId);
    const keyring = new Keyring(join(options.dataDir, 'keys', DATA_KEYS_FILE), keys.master, random, () => clock.now());
    // A database started afresh cannot use the old database's keys: they go to quarantine with it.
    const keyFileProblem = await loadKeyring(keyring, options.dataDir, bootNow, report?.outcome === 'replaced');
    const chains = new ChainBook(data, signer, clock);
    const index = new IndexBook(data, keyring, random, options.indexSegmentSize ?? 1024, (err) => onError(err, 'plate index'));
    reapError = onError;
    const blobs = new BlobStore(join(options.dataDir, 'blobs'), reaper);
    const writer = new Writer(data, chains, index, blobs);
    const audit = new AuditLog({ db, keyring, clock, signer, events, random });
    await audit.open();
    const core: StoreCore = {
      dataDir: options.dataDir, db, data, blobs, reaper, master: keys.master, keyring, signer, clock, chains, index, writer, audit, events, random,
      newId: createUuidV7(random),
      retention: { ...DEFAULT_RETENTION, ...options.retention },
      minFreePercent: options.minFreePercent ?? 10,
      forbiddenReleasePurposes: options.forbiddenReleasePurposes ?? ['immigration'],
      onError,
    };
    const records = new Records(core);
    const holds = new Holds(core, records);
    const disk = new DiskPressure(core, options.diskProbe);
    const lock = new Mutex();
    const maintenance = new Maintenance(core, disk, lock, { ...DEFAULT_INTERVALS, ...options.intervals });
    const swept = await holds.sweep();
    if (keys.created.length) events.emit({ type: 'store.keys-created', at: clock.now(), files: keys.created, deviceKeyId: signer.kid });
    if (moved) events.emit({ type: 'store.layout-migrated', at: clock.now(), keysMoved: moved, to: 'day databases' });
    if (report) await recovered(core, records, report);
    for (const r of dayReports) await recovered(core, records, r);
    onDayRecovered = (_day, r) => void recovered(core, records, r).catch((err: unknown) => onError(err, 'day database recovery'));
    if (keyFileProblem) await recovered(core, records, keyFileProblem);
    if (swept) onError(new Error(`${swept} copies of a hold whose placing never finished were removed`), 'hold sweep');
    reaper.start(); // what a purge before a crash or a close left in the trash
    return new DetectionStore({ core, records, holds, disk, maintenance, lock });
  } catch (err) {
    await data.close().catch(() => undefined); // the open failed; the original error is what matters
    throw err;
  }
}

export const DATA_KEYS_FILE = 'data-keys.json';

async function quarantineDays(dataDir: string, dbQuarantinedTo: string): Promise<void> {
  const days = join(dataDir, 'days');
  if (!existsSync(days)) return;
  await rename(days, join(dirname(dbQuarantinedTo), basename(dbQuarantinedTo).replace(/^db-/, 'days-')));
}

/**
 * Loads the data-key file. One that cannot be read is moved to quarantine and the store goes on
 * with an empty keyring: the records it opened are unreadable either way, and retention removes
 * them as leftovers — the device keeps running and says so.
 */
async function loadKeyring(keyring: Keyring, dataDir: string, now: () => number, dbReplaced: boolean): Promise<RecoveryReport | undefined> {
  let reason: string | undefined;
  try {
    await keyring.load();
    const bad = keyring.unreadable();
    if (bad.length) reason = `${bad.length} data key(s) do not unwrap with the master key (${bad.slice(0, 3).join(', ')})`;
    else if (dbReplaced && keyring.names().length) reason = 'the database they belonged to was replaced';
  } catch (err) {
    if (!(err instanceof KeyMaterialError)) throw err;
    reason = err.message;
  }
  if (reason === undefined) return undefined;
  const quarantine = join(dataDir, 'quarantine');
  await mkdir(quarantine, { recursive: true, mode: 0o700 });
  const to = join(quarantine, `${DATA_KEYS_FILE}-${new Date(now()).toISOString().replace(/[:.]/g, '-')}`);
  await rename(join(dataDir, 'keys', DATA_KEYS_FILE), to);
  await keyring.load(); // the file is gone: an empty keyring
  return { reason: `data-key file: ${reason}`, quarantinedTo: to, outcome: 'replaced' };
}

async function recovered(core: StoreCore, records: Records, report: RecoveryReport): Promise<void> {
  const rebuilt = report.outcome === 'repaired' ? await rebuildIndexes(core, records) : 0;
  core.events.emit({ type: 'store.corruption', at: core.clock.now(), ...report, indexEntriesRebuilt: rebuilt });
  await core.audit.append({
    user: 'system', source: 'local', action: 'store.recovered', outcome: 'ok', purpose: 'corruption policy',
    terms: { outcome: report.outcome, quarantinedTo: report.quarantinedTo }, detail: report.reason, resultCount: rebuilt,
  });
}
