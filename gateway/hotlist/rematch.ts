/**
 * Historical re-match: when a list brings new entries (a partial plate from this morning's
 * robbery, a car reported stolen last night), the detections already kept for the retention
 * window are searched for them and each find is raised as a `historical-hit` event.
 *
 * The store is reached only through DetectionScan, so the evidence store can change its layout
 * (encryption, indexes) behind it. Entry windows are judged now, not at capture time: a plate
 * listed today that passed last week is exactly the lead an investigator wants.
 */
import type { Detection, EventSink } from '../types.ts';
import { MAX_PLATE_LENGTH } from './equivalence.ts';
import type { HotlistMatcher, LoadedList } from './matcher.ts';
import { EntryTable } from './table.ts';

export interface TimeRange {
  /** ms since epoch, inclusive */
  readonly from: number;
  /** ms since epoch, exclusive */
  readonly to: number;
}

/** What re-matching needs from the evidence store. */
export interface DetectionScan {
  /** Detections captured in `range`, oldest first, for which `predicate` holds. */
  scanDetections(range: TimeRange, predicate: (d: Detection) => boolean): AsyncIterable<Detection>;
}

/**
 * Who the store records as reading (P8: every access is audited, detection browsing needs a
 * purpose and a case number). Structurally the store's AccessContext.
 */
export interface ScanAccess {
  readonly user: string;
  readonly source: string;
  readonly purpose: string;
  readonly caseNumber: string;
}

/** The re-match's own access: a system action, named so an auditor can tell it from a person's. */
export const REMATCH_ACCESS: ScanAccess = { user: 'system', source: 'local', purpose: 'historical re-match of new hot-list entries', caseNumber: 'hotlist-rematch' };

/** The store surface the adapter uses (gateway/store/detection-store.ts). */
export interface DayStore {
  day(ctx: ScanAccess, day: string): AsyncIterable<Detection>;
}

const DAY_MS = 86_400_000;

/** DetectionScan over the evidence store: one UTC day at a time, the days of the range only. */
export function storeScan(store: DayStore, access: ScanAccess = REMATCH_ACCESS): DetectionScan {
  return {
    async *scanDetections(range, predicate) {
      for (let day = Math.floor(range.from / DAY_MS) * DAY_MS; day < range.to; day += DAY_MS) {
        for await (const d of store.day(access, new Date(day).toISOString().slice(0, 10))) {
          if (d.capturedAt >= range.from && d.capturedAt < range.to && predicate(d)) yield d;
        }
      }
    },
  };
}

/**
 * Entries of `next` that `previous` did not hold (same plate, state and list type), as a list of
 * their own; undefined when nothing was added. Plates are looked up in the previous list's own
 * index (no second copy of a million keys), partial plates compared as text.
 */
export function addedEntries(previous: HotlistMatcher, next: LoadedList): LoadedList | undefined {
  const old = previous.list.table;
  const fresh = next.table;
  const oldPatterns = new Set<string>();
  for (let i = 0; i < old.size; i++) if (old.isWildcard(i)) oldPatterns.add(identity(old, i));
  const codes = new Uint8Array(MAX_PLATE_LENGTH);
  const added: number[] = [];
  for (let i = 0; i < fresh.size; i++) {
    let known = false;
    if (fresh.isWildcard(i)) known = oldPatterns.has(identity(fresh, i));
    else {
      const want = identity(fresh, i);
      const len = previous.eq.encode(fresh.plate(i), codes);
      previous.index.lookup(codes, len, 0, (j) => {
        if (!known && identity(old, j) === want) known = true;
      });
    }
    if (!known) added.push(i);
  }
  if (added.length === 0) return undefined;
  if (added.length === fresh.size) return next;
  const table = new EntryTable(added.length);
  for (const i of added) {
    const effective = fresh.effective[i]!;
    const expires = fresh.expires[i]!;
    const state = fresh.state(i);
    table.add({
      plate: fresh.plate(i), listType: fresh.listType(i), priority: fresh.priority[i]!, covert: fresh.isCovert(i),
      ...(state ? { state } : {}),
      ...(Number.isNaN(effective) ? {} : { effective }),
      ...(Number.isNaN(expires) ? {} : { expires }),
    });
  }
  table.setDetails({ id: (j) => fresh.entryId(added[j]!), sealed: (j) => fresh.sealedOf(added[j]!) });
  return { info: next.info, table };
}

function identity(t: EntryTable, i: number): string {
  return `${t.plate(i)}|${t.state(i) ?? ''}|${t.listType(i)}`;
}

export interface RematchDeps {
  readonly scan: DetectionScan;
  readonly events: EventSink;
  readonly now: () => number;
  /** How far back detections are kept (P6; 30 days by default). */
  readonly retentionMs: number;
}

export interface RematchResult {
  readonly scanned: number;
  readonly hits: number;
}

/**
 * Matches every kept detection of the retention window against `added` (a matcher over the new
 * entries only) and raises one `historical-hit` per find. A detection that already hit the same
 * entry live is skipped.
 */
export async function rematchHistory(added: HotlistMatcher, deps: RematchDeps, signal?: AbortSignal): Promise<RematchResult> {
  const now = deps.now();
  let scanned = 0;
  let hits = 0;
  for await (const d of deps.scan.scanDetections({ from: now - deps.retentionMs, to: now + 1 }, () => true)) {
    signal?.throwIfAborted();
    scanned++;
    const match = added.match({
      plate: d.plate,
      candidates: d.candidates.map((c) => c.text),
      ...(d.state ? { state: d.state } : {}),
      at: now,
    });
    if (!match || match.entryId === d.match?.entryId) continue;
    hits++;
    deps.events.emit({
      type: 'historical-hit',
      at: deps.now(),
      detectionId: d.id,
      capturedAt: d.capturedAt,
      cameraId: d.cameraId,
      deviceId: d.deviceId,
      plate: d.plate,
      match,
    });
  }
  return { scanned, hits };
}
