/**
 * Where the console lock survives a reboot: pulling the power must not be the way to unlock the
 * console after an unannounced opening. A small JSON file, written to a temporary name, fsynced
 * and renamed over the old one (a yanked cable leaves the old file or the new, never half).
 * An unreadable file counts as locked: doubt errs toward the lock.
 */
import { open, readFile, rename, rm } from 'node:fs/promises';

export interface ConsoleLock {
  readonly v: 1;
  readonly lockedAt: number;
  readonly reason: string;
}

export interface LockStore {
  load(): Promise<ConsoleLock | undefined>;
  save(lock: ConsoleLock | undefined): Promise<void>;
}

export class FileLockStore implements LockStore {
  constructor(private readonly path: string) {}

  async load(): Promise<ConsoleLock | undefined> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    try {
      const parsed = JSON.parse(text) as Partial<ConsoleLock>;
      if (parsed.v === 1 && typeof parsed.lockedAt === 'number' && typeof parsed.reason === 'string') return parsed as ConsoleLock;
    } catch {
      // Falls through to the locked answer below: a damaged file must not unlock the console.
    }
    return { v: 1, lockedAt: 0, reason: `lock file ${this.path} is unreadable; treated as locked` };
  }

  async save(lock: ConsoleLock | undefined): Promise<void> {
    if (!lock) {
      await rm(this.path, { force: true });
      return;
    }
    const tmp = `${this.path}.tmp`;
    const fh = await open(tmp, 'w', 0o600);
    try {
      await fh.writeFile(JSON.stringify(lock));
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, this.path);
  }
}

export class MemoryLockStore implements LockStore {
  constructor(public lock: ConsoleLock | undefined = undefined) {}
  async load(): Promise<ConsoleLock | undefined> {
    return this.lock;
  }
  async save(lock: ConsoleLock | undefined): Promise<void> {
    this.lock = lock;
  }
}
