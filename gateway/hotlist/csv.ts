/**
 * CSV for hot lists (RFC 4180 quoting): a tokenizer that takes text in chunks, so a large NCIC
 * extract streams through the import, and the device's development list format (public columns
 * only). Every error names its line so the person who exported the list can fix it, and a list
 * is accepted whole or not at all.
 */
import { createHash } from 'node:crypto';
import type { HotlistEntry } from '../types.ts';
import { planColumns, RowChecker } from './rows.ts';

/** A list that cannot be used, with every reason found. The list in force stays in force. */
export class HotlistError extends Error {
  override readonly name: string = 'HotlistError';
  constructor(readonly source: string, readonly problems: readonly string[], readonly more = 0) {
    const shown = problems.slice(0, 20);
    const hidden = problems.length - shown.length + more;
    super(`hot list ${source} rejected:\n  - ${shown.join('\n  - ')}${hidden > 0 ? `\n  - … and ${hidden} more` : ''}`);
  }
}

export interface HotlistFile {
  readonly listId: string;
  /** Content hash: changes whenever the list does. */
  readonly version: string;
  readonly entries: readonly HotlistEntry[];
}

export interface Row {
  /** 1-based line where the row starts. */
  readonly line: number;
  readonly fields: string[];
}

/** A hot-list row is a few hundred bytes; anything near this is the wrong file or a runaway quote. */
export const MAX_ROW_CHARS = 64 * 1024;

/** Splits CSV text fed in chunks into rows; blank lines are skipped. */
export class CsvTokenizer {
  private fields: string[] = [];
  private field = '';
  private inQuotes = false;
  private quotedField = false;
  /** A `"` ended the last chunk inside quotes: escaped quote or closing quote, decided by the next char. */
  private pendingQuote = false;
  /** A `\r` ended the last chunk: a `\n` starting the next one belongs to it. */
  private pendingCr = false;
  private line = 1;
  private rowLine = 1;
  private rowChars = 0;

  constructor(private readonly source: string, private readonly maxRowChars = MAX_ROW_CHARS) {}

  /** Lines started so far (for error messages outside the tokenizer). */
  get currentLine(): number {
    return this.line;
  }

  push(text: string, out: Row[] = []): Row[] {
    let i = 0;
    if (this.pendingCr) {
      this.pendingCr = false;
      if (text[0] === '\n') i = 1;
    }
    for (; i < text.length; i++) {
      const c = text[i]!;
      if (++this.rowChars > this.maxRowChars) {
        throw new HotlistError(this.source, [`line ${this.rowLine}: a row longer than ${this.maxRowChars} characters (a hot-list row is a few hundred; is this the right file, or is a quote never closed?)`]);
      }
      if (this.pendingQuote) {
        this.pendingQuote = false;
        if (c === '"') {
          this.field += '"';
          continue;
        }
        this.inQuotes = false;
      }
      if (this.inQuotes) {
        if (c === '"') {
          if (i + 1 === text.length) this.pendingQuote = true;
          else if (text[i + 1] === '"') {
            this.field += '"';
            i++;
          } else this.inQuotes = false;
        } else {
          if (c === '\n') this.line++;
          this.field += c;
        }
        continue;
      }
      if (c === '"') {
        if (this.field.trim() !== '') throw new HotlistError(this.source, [`line ${this.line}: quote inside an unquoted field`]);
        this.field = '';
        this.inQuotes = true;
        this.quotedField = true;
      } else if (c === ',') this.endField();
      else if (c === '\n' || c === '\r') {
        if (c === '\r') {
          if (i + 1 === text.length) this.pendingCr = true;
          else if (text[i + 1] === '\n') i++;
        }
        this.endRow(out);
        this.line++;
        this.rowLine = this.line;
      } else this.field += c;
    }
    return out;
  }

  end(out: Row[] = []): Row[] {
    if (this.pendingQuote) {
      this.pendingQuote = false;
      this.inQuotes = false;
    }
    if (this.inQuotes) throw new HotlistError(this.source, [`line ${this.rowLine}: quoted field never closed`]);
    this.endRow(out);
    return out;
  }

  private endField(): void {
    this.fields.push(this.quotedField ? this.field : this.field.trim());
    this.field = '';
    this.quotedField = false;
  }

  private endRow(out: Row[]): void {
    this.endField();
    if (!(this.fields.length === 1 && this.fields[0] === '')) out.push({ line: this.rowLine, fields: this.fields });
    this.fields = [];
    this.rowChars = 0;
  }
}

/** Splits CSV text into rows; `line` is the 1-based line where the row starts. */
export function parseCsvRows(text: string, source: string): Row[] {
  const tokenizer = new CsvTokenizer(source);
  return tokenizer.end(tokenizer.push(text));
}

/** Upper-case, spaces and dashes removed. */
export function normalisePlate(raw: string): string {
  return raw.toUpperCase().replace(/[\s-]/g, '');
}

/**
 * Strict UTF-8 decoding with a reason a person can act on. Lists exported from Windows tools
 * arrive as UTF-16 or Windows-1252 often enough to name both.
 */
export function decodeHotlistBytes(bytes: Uint8Array, source: string): string {
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) {
    throw new HotlistError(source, ['the file is UTF-16 text: export it as UTF-8 (CSV UTF-8)']);
  }
  const nul = bytes.indexOf(0);
  if (nul >= 0) throw new HotlistError(source, [`line ${lineAt(bytes, nul)}: a NUL byte: binary data, not CSV text`]);
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new HotlistError(source, [`line ${lineAt(bytes, firstInvalidUtf8(bytes))}: not UTF-8 text (another encoding such as Windows-1252?): export it as UTF-8`]);
  }
}

function lineAt(bytes: Uint8Array, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset; i++) if (bytes[i] === 0x0a) line++;
  return line;
}

/** Offset of the first byte that breaks UTF-8 (the decoder only says that one does). */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    const need = b < 0x80 ? 0 : b >= 0xc2 && b < 0xe0 ? 1 : b >= 0xe0 && b < 0xf0 ? 2 : b >= 0xf0 && b < 0xf5 ? 3 : -1;
    if (need < 0) return i;
    for (let j = 1; j <= need; j++) if (i + j >= bytes.length || (bytes[i + j]! & 0xc0) !== 0x80) return i;
    i += need + 1;
  }
  return bytes.length;
}

/**
 * The device's development list: a CSV of public columns only (plate, state, list_type,
 * priority, effective, expires, covert, id, sealed). Personal columns are refused: they belong
 * in an imported list, sealed (`alpr hotlist import`).
 */
export function parseHotlistCsv(text: string, source: string): HotlistFile {
  if (text.includes('\u0000') || text.includes('\uFFFD')) {
    throw new HotlistError(source, ['not UTF-8 text (binary data or another encoding)']);
  }
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  const rows = parseCsvRows(body, source);
  const header = rows.shift();
  if (!header) throw new HotlistError(source, ['the file is empty: expected a header line and at least one entry']);
  const plan = planColumns(header, 'device');
  if (plan.problems.length) throw new HotlistError(source, plan.problems);
  if (rows.length === 0) throw new HotlistError(source, ['no entries after the header line']);
  const checker = new RowChecker(plan);
  const entries: HotlistEntry[] = [];
  for (const row of rows) {
    const checked = checker.check(row);
    if (checked) entries.push(checked.sealedAlready ? { ...checked.entry, sealed: checked.sealedAlready } : checked.entry);
  }
  if (checker.problems.length) throw new HotlistError(source, checker.problems, checker.unreported);
  const version = createHash('sha256').update(body).digest('hex').slice(0, 12);
  const listId = source.replace(/^.*[\\/]/, '').replace(/\.csv$/i, '');
  return { listId, version, entries };
}
