/**
 * The entries of one loaded hot list, stored column-wise in typed arrays. A million entries as
 * JavaScript objects cost several hundred megabytes; as columns they cost ~35 MB. The matcher
 * only needs the public fields to decide a hit; an entry's id and sealed blob are fetched from
 * their source (memory for small lists, the list file on disk for large ones) for hits only.
 */
import { HOTLIST_TYPES, type HotlistEntry, type HotlistType } from '../types.ts';
import { MAX_PLATE_LENGTH } from './equivalence.ts';

const COVERT = 1;
const WILDCARD = 2;
/** The entry's id is the default one (defaultEntryId): no need to read it from disk. */
const DEFAULT_ID = 4;

/** The id an entry gets when its source gives none: public fields only, stable across versions. */
export function defaultEntryId(plate: string, state: string | undefined, listType: HotlistType): string {
  return `${listType}:${plate}${state ? `:${state}` : ''}`;
}

/** The fields of an entry the table keeps in memory. */
export type PublicFields = Omit<HotlistEntry, 'id' | 'sealed'>;

/** Where the rest of an entry (id, sealed blob) comes from. */
export interface EntryDetails {
  /** The entry's own id; asked only for entries without a default id. */
  id(index: number): string;
  sealed(index: number): string | undefined;
  close?(): void;
}

export function isWildcard(plate: string): boolean {
  return plate.includes('*') || plate.includes('?');
}

export class EntryTable {
  readonly plateBytes: Uint8Array;
  readonly plateLength: Uint8Array;
  readonly stateCode: Uint16Array;
  readonly listTypeCode: Uint8Array;
  readonly priority: Uint8Array;
  /** ms since epoch; NaN when the entry has no such bound. */
  readonly effective: Float64Array;
  readonly expires: Float64Array;
  readonly flags: Uint8Array;
  /** State code → two-letter state; index 0 is "no state". */
  readonly states: string[] = [''];
  private readonly stateIndex = new Map<string, number>([['', 0]]);
  private count = 0;
  private detailSource: EntryDetails | undefined;

  constructor(readonly capacity: number) {
    this.plateBytes = new Uint8Array(capacity * MAX_PLATE_LENGTH);
    this.plateLength = new Uint8Array(capacity);
    this.stateCode = new Uint16Array(capacity);
    this.listTypeCode = new Uint8Array(capacity);
    this.priority = new Uint8Array(capacity);
    this.effective = new Float64Array(capacity);
    this.expires = new Float64Array(capacity);
    this.flags = new Uint8Array(capacity);
  }

  get size(): number {
    return this.count;
  }

  /** Appends an entry whose plate bytes the caller has already written at `plateAt(index)`. */
  commit(length: number, state: string, listType: number, priority: number, effective: number, expires: number, covert: boolean, wildcard: boolean, defaultId = false): number {
    const i = this.count++;
    this.plateLength[i] = length;
    let s = this.stateIndex.get(state);
    if (s === undefined) {
      s = this.states.length;
      this.states.push(state);
      this.stateIndex.set(state, s);
    }
    this.stateCode[i] = s;
    this.listTypeCode[i] = listType;
    this.priority[i] = priority;
    this.effective[i] = effective;
    this.expires[i] = expires;
    this.flags[i] = (covert ? COVERT : 0) | (wildcard ? WILDCARD : 0) | (defaultId ? DEFAULT_ID : 0);
    return i;
  }

  /** Offset in plateBytes where the next committed entry's plate goes. */
  get nextPlateAt(): number {
    return this.count * MAX_PLATE_LENGTH;
  }

  add(fields: PublicFields): number {
    const at = this.nextPlateAt;
    for (let j = 0; j < fields.plate.length; j++) this.plateBytes[at + j] = fields.plate.charCodeAt(j);
    return this.commit(
      fields.plate.length,
      fields.state ?? '',
      HOTLIST_TYPES.indexOf(fields.listType),
      fields.priority,
      fields.effective ?? NaN,
      fields.expires ?? NaN,
      fields.covert === true,
      isWildcard(fields.plate),
    );
  }

  setDetails(source: EntryDetails): void {
    this.detailSource = source;
  }

  plate(i: number): string {
    const at = i * MAX_PLATE_LENGTH;
    return String.fromCharCode(...this.plateBytes.subarray(at, at + this.plateLength[i]!));
  }

  state(i: number): string | undefined {
    return this.states[this.stateCode[i]!] || undefined;
  }

  listType(i: number): HotlistType {
    return HOTLIST_TYPES[this.listTypeCode[i]!]!;
  }

  isWildcard(i: number): boolean {
    return (this.flags[i]! & WILDCARD) !== 0;
  }

  isCovert(i: number): boolean {
    return (this.flags[i]! & COVERT) !== 0;
  }

  /** In force at `at`: effective ≤ at < expires, either bound optional. */
  live(i: number, at: number): boolean {
    const from = this.effective[i]!;
    const to = this.expires[i]!;
    return !(from > at) && !(to <= at);
  }

  /** The entry's id (a disk read only for file-backed entries with an id of their own). */
  entryId(i: number): string {
    if ((this.flags[i]! & DEFAULT_ID) !== 0) return defaultEntryId(this.plate(i), this.state(i), this.listType(i));
    return this.source().id(i);
  }

  /** The entry's sealed blob (a disk read for file-backed lists). */
  sealedOf(i: number): string | undefined {
    return this.source().sealed(i);
  }

  private source(): EntryDetails {
    if (!this.detailSource) throw new Error('entry table has no detail source');
    return this.detailSource;
  }

  /** The whole entry, id and sealed blob included (a disk read for file-backed lists). */
  entry(i: number): HotlistEntry {
    const id = this.entryId(i);
    const sealed = this.sealedOf(i);
    const state = this.state(i);
    const effective = this.effective[i]!;
    const expires = this.expires[i]!;
    return {
      id,
      plate: this.plate(i),
      ...(state ? { state } : {}),
      listType: this.listType(i),
      priority: this.priority[i]!,
      ...(Number.isNaN(effective) ? {} : { effective }),
      ...(Number.isNaN(expires) ? {} : { expires }),
      ...(this.isCovert(i) ? { covert: true } : {}),
      ...(sealed ? { sealed } : {}),
    };
  }

  close(): void {
    this.detailSource?.close?.();
  }
}

/** A table over entries already in memory (CSV lists, tests). */
export function tableFromEntries(entries: readonly HotlistEntry[]): EntryTable {
  const table = new EntryTable(entries.length);
  for (const e of entries) table.add(e);
  table.setDetails({ id: (i) => entries[i]!.id, sealed: (i) => entries[i]!.sealed });
  return table;
}

/** Bytes the table's columns hold. */
export function tableBytes(table: EntryTable): number {
  return table.capacity * (MAX_PLATE_LENGTH + 1 + 2 + 1 + 1 + 8 + 8 + 1);
}
