/**
 * Keeps the plate index of each class and day: loose entries written with their records, merged
 * into sealed segments in the background once SEGMENT_SIZE have gathered, and scanned by searches.
 * A merge is one atomic batch (segment in, its loose entries out), so a crash leaves either.
 */
import type { RandomSource } from '../ids.ts';
import { open, seal } from './crypto.ts';
import type { BatchOp } from './db.ts';
import type { KV } from './days.ts';
import { IntegrityError } from './errors.ts';
import type { Keyring } from './keyring.ts';
import { K, range } from './layout.ts';
import { decodeLoose, encodeLoose, encodeSegment, matchesEntry, scanSegment, type IndexEntry, type ScanFilter } from './plate-index.ts';

type Cls = 'read' | 'hit';

export class IndexBook {
  private readonly loose = new Map<string, number>();
  private readonly loading = new Map<string, Promise<void>>();
  private readonly merging = new Map<string, Promise<void>>();

  constructor(
    private readonly db: KV,
    private readonly keyring: Keyring,
    private readonly random: RandomSource,
    private readonly segmentSize: number,
    private readonly onError: (err: unknown) => void,
  ) {}

  async load(cls: Cls, day: string): Promise<void> {
    const id = `${cls}!${day}`;
    if (this.loose.has(id)) return;
    let pending = this.loading.get(id);
    if (!pending) {
      pending = (async () => {
        let n = 0;
        for await (const _ of this.db.keys(range(`${K.indexPrefix(cls, day)}e!`))) n++;
        this.loose.set(id, n);
      })().finally(() => this.loading.delete(id));
      this.loading.set(id, pending);
    }
    await pending;
  }

  entryOp(cls: Cls, day: string, id: string, plate: string, camera: string, key: Buffer): BatchOp {
    const k = K.indexEntry(cls, day, id);
    return { type: 'put', key: k, value: seal(key, encodeLoose(plate, camera), k, this.random) };
  }

  /** After a batch with `n` new loose entries of (cls, day) is on disk. */
  committed(cls: Cls, day: string, n: number): void {
    const id = `${cls}!${day}`;
    const count = (this.loose.get(id) ?? 0) + n;
    this.loose.set(id, count);
    if (count >= this.segmentSize && !this.merging.has(id)) {
      const job = this.merge(cls, day).catch(this.onError).finally(() => this.merging.delete(id));
      this.merging.set(id, job);
    }
  }

  /** Merges up to SEGMENT_SIZE loose entries of (cls, day) into one segment. */
  async merge(cls: Cls, day: string): Promise<void> {
    const key = this.keyring.find(`${cls}!${day}`);
    if (!key) return;
    const entries: IndexEntry[] = [];
    const keys: string[] = [];
    for await (const [k, v] of this.db.iterator({ ...range(`${K.indexPrefix(cls, day)}e!`), limit: this.segmentSize })) {
      keys.push(k);
      try {
        entries.push(decodeLoose(k.slice(k.lastIndexOf('!') + 1), open(key.key, v, k)));
      } catch (err) {
        // An entry that fails its tag is left where it is (and reported): a rebuild restores it.
        if (!(err instanceof IntegrityError)) throw err;
        keys.pop();
        this.onError(err);
      }
    }
    if (!entries.length) return;
    await this.writeSegment(cls, day, entries, keys.map((k) => ({ type: 'del', key: k })));
    const id = `${cls}!${day}`;
    this.loose.set(id, Math.max(0, (this.loose.get(id) ?? 0) - keys.length));
  }

  /** Writes entries straight into segments (the bench's bulk load and index rebuilds). */
  async bulkLoad(cls: Cls, day: string, entries: readonly IndexEntry[]): Promise<void> {
    for (let i = 0; i < entries.length; i += this.segmentSize) await this.writeSegment(cls, day, entries.slice(i, i + this.segmentSize), []);
  }

  /** Every index entry of (cls, day) that passes the filter, segments first, then loose entries. */
  async *scan(cls: Cls, day: string, filter: ScanFilter): AsyncGenerator<IndexEntry> {
    const key = this.keyring.find(`${cls}!${day}`);
    if (!key) return;
    for await (const [k, v] of this.db.iterator(range(K.indexPrefix(cls, day)))) {
      let plain: Buffer;
      try {
        plain = open(key.key, v, k);
      } catch (err) {
        // Reported and skipped: one damaged segment must not make every search fail.
        if (!(err instanceof IntegrityError)) throw err;
        this.onError(err);
        continue;
      }
      if (k.charAt(K.indexPrefix(cls, day).length) === 's') yield* scanSegment(plain, filter);
      else {
        const entry = decodeLoose(k.slice(k.lastIndexOf('!') + 1), plain);
        if (matchesEntry(entry, filter)) yield entry;
      }
    }
  }

  /** Waits for merges in flight (close). */
  async idle(): Promise<void> {
    await Promise.allSettled([...this.merging.values()]);
  }

  forgetDay(day: string): void {
    for (const id of [...this.loose.keys()]) if (id.endsWith(`!${day}`)) this.loose.delete(id);
  }

  private async writeSegment(cls: Cls, day: string, entries: readonly IndexEntry[], extra: BatchOp[]): Promise<void> {
    const sorted = [...entries].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const first = sorted[0];
    if (!first) return;
    const key = await this.keyring.obtain(`${cls}!${day}`);
    const k = K.indexSegment(cls, day, first.id);
    // Not synced: the loose entries stay until this batch is applied, so losing it loses nothing.
    await this.db.batch([{ type: 'put', key: k, value: seal(key.key, encodeSegment(sorted), k, this.random) }, ...extra]);
  }
}
