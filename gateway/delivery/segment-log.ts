/**
 * Large records (a hit with its images: ~150 KB) appended to segment files, for stores that keep
 * a small pointer to each in LevelDB: the device's outbox (outbox.ts) and dispatch's hit store
 * (dispatch/hit-store.ts). In LevelDB such a value was written to the write-ahead log, then to a
 * level-0 table, and again by every compaction after (bench delivery: the outbox's largest cost,
 * a fifth of a receiver's CPU); a file per record cost more in all (cheaper to write, dearer to
 * read, and an unlink each on ext4 with online discard: ~0.4 ms of CPU). Here a
 * record is written once, appended with others that arrive together (one write, one fdatasync),
 * and read back with one positioned read.
 *
 * Files: `{dir}/{segment:8}.seg`, appended up to `maxSegmentBytes`, then a new one. A ref
 * `{segment, offset, length}` names a record. The log does not know which records are still
 * wanted: its user counts them and removes a segment it no longer needs (removeSegment).
 *
 * Crash safety: `append` resolves once the bytes are fdatasynced (and a new segment's name in
 * the folder fsynced), so the user writes its pointer after that, and a pointer never names bytes
 * that are not on disk. A crash in between leaves bytes no pointer names: space, never read, and
 * reclaimed with the segment. Each record is sealed or framed by its user (AES-GCM with the key
 * as associated data on the device), so a pointer that names the wrong bytes is refused there.
 */
import { mkdir, open, readdir, unlink, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fsyncDir } from '../hotlist/atomic.ts';

export interface LogRef {
  readonly segment: number;
  readonly offset: number;
  readonly length: number;
}

export class SegmentLogError extends Error {
  override readonly name = 'SegmentLogError';
}

const NAME = /^(\d{8})\.seg$/;
const nameOf = (segment: number): string => `${String(segment).padStart(8, '0')}.seg`;
/** Segment read handles kept open (the newest few are where reads go). */
const OPEN_READERS = 8;

interface PendingAppend {
  readonly parts: readonly Uint8Array[];
  resolve(ref: LogRef): void;
  reject(err: Error): void;
}

export class SegmentLog {
  private writer: { segment: number; file: FileHandle; size: number } | undefined;
  private readonly readers = new Map<number, FileHandle>();
  private pending: PendingAppend[] = [];
  private writing: Promise<void> | undefined;

  private constructor(readonly dir: string, private readonly maxSegmentBytes: number, private readonly known: Set<number>) {}

  /** Opens (creating) the folder; appends go to a new segment after the last one there. */
  static async open(dir: string, maxSegmentBytes = 64 * 1024 * 1024): Promise<SegmentLog> {
    const made = await mkdir(dir, { recursive: true });
    // A folder just made must itself survive a power cut before anything in it counts.
    if (made !== undefined) await fsyncDir(dirname(made));
    const known = new Set<number>();
    for (const name of await readdir(dir)) {
      const m = NAME.exec(name);
      if (m) known.add(Number(m[1]));
    }
    return new SegmentLog(dir, maxSegmentBytes, known);
  }

  /** The segments in the folder, oldest first. */
  segments(): number[] {
    return [...this.known].sort((a, b) => a - b);
  }

  /** The segment appends go to now (undefined before the first append). */
  get current(): number | undefined {
    return this.writer?.segment;
  }

  /**
   * Appends one record (its parts written one after another); resolves with its ref once it is
   * on disk. Appends that arrive while a write is under way go together in the next one.
   */
  append(parts: readonly Uint8Array[]): Promise<LogRef> {
    return new Promise<LogRef>((resolve, reject) => {
      this.pending.push({ parts, resolve, reject });
      this.writing ??= this.drain();
    });
  }

  private async drain(): Promise<void> {
    await Promise.resolve(); // appends made in the same turn go in the first write
    while (this.pending.length) {
      const group = this.pending;
      this.pending = [];
      try {
        const refs = await this.write(group.map((p) => p.parts));
        group.forEach((p, i) => p.resolve(refs[i] as LogRef));
      } catch (err) {
        for (const p of group) p.reject(err as Error);
      }
    }
    this.writing = undefined;
  }

  private async write(records: readonly (readonly Uint8Array[])[]): Promise<LogRef[]> {
    const bytes = records.reduce((n, parts) => n + parts.reduce((m, p) => m + p.byteLength, 0), 0);
    const w = this.writer && this.writer.size > 0 && this.writer.size + bytes > this.maxSegmentBytes ? undefined : this.writer;
    const target = w ?? (await this.startSegment());
    const refs: LogRef[] = [];
    let offset = target.size;
    for (const parts of records) {
      const length = parts.reduce((m, p) => m + p.byteLength, 0);
      refs.push({ segment: target.segment, offset, length });
      offset += length;
    }
    const buffers = records.flat() as Uint8Array[];
    let written = 0;
    try {
      // writev may write less than asked (large writes, signals): carry on from where it stopped.
      while (written < bytes) {
        const { bytesWritten } = await target.file.writev(remaining(buffers, written), target.size + written);
        if (bytesWritten <= 0) throw new SegmentLogError(`segment ${target.segment}: write made no progress`);
        written += bytesWritten;
      }
      await target.file.datasync();
    } catch (err) {
      // After a failed write or fdatasync the file's state is unknown (a later fsync may report
      // success for pages the kernel dropped): the next append starts a new segment.
      this.writer = undefined;
      await target.file.close().catch(() => undefined);
      throw err;
    }
    target.size += bytes;
    return refs;
  }

  private async startSegment(): Promise<{ segment: number; file: FileHandle; size: number }> {
    if (this.writer) await this.writer.file.close();
    this.writer = undefined;
    let segment = 1;
    for (const n of this.known) segment = Math.max(segment, n + 1);
    const file = await open(join(this.dir, nameOf(segment)), 'wx', 0o600);
    this.known.add(segment);
    // The new name must survive a power cut before any pointer names a record in it.
    await fsyncDir(this.dir);
    this.writer = { segment, file, size: 0 };
    return this.writer;
  }

  /** The record `ref` names; a SegmentLogError when its segment or bytes are not there. */
  async read(ref: LogRef): Promise<Buffer> {
    const file = await this.reader(ref.segment);
    const out = Buffer.allocUnsafe(ref.length);
    let at = 0;
    while (at < ref.length) {
      const { bytesRead } = await file.read(out, at, ref.length - at, ref.offset + at);
      if (bytesRead === 0) throw new SegmentLogError(`segment ${ref.segment} ends before the record at ${ref.offset} (${ref.length} bytes)`);
      at += bytesRead;
    }
    return out;
  }

  private async reader(segment: number): Promise<FileHandle> {
    const open_ = this.readers.get(segment);
    if (open_) {
      // Most recently used last, so the oldest handle is closed first.
      this.readers.delete(segment);
      this.readers.set(segment, open_);
      return open_;
    }
    if (!this.known.has(segment)) throw new SegmentLogError(`segment ${segment} is not there`);
    let file: FileHandle;
    try {
      file = await open(join(this.dir, nameOf(segment)), 'r');
    } catch (err) {
      throw new SegmentLogError(`segment ${segment}: ${(err as Error).message}`);
    }
    this.readers.set(segment, file);
    if (this.readers.size > OPEN_READERS) {
      const [oldest, handle] = this.readers.entries().next().value as [number, FileHandle];
      this.readers.delete(oldest);
      await handle.close();
    }
    return file;
  }

  /** Removes a segment no record is wanted from; never the one being appended to. */
  async removeSegment(segment: number): Promise<void> {
    if (segment === this.writer?.segment) return;
    const handle = this.readers.get(segment);
    this.readers.delete(segment);
    await handle?.close();
    this.known.delete(segment);
    try {
      await unlink(join(this.dir, nameOf(segment)));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }

  /**
   * Waits for appends under way, then closes every handle. The log stays usable: what is
   * appended or read after opens what it needs again (an event raised while the gateway stops
   * is still queued), appends in a new segment.
   */
  async close(): Promise<void> {
    await this.writing;
    await this.writer?.file.close();
    this.writer = undefined;
    for (const handle of this.readers.values()) await handle.close();
    this.readers.clear();
  }
}

/** `buffers` less their first `skip` bytes (what a short writev left to write). */
function remaining(buffers: readonly Uint8Array[], skip: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const b of buffers) {
    if (skip >= b.byteLength) {
      skip -= b.byteLength;
      continue;
    }
    out.push(skip ? b.subarray(skip) : b);
    skip = 0;
  }
  return out;
}
