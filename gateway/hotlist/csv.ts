/**
 * CSV hot-list parsing (RFC 4180 quoting) into normalised HotlistEntry values.
 * A list is accepted whole or not at all: any row error rejects the file, and every error names
 * its line so the person who exported the list can fix it.
 */
import { createHash } from 'node:crypto';
import { HOTLIST_TYPES, type HotlistEntry, type HotlistType } from '../types.ts';

export class HotlistError extends Error {
  override readonly name = 'HotlistError';
  constructor(readonly source: string, readonly problems: readonly string[]) {
    super(`hot list ${source} rejected:\n  - ${problems.slice(0, 20).join('\n  - ')}${problems.length > 20 ? `\n  - … and ${problems.length - 20} more` : ''}`);
  }
}

export interface HotlistFile {
  readonly listId: string;
  /** Content hash: changes whenever the list does. */
  readonly version: string;
  readonly entries: readonly HotlistEntry[];
}

interface Row {
  readonly line: number;
  readonly fields: string[];
}

/** Splits CSV text into rows of fields; `line` is the 1-based line where the row starts. */
export function parseCsvRows(text: string, source: string): Row[] {
  const rows: Row[] = [];
  let fields: string[] = [];
  let field = '';
  let inQuotes = false;
  let line = 1;
  let rowLine = 1;
  let quotedField = false;
  const endField = (): void => {
    fields.push(quotedField ? field : field.trim());
    field = '';
    quotedField = false;
  };
  const endRow = (): void => {
    endField();
    if (!(fields.length === 1 && fields[0] === '')) rows.push({ line: rowLine, fields });
    fields = [];
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inQuotes) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else inQuotes = false;
      } else {
        if (c === '\n') line++;
        field += c;
      }
      continue;
    }
    if (c === '"') {
      if (field.trim() !== '') throw new HotlistError(source, [`line ${line}: quote inside an unquoted field`]);
      field = '';
      inQuotes = true;
      quotedField = true;
    } else if (c === ',') endField();
    else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      endRow();
      line++;
      rowLine = line;
    } else field += c;
  }
  if (inQuotes) throw new HotlistError(source, [`line ${rowLine}: quoted field never closed`]);
  endRow();
  return rows;
}

const REQUIRED = ['plate', 'list_type'] as const;
const KNOWN = ['id', 'plate', 'state', 'list_type', 'priority', 'effective', 'expires', 'covert', 'sealed'] as const;

/** Upper-case, spaces and dashes removed. */
export function normalisePlate(raw: string): string {
  return raw.toUpperCase().replace(/[\s-]/g, '');
}

function parseTime(raw: string): number | Error {
  const t = Date.parse(raw);
  return Number.isNaN(t) ? new Error(`not an ISO 8601 date/time: ${JSON.stringify(raw)}`) : t;
}

export function parseHotlistCsv(text: string, source: string): HotlistFile {
  if (text.includes('\u0000') || text.includes('\uFFFD')) {
    throw new HotlistError(source, ['not UTF-8 text (binary data or another encoding)']);
  }
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  const rows = parseCsvRows(body, source);
  const header = rows.shift();
  if (!header) throw new HotlistError(source, ['the file is empty: expected a header line and at least one entry']);
  const columns = header.fields.map((f) => f.toLowerCase());
  const problems: string[] = [];
  for (const col of columns) {
    if (!(KNOWN as readonly string[]).includes(col)) problems.push(`line ${header.line}: unknown column ${JSON.stringify(col)} (known: ${KNOWN.join(', ')})`);
  }
  for (const col of REQUIRED) if (!columns.includes(col)) problems.push(`line ${header.line}: missing required column "${col}"`);
  if (new Set(columns).size !== columns.length) problems.push(`line ${header.line}: a column name appears twice`);
  if (problems.length) throw new HotlistError(source, problems);
  if (rows.length === 0) throw new HotlistError(source, ['no entries after the header line']);

  const entries: HotlistEntry[] = [];
  const seen = new Map<string, number>();
  for (const row of rows) {
    const at = `line ${row.line}`;
    if (row.fields.length !== columns.length) {
      problems.push(`${at}: ${row.fields.length} fields, header has ${columns.length}`);
      continue;
    }
    const get = (name: string): string => row.fields[columns.indexOf(name)] ?? '';
    const rowProblems: string[] = [];
    const plate = normalisePlate(get('plate'));
    if (!/^[A-Z0-9]{2,10}$/.test(plate)) rowProblems.push(`plate ${JSON.stringify(get('plate'))}: expected 2–10 of A–Z, 0–9`);
    const listType = get('list_type').toLowerCase();
    if (!(HOTLIST_TYPES as readonly string[]).includes(listType)) rowProblems.push(`list_type ${JSON.stringify(get('list_type'))}: expected one of ${HOTLIST_TYPES.join(', ')}`);
    const state = get('state').toLowerCase();
    if (state && !/^[a-z]{2}$/.test(state)) rowProblems.push(`state ${JSON.stringify(get('state'))}: expected a two-letter code`);
    const priorityRaw = get('priority');
    const priority = priorityRaw === '' ? 50 : Number(priorityRaw);
    if (!Number.isInteger(priority) || priority < 0 || priority > 100) rowProblems.push(`priority ${JSON.stringify(priorityRaw)}: expected an integer 0–100`);
    const effective = get('effective') ? parseTime(get('effective')) : undefined;
    const expires = get('expires') ? parseTime(get('expires')) : undefined;
    if (effective instanceof Error) rowProblems.push(`effective: ${effective.message}`);
    if (expires instanceof Error) rowProblems.push(`expires: ${expires.message}`);
    if (typeof effective === 'number' && typeof expires === 'number' && expires <= effective) rowProblems.push('expires is not after effective');
    const covertRaw = get('covert').toLowerCase();
    if (covertRaw && !['true', 'false', '1', '0', 'yes', 'no'].includes(covertRaw)) rowProblems.push(`covert ${JSON.stringify(get('covert'))}: expected true or false`);
    const key = `${plate}|${state}|${listType}`;
    const dup = seen.get(key);
    if (dup !== undefined) rowProblems.push(`duplicate of line ${dup} (same plate, state and list type)`);
    if (rowProblems.length) {
      problems.push(...rowProblems.map((p) => `${at}: ${p}`));
      continue;
    }
    seen.set(key, row.line);
    const idField = get('id');
    entries.push({
      id: idField || `${listType}:${plate}${state ? `:${state}` : ''}`,
      plate,
      ...(state ? { state } : {}),
      listType: listType as HotlistType,
      priority,
      ...(typeof effective === 'number' ? { effective } : {}),
      ...(typeof expires === 'number' ? { expires } : {}),
      ...(covertRaw ? { covert: ['true', '1', 'yes'].includes(covertRaw) } : {}),
      ...(get('sealed') ? { sealed: get('sealed') } : {}),
    });
  }
  if (problems.length) throw new HotlistError(source, problems);
  const version = createHash('sha256').update(body).digest('hex').slice(0, 12);
  const listId = source.replace(/^.*[\\/]/, '').replace(/\.csv$/i, '');
  return { listId, version, entries };
}
