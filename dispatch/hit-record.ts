/**
 * A stored hit as bytes: what the hit store keeps under `hit!{hitId}` and what a receiver seals
 * for its peers (replication.ts). Two forms, both read:
 *
 *   framed (what receivers write now)
 *     0x02 ‖ header length (u32 BE) ‖ header JSON ‖ payload
 *     header   the StoredHit without `hit` ({v: 1, hitId, agency, device, receivedAt, latencyMs,
 *              transitMs, signer, dispositions}), plus `jws: {protected, signature}` when the
 *              device's signature is kept
 *     payload  the hit message JSON exactly as the device signed it: the JWS payload, decoded
 *   JSON (before)
 *     the StoredHit as one JSON object, the hit message re-encoded inside it
 *
 * Why framed: the receiver already holds the signed payload bytes when it stores a hit, so it
 * writes them as they are instead of encoding ~150 KB of JSON again (~0.2 ms of CPU a hit), and
 * with the protected header and signature beside them the device's JWS can be rebuilt byte for
 * byte (jwsOf) — proof, long after, that the pole signed this hit, which the re-encoded message
 * alone was not. A JSON record starts with '{' (0x7b), a framed one with its version byte.
 *
 * In the hit store only (never between peers), a third form: the framed record with its payload
 * appended to the store's segment log (gateway/delivery/segment-log.ts), LevelDB keeping the rest:
 *   pointer
 *     0x03 ‖ header length (u32 BE) ‖ header JSON (as framed, plus `payload: {segment, offset,
 *     length}`)
 */
import type { HitMessage } from '../gateway/delivery/hit-message.ts';
import type { LogRef } from '../gateway/delivery/segment-log.ts';
import type { SignedHit } from './envelope.ts';
import type { StoredHit } from './hit-store.ts';

const FRAMED_V2 = 0x02;
const POINTER_V3 = 0x03;
const JSON_OPEN = 0x7b;

/** The device's JWS less its payload: with the payload, the compact JWS it sent. */
export interface KeptSignature {
  readonly protected: string;
  readonly signature: string;
}

export type RecordHeader = Omit<StoredHit, 'hit'>;

/** A record as read, before the hit message is parsed. */
export type DecodedRecord =
  | { readonly form: 'framed'; readonly header: RecordHeader; readonly jws: KeptSignature | undefined; readonly payload: Buffer }
  | { readonly form: 'json'; readonly value: unknown };

/** A pointer record as read (hit store only): the payload is in the store's segment log at `payload`. */
export interface PointerRecord {
  readonly form: 'pointer';
  readonly header: RecordHeader;
  readonly jws: KeptSignature | undefined;
  readonly payload: LogRef;
}

export class HitRecordError extends Error {
  override readonly name = 'HitRecordError';
}

/** `form` byte ‖ header length ‖ header JSON: what the framed and pointer forms start with. */
function encodeHead(form: number, stored: StoredHit | RecordHeader, jws: KeptSignature | undefined, extra: Record<string, unknown> = {}): Buffer {
  const header: RecordHeader & { jws?: KeptSignature } = {
    v: stored.v, hitId: stored.hitId, agency: stored.agency, device: stored.device, receivedAt: stored.receivedAt,
    latencyMs: stored.latencyMs, transitMs: stored.transitMs, signer: stored.signer, dispositions: stored.dispositions,
    ...(jws ? { jws } : {}), ...extra,
  };
  const json = JSON.stringify(header);
  const head = Buffer.allocUnsafe(5 + Buffer.byteLength(json, 'utf8'));
  head[0] = form;
  head.writeUInt32BE(head.length - 5, 1);
  head.write(json, 5, 'utf8');
  return head;
}

/** The framed record of `stored`; `payload` is the hit JSON (the signed bytes when `jws` is given). */
export function encodeHitRecord(stored: StoredHit | RecordHeader, payload: Buffer, jws?: KeptSignature): Buffer {
  const head = encodeHead(FRAMED_V2, stored, jws);
  const out = Buffer.allocUnsafe(head.length + payload.length);
  head.copy(out, 0);
  payload.copy(out, head.length);
  return out;
}

/** The pointer record of `stored` (hit store only), whose payload is in the segment log at `payload`. */
export function encodePointerRecord(stored: StoredHit | RecordHeader, payload: LogRef, jws?: KeptSignature): Buffer {
  return encodeHead(POINTER_V3, stored, jws, { payload: { segment: payload.segment, offset: payload.offset, length: payload.length } });
}

/** encodeHitRecord for a hit just verified: its signed payload and signature as they came. */
export function recordOfSigned(stored: StoredHit, signed: SignedHit): Buffer {
  return Buffer.concat(recordPartsOfSigned(stored, signed));
}

/** recordOfSigned as its two parts (framing and header, then the payload as it came): not copied into one 150 KB buffer. */
export function recordPartsOfSigned(stored: StoredHit, signed: SignedHit): [Buffer, Buffer] {
  return [encodeHead(FRAMED_V2, stored, keptOf(signed)), signed.payload];
}

/** The device's JWS less its payload, as a record keeps it. */
export const keptOf = (signed: SignedHit): KeptSignature => ({ protected: signed.protectedB64, signature: signed.signatureB64 });

/** Splits a record (as stored before pointers, or from a peer) into its parts; throws a HitRecordError when it is neither form. */
export function decodeHitRecord(bytes: Uint8Array): DecodedRecord {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf[0] === JSON_OPEN) {
    try {
      return { form: 'json', value: JSON.parse(buf.toString('utf8')) };
    } catch {
      throw new HitRecordError('record is not JSON');
    }
  }
  if (buf[0] !== FRAMED_V2 || buf.length < 5) throw new HitRecordError(`record form ${String(buf[0])} is not understood`);
  const { header, jws, end } = decodeHead(buf);
  return { form: 'framed', header, jws, payload: buf.subarray(end) };
}

/** A hit store value: any form decodeHitRecord reads, or a pointer record. */
export function decodeStoredValue(bytes: Uint8Array): DecodedRecord | PointerRecord {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf[0] !== POINTER_V3) return decodeHitRecord(buf);
  const { header, jws, end, extra } = decodeHead(buf);
  const ref = extra['payload'] as Partial<LogRef> | undefined;
  if (end !== buf.length) throw new HitRecordError('pointer record has bytes after its header');
  const count = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
  if (!ref || !count(ref.segment) || !count(ref.offset) || !count(ref.length)) throw new HitRecordError('pointer record without where its payload is');
  return { form: 'pointer', header, jws, payload: { segment: ref.segment, offset: ref.offset, length: ref.length } };
}

function decodeHead(buf: Buffer): { header: RecordHeader; jws: KeptSignature | undefined; end: number; extra: Record<string, unknown> } {
  if (buf.length < 5) throw new HitRecordError(`record form ${String(buf[0])} is not understood`);
  const end = 5 + buf.readUInt32BE(1);
  if (end > buf.length) throw new HitRecordError('record header runs past its end');
  let parsed: RecordHeader & { jws?: KeptSignature; payload?: unknown };
  try {
    parsed = JSON.parse(buf.toString('utf8', 5, end)) as RecordHeader & { jws?: KeptSignature };
  } catch {
    throw new HitRecordError('record header is not JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new HitRecordError('record header is not a JSON object');
  const { jws, payload, ...header } = parsed;
  return { header, jws, end, extra: payload === undefined ? {} : { payload } };
}

/** The record's StoredHit, the hit message parsed by `parseHit` (JSON.parse of the payload by default). */
export function storedOf(record: DecodedRecord, parseHit: (json: unknown) => HitMessage = (json) => json as HitMessage): StoredHit {
  if (record.form === 'json') {
    const value = record.value as Partial<StoredHit> | null;
    if (typeof value !== 'object' || value === null || value.v !== 1) throw new HitRecordError(`record version ${String(value?.v)} is not understood`);
    return { ...(value as StoredHit), hit: parseHit(value.hit) };
  }
  if (record.header.v !== 1) throw new HitRecordError(`record version ${String(record.header.v)} is not understood`);
  let json: unknown;
  try {
    json = JSON.parse(record.payload.toString('utf8'));
  } catch {
    throw new HitRecordError('record payload is not JSON');
  }
  return { ...record.header, hit: parseHit(json) };
}

/** The device's compact JWS of a framed record that kept it; undefined otherwise. */
export function jwsOf(record: DecodedRecord): string | undefined {
  if (record.form !== 'framed' || !record.jws) return undefined;
  return `${record.jws.protected}.${record.payload.toString('base64url')}.${record.jws.signature}`;
}

/**
 * `stored` (its dispositions changed) as bytes to write over `previous`: a framed record keeps
 * its payload and signature; a JSON record, or none, is written as JSON as before.
 */
export function reframe(stored: StoredHit, previous: DecodedRecord | undefined): Buffer {
  if (previous?.form === 'framed') return encodeHitRecord(stored, previous.payload, previous.jws);
  return Buffer.from(JSON.stringify(stored), 'utf8');
}
