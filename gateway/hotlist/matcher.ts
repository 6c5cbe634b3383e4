/**
 * Hot-list matching: every candidate of a read against one loaded list, by exact plate,
 * OCR-equivalence (look-alike classes), edit distance ≤ k (policy.ts) and wildcard patterns;
 * then the effective/expiry window and the state rule; then priority order. The best hit comes
 * back with its explanation (kind, distance, substitutions) and the runner-up's id.
 *
 * The no-hit path — almost every read — allocates nothing: candidates are encoded into a reused
 * buffer and probed in typed-array indexes. Objects are made only for hits.
 */
import type { Candidate, Match, MatchKind } from '../types.ts';
import { EquivalenceTable, MAX_PLATE_LENGTH } from './equivalence.ts';
import { explainEdits, explainWildcard } from './explain.ts';
import { PlateIndex, type IndexStats } from './plate-index.ts';
import { editsFor, lookalikesFor, resolvePolicy, type MatchPolicy } from './policy.ts';
import type { HotlistFile } from './csv.ts';
import { tableBytes, tableFromEntries, type EntryTable } from './table.ts';
import { WildcardIndex } from './wildcard-index.ts';

export interface MatchQuery {
  /** The voted text. */
  readonly plate: string;
  /**
   * The read's top-N candidates, best first (texts, or texts with their share of the vote);
   * `plate` is matched first whether listed here or not. Alternatives scoring below the
   * policy's `minCandidateScore` are not matched.
   */
  readonly candidates?: readonly (string | Candidate)[];
  /** Two-letter state read from the plate, when known. */
  readonly state?: string;
  /** ms since epoch: effective/expiry windows and the list's age are judged at this time. */
  readonly at: number;
}

/** What the device knows about a loaded list besides its entries. */
export interface ListInfo {
  readonly listId: string;
  readonly version: string;
  /** ms since epoch: when the agency generated the list (P3 freshness). */
  readonly generatedAt: number;
  /** Where it came from, for logs: a file name or the import's sources. */
  readonly source: string;
}

export interface LoadedList {
  readonly info: ListInfo;
  readonly table: EntryTable;
}

const KIND_ORDER: Record<MatchKind, number> = { exact: 0, 'ocr-equivalent': 1, 'edit-distance': 2, wildcard: 3 };

interface RawHit {
  readonly entry: number;
  readonly kind: MatchKind;
  readonly distance: number;
  readonly rank: number;
  readonly text: string;
  readonly stateMismatch: boolean;
  readonly alignment?: Int8Array;
}

export class HotlistMatcher {
  readonly policy: MatchPolicy;
  readonly eq: EquivalenceTable;
  readonly index: PlateIndex;
  readonly wildcards: WildcardIndex;
  /** Look-alike substitutions each entry tolerates (policy by length and list type). */
  private readonly lookalikes: Uint8Array;
  private readonly codes = new Uint8Array(MAX_PLATE_LENGTH);
  // Per-lookup state read by the visitors (bound once, so lookups allocate no closures).
  private readonly hits: RawHit[] = [];
  private at = 0;
  private state = '';
  private text = '';
  private rank = 0;
  private readonly onPlate = (entry: number, distance: number): void => this.recordPlate(entry, distance);
  private readonly onPattern = (entry: number, alignment: Int8Array): void => this.recordPattern(entry, alignment);

  readonly list: LoadedList;

  /**
   * `list`: a loaded list, or the entries of a parsed CSV (tests, small lists: its generation
   * time is taken to be now).
   */
  constructor(list: LoadedList | HotlistFile, policy: Partial<MatchPolicy> = {}) {
    this.list = 'table' in list ? list : {
      info: { listId: list.listId, version: list.version, generatedAt: Date.now(), source: list.listId },
      table: tableFromEntries(list.entries),
    };
    this.policy = resolvePolicy(policy);
    this.eq = new EquivalenceTable(this.policy.equivalence);
    const table = this.list.table;
    const edits = new Uint8Array(table.size);
    this.lookalikes = new Uint8Array(table.size);
    for (let i = 0; i < table.size; i++) {
      const len = table.plateLength[i]!;
      const type = table.listType(i);
      edits[i] = table.isWildcard(i) ? 0 : editsFor(this.policy, len, type);
      this.lookalikes[i] = Math.min(255, lookalikesFor(this.policy, len, type));
    }
    this.index = new PlateIndex(table, this.eq, edits);
    this.wildcards = new WildcardIndex(table, this.eq);
  }

  get listId(): string {
    return this.list.info.listId;
  }

  get version(): string {
    return this.list.info.version;
  }

  get generatedAt(): number {
    return this.list.info.generatedAt;
  }

  get size(): number {
    return this.list.table.size;
  }

  /** Bytes held by the entry columns and both indexes (typed arrays only). */
  memory(): { table: number; index: IndexStats } {
    return { table: tableBytes(this.list.table), index: this.index.stats() };
  }

  /** The best hit for a read, or undefined. */
  match(query: MatchQuery): Match | undefined {
    const hits = this.collect(query);
    if (hits.length === 0) return undefined;
    hits.sort((a, b) => this.compare(a, b));
    return this.toMatch(hits[0]!, query.at, hits[1]);
  }

  /** Every hit for a read, best first, each with the next one as its runner-up. */
  matchAll(query: MatchQuery): Match[] {
    const hits = this.collect(query);
    hits.sort((a, b) => this.compare(a, b));
    return hits.map((h, i) => this.toMatch(h, query.at, hits[i + 1]));
  }

  /** Entry numbers hit by a read, unranked and unresolved (the bench counts hits with this). */
  hitEntries(query: MatchQuery): number[] {
    return this.collect(query).map((h) => h.entry);
  }

  /** The hits of one read; the array is reused by the next call. */
  private collect(query: MatchQuery): RawHit[] {
    this.hits.length = 0;
    this.at = query.at;
    this.state = query.state ? query.state.toLowerCase() : '';
    const candidates = query.candidates ?? [];
    const total = candidates.length + 1;
    let rank = 0;
    for (let c = 0; c < total; c++) {
      const candidate = c === 0 ? query.plate : candidates[c - 1]!;
      const raw = typeof candidate === 'string' ? candidate : candidate.text;
      if (c > 0 && (raw === query.plate || (typeof candidate !== 'string' && candidate.score < this.policy.minCandidateScore))) continue;
      const text = /^[A-Z0-9]+$/.test(raw) ? raw : raw.toUpperCase().replace(/[\s-]/g, '');
      const len = this.eq.encode(text, this.codes);
      if (len < 2) continue;
      this.text = text;
      this.rank = rank;
      const k = rank < this.policy.fuzzyCandidates ? this.index.maxEdits : 0;
      this.index.lookup(this.codes, len, k, this.onPlate);
      this.wildcards.lookup(this.codes, len, this.onPattern);
      rank++;
    }
    return this.hits;
  }

  private admissible(entry: number): boolean | 'mismatch' {
    const table = this.list.table;
    if (!table.live(entry, this.at)) return false;
    const code = table.stateCode[entry]!;
    if (code === 0 || this.state === '' || table.states[code] === this.state) return true;
    return this.policy.stateMismatch === 'demote' ? 'mismatch' : false;
  }

  private recordPlate(entry: number, distance: number): void {
    const ok = this.admissible(entry);
    if (!ok) return;
    const differing = distance > 0 ? 0 : this.literalDifferences(entry);
    if (differing > this.lookalikes[entry]!) return;
    const kind: MatchKind = distance > 0 ? 'edit-distance' : differing === 0 ? 'exact' : 'ocr-equivalent';
    this.keep({ entry, kind, distance, rank: this.rank, text: this.text, stateMismatch: ok === 'mismatch' });
  }

  private recordPattern(entry: number, alignment: Int8Array): void {
    const ok = this.admissible(entry);
    if (!ok) return;
    // Look-alikes at the pattern's known characters count against the entry's allowance.
    const table = this.list.table;
    const at = entry * MAX_PLATE_LENGTH;
    let differing = 0;
    for (let t = 0; t < table.plateLength[entry]!; t++) {
      const c = table.plateBytes[at + t]!;
      if (c !== 0x2a && c !== 0x3f && alignment[t]! >= 0 && this.text.charCodeAt(alignment[t]!) !== c) differing++;
    }
    if (differing > this.lookalikes[entry]!) return;
    this.keep({ entry, kind: 'wildcard', distance: 0, rank: this.rank, text: this.text, stateMismatch: ok === 'mismatch', alignment: alignment.slice() });
  }

  /** One hit per entry: the best over the read's candidates. */
  private keep(hit: RawHit): void {
    const i = this.hits.findIndex((h) => h.entry === hit.entry);
    if (i < 0) this.hits.push(hit);
    else if (this.compare(hit, this.hits[i]!) < 0) this.hits[i] = hit;
  }

  /** Positions where the read and an equal-length, equivalent plate differ (look-alike swaps). */
  private literalDifferences(entry: number): number {
    const table = this.list.table;
    const len = table.plateLength[entry]!;
    const at = entry * MAX_PLATE_LENGTH;
    let n = 0;
    for (let j = 0; j < len; j++) if (table.plateBytes[at + j] !== this.text.charCodeAt(j)) n++;
    return n;
  }

  /** State-consistent first, then priority, then the stronger kind, fewer edits, better candidate. */
  private compare(a: RawHit, b: RawHit): number {
    const p = this.list.table.priority;
    return (
      Number(a.stateMismatch) - Number(b.stateMismatch) ||
      p[b.entry]! - p[a.entry]! ||
      KIND_ORDER[a.kind] - KIND_ORDER[b.kind] ||
      a.distance - b.distance ||
      a.rank - b.rank ||
      a.entry - b.entry
    );
  }

  private toMatch(hit: RawHit, at: number, next: RawHit | undefined): Match {
    const table = this.list.table;
    const entry = table.entry(hit.entry);
    const info = this.list.info;
    const age = Math.max(0, at - info.generatedAt);
    const substitutions = hit.kind === 'wildcard'
      ? explainWildcard(hit.text, entry.plate, hit.alignment ?? [])
      : explainEdits(hit.text, entry.plate, this.eq);
    return {
      entryId: entry.id,
      listId: info.listId,
      listVersion: info.version,
      kind: hit.kind,
      distance: hit.distance,
      substitutions,
      entry,
      ...(next ? { nextBest: table.entryId(next.entry) } : {}),
      read: hit.text,
      candidateRank: hit.rank,
      ...(hit.stateMismatch ? { stateMismatch: true } : {}),
      listGeneratedAt: info.generatedAt,
      listAgeMs: age,
      listStale: age > this.policy.maxAgeMs,
    };
  }

  /** Closes the list's file (file-backed lists); call once the matcher is out of use. */
  close(): void {
    this.list.table.close();
  }
}
