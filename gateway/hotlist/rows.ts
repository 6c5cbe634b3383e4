/**
 * Source columns and row rules, shared by the agency-side import and the device's development
 * CSV. Two source formats:
 *
 *  - `alpr`: the project's CSV for local lists and pre-normalised feeds: `plate`, `list_type`,
 *    optional `state`, `priority`, `effective`, `expires`, `covert`, `id`, and personal columns
 *    (sealed at import). A row whose `source` is `local` (the default) was entered by a member of
 *    the agency and must carry `entered_by`, `case_number` and `synopsis` (P3).
 *  - `ncic`: an NCIC-extract-like file keyed by NCIC field codes (`LIC` plate, `LIS` state, `NIC`,
 *    `ORI`, `OCA`, vehicle fields, …); every field but plate and state is sealed. The list type
 *    comes from the import's `--list-type`.
 *
 * Public fields (P4): plate, state, list type, priority, dates, covert. Everything else is personal.
 */
import { HOTLIST_TYPES, type HotlistEntry, type HotlistType } from '../types.ts';
import type { Row } from './csv.ts';
import { MAX_PLATE_LENGTH } from './equivalence.ts';
import { defaultEntryId } from './table.ts';

export type SourceFormat = 'alpr' | 'ncic';
/** `import`: agency side, personal columns allowed (to be sealed). `device`: public columns and `sealed` only. */
export type ParseMode = 'import' | 'device';

const ALPR_PUBLIC = ['id', 'plate', 'state', 'list_type', 'priority', 'effective', 'expires', 'covert'] as const;
const ALPR_PERSONAL = ['source', 'entered_by', 'case_number', 'synopsis', 'ncic_number', 'agency', 'vin', 'make', 'model', 'year', 'colour', 'color', 'notes', 'contact'] as const;
/** NCIC field codes we accept (license, vehicle, record identifiers, free text). */
const NCIC_PERSONAL = ['lit', 'liy', 'vin', 'vyr', 'vma', 'vmo', 'vst', 'vco', 'nic', 'ori', 'oca', 'dot', 'dte', 'mis', 'nam'] as const;
const LOCAL_REQUIRED = ['entered_by', 'case_number', 'synopsis'] as const;

/** Priority when a row gives none: life-safety alerts first, administrative lists last. */
export const DEFAULT_PRIORITY: Readonly<Record<HotlistType, number>> = {
  amber: 100, silver: 95, wanted: 90, missing: 85, 'stolen-vehicle': 70, 'stolen-plate': 65, bolo: 60, partial: 60, suspended: 30,
};

/** A partial plate needs this many known characters; fewer would hit a large share of all plates. */
export const MIN_WILDCARD_LITERALS = 4;

export interface ColumnPlan {
  readonly format: SourceFormat;
  readonly mode: ParseMode;
  readonly columns: readonly string[];
  readonly problems: string[];
  /** List type for formats that have no list_type column (ncic). */
  readonly listType?: HotlistType;
  readonly minWildcardLiterals: number;
}

export interface PlanOptions {
  readonly listType?: HotlistType;
  readonly minWildcardLiterals?: number;
}

/** Works out the format from the header and checks the columns against it. */
export function planColumns(header: Row, mode: ParseMode, options: PlanOptions = {}): ColumnPlan {
  const columns = header.fields.map((f) => f.trim().toLowerCase());
  const format: SourceFormat = columns.includes('lic') ? 'ncic' : 'alpr';
  const at = `line ${header.line}`;
  const problems: string[] = [];
  if (format === 'ncic' && mode === 'device') {
    problems.push(`${at}: an NCIC extract holds personal data; the device takes it only sealed: convert the list with \`alpr hotlist import\``);
  }
  const known: readonly string[] = format === 'ncic'
    ? ['lic', 'lis', ...NCIC_PERSONAL]
    : [...ALPR_PUBLIC, ...(mode === 'import' ? ALPR_PERSONAL : ['sealed'])];
  for (const col of columns) {
    if (known.includes(col)) continue;
    if (mode === 'device' && (ALPR_PERSONAL as readonly string[]).includes(col)) {
      problems.push(`${at}: column ${JSON.stringify(col)} holds personal data; the device takes it only sealed: convert the list with \`alpr hotlist import\``);
    } else if (mode === 'import' && col === 'sealed') {
      problems.push(`${at}: column "sealed" is for lists already converted; import the personal columns instead`);
    } else problems.push(`${at}: unknown column ${JSON.stringify(col)} (known: ${known.join(', ')})`);
  }
  const required = format === 'ncic' ? ['lic'] : ['plate', 'list_type'];
  for (const col of required) if (!columns.includes(col)) problems.push(`${at}: missing required column "${col}"`);
  if (format === 'alpr' && mode === 'import') {
    // Without `source`, every row is a local entry; with it, only the rows that say so.
    for (const col of LOCAL_REQUIRED) {
      if (!columns.includes(col) && !columns.includes('source')) problems.push(`${at}: missing required column "${col}" (locally entered entries must carry ${LOCAL_REQUIRED.join(', ')})`);
    }
  }
  if (new Set(columns).size !== columns.length) problems.push(`${at}: a column name appears twice`);
  const listType = format === 'ncic' ? (options.listType ?? 'stolen-vehicle') : undefined;
  return {
    format, mode, columns, problems,
    ...(listType ? { listType } : {}),
    minWildcardLiterals: options.minWildcardLiterals ?? MIN_WILDCARD_LITERALS,
  };
}

/** A checked row: the public entry, its personal fields (import) or its sealed blob (device). */
export interface CheckedRow {
  readonly line: number;
  readonly entry: HotlistEntry;
  readonly personal: Readonly<Record<string, string>>;
  readonly sealedAlready?: string;
}

/** Keeps at most this many messages; a file with a systematic error would otherwise fill memory. */
const MAX_PROBLEMS = 1000;

/** Where each plate/state/type and each id was first seen: shared by the files of one import. */
export class SeenEntries {
  readonly keys = new Map<string, string>();
  readonly ids = new Map<string, string>();
}

/** Checks rows one at a time (the import streams), remembering what duplicates need. */
export class RowChecker {
  readonly problems: string[] = [];
  /** Problems beyond MAX_PROBLEMS, counted only. */
  unreported = 0;
  rows = 0;

  /** `file`: named in duplicate messages when an import reads several. */
  constructor(private readonly plan: ColumnPlan, private readonly seen = new SeenEntries(), private readonly file = '') {}

  check(row: Row): CheckedRow | undefined {
    this.rows++;
    const { columns } = this.plan;
    const at = `line ${row.line}`;
    if (row.fields.length !== columns.length) {
      this.report([`${at}: ${row.fields.length} fields, header has ${columns.length}`]);
      return undefined;
    }
    const get = (name: string): string => {
      const i = columns.indexOf(name);
      return i < 0 ? '' : row.fields[i]!;
    };
    const ncic = this.plan.format === 'ncic';
    const problems: string[] = [];
    const rawPlate = get(ncic ? 'lic' : 'plate');
    const plate = checkPlate(rawPlate, this.plan.minWildcardLiterals, problems);
    const listTypeRaw = ncic ? this.plan.listType! : get('list_type').toLowerCase();
    if (!(HOTLIST_TYPES as readonly string[]).includes(listTypeRaw)) problems.push(`list_type ${JSON.stringify(get('list_type'))}: expected one of ${HOTLIST_TYPES.join(', ')}`);
    const listType = listTypeRaw as HotlistType;
    const stateRaw = get(ncic ? 'lis' : 'state');
    const state = stateRaw.toLowerCase();
    if (state && !/^[a-z]{2}$/.test(state)) problems.push(`state ${JSON.stringify(stateRaw)}: expected a two-letter code`);
    const priorityRaw = get('priority');
    const priority = priorityRaw === '' ? (DEFAULT_PRIORITY[listType] ?? 50) : Number(priorityRaw);
    if (!Number.isInteger(priority) || priority < 0 || priority > 100) problems.push(`priority ${JSON.stringify(priorityRaw)}: expected an integer 0–100`);
    const effective = parseTime(get('effective'), 'effective', problems);
    const expires = parseTime(get('expires'), 'expires', problems);
    if (effective !== undefined && expires !== undefined && expires <= effective) problems.push('expires is not after effective');
    const covertRaw = get('covert').toLowerCase();
    if (covertRaw && !['true', 'false', '1', '0', 'yes', 'no'].includes(covertRaw)) problems.push(`covert ${JSON.stringify(get('covert'))}: expected true or false`);
    const personal = this.personal(row, problems);
    const key = `${plate}|${state}|${listType}`;
    const dup = this.seen.keys.get(key);
    if (dup !== undefined) problems.push(`duplicate of ${dup} (same plate, state and list type)`);
    const id = get('id') || defaultEntryId(plate, state, listType);
    if (id.length > 128 || /\p{Cc}/u.test(id)) problems.push(`id ${JSON.stringify(id.slice(0, 40))}: at most 128 printable characters`);
    const dupId = this.seen.ids.get(id);
    if (dupId !== undefined && dup === undefined) problems.push(`id ${JSON.stringify(id)} already used on ${dupId}`);
    if (problems.length) {
      this.report(problems.map((p) => `${at}: ${p}`));
      return undefined;
    }
    const where = this.file ? `${this.file} line ${row.line}` : `line ${row.line}`;
    this.seen.keys.set(key, where);
    this.seen.ids.set(id, where);
    const sealed = this.plan.mode === 'device' ? get('sealed') : '';
    return {
      line: row.line,
      entry: {
        id,
        plate,
        ...(state ? { state } : {}),
        listType,
        priority,
        ...(effective !== undefined ? { effective } : {}),
        ...(expires !== undefined ? { expires } : {}),
        ...(covertRaw ? { covert: ['true', '1', 'yes'].includes(covertRaw) } : {}),
      },
      personal,
      ...(sealed ? { sealedAlready: sealed } : {}),
    };
  }

  /** The personal fields of an import row, and the P3 rule for locally entered rows. */
  private personal(row: Row, problems: string[]): Record<string, string> {
    if (this.plan.mode !== 'import') return {};
    const out: Record<string, string> = {};
    const ncic = this.plan.format === 'ncic';
    this.plan.columns.forEach((col, i) => {
      const value = row.fields[i] ?? '';
      const isPublic = ncic ? col === 'lic' || col === 'lis' : (ALPR_PUBLIC as readonly string[]).includes(col);
      if (!isPublic && value !== '') out[col === 'color' ? 'colour' : col] = value;
    });
    if (!ncic) {
      const source = (out.source ?? 'local').toLowerCase();
      if (!/^[a-z][a-z0-9-]{0,31}$/.test(source)) problems.push(`source ${JSON.stringify(out.source)}: expected a short name such as local, ncic, dmv`);
      out.source = source;
      if (source === 'local') {
        const missing = LOCAL_REQUIRED.filter((f) => !out[f]?.trim());
        if (missing.length) problems.push(`a locally entered entry must carry the entering member, case number and synopsis (missing ${missing.join(', ')})`);
      }
    } else out.source = 'ncic';
    return out;
  }

  private report(problems: readonly string[]): void {
    for (const p of problems) {
      if (this.problems.length < MAX_PROBLEMS) this.problems.push(p);
      else this.unreported++;
    }
  }
}

/** Normalises a plate or partial plate and checks it; problems go to `problems`. */
export function checkPlate(raw: string, minLiterals: number, problems: string[]): string {
  const plate = raw.toUpperCase().replace(/[\s-]/g, '').replace(/\*{2,}/g, '*');
  const wildcard = /[*?]/.test(plate);
  if (!wildcard) {
    if (!/^[A-Z0-9]{2,10}$/.test(plate)) problems.push(`plate ${JSON.stringify(raw)}: expected 2–10 of A–Z, 0–9`);
    return plate;
  }
  if (!/^[A-Z0-9*?]+$/.test(plate) || plate.length > MAX_PLATE_LENGTH) {
    problems.push(`plate ${JSON.stringify(raw)}: a partial plate is at most ${MAX_PLATE_LENGTH} of A–Z, 0–9, ? (one character) and * (any run)`);
    return plate;
  }
  const literals = plate.replace(/[*?]/g, '').length;
  if (literals < minLiterals) {
    problems.push(`plate ${JSON.stringify(raw)}: a partial plate with ${literals} known character${literals === 1 ? '' : 's'} would match too many plates (at least ${minLiterals} needed)`);
  }
  return plate;
}

function parseTime(raw: string, name: string, problems: string[]): number | undefined {
  if (raw === '') return undefined;
  const t = Date.parse(raw);
  if (Number.isNaN(t)) {
    problems.push(`${name}: not an ISO 8601 date/time: ${JSON.stringify(raw)}`);
    return undefined;
  }
  return t;
}
