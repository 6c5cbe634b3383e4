/**
 * The receiver's durable state in LevelDB (`level`) under its data directory: every accepted hit
 * with its dispositions (the dedupe index is the set of stored hitIds, so a hit stays "seen"
 * across restarts), and the certificate serial last seen per device (for `cert-seen`). Writes are
 * synced before the receiver acks, so an acked hit is on disk.
 *
 * Keys: `hit!{hitId}` → the hit record (hit-record.ts): a pointer record whose signed payload
 * is appended to the segment log beside the database (gateway/delivery/segment-log.ts:
 * fsynced before the record is written; LevelDB wrote each ~150 KB payload to its log, a
 * level-0 table and every compaction after: about a fifth of a receiver's CPU went to LevelDB's
 * own threads), or, as
 * receivers before wrote them and still read, framed with the payload inline or the StoredHit
 * as JSON; `cert!{device}` →
 * serial, `out!{hitId}!{at}` → a disposition recorded but not yet taken by the broker (re-sent
 * after a restart), `evt!{device}!{id}` → a device event. Values are versioned (`v`) where they
 * are records.
 */
import { Level } from 'level';
import type { HitMessage } from '../gateway/delivery/hit-message.ts';
import { decodeHitRecord, decodeStoredValue, HitRecordError, encodePointerRecord, jwsOf, keptOf, reframe, storedOf, type DecodedRecord, type PointerRecord } from './hit-record.ts';
import type { SignedHit } from './envelope.ts';
import { SegmentLog } from '../gateway/delivery/segment-log.ts';
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

const HIT_RANGE = { gt: 'hit!', lt: 'hit!\xff' } as const;

export class HitStore {
  private constructor(private readonly db: Level<string, string>, private readonly payloads: SegmentLog) {}

  /**
   * `payloadDir`: the segment log of the payloads (by default beside the database,
   * `{location}-payloads`). Nothing is removed from it: dispatch keeps every hit (docs/dispatch.md
   * "Retention"); bytes a crash left before their record are space, never read.
   */
  static async open(location: string, payloadDir = `${location}-payloads`): Promise<HitStore> {
    const db = new Level<string, string>(location, { keyEncoding: 'utf8', valueEncoding: 'utf8' });
    await db.open();
    try {
      return new HitStore(db, await SegmentLog.open(payloadDir));
    } catch (err) {
      await db.close();
      throw err;
    }
  }

  /** Every stored hitId, oldest first (UUIDv7 sorts by time): keys only, no record read. */
  async hitIds(): Promise<string[]> {
    const keys = await this.db.keys(HIT_RANGE).all();
    return keys.map((k) => k.slice(4));
  }

  /**
   * The newest stored hits (by hitId) among the last `n` records, oldest of them first. A record
   * it cannot read (a form it does not know, a payload that is gone) is left where it is and
   * named to `unreadable`, not thrown: one damaged record must not keep dispatch from starting.
   */
  async latest(n: number, unreadable: (hitId: string, err: Error) => void = () => undefined): Promise<StoredHit[]> {
    const out: StoredHit[] = [];
    if (n <= 0) return out;
    for await (const [key, value] of this.db.iterator<string, Uint8Array>({ ...HIT_RANGE, reverse: true, limit: n, valueEncoding: 'view' })) {
      const hitId = key.slice(4);
      try {
        out.push(storedOf(await this.resolve(hitId, decodeStoredValue(value))));
      } catch (err) {
        unreadable(hitId, err as Error);
      }
    }
    return out.reverse();
  }

  /**
   * Every stored hit, oldest hitId first (UUIDv7 sorts by time). Records are read as stored: the
   * hit message was checked when it arrived (not again here: an old record that a newer schema
   * would refuse must not stop the receiver starting).
   */
  async *all(): AsyncGenerator<StoredHit> {
    for await (const [key, value] of this.db.iterator<string, Uint8Array>({ ...HIT_RANGE, valueEncoding: 'view' })) {
      yield storedOf(await this.resolve(key.slice(4), decodeStoredValue(value)));
    }
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
    const framed = record === undefined ? undefined : decodeHitRecord(record);
    let value: Uint8Array;
    if (framed?.form === 'framed') {
      // The payload first, fsynced; then the record naming it (synced), and only then the ack.
      value = encodePointerRecord(hit, await this.payloads.append([framed.payload]), framed.jws);
    } else {
      value = record ?? Buffer.from(JSON.stringify(hit), 'utf8');
    }
    await this.db.put<string, Uint8Array>(`hit!${hit.hitId}`, value, { ...SYNC, valueEncoding: 'view' });
  }

  /** A hit just verified: its signed payload and signature as they came (put with its record, without making the record first). */
  async putSigned(hit: StoredHit, signed: SignedHit): Promise<void> {
    const value = encodePointerRecord(hit, await this.payloads.append([signed.payload]), keptOf(signed));
    await this.db.put<string, Uint8Array>(`hit!${hit.hitId}`, value, { ...SYNC, valueEncoding: 'view' });
  }

  /** A stored hit's dispositions changed (a peer's disposition): its record keeps the device's signed payload. */
  async putDispositions(hit: StoredHit): Promise<void> {
    await this.db.put<string, Uint8Array>(`hit!${hit.hitId}`, await this.rewritten(hit), { ...SYNC, valueEncoding: 'view' });
  }

  /** Records a disposition on its hit and, in the same batch, the duty to send it. */
  async putDisposition(hit: StoredHit, record: DispositionRecord): Promise<void> {
    const value = await this.rewritten(hit);
    const duty = JSON.stringify({ hitId: hit.hitId, device: hit.device, receivedAt: hit.receivedAt, record });
    await this.db.batch<string, Uint8Array>([
      { type: 'put', key: `hit!${hit.hitId}`, value },
      { type: 'put', key: outKey(hit.hitId, record), value: Buffer.from(duty, 'utf8') },
    ], { ...SYNC, valueEncoding: 'view' });
  }

  /** `hit` (its dispositions changed) as the value to write over its record: a pointer stays a pointer (its file is not rewritten), other forms keep theirs. */
  private async rewritten(hit: StoredHit): Promise<Uint8Array> {
    const value = await this.db.get<string, Uint8Array>(`hit!${hit.hitId}`, { valueEncoding: 'view' });
    const previous = value === undefined ? undefined : decodeStoredValue(value);
    if (previous?.form === 'pointer') return encodePointerRecord(hit, previous.payload, previous.jws);
    return reframe(hit, previous);
  }

  private async record(hitId: string): Promise<DecodedRecord | undefined> {
    const value = await this.db.get<string, Uint8Array>(`hit!${hitId}`, { valueEncoding: 'view' });
    return value === undefined ? undefined : this.resolve(hitId, decodeStoredValue(value));
  }

  /** A pointer record with its payload read from its file; other forms as they are. */
  private async resolve(hitId: string, record: DecodedRecord | PointerRecord): Promise<DecodedRecord> {
    if (record.form !== 'pointer') return record;
    let payload: Buffer;
    try {
      payload = await this.payloads.read(record.payload);
    } catch (err) {
      throw new HitRecordError(`hit ${hitId}: its payload is not readable (${(err as Error).message})`);
    }
    return { form: 'framed', header: record.header, jws: record.jws, payload };
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
    await this.payloads.close();
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
