/**
 * Image bytes, kept out of LevelDB: sealed images are appended to files of their own class and
 * day, `{dataDir}/blobs/{day}/{class}-{n}.blob`, and the database holds only a pointer
 * (`{f, o, n}`) under the image's key. Two reasons, both measured (bench/store.ts): LevelDB
 * rewrites every value several times as it compacts, which for 30 KB images is most of the disk
 * traffic (and of an SD card's wear); and purging a day of images inside LevelDB means reading
 * all of them twice (delete, then compaction), which starves the synced writes beside it. Here a
 * day's images go by unlink.
 *
 * Durability: the writer appends a group's images, fdatasyncs the files, and only then writes the
 * batch holding their pointers (synced). A crash in between leaves unreferenced bytes at the end
 * of a file — never a pointer to bytes that are not on disk. Each image is sealed with its
 * pointer's key as associated data, so bytes moved, swapped or altered fail their tag.
 */
import { mkdir, open, readdir, rm, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { IntegrityError } from './errors.ts';
import { freeFile } from './free-file.ts';
import type { Reaper } from './reaper.ts';

export type BlobClass = 'image' | 'hit';

export interface BlobRef {
  /** file number */
  readonly f: number;
  /** byte offset */
  readonly o: number;
  /** length */
  readonly n: number;
}

/** Files roll over at this size (smaller files purge and copy more easily). */
const MAX_FILE = 256 * 1024 * 1024;
const FILE = /^(image|hit)-(\d{6})\.blob$/;
const DAY = /^\d{4}-\d{2}-\d{2}$/;

interface Tail {
  f: number;
  size: number;
  handle: FileHandle;
  dirty: boolean;
}

export class BlobStore {
  private readonly tails = new Map<string, Tail>();

  constructor(
    private readonly dir: string,
    /** Frees dropped files in the background; without one they are freed at once (free-file.ts). */
    private readonly reaper?: Reaper,
  ) {}

  private path(cls: BlobClass, day: string, f: number): string {
    return join(this.dir, day, `${cls}-${String(f).padStart(6, '0')}.blob`);
  }

  /** Appends (not yet synced); one writer at a time — the group-commit writer. */
  async append(cls: BlobClass, day: string, data: Uint8Array): Promise<BlobRef> {
    const id = `${cls}!${day}`;
    let tail = this.tails.get(id) ?? (await this.openTail(cls, day));
    if (tail.size > 0 && tail.size + data.length > MAX_FILE) {
      await tail.handle.datasync();
      await tail.handle.close();
      tail = { f: tail.f + 1, size: 0, handle: await open(this.path(cls, day, tail.f + 1), 'a', 0o600), dirty: false };
    }
    this.tails.set(id, tail);
    const ref: BlobRef = { f: tail.f, o: tail.size, n: data.length };
    try {
      const { bytesWritten } = await tail.handle.write(data, 0, data.length, null);
      if (bytesWritten !== data.length) throw new Error(`short write (${bytesWritten} of ${data.length})`);
    } catch (err) {
      // Where the file ends is unknown now: reopen (and re-measure) at the next append.
      this.tails.delete(id);
      await tail.handle.close().catch(() => undefined);
      throw err;
    }
    tail.size += data.length;
    tail.dirty = true;
    return ref;
  }

  /** fdatasync every file appended to since the last call. */
  async sync(): Promise<void> {
    await Promise.all([...this.tails.values()].filter((t) => t.dirty).map(async (t) => {
      await t.handle.datasync();
      t.dirty = false;
    }));
  }

  async read(cls: BlobClass, day: string, ref: BlobRef, key: string): Promise<Buffer> {
    let fh: FileHandle;
    try {
      fh = await open(this.path(cls, day, ref.f), 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new IntegrityError(key, 'its image file is missing');
      throw err;
    }
    try {
      const buf = Buffer.alloc(ref.n);
      const { bytesRead } = await fh.read(buf, 0, ref.n, ref.o);
      if (bytesRead !== ref.n) throw new IntegrityError(key, 'its image file is shorter than the pointer says');
      return buf;
    } finally {
      await fh.close();
    }
  }

  /**
   * Deletes every file of (cls, day) — into the reaper's trash, freed in the background, when
   * there is a reaper; returns how many files and the bytes they held.
   */
  async drop(cls: BlobClass, day: string): Promise<{ files: number; bytes: number }> {
    const id = `${cls}!${day}`;
    const tail = this.tails.get(id);
    this.tails.delete(id);
    await tail?.handle.close().catch(() => undefined); // about to be deleted
    const dir = join(this.dir, day);
    let files = 0;
    let bytes = 0;
    const trash: { path: string; label: string }[] = [];
    for (const name of await readdir(dir).catch(() => [] as string[])) {
      if (FILE.exec(name)?.[1] !== cls) continue;
      const path = join(dir, name);
      if (this.reaper) {
        bytes += (await stat(path).catch(() => undefined))?.size ?? 0;
        trash.push({ path, label: `blob-${day}-${name.replace(/\.blob$/, '')}` });
      } else {
        bytes += await freeFile(path);
      }
      files++;
    }
    await this.reaper?.buryAll(trash);
    if ((await readdir(dir).catch(() => ['?'])).length === 0) await rm(dir, { recursive: true, force: true });
    return { files, bytes };
  }

  /** Every (class, day) with a file. */
  async partitions(): Promise<{ cls: BlobClass; day: string }[]> {
    const out = new Map<string, { cls: BlobClass; day: string }>();
    for (const day of await readdir(this.dir).catch(() => [] as string[])) {
      if (!DAY.test(day)) continue;
      for (const name of await readdir(join(this.dir, day)).catch(() => [] as string[])) {
        const cls = FILE.exec(name)?.[1] as BlobClass | undefined;
        if (cls) out.set(`${cls}!${day}`, { cls, day });
      }
    }
    return [...out.values()];
  }

  async close(): Promise<void> {
    await this.sync().catch(() => undefined); // everything referenced is already synced
    for (const t of this.tails.values()) await t.handle.close().catch(() => undefined);
    this.tails.clear();
  }

  private async openTail(cls: BlobClass, day: string): Promise<Tail> {
    await mkdir(join(this.dir, day), { recursive: true, mode: 0o700 });
    let f = 0;
    for (const name of await readdir(join(this.dir, day))) {
      const m = FILE.exec(name);
      if (m?.[1] === cls) f = Math.max(f, Number(m[2]));
    }
    const path = this.path(cls, day, f);
    const handle = await open(path, 'a', 0o600);
    return { f, size: (await handle.stat()).size, handle, dirty: false };
  }
}

export function encodeRef(ref: BlobRef): Uint8Array {
  return Buffer.from(JSON.stringify(ref), 'utf8');
}

export function decodeRef(key: string, raw: Uint8Array): BlobRef {
  try {
    const r = JSON.parse(Buffer.from(raw.buffer, raw.byteOffset, raw.length).toString('utf8')) as BlobRef;
    if (Number.isInteger(r.f) && Number.isInteger(r.o) && Number.isInteger(r.n) && r.n > 0) return r;
  } catch {
    // fall through: not a pointer we wrote
  }
  throw new IntegrityError(key, 'not a readable image pointer');
}
