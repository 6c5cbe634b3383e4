/**
 * The device's hot-list file (`*.hotlist`), written by `alpr hotlist import` and loaded by the
 * gateway. Versioned JSON lines in three sections:
 *
 *   [0, headerBytes)         header: one JSON object (ListHeader), padded with spaces, then "\n"
 *   [sealedOffset, +bytes)   sealed section: one JWE compact per entry that has personal data
 *   [publicOffset, +bytes)   public section: one JSON array per entry, in list order:
 *                            [plate, state|null, listType, priority, effective|null,
 *                             expires|null, covert 0|1, sealedOffset, sealedLength, id|null]
 *
 * The public section is last and small (~70 bytes an entry): the device reads only it at load
 * and fetches an entry's id and sealed blob from disk when that entry is hit. The header has a
 * fixed size so the writer can stream both sections and fill the header in at the end.
 */
import { createHash, type Hash } from 'node:crypto';
import { open, rm, type FileHandle } from 'node:fs/promises';
import type { HotlistEntry } from '../types.ts';
import { commitTemp, tempPathFor } from './atomic.ts';
import { HotlistError } from './csv.ts';
import { defaultEntryId } from './table.ts';

export const LIST_FORMAT = 'alpr-hotlist';
export const LIST_FORMAT_VERSION = 1;
export const HEADER_BYTES = 8192;

export interface ListHeader {
  readonly format: typeof LIST_FORMAT;
  readonly formatVersion: number;
  readonly headerBytes: number;
  readonly listId: string;
  /** First 12 hex digits of SHA-256 over both sections: changes whenever the list does. */
  readonly version: string;
  /** ISO 8601: when the agency generated the list (P3 freshness is measured from here). */
  readonly generatedAt: string;
  /** Human-readable origin: the imported files and their formats. */
  readonly source: string;
  readonly entries: number;
  readonly wildcards: number;
  /** Thumbprint of the dispatch key the blobs are sealed to; null when nothing is sealed. */
  readonly sealedTo: string | null;
  readonly sealedOffset: number;
  readonly sealedBytes: number;
  readonly publicOffset: number;
  readonly publicBytes: number;
  readonly publicSha256: string;
  readonly fileBytes: number;
}

/** A `*.hotlist` file that cannot be loaded (corrupt, truncated, newer format, …). */
export class ListFileError extends HotlistError {
  override readonly name: string = 'ListFileError';
  constructor(readonly path: string, readonly reason: string) {
    super(path, [reason]);
  }
}

export interface ListMeta {
  readonly listId: string;
  /** ms since epoch */
  readonly generatedAt: number;
  readonly source: string;
  readonly sealedTo?: string;
}

const FLUSH_BYTES = 1 << 20;

/**
 * Streams a list into a temp file beside `path`; finish() publishes it atomically, abort()
 * removes it. Entries are added in list order.
 */
export class ListFileWriter {
  private sealedPos = HEADER_BYTES;
  private readonly pending: Buffer[] = [];
  private pendingBytes = 0;
  private readonly publicLines: string[] = [];
  private readonly content: Hash = createHash('sha256');
  private wildcards = 0;
  private done = false;

  private constructor(readonly path: string, private readonly temp: string, private readonly handle: FileHandle) {}

  static async create(path: string): Promise<ListFileWriter> {
    const temp = tempPathFor(path);
    const handle = await open(temp, 'wx', 0o640);
    return new ListFileWriter(path, temp, handle);
  }

  get size(): number {
    return this.publicLines.length;
  }

  async add(entry: HotlistEntry): Promise<void> {
    let offset = 0;
    let length = 0;
    if (entry.sealed) {
      const blob = Buffer.from(`${entry.sealed}\n`, 'utf8');
      offset = this.sealedPos + this.pendingBytes;
      length = blob.length - 1;
      this.pending.push(blob);
      this.pendingBytes += blob.length;
      if (this.pendingBytes >= FLUSH_BYTES) await this.flushSealed();
    }
    if (/[*?]/.test(entry.plate)) this.wildcards++;
    this.publicLines.push(JSON.stringify([
      entry.plate, entry.state ?? null, entry.listType, entry.priority, entry.effective ?? null,
      entry.expires ?? null, entry.covert ? 1 : 0, offset, length,
      // null: the default id, rebuilt from the public fields (smaller file, no disk read on a hit)
      entry.id === defaultEntryId(entry.plate, entry.state, entry.listType) ? null : entry.id,
    ]));
  }

  private async flushSealed(): Promise<void> {
    if (this.pendingBytes === 0) return;
    const chunk = Buffer.concat(this.pending, this.pendingBytes);
    this.pending.length = 0;
    this.pendingBytes = 0;
    this.content.update(chunk);
    await this.write(chunk, this.sealedPos);
    this.sealedPos += chunk.length;
  }

  private async write(chunk: Buffer, position: number): Promise<void> {
    let done = 0;
    while (done < chunk.length) {
      const { bytesWritten } = await this.handle.write(chunk, done, chunk.length - done, position + done);
      done += bytesWritten;
    }
  }

  /** Writes the public section and the header, fsyncs, and renames over `path`. */
  async finish(meta: ListMeta): Promise<ListHeader> {
    try {
      await this.flushSealed();
      const publicOffset = this.sealedPos;
      const publicHash = createHash('sha256');
      let pos = publicOffset;
      for (let i = 0; i < this.publicLines.length; i += 8192) {
        const chunk = Buffer.from(`${this.publicLines.slice(i, i + 8192).join('\n')}\n`, 'utf8');
        publicHash.update(chunk);
        this.content.update(chunk);
        await this.write(chunk, pos);
        pos += chunk.length;
      }
      const header: ListHeader = {
        format: LIST_FORMAT,
        formatVersion: LIST_FORMAT_VERSION,
        headerBytes: HEADER_BYTES,
        listId: meta.listId,
        version: this.content.digest('hex').slice(0, 12),
        generatedAt: new Date(meta.generatedAt).toISOString(),
        source: meta.source,
        entries: this.publicLines.length,
        wildcards: this.wildcards,
        sealedTo: meta.sealedTo ?? null,
        sealedOffset: HEADER_BYTES,
        sealedBytes: publicOffset - HEADER_BYTES,
        publicOffset,
        publicBytes: pos - publicOffset,
        publicSha256: publicHash.digest('hex'),
        fileBytes: pos,
      };
      const json = JSON.stringify(header);
      if (json.length >= HEADER_BYTES) throw new ListFileError(this.path, `header of ${json.length} bytes does not fit ${HEADER_BYTES} (source description too long?)`);
      await this.write(Buffer.from(`${json.padEnd(HEADER_BYTES - 1, ' ')}\n`, 'utf8'), 0);
      await this.handle.sync();
      await this.handle.close();
      this.done = true;
      await commitTemp(this.temp, this.path);
      return header;
    } catch (err) {
      await this.abort();
      throw err;
    }
  }

  /** Drops the temp file; the previous list at `path` is untouched. */
  async abort(): Promise<void> {
    if (!this.done) {
      this.done = true;
      await this.handle.close().catch(() => undefined); // already closed after a failed finish()
    }
    await rm(this.temp, { force: true });
  }
}

/** Writes a whole list (tests, the bench, small lists). */
export async function writeListFile(path: string, meta: ListMeta, entries: Iterable<HotlistEntry>): Promise<ListHeader> {
  const writer = await ListFileWriter.create(path);
  try {
    for (const e of entries) await writer.add(e);
  } catch (err) {
    await writer.abort();
    throw err;
  }
  return writer.finish(meta);
}

/** Checks a parsed header; returns it typed or says what is wrong. Forward migrations go here. */
export function checkHeader(value: unknown, path: string, fileBytes: number): ListHeader {
  const h = value as Partial<ListHeader> | null;
  if (!h || typeof h !== 'object' || h.format !== LIST_FORMAT) throw new ListFileError(path, `not a hot-list file (no "${LIST_FORMAT}" header)`);
  if (h.formatVersion !== LIST_FORMAT_VERSION) {
    throw new ListFileError(path, `format version ${String(h.formatVersion)}; this gateway reads version ${LIST_FORMAT_VERSION}${Number(h.formatVersion) > LIST_FORMAT_VERSION ? ' (update the gateway first)' : ''}`);
  }
  const ints = ['headerBytes', 'entries', 'wildcards', 'sealedOffset', 'sealedBytes', 'publicOffset', 'publicBytes', 'fileBytes'] as const;
  for (const k of ints) if (!Number.isSafeInteger(h[k]) || (h[k] as number) < 0) throw new ListFileError(path, `header field ${k} is not a non-negative integer`);
  for (const k of ['listId', 'version', 'source', 'publicSha256', 'generatedAt'] as const) {
    if (typeof h[k] !== 'string') throw new ListFileError(path, `header field ${k} is missing`);
  }
  if (Number.isNaN(Date.parse(h.generatedAt!))) throw new ListFileError(path, `header generatedAt ${JSON.stringify(h.generatedAt)} is not a date`);
  // Entry locations are kept as 32-bit offsets into their section.
  if (h.publicBytes! >= 2 ** 32 || h.sealedBytes! >= 2 ** 32) throw new ListFileError(path, 'a section of 4 GiB or more: split the list');
  if (h.fileBytes !== fileBytes) throw new ListFileError(path, `the file has ${fileBytes} bytes, its header says ${h.fileBytes} (truncated or appended to)`);
  if (h.publicOffset! + h.publicBytes! !== h.fileBytes || h.sealedOffset! + h.sealedBytes! !== h.publicOffset || h.sealedOffset !== h.headerBytes) {
    throw new ListFileError(path, 'section offsets in the header do not add up');
  }
  return h as ListHeader;
}
