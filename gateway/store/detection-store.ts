/**
 * The on-device detection store (LevelDB via `level`). Layout (ARCHITECTURE.md):
 *   det!{yyyy-mm-dd}!{uuidv7}            → Detection (JSON)
 *   img!{yyyy-mm-dd}!{uuidv7}!{plate|overview} → JPEG bytes
 * A detection and its images are written in one synced batch: once put() resolves, the record
 * survives a power cut. Encryption at rest, retention and holds arrive with the evidence-store issue.
 */
import { Level } from 'level';
import type { Detection, DetectionImages } from '../types.ts';
import { UUID_V7 } from '../ids.ts';

export class StoreError extends Error {
  override readonly name = 'StoreError';
}

/** UTC calendar day of a timestamp, the unit of retention. */
export function dayOf(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;

export class DetectionStore {
  private readonly db: Level<string, Uint8Array>;
  private readonly detections;
  private readonly images;

  constructor(location: string) {
    this.db = new Level<string, Uint8Array>(location, { keyEncoding: 'utf8', valueEncoding: 'view' });
    this.detections = this.db.sublevel<string, string>('det', { valueEncoding: 'utf8' });
    this.images = this.db.sublevel<string, Uint8Array>('img', { valueEncoding: 'view' });
  }

  async open(): Promise<void> {
    await this.db.open();
  }

  async close(): Promise<void> {
    await this.db.close();
  }

  async put(detection: Detection, images: DetectionImages): Promise<void> {
    if (!UUID_V7.test(detection.id)) throw new StoreError(`detection id ${JSON.stringify(detection.id)} is not a UUIDv7`);
    const day = dayOf(detection.capturedAt);
    const key = `${day}!${detection.id}`;
    const batch = this.db.batch();
    batch.put(key, JSON.stringify(detection), { sublevel: this.detections });
    batch.put(`${key}!plate`, images.plate, { sublevel: this.images });
    if (images.overview) batch.put(`${key}!overview`, images.overview, { sublevel: this.images });
    // sync: the batch is on disk before the pipeline treats the detection as kept.
    await batch.write({ sync: true } as Parameters<typeof batch.write>[0]);
  }

  async get(id: string, capturedAt: number): Promise<Detection | undefined> {
    if (!UUID_V7.test(id)) throw new StoreError(`detection id ${JSON.stringify(id)} is not a UUIDv7`);
    const value = await this.detections.get(`${dayOf(capturedAt)}!${id}`);
    return value === undefined ? undefined : (JSON.parse(value) as Detection);
  }

  async image(id: string, capturedAt: number, kind: 'plate' | 'overview'): Promise<Uint8Array | undefined> {
    return this.images.get(`${dayOf(capturedAt)}!${id}!${kind}`);
  }

  /** Detections of one UTC day in capture order. */
  async *day(day: string): AsyncGenerator<Detection> {
    if (!DAY.test(day)) throw new StoreError(`day ${JSON.stringify(day)}: expected yyyy-mm-dd`);
    for await (const value of this.detections.values({ gt: `${day}!`, lt: `${day}!\xff` })) {
      yield JSON.parse(value) as Detection;
    }
  }

  /** All detections, oldest first. */
  async *all(): AsyncGenerator<Detection> {
    for await (const value of this.detections.values()) yield JSON.parse(value) as Detection;
  }
}
