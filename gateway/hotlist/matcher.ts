/**
 * Hot-list matching. The skeleton matches exactly on the normalised plate, honouring the
 * entry's effective/expiry window and state; the hot-list issue adds look-alike classes,
 * edit distance and wildcards behind the same `match()`.
 */
import type { HotlistEntry, Match } from '../types.ts';
import type { HotlistFile } from './csv.ts';

export interface MatchQuery {
  readonly plate: string;
  readonly state?: string;
  /** ms since epoch, for effective/expiry windows. */
  readonly at: number;
}

export class HotlistMatcher {
  private readonly byPlate = new Map<string, HotlistEntry[]>();

  constructor(private readonly list: HotlistFile) {
    for (const entry of list.entries) {
      const bucket = this.byPlate.get(entry.plate);
      if (bucket) bucket.push(entry);
      else this.byPlate.set(entry.plate, [entry]);
    }
  }

  get version(): string {
    return this.list.version;
  }

  get size(): number {
    return this.list.entries.length;
  }

  /** The best match for a read, or undefined. Highest priority wins; ties go to the earlier entry. */
  match(query: MatchQuery): Match | undefined {
    const bucket = this.byPlate.get(query.plate);
    if (!bucket) return undefined;
    const live = bucket
      .filter((e) => (e.effective === undefined || e.effective <= query.at) && (e.expires === undefined || query.at < e.expires))
      // A read whose state is known must not hit an entry for another state.
      .filter((e) => !(e.state && query.state && e.state !== query.state))
      .sort((a, b) => b.priority - a.priority);
    const [best, next] = live;
    if (!best) return undefined;
    return {
      entryId: best.id,
      listId: this.list.listId,
      listVersion: this.list.version,
      kind: 'exact',
      distance: 0,
      substitutions: [],
      entry: best,
      ...(next ? { nextBest: next.id } : {}),
    };
  }
}
