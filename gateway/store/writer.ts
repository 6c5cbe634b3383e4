/**
 * Group commit. Puts queue here; one group is in flight at a time, and everything that queued
 * while it was being written goes into the next one. Each day's batch of a group is atomic and written with
 * `sync`, so a put resolves only once its record, images, index entry and chain link are all on
 * disk. Chain links are numbered here, in queue order, against heads that move only after a
 * batch succeeds: a failed batch leaves no gap in any chain.
 */
import type { ChainBook } from './chain-book.ts';
import { nextHead, type Head, type Link } from './chain.ts';
import { SYNC, type BatchOp } from './db.ts';
import type { KV } from './days.ts';
import type { IndexBook } from './index-book.ts';
import { encodeRef, type BlobClass, type BlobStore } from './blobs.ts';

export interface PendingWrite {
  readonly ops: BatchOp[];
  readonly chain: { readonly day: string; readonly camera: string; readonly id: string; readonly c: 'r' | 'h'; readonly digest: string };
  /** Sealed images to append to blob files; their pointers are put under `key` in the batch. */
  readonly blobs?: readonly { readonly cls: BlobClass; readonly day: string; readonly key: string; readonly data: Uint8Array }[];
  /** A new loose index entry is among `ops`. */
  readonly indexed?: { readonly cls: 'read' | 'hit'; readonly day: string };
}

interface Queued extends PendingWrite {
  resolve(): void;
  reject(err: unknown): void;
}

export class Writer {
  private queue: Queued[] = [];
  private draining: Promise<void> | undefined;

  constructor(
    /** Routes each day's batch to that day's database (days.ts). */
    private readonly db: KV,
    private readonly chains: ChainBook,
    private readonly index: IndexBook,
    private readonly blobs: BlobStore,
    /** Bounds one batch (and the memory it holds). */
    private readonly maxGroup = 256,
  ) {}

  /** Resolves when the write is durable. The chain of (day, camera) must have been loaded. */
  submit(write: PendingWrite): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ ...write, resolve, reject });
      this.draining ??= this.drain().finally(() => (this.draining = undefined));
    });
  }

  /** Waits until every queued write has settled. */
  async idle(): Promise<void> {
    while (this.draining) await this.draining;
  }

  private async drain(): Promise<void> {
    while (this.queue.length) {
      const group = this.queue.splice(0, this.maxGroup);
      // One batch per storage day (each day has its own database): a group that spans midnight
      // commits each day's writes atomically, and a day whose batch fails rejects only its writes.
      const byDay = new Map<string, { writes: Queued[]; ops: BatchOp[]; staged: Map<string, Head> }>();
      for (const w of group) {
        let d = byDay.get(w.chain.day);
        if (!d) byDay.set(w.chain.day, (d = { writes: [], ops: [], staged: new Map() }));
        const prev = d.staged.get(w.chain.camera) ?? this.chains.head(w.chain.day, w.chain.camera);
        const head = nextHead(prev, w.chain.digest);
        d.staged.set(w.chain.camera, head);
        const link: Link = { id: w.chain.id, c: w.chain.c, d: w.chain.digest, h: head.hash };
        d.writes.push(w);
        d.ops.push(...w.ops, this.chains.linkOp(w.chain.day, w.chain.camera, head.seq, link));
      }
      try {
        // Images first, synced, then the batches that point at them: no pointer outlives its bytes.
        for (const w of group) {
          const ops = byDay.get(w.chain.day)?.ops as BatchOp[];
          for (const b of w.blobs ?? []) ops.push({ type: 'put', key: b.key, value: encodeRef(await this.blobs.append(b.cls, b.day, b.data)) });
        }
        await this.blobs.sync();
      } catch (err) {
        for (const w of group) w.reject(err);
        continue;
      }
      for (const [day, d] of byDay) {
        try {
          await this.db.batch(d.ops, SYNC);
        } catch (err) {
          for (const w of d.writes) w.reject(err);
          continue;
        }
        for (const [camera, head] of d.staged) this.chains.advance(day, camera, head);
        const indexed = new Map<string, number>();
        for (const w of d.writes) if (w.indexed) indexed.set(w.indexed.cls, (indexed.get(w.indexed.cls) ?? 0) + 1);
        for (const [cls, n] of indexed) this.index.committed(cls as 'read' | 'hit', day, n);
        for (const w of d.writes) w.resolve();
      }
    }
  }
}
