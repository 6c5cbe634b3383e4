/**
 * The receiver's durable state in LevelDB (`level`) under its data directory: every accepted hit
 * with its dispositions (the dedupe index is the set of stored hitIds, so a hit stays "seen"
 * across restarts), and the certificate serial last seen per device (for `cert-seen`). Writes are
 * synced before the receiver acks, so an acked hit is on disk.
 *
 * Keys: `hit!{hitId}` → the hit record (hit-record.ts: framed with the device's signed payload
 * and signature, or the StoredHit JSON of receivers before; both read), `cert!{device}` →
 * serial, `out!{hitId}!{at}` → a disposition recorded but not yet taken by the broker (re-sent
 * after a restart), `evt!{device}!{id}` → a device event. Values are versioned (`v`) where they
 * are records.
 */
import { Level } from 'level';
import type { HitMessage } from '../gateway/delivery/hit-message.ts';
import { decodeHitRecord, jwsOf, reframe, storedOf, type DecodedRecord } from './hit-record.ts';
import type { Disposition } from './signer.ts';

export interface DispositionRecord {
  readonly disposition: Disposition;
  readonly reason: string;
  readonly by: string;
  readonly at: number;
}

/** A device event as dispatch keeps it: the device's JSON (`id`, `type`, `at`, …) and when it arrived. */
export interface DeviceEventRecord {
  readonly id: string;
  readonly type: string;
  readonly device: string;
  readonly receivedAt: number;
  readonly [field: string]: unknown;
}

export interface StoredHit {
  readonly v: 1;
  readonly hitId: string;
  readonly agency: string;
  readonly device: string;
  /** The verified hit message as the device signed it (as the schema reads it: unknown fields left out). */
  readonly hit: HitMessage;
  readonly receivedAt: number;
  /** receivedAt − capturedAt and receivedAt − publishedAt (device clocks; may be skewed). */
  readonly latencyMs: number;
  readonly transitMs: number;
  readonly signer: { readonly cn: string; readonly serial: string };
  readonly dispositions: readonly DispositionRecord[];
}

const SYNC = { sync: true } as const;

export class HitStore {
  private constructor(private readonly db: Level<string, string>) {}

  static async open(location: string): Promise<HitStore> {
    const db = new Level<string, string>(location, { keyEncoding: 'utf8', valueEncoding: 'utf8' });
    await db.open();
    return new HitStore(db);
  }

  /** Every stored hit, oldest hitId first (UUIDv7 sorts by time). */
  async *all(): AsyncGenerator<StoredHit> {
    for await (const [, value] of this.db.iterator<string, Uint8Array>({ gt: 'hit!', lt: 'hit!\xff', valueEncoding: 'view' })) yield parseStored(value);
  }

  async get(hitId: string): Promise<StoredHit | undefined> {
    const record = await this.record(hitId);
    return record === undefined ? undefined : storedOf(record);
  }

  /**
   * The device's JWS of a stored hit, byte for byte as it signed it (the evidence that it came
   * from that pole); undefined for a hit stored without it (by a receiver from before, or by hand).
   */
  async signedJws(hitId: string): Promise<string | undefined> {
    const record = await this.record(hitId);
    return record === undefined ? undefined : jwsOf(record);
  }

  /**
   * `record`: the hit's record as bytes when the caller has them (hit-record.ts; made once, to
   * store and to pass on to the peers, or as a peer sent it). Without, the StoredHit as JSON.
   */
  async put(hit: StoredHit, record?: Uint8Array): Promise<void> {
    await this.db.put<string, Uint8Array>(`hit!${hit.hitId}`, record ?? Buffer.from(JSON.stringify(hit), 'utf8'), { ...SYNC, valueEncoding: 'view' });
  }

  /** A stored hit's dispositions changed (a peer's disposition): its record keeps the device's signed payload. */
  async putDispositions(hit: StoredHit): Promise<void> {
    const value = reframe(hit, await this.record(hit.hitId));
    await this.db.put<string, Uint8Array>(`hit!${hit.hitId}`, value, { ...SYNC, valueEncoding: 'view' });
  }

  /** Records a disposition on its hit and, in the same batch, the duty to send it. */
  async putDisposition(hit: StoredHit, record: DispositionRecord): Promise<void> {
    const value = reframe(hit, await this.record(hit.hitId));
    const duty = JSON.stringify({ hitId: hit.hitId, device: hit.device, receivedAt: hit.receivedAt, record });
    await this.db.batch<string, Uint8Array>([
      { type: 'put', key: `hit!${hit.hitId}`, value },
      { type: 'put', key: outKey(hit.hitId, record), value: Buffer.from(duty, 'utf8') },
    ], { ...SYNC, valueEncoding: 'view' });
  }

  private async record(hitId: string): Promise<DecodedRecord | undefined> {
    const value = await this.db.get<string, Uint8Array>(`hit!${hitId}`, { valueEncoding: 'view' });
    return value === undefined ? undefined : decodeHitRecord(value);
  }

  /** Dispositions still to be sent, oldest hit first. */
  async unsent(): Promise<UnsentDisposition[]> {
    const out: UnsentDisposition[] = [];
    for await (const [, value] of this.db.iterator({ gt: 'out!', lt: 'out!\xff' })) out.push(JSON.parse(value) as UnsentDisposition);
    return out;
  }

  async markSent(hitId: string, record: DispositionRecord): Promise<void> {
    await this.db.del(outKey(hitId, record), SYNC);
  }

  /** A device event, kept once per id (a re-sent event overwrites itself); synced before the ack. */
  async putEvent(device: string, event: DeviceEventRecord): Promise<void> {
    await this.db.put(`evt!${device}!${event.id}`, JSON.stringify(event), SYNC);
  }

  /** Every stored event of a device, oldest first (ids are UUIDv7: time-ordered). */
  async events(device: string): Promise<DeviceEventRecord[]> {
    const out: DeviceEventRecord[] = [];
    for await (const value of this.db.values({ gt: `evt!${device}!`, lt: `evt!${device}!\xff` })) out.push(JSON.parse(value) as DeviceEventRecord);
    return out;
  }

  async certSerial(device: string): Promise<string | undefined> {
    return this.db.get(`cert!${device}`);
  }

  async setCertSerial(device: string, serial: string): Promise<void> {
    await this.db.put(`cert!${device}`, serial, SYNC);
  }

  async close(): Promise<void> {
    await this.db.close();
  }
}

export interface UnsentDisposition {
  readonly hitId: string;
  readonly device: string;
  readonly receivedAt: number;
  readonly record: DispositionRecord;
}

const outKey = (hitId: string, record: DispositionRecord): string => `out!${hitId}!${String(record.at).padStart(15, '0')}`;

/** As stored: the hit message was checked when it arrived (not again here: an old record that a newer schema would refuse must not stop the receiver starting). */
function parseStored(value: Uint8Array): StoredHit {
  return storedOf(decodeHitRecord(value));
}
