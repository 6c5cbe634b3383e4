/**
 * Detections and their images: writing them (sealed, indexed, chained, in one durable batch)
 * and reading them back. A record's storage day is the trusted clock's day when it was first
 * written — not its capture time — so a wrong camera clock can neither file a record in the past
 * (where retention would take it at once) nor in the future (where it would outlive the policy).
 */
import type { Detection, DetectionImages } from '../types.ts';
import { decodeRef, type BlobClass } from './blobs.ts';
import { recordDigest } from './chain.ts';
import type { StoreCore } from './core.ts';
import { fromUtf8, open, seal, utf8 } from './crypto.ts';
import type { BatchOp } from './db.ts';
import { IntegrityError } from './errors.ts';
import { IMAGE_KINDS, K, addDays, checkDay, checkId, dayOf, range, uuidTime, type ImageKind } from './layout.ts';
import { checkAmendment, checkDetection } from './validate.ts';

export type RecordClass = 'read' | 'hit';

/** Where a detection is kept. */
export interface StoredRef {
  readonly id: string;
  readonly day: string;
  readonly class: RecordClass;
  /** This put completed an earlier record of the same id (an early hit's whole pass). */
  readonly amended: boolean;
}

export interface StoredDetection {
  readonly ref: StoredRef;
  readonly detection: Detection;
  /** The exact JSON stored, which the chain digest covers. */
  readonly json: string;
}

const RECENT = 10_000;

export class Records {
  /** Recently written ids → where: an amendment follows its first write within minutes. */
  private readonly recent = new Map<string, { day: string; cls: RecordClass }>();
  private readonly inflight = new Map<string, Promise<unknown>>();

  constructor(private readonly core: StoreCore) {}

  async put(detection: Detection, images: DetectionImages): Promise<StoredRef> {
    const checked = checkDetection(detection, images);
    const id = checked.detection.id;
    // Two puts of one id run one after the other, so the second sees the first as existing.
    while (this.inflight.has(id)) await this.inflight.get(id)?.catch(() => undefined);
    const run = this.write(checked.detection, checked.images, checked.json);
    this.inflight.set(id, run);
    try {
      return await run;
    } finally {
      this.inflight.delete(id);
    }
  }

  private async write(detection: Detection, images: DetectionImages, json: string): Promise<StoredRef> {
    const { keyring, chains, index, writer } = this.core;
    const cls: RecordClass = detection.match ? 'hit' : 'read';
    const existing = await this.findRecent(detection.id, cls);
    if (existing) checkAmendment((await this.read(cls, existing, detection.id)).detection, detection);
    const day = existing ?? dayOf(this.core.clock.now());
    const recordKey = await keyring.obtain(K.keyName(cls, day));
    const imageKey = cls === 'hit' ? recordKey : await keyring.obtain(K.keyName('image', day));
    await chains.load(day, detection.cameraId);
    if (!existing) await index.load(cls, day);

    const r = this.core.random;
    const rk = K.record(cls, day, detection.id);
    const ops: BatchOp[] = [{ type: 'put', key: rk, value: seal(recordKey.key, utf8(json), rk, r) }];
    const blobs: { cls: BlobClass; day: string; key: string; data: Uint8Array }[] = [];
    for (const kind of IMAGE_KINDS) {
      const bytes = images[kind];
      const ik = K.image(cls, day, detection.id, kind);
      if (bytes) blobs.push({ cls: cls === 'hit' ? 'hit' : 'image', day, key: ik, data: seal(imageKey.key, bytes, ik, r) });
      else if (existing) ops.push({ type: 'del', key: ik }); // the stored state is exactly what the digest covers
    }
    if (!existing) ops.push(index.entryOp(cls, day, detection.id, detection.plate, detection.cameraId, recordKey.key));
    await writer.submit({
      ops,
      blobs,
      chain: { day, camera: detection.cameraId, id: detection.id, c: cls === 'hit' ? 'h' : 'r', digest: recordDigest(json, images.plate, images.overview) },
      ...(existing ? {} : { indexed: { cls, day } }),
    });
    this.remember(detection.id, day, cls);
    return { id: detection.id, day, class: cls, amended: existing !== undefined };
  }

  /** The storage day of an id written recently (memory, then today's and yesterday's keys). */
  private async findRecent(id: string, cls: RecordClass): Promise<string | undefined> {
    const hit = this.recent.get(id);
    if (hit?.cls === cls) return hit.day;
    const today = dayOf(this.core.clock.now());
    for (const day of [today, addDays(today, -1)]) {
      if (await this.core.data.has(K.record(cls, day, id))) return day;
    }
    return undefined;
  }

  private remember(id: string, day: string, cls: RecordClass): void {
    this.recent.delete(id);
    this.recent.set(id, { day, cls });
    if (this.recent.size > RECENT) this.recent.delete(this.recent.keys().next().value as string);
  }

  /** Finds a detection by id: on `day` if given, else around the day its id was made. */
  async locate(id: string, day?: string): Promise<{ day: string; cls: RecordClass } | undefined> {
    checkId(id);
    const days = day !== undefined ? [checkDay(day)] : (() => {
      const d = dayOf(uuidTime(id));
      return [d, addDays(d, 1), addDays(d, -1)];
    })();
    for (const d of days) {
      for (const cls of ['read', 'hit'] as const) if (await this.core.data.has(K.record(cls, d, id))) return { day: d, cls };
    }
    return undefined;
  }

  /** One record, opened and parsed; an IntegrityError if its value or key fails. */
  async read(cls: RecordClass, day: string, id: string): Promise<StoredDetection> {
    const key = K.record(cls, day, id);
    const raw = await this.core.data.get(key);
    if (raw === undefined) throw new IntegrityError(key, 'record missing');
    return this.openRecord(cls, day, key, raw);
  }

  async image(cls: RecordClass, day: string, id: string, kind: ImageKind): Promise<Uint8Array | undefined> {
    const key = K.image(cls, day, id, kind);
    const raw = await this.core.data.get(key);
    if (raw === undefined) return undefined;
    const blobCls = cls === 'hit' ? 'hit' : 'image';
    const dataKey = this.core.keyring.find(K.keyName(blobCls, day));
    if (!dataKey) return undefined; // shredded: the image is gone even if its pointer lingers
    return open(dataKey.key, await this.core.blobs.read(blobCls, day, decodeRef(key, raw), key), key);
  }

  /** Every detection of a storage day, reads and hits, in id (capture) order. */
  async *day(day: string): AsyncGenerator<StoredDetection> {
    checkDay(day);
    const all: StoredDetection[] = [];
    for (const cls of ['read', 'hit'] as const) {
      const prefix = cls === 'hit' ? `hit!${day}!` : `det!${day}!`;
      for await (const [key, raw] of this.core.data.iterator(range(prefix))) {
        const rec = await this.openRecord(cls, day, key, raw).catch((err: unknown) => {
          if (!(err instanceof IntegrityError)) throw err;
          this.core.onError(err, 'reading a day');
          return undefined;
        });
        if (rec) all.push(rec);
      }
    }
    yield* all.sort((a, b) => (a.ref.id < b.ref.id ? -1 : 1));
  }

  private async openRecord(cls: RecordClass, day: string, key: string, raw: Uint8Array): Promise<StoredDetection> {
    const dataKey = this.core.keyring.find(K.keyName(cls, day));
    if (!dataKey) throw new IntegrityError(key, 'its data key has been shredded');
    const json = fromUtf8(open(dataKey.key, raw, key));
    const id = key.slice(key.lastIndexOf('!') + 1);
    return { ref: { id, day, class: cls, amended: false }, detection: JSON.parse(json) as Detection, json };
  }
}
