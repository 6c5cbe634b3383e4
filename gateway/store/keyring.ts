/**
 * Data keys: one AES-256 key per data class and day (`read!2026-11-20`, `hit!…`, `image!…`,
 * `audit!…`) and one per evidence hold (`hold!{id}`), each wrapped by the master key. They live
 * in their own small file, `{dataDir}/keys/data-keys.json`, rewritten whole (temp name, fsync,
 * rename) on every change — not in LevelDB, where a deleted value lingers in the write-ahead log
 * and in older tables until compaction reaches it. Crypto-shredding is therefore one rename: the
 * file that held the key is gone before any record it opened is touched. (Flash wear-levelling
 * may keep old blocks; docs/store-threat-model.md says what that means.)
 */
import { readFile } from 'node:fs/promises';
import type { RandomSource } from '../ids.ts';
import { open, seal } from './crypto.ts';
import { IntegrityError, KeyMaterialError } from './errors.ts';
import { writeFileDurable } from './key-files.ts';
import { Mutex } from './mutex.ts';

export interface DataKey {
  readonly name: string;
  /** Random id, named in deletion receipts. */
  readonly kid: string;
  readonly key: Buffer;
}

interface WrappedKey {
  readonly kid: string;
  readonly createdAt: number;
  /** base64 of the key sealed by the master key, associated data `key!{name}!{kid}`. */
  readonly wrapped: string;
}

interface KeyFile {
  readonly v: 1;
  readonly keys: Record<string, WrappedKey>;
}

export class Keyring {
  private wrapped = new Map<string, WrappedKey>();
  private readonly cache = new Map<string, DataKey>();
  private readonly writes = new Mutex();

  constructor(
    private readonly path: string,
    private readonly master: Buffer,
    private readonly random: RandomSource,
    private readonly now: () => number,
  ) {}

  /** Reads the key file; a missing file is an empty keyring (first boot). */
  async load(): Promise<void> {
    this.wrapped = new Map();
    this.cache.clear();
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw new KeyMaterialError(`${this.path}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
    let doc: KeyFile;
    try {
      doc = JSON.parse(text) as KeyFile;
    } catch {
      throw new KeyMaterialError(`${this.path}: not valid JSON`);
    }
    if (doc.v !== 1 || typeof doc.keys !== 'object' || doc.keys === null) throw new KeyMaterialError(`${this.path}: not a version-1 key file`);
    this.wrapped = new Map(Object.entries(doc.keys));
  }

  /** Names of keys that do not unwrap with the master key (altered, or another device's). */
  unreadable(): string[] {
    return this.names().filter((name) => {
      try {
        this.find(name);
        return false;
      } catch {
        return true; // the tag failed: reported by the caller, never used
      }
    });
  }

  /** The key of `name`, created (and durably stored) if this is its first use. */
  async obtain(name: string): Promise<DataKey> {
    const found = this.find(name);
    if (found) return found;
    return this.writes.run(async () => {
      const again = this.find(name);
      if (again) return again;
      const { key, record } = this.mint(name);
      // On disk before any record sealed with it is written: no record outlives its key's absence.
      this.wrapped.set(name, record);
      await this.persist();
      this.cache.set(name, key);
      return key;
    });
  }

  /** The key of `name` if it exists; readers never create keys. */
  find(name: string): DataKey | undefined {
    const cached = this.cache.get(name);
    if (cached) return cached;
    const record = this.wrapped.get(name);
    if (!record) return undefined;
    // Altered in the file: the tag fails and the key is treated as unreadable, never guessed at.
    const key: DataKey = { name, kid: record.kid, key: open(this.master, Buffer.from(record.wrapped, 'base64'), `key!${name}!${record.kid}`) };
    this.cache.set(name, key);
    return key;
  }

  /** Crypto-shred: the key leaves the key file (rewritten and synced) and memory. Returns its id. */
  async shred(name: string): Promise<string | undefined> {
    return this.writes.run(async () => {
      const record = this.wrapped.get(name);
      this.cache.delete(name);
      if (!record) return undefined;
      this.wrapped.delete(name);
      await this.persist();
      return record.kid;
    });
  }

  /** Every key name held (`{class}!{day}` and `hold!{id}`). */
  names(): string[] {
    return [...this.wrapped.keys()];
  }

  private mint(name: string): { key: DataKey; record: WrappedKey } {
    const key: DataKey = { name, kid: Buffer.from(this.random(8)).toString('hex'), key: Buffer.from(this.random(32)) };
    const record: WrappedKey = { kid: key.kid, createdAt: this.now(), wrapped: seal(this.master, key.key, `key!${name}!${key.kid}`, this.random).toString('base64') };
    return { key, record };
  }

  private async persist(): Promise<void> {
    const doc: KeyFile = { v: 1, keys: Object.fromEntries([...this.wrapped].sort(([a], [b]) => (a < b ? -1 : 1))) };
    await writeFileDurable(this.path, JSON.stringify(doc));
  }
}

export { IntegrityError };
