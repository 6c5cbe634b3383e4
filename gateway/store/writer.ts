/**
 * Group commit. Puts queue here; one batch is in flight at a time, and everything that queued
 * while it was being written goes into the next one. Each batch is atomic and written with
 * `sync`, so a put resolves only once its record, images, index entry and chain link are all on
 * disk. Chain links are numbered here, in queue order, against heads that move only after a
 * batch succeeds: a failed batch leaves no gap in any chain.
 */
import type { ChainBook } from './chain-book.ts';
import { nextHead, type Head, type Link } from './chain.ts';
import { SYNC, type BatchOp, type Db } from './db.ts';
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
    private readonly db: Db,
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
      const staged = new Map<string, { day: string; camera: string; head: Head }>();
      const ops: BatchOp[] = [];
      for (const w of group) {
        const id = `${w.chain.day}!${w.chain.camera}`;
        const prev = staged.get(id)?.head ?? this.chains.head(w.chain.day, w.chain.camera);
        const head = nextHead(prev, w.chain.digest);
        staged.set(id, { day: w.chain.day, camera: w.chain.camera, head });
        const link: Link = { id: w.chain.id, c: w.chain.c, d: w.chain.digest, h: head.hash };
        ops.push(...w.ops, this.chains.linkOp(w.chain.day, w.chain.camera, head.seq, link));
      }
      try {
        // Images first, synced, then the batch that points at them: no pointer outlives its bytes.
        for (const w of group) {
          for (const b of w.blobs ?? []) ops.push({ type: 'put', key: b.key, value: encodeRef(await this.blobs.append(b.cls, b.day, b.data)) });
        }
        await this.blobs.sync();
        await this.db.batch(ops, SYNC);
      } catch (err) {
        for (const w of group) w.reject(err);
        continue;
      }
      for (const s of staged.values()) this.chains.advance(s.day, s.camera, s.head);
      const indexed = new Map<string, { cls: 'read' | 'hit'; day: string; n: number }>();
      for (const w of group) {
        if (!w.indexed) continue;
        const k = `${w.indexed.cls}!${w.indexed.day}`;
        const e = indexed.get(k) ?? { ...w.indexed, n: 0 };
        e.n++;
        indexed.set(k, e);
      }
      for (const e of indexed.values()) this.index.committed(e.cls, e.day, e.n);
      for (const w of group) w.resolve();
    }
  }
}
