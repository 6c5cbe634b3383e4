/**
 * Opening a database (the device's, or one storage day's) without ever boot-looping. If LevelDB reports corruption on open, or the
 * database fails our own checks (no format record, a master key that does not open it), the
 * directory is moved aside to `{dataDir}/quarantine/db-{time}` — kept for forensics, never
 * deleted — and a copy of it is repaired (LevelDB's RepairDB salvages every readable table) and
 * checked again. If the repaired copy passes, the store runs on it and rebuilds its indexes;
 * otherwise it starts on an empty database. Either way the caller gets a report to raise.
 * Only a lock held by another process, or a disk that cannot be written, stops the open.
 */
import { cp, mkdir, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createDb, repairDb, type Db } from './db.ts';
import { StoreError, StoreLockedError, StoreUnavailableError } from './errors.ts';

export interface RecoveryReport {
  readonly reason: string;
  readonly quarantinedTo: string;
  /** repaired: running on a repaired copy; replaced: running on an empty database. */
  readonly outcome: 'repaired' | 'replaced';
}

/** Thrown by a check to say "this database is not usable as it is". */
export class UnusableDatabaseError extends StoreError {
  override readonly name = 'UnusableDatabaseError';
}

function codeOf(err: unknown): string | undefined {
  const e = err as { code?: string; cause?: { code?: string } };
  return e.cause?.code ?? e.code;
}

async function tryOpen(location: string, check: (db: Db) => Promise<void>): Promise<{ db: Db } | { error: unknown; reason: string }> {
  const db = createDb(location);
  try {
    await db.open();
  } catch (err) {
    const code = codeOf(err);
    if (code === 'LEVEL_LOCKED') throw new StoreLockedError(`${location}: in use by another process (is the gateway running?)`);
    if (code === 'LEVEL_IO_ERROR' && /No space|Read-only|EROFS|ENOSPC/i.test(String((err as { cause?: Error }).cause?.message ?? ''))) {
      throw new StoreUnavailableError(`${location}: ${(err as { cause?: Error }).cause?.message ?? 'cannot be written'}`);
    }
    return { error: err, reason: `LevelDB could not open it: ${(err as { cause?: Error }).cause?.message ?? (err as Error).message}` };
  }
  try {
    await check(db);
    return { db };
  } catch (err) {
    await db.close().catch(() => undefined); // closing a database we are about to set aside
    if (err instanceof UnusableDatabaseError) return { error: err, reason: err.message };
    const cause = (err as { cause?: Error }).cause;
    if (codeOf(err) === 'LEVEL_CORRUPTION') return { error: err, reason: `corruption while checking: ${cause?.message ?? (err as Error).message}` };
    throw err;
  }
}

export async function openWithRecovery(
  dataDir: string,
  check: (db: Db) => Promise<void>,
  now: () => number,
  /** The database under `dataDir` (a day's is `days/{day}`), and its name in quarantine. */
  where: { readonly path: string; readonly name: string } = { path: 'db', name: 'db' },
): Promise<{ db: Db; report?: RecoveryReport }> {
  const location = join(dataDir, where.path);
  const first = await tryOpen(location, check);
  if ('db' in first) return { db: first.db };

  const quarantine = join(dataDir, 'quarantine');
  await mkdir(quarantine, { recursive: true, mode: 0o700 });
  const stamp = new Date(now()).toISOString().replace(/[:.]/g, '-');
  let quarantinedTo = join(quarantine, `${where.name}-${stamp}`);
  for (let i = 1; (await readdir(quarantine)).includes(quarantinedTo.slice(quarantine.length + 1)); i++) quarantinedTo = join(quarantine, `${where.name}-${stamp}-${i}`);
  await rename(location, quarantinedTo);

  await cp(quarantinedTo, location, { recursive: true });
  let repaired: Awaited<ReturnType<typeof tryOpen>>;
  try {
    await repairDb(location);
    repaired = await tryOpen(location, check);
  } catch (err) {
    if (err instanceof StoreLockedError || err instanceof StoreUnavailableError) throw err;
    repaired = { error: err, reason: (err as Error).message };
  }
  if ('db' in repaired) return { db: repaired.db, report: { reason: first.reason, quarantinedTo, outcome: 'repaired' } };

  await rm(location, { recursive: true, force: true });
  const fresh = await tryOpen(location, check);
  if ('db' in fresh) return { db: fresh.db, report: { reason: `${first.reason}; repair failed: ${repaired.reason}`, quarantinedTo, outcome: 'replaced' } };
  throw new StoreUnavailableError(`${location}: a new, empty database cannot be opened either: ${fresh.reason}`);
}
