/**
 * Loads a `*.hotlist` file (list-file.ts) into an EntryTable. Only the header and the public
 * section are read; their bytes are scanned in place (no JSON.parse and no string per entry),
 * which is what makes a million entries load in well under a second and sit in ~35 MB. The
 * public section's SHA-256 is checked against the header, so what the device matches on is what
 * the agency wrote. An entry's id and sealed blob stay on disk until the entry is hit.
 */
import { createHash } from 'node:crypto';
import { closeSync, openSync, read as readCb, readSync, fstatSync } from 'node:fs';
import { promisify } from 'node:util';
import { HOTLIST_TYPES } from '../types.ts';
import { MAX_PLATE_LENGTH } from './equivalence.ts';
import { checkHeader, ListFileError, type ListHeader } from './list-file.ts';
import type { ListInfo, LoadedList } from './matcher.ts';
import { EntryTable, type EntryDetails } from './table.ts';

const read = promisify(readCb);
const CHUNK = 4 << 20;
const MAX_LINE = 64 * 1024;
const TYPE_BYTES = HOTLIST_TYPES.map((t) => Buffer.from(t, 'latin1'));

/** List type number of bytes b[s, e), or -1. Compared in JavaScript: Buffer.compare is a native call per entry. */
function listTypeAt(b: Buffer, s: number, e: number): number {
  outer: for (let t = 0; t < TYPE_BYTES.length; t++) {
    const tb = TYPE_BYTES[t]!;
    if (tb.length !== e - s) continue;
    for (let j = 0; j < tb.length; j++) if (tb[j] !== b[s + j]) continue outer;
    return t;
  }
  return -1;
}

/** Where each entry's line and sealed blob are, relative to their sections (each < 4 GiB). */
interface Locations {
  readonly lineAt: Uint32Array;
  readonly lineLength: Uint32Array;
  readonly sealedAt: Uint32Array;
  readonly sealedLength: Uint32Array;
}

/** Reads an entry's own id or its sealed blob from the open file: one read each, on a hit. */
class FileDetails implements EntryDetails {
  private closed = false;

  constructor(private readonly fd: number, private readonly path: string, private readonly header: ListHeader, private readonly at: Locations) {}

  id(i: number): string {
    const fields = JSON.parse(this.readAt(this.header.publicOffset + this.at.lineAt[i]!, this.at.lineLength[i]!)) as unknown[];
    const id = fields[9];
    if (typeof id !== 'string') throw new ListFileError(this.path, `entry ${i + 1}: no id of its own`);
    return id;
  }

  sealed(i: number): string | undefined {
    const length = this.at.sealedLength[i]!;
    return length > 0 ? this.readAt(this.header.sealedOffset + this.at.sealedAt[i]!, length) : undefined;
  }

  private readAt(position: number, length: number): string {
    if (this.closed) throw new ListFileError(this.path, 'read after the list was replaced');
    const buf = Buffer.allocUnsafe(length);
    let done = 0;
    while (done < length) {
      const n = readSync(this.fd, buf, done, length - done, position + done);
      if (n === 0) throw new ListFileError(this.path, `unexpected end of file at byte ${position + done}`);
      done += n;
    }
    return buf.toString('utf8');
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
  }
}

export interface ReadListResult extends LoadedList {
  readonly header: ListHeader;
}

export async function readListFile(path: string): Promise<ReadListResult> {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    throw new ListFileError(path, `cannot open: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  try {
    const size = fstatSync(fd).size;
    const head = Buffer.alloc(Math.min(size, MAX_LINE));
    await readFully(fd, head, 0, path);
    const nl = head.indexOf(0x0a);
    if (nl < 0) throw new ListFileError(path, 'not a hot-list file (no header line)');
    let parsed: unknown;
    try {
      parsed = JSON.parse(head.toString('utf8', 0, nl));
    } catch {
      throw new ListFileError(path, 'not a hot-list file (the first line is not JSON)');
    }
    const header = checkHeader(parsed, path, size);
    const table = new EntryTable(header.entries);
    const at: Locations = {
      lineAt: new Uint32Array(header.entries),
      lineLength: new Uint32Array(header.entries),
      sealedAt: new Uint32Array(header.entries),
      sealedLength: new Uint32Array(header.entries),
    };
    const scanner = new PublicScanner(table, at, header, path);
    const hash = createHash('sha256');
    const buf = Buffer.allocUnsafe(CHUNK + MAX_LINE);
    let carry = 0; // bytes of an unfinished line kept at the start of buf
    let pos = header.publicOffset;
    const end = header.publicOffset + header.publicBytes;
    while (pos < end) {
      const want = Math.min(CHUNK, end - pos);
      const { bytesRead } = await read(fd, buf, carry, want, pos);
      if (bytesRead === 0) throw new ListFileError(path, `unexpected end of file at byte ${pos}`);
      hash.update(buf.subarray(carry, carry + bytesRead));
      const filled = carry + bytesRead;
      const used = scanner.scan(buf, filled, pos - carry);
      carry = filled - used;
      if (carry > MAX_LINE) throw new ListFileError(path, `entry ${table.size + 1}: line longer than ${MAX_LINE} bytes`);
      buf.copy(buf, 0, used, filled);
      pos += bytesRead;
    }
    if (carry !== 0) throw new ListFileError(path, 'the public section does not end with a newline');
    if (table.size !== header.entries) throw new ListFileError(path, `${table.size} entries, the header says ${header.entries}`);
    if (hash.digest('hex') !== header.publicSha256) throw new ListFileError(path, 'the public section does not match its checksum (corrupt file)');
    table.setDetails(new FileDetails(fd, path, header, at));
    const info: ListInfo = { listId: header.listId, version: header.version, generatedAt: Date.parse(header.generatedAt), source: header.source };
    return { info, table, header };
  } catch (err) {
    closeSync(fd);
    throw err;
  }
}

async function readFully(fd: number, buf: Buffer, position: number, path: string): Promise<void> {
  let done = 0;
  while (done < buf.length) {
    const { bytesRead } = await read(fd, buf, done, buf.length - done, position + done);
    if (bytesRead === 0) throw new ListFileError(path, 'unexpected end of file');
    done += bytesRead;
  }
}

/** Parses public lines straight from bytes into the table; strict about everything it reads. */
class PublicScanner {
  private readonly stateNames = new Map<number, string>();
  private p = 0;
  private b: Buffer = Buffer.alloc(0);

  constructor(
    private readonly table: EntryTable,
    private readonly at: Locations,
    private readonly header: ListHeader,
    private readonly path: string,
  ) {}

  /** Scans the complete lines in buf[0, filled); `base` is buf[0]'s file offset. Returns bytes consumed. */
  scan(buf: Buffer, filled: number, base: number): number {
    this.b = buf;
    let start = 0;
    for (;;) {
      const nl = buf.indexOf(0x0a, start);
      if (nl < 0 || nl >= filled) return start;
      this.line(start, nl, base);
      start = nl + 1;
    }
  }

  private fail(reason: string): never {
    throw new ListFileError(this.path, `entry ${this.table.size + 1}: ${reason}`);
  }

  private expect(c: number): void {
    if (this.b[this.p] !== c) this.fail(`expected ${JSON.stringify(String.fromCharCode(c))} at column ${this.p}`);
    this.p++;
  }

  private isNull(): boolean {
    const b = this.b;
    const p = this.p;
    if (b[p] === 0x6e && b[p + 1] === 0x75 && b[p + 2] === 0x6c && b[p + 3] === 0x6c) {
      this.p += 4;
      return true;
    }
    return false;
  }

  private int(): number {
    let v = 0;
    let digits = 0;
    const neg = this.b[this.p] === 0x2d;
    if (neg) this.p++;
    for (let c = this.b[this.p]!; c >= 0x30 && c <= 0x39; c = this.b[++this.p]!) {
      v = v * 10 + (c - 0x30);
      if (++digits > 16) this.fail('number too long');
    }
    if (digits === 0) this.fail('expected a number');
    return neg ? -v : v;
  }

  private line(s: number, e: number, base: number): void {
    const t = this.table;
    if (t.size >= t.capacity) this.fail(`more entries than the header's ${t.capacity}`);
    this.p = s;
    this.expect(0x5b); // [
    this.expect(0x22); // plate
    const at = t.nextPlateAt;
    let len = 0;
    let wildcard = false;
    for (let c = this.b[this.p]!; c !== 0x22; c = this.b[++this.p]!) {
      const ok = (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x2a || c === 0x3f;
      if (!ok || len === MAX_PLATE_LENGTH || this.p >= e) this.fail('plate is not 1–10 of A–Z, 0–9, *, ?');
      if (c === 0x2a || c === 0x3f) wildcard = true;
      t.plateBytes[at + len++] = c;
    }
    if (len < 2) this.fail('plate shorter than 2 characters');
    this.p++;
    this.expect(0x2c);
    let state = '';
    if (!this.isNull()) {
      this.expect(0x22);
      const c1 = this.b[this.p]!;
      const c2 = this.b[this.p + 1]!;
      if (c1 < 0x61 || c1 > 0x7a || c2 < 0x61 || c2 > 0x7a) this.fail('state is not two lower-case letters');
      const code = (c1 << 8) | c2;
      state = this.stateNames.get(code) ?? String.fromCharCode(c1, c2);
      this.stateNames.set(code, state);
      this.p += 2;
      this.expect(0x22);
    }
    this.expect(0x2c);
    this.expect(0x22);
    const typeStart = this.p;
    const typeEnd = this.b.indexOf(0x22, typeStart);
    if (typeEnd < 0 || typeEnd >= e) this.fail('list type is not closed');
    const type = listTypeAt(this.b, typeStart, typeEnd);
    if (type < 0) this.fail(`unknown list type ${JSON.stringify(this.b.toString('latin1', typeStart, typeEnd))}`);
    this.p = typeEnd + 1;
    this.expect(0x2c);
    const priority = this.int();
    if (priority < 0 || priority > 100) this.fail('priority outside 0–100');
    this.expect(0x2c);
    const effective = this.isNull() ? NaN : this.int();
    this.expect(0x2c);
    const expires = this.isNull() ? NaN : this.int();
    this.expect(0x2c);
    const covert = this.int();
    if (covert !== 0 && covert !== 1) this.fail('covert is not 0 or 1');
    this.expect(0x2c);
    const sealedAt = this.int();
    this.expect(0x2c);
    const sealedLength = this.int();
    const h = this.header;
    if (sealedLength > 0 && (sealedAt < h.sealedOffset || sealedAt + sealedLength > h.sealedOffset + h.sealedBytes)) this.fail('sealed blob outside the sealed section');
    this.expect(0x2c);
    const defaultId = this.isNull();
    if (!defaultId) {
      this.expect(0x22); // an id of its own: skipped here (read on a hit), escapes honoured
      for (let c = this.b[this.p]!; c !== 0x22; c = this.b[++this.p]!) {
        if (this.p >= e) this.fail('id is not closed');
        if (c === 0x5c) this.p++;
      }
      this.p++;
    }
    this.expect(0x5d); // ]
    if (this.p !== e) this.fail('unexpected characters after the entry');
    const i = t.commit(len, state, type, priority, effective, expires, covert === 1, wildcard, defaultId);
    this.at.lineAt[i] = base + s - h.publicOffset;
    this.at.lineLength[i] = e - s;
    this.at.sealedAt[i] = sealedLength > 0 ? sealedAt - h.sealedOffset : 0;
    this.at.sealedLength[i] = sealedLength;
  }
}
