/**
 * Search by plate pattern (partial, wildcard), capture-time range and camera, over the sealed
 * plate index. Results are summaries from the index (id, day, time, camera, plate); opening a
 * detection or its images is a separate, separately audited access.
 */
import type { IndexBook } from './index-book.ts';
import { InvalidInputError } from './errors.ts';
import { addDays, checkCamera, dayOf, uuidTime } from './layout.ts';
import { compilePlatePattern, type ScanFilter } from './plate-index.ts';
import type { RecordClass } from './records.ts';

export interface SearchQuery {
  /** Whole-plate pattern: letters, digits, `*` (any run), `?` (one character). Omit for all plates. */
  readonly plate?: string;
  /** Capture-time range, ms since epoch, inclusive. */
  readonly from: number;
  readonly to: number;
  readonly cameraId?: string;
  readonly kind?: 'all' | 'reads' | 'hits';
  /** At most this many results (default 1000, at most 10000); `truncated` says when more matched. */
  readonly limit?: number;
}

export interface SearchHit {
  readonly id: string;
  readonly day: string;
  readonly class: RecordClass;
  readonly capturedAt: number;
  readonly cameraId: string;
  readonly plate: string;
}

export interface SearchResult {
  readonly hits: readonly SearchHit[];
  readonly truncated: boolean;
}

const MAX_SPAN_DAYS = 400;
const DEFAULT_LIMIT = 1000;
const MAX_LIMIT = 10_000;

export interface CheckedQuery {
  readonly filter: ScanFilter;
  readonly classes: readonly RecordClass[];
  readonly days: readonly string[];
  readonly limit: number;
}

export function checkQuery(query: unknown): CheckedQuery {
  if (typeof query !== 'object' || query === null) throw new InvalidInputError('query: expected {from, to, plate?, cameraId?, kind?, limit?}');
  const q = query as SearchQuery;
  for (const f of ['from', 'to'] as const) {
    if (typeof q[f] !== 'number' || !Number.isFinite(q[f]) || q[f] < 0) throw new InvalidInputError(`query.${f}: ms since epoch`);
  }
  if (q.from > q.to) throw new InvalidInputError('query: from is after to');
  if (q.to - q.from > MAX_SPAN_DAYS * 86_400_000) throw new InvalidInputError(`query: at most ${MAX_SPAN_DAYS} days at once`);
  const limit = q.limit ?? DEFAULT_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) throw new InvalidInputError(`query.limit: an integer 1–${MAX_LIMIT}`);
  const kind = q.kind ?? 'all';
  if (!['all', 'reads', 'hits'].includes(kind)) throw new InvalidInputError('query.kind: all, reads or hits');
  const classes: RecordClass[] = kind === 'reads' ? ['read'] : kind === 'hits' ? ['hit'] : ['read', 'hit'];
  const filter: ScanFilter = {
    from: q.from, to: q.to,
    ...(q.plate !== undefined ? { regex: compilePlatePattern(q.plate) } : {}),
    ...(q.cameraId !== undefined ? { camera: checkCamera(q.cameraId, 'query.cameraId') } : {}),
  };
  // Records are filed by the day they were stored; capture and storage differ by a pass at most,
  // so one day either side of the range covers them.
  const days: string[] = [];
  for (let d = addDays(dayOf(q.from), -1), last = addDays(dayOf(q.to), 1); d <= last; d = addDays(d, 1)) days.push(d);
  return { filter, classes, days, limit };
}

export async function search(index: IndexBook, query: CheckedQuery): Promise<SearchResult> {
  const hits: SearchHit[] = [];
  for (const day of query.days) {
    const found: SearchHit[] = [];
    for (const cls of query.classes) {
      for await (const e of index.scan(cls, day, query.filter)) {
        found.push({ id: e.id, day, class: cls, capturedAt: uuidTime(e.id), cameraId: e.camera, plate: e.plate });
      }
    }
    hits.push(...found.sort((a, b) => (a.id < b.id ? -1 : 1)));
    if (hits.length > query.limit) return { hits: hits.slice(0, query.limit), truncated: true };
  }
  return { hits, truncated: false };
}
