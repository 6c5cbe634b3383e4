/**
 * The hit record (dispatch/hit-record.ts): a hit is stored with the device's signed payload and
 * signature as they arrived, so its JWS can be rebuilt byte for byte and checked against the
 * pole's certificate; dispositions added later keep it; records written by receivers before
 * (the StoredHit as JSON) still open, take dispositions, and pass between peers.
 */
import { createPrivateKey, randomBytes, X509Certificate } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compactDecrypt, compactVerify } from 'jose';
import { Level } from 'level';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openHitEnvelope, type OpenedHit } from '../../../dispatch/envelope.ts';
import { decodeHitRecord, decodeStoredValue, HitRecordError, recordOfSigned, recordPartsOfSigned } from '../../../dispatch/hit-record.ts';
import { HitStore, type StoredHit } from '../../../dispatch/hit-store.ts';
import { openRecord, parsePeerRecord, sealRecord } from '../../../dispatch/replication.ts';
import type { HitMessage } from '../../../gateway/delivery/hit-message.ts';
import { SegmentLog } from '../../../gateway/delivery/segment-log.ts';
import { createTestPki, type IssuedCert, type TestPki } from '../../helpers/pki.ts';
import { refusalOf } from '../../helpers/refusal.ts';
import { dispatchCerts, makeHit, seal, type DispatchCerts } from './fixtures.ts';

describe('hit records', () => {
  let pki: TestPki;
  let certs: DispatchCerts;
  let pole1: IssuedCert;
  let dir: string;

  beforeAll(async () => {
    pki = await createTestPki();
    certs = await dispatchCerts(pki);
    pole1 = await pki.issue('pole-1', { client: true });
    dir = await mkdtemp(join(tmpdir(), 'hit-record-'));
  }, 60_000);

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
    await pki?.dispose();
  });

  /** A hit sealed by pole-1 and opened as the receiver opens it; `jws` is the device's JWS as it was inside the envelope. */
  async function received(msg: HitMessage): Promise<{ opened: OpenedHit; stored: StoredHit; jws: string }> {
    const envelope = await seal(msg, pole1, certs.encryption);
    const decryptionKey = createPrivateKey(certs.encryption.keyPem);
    const opened = await openHitEnvelope(Buffer.from(envelope), { decryptionKey, anchors: [new X509Certificate(pki.caCertPem)], crls: undefined, now: Date.now(), maxAgeMs: 86_400_000, maxSkewMs: 300_000 });
    const { plaintext } = await compactDecrypt(envelope, decryptionKey);
    const stored: StoredHit = { v: 1, hitId: msg.hitId, agency: 'test-pd', device: 'pole-1', hit: msg, receivedAt: Date.now(), latencyMs: 900, transitMs: 100, signer: { cn: 'pole-1', serial: opened.leaf.serialNumber }, dispositions: [] };
    return { opened, stored, jws: new TextDecoder().decode(plaintext) };
  }

  it('keeps the device\'s JWS byte for byte: rebuilt from the store after reopening, it verifies with the pole\'s key', async () => {
    const msg = makeHit('pole-1', 'test-pd', Date.now());
    const { opened, stored, jws } = await received(msg);
    let store = await HitStore.open(join(dir, 'signed'));
    await store.put(stored, recordOfSigned(stored, opened.signed));
    await store.close();

    store = await HitStore.open(join(dir, 'signed'));
    expect(await store.get(msg.hitId)).toEqual(stored);
    const kept = await store.signedJws(msg.hitId);
    expect(kept).toBe(jws);
    const { payload } = await compactVerify(kept as string, new X509Certificate(pole1.certPem).publicKey, { algorithms: ['ES256'] });
    expect(JSON.parse(new TextDecoder().decode(payload))).toEqual(msg);

    // Dispositions, made here or by a peer, rewrite the record around the same signed bytes.
    const first = { disposition: 'visually-verified' as const, reason: 'crop matches', by: 'op-1', at: 10 };
    await store.putDisposition({ ...stored, dispositions: [first] }, first);
    const second = { disposition: 'confirmed' as const, reason: 'agency confirmed', by: 'op-2', at: 20 };
    await store.putDispositions({ ...stored, dispositions: [first, second] });
    expect((await store.get(msg.hitId))?.dispositions).toEqual([first, second]);
    expect(await store.signedJws(msg.hitId)).toBe(jws);
    expect(await store.unsent()).toEqual([{ hitId: msg.hitId, device: 'pole-1', receivedAt: stored.receivedAt, record: first }]);
    await store.close();
  });

  it('regression: a store written by a receiver before framed records (the StoredHit as JSON) still opens, lists and takes dispositions', async () => {
    const msg = makeHit('pole-1', 'test-pd', Date.now());
    const old: StoredHit = { v: 1, hitId: msg.hitId, agency: 'test-pd', device: 'pole-1', hit: msg, receivedAt: 5, latencyMs: 900, transitMs: 100, signer: { cn: 'pole-1', serial: '1001' }, dispositions: [] };
    // As HitStore wrote it before: a utf8 JSON value.
    const raw = new Level<string, string>(join(dir, 'old'), { keyEncoding: 'utf8', valueEncoding: 'utf8' });
    await raw.put(`hit!${msg.hitId}`, JSON.stringify(old), { sync: true });
    await raw.close();

    const store = await HitStore.open(join(dir, 'old'));
    const fresh = await received(makeHit('pole-1', 'test-pd', Date.now()));
    await store.put(fresh.stored, recordOfSigned(fresh.stored, fresh.opened.signed));
    const all: StoredHit[] = [];
    for await (const h of store.all()) all.push(h);
    expect(all).toEqual([old, fresh.stored]);
    expect(await store.signedJws(msg.hitId)).toBeUndefined();
    const record = { disposition: 'misread' as const, reason: 'crop reads 7ABG123', by: 'op', at: 77 };
    await store.putDisposition({ ...old, dispositions: [record] }, record);
    expect(await store.get(msg.hitId)).toEqual({ ...old, dispositions: [record] });
    await store.close();
  });

  it('keeps the signed payload in the segment log and a small pointer record in LevelDB; a disposition rewrites only the record', async () => {
    const { opened, stored } = await received(makeHit('pole-1', 'test-pd', Date.now()));
    let store = await HitStore.open(join(dir, 'pointer'));
    await store.put(stored, recordOfSigned(stored, opened.signed));
    const record = { disposition: 'misread' as const, reason: 'crop reads 7ABG123', by: 'op', at: 77 };
    await store.putDisposition({ ...stored, dispositions: [record] }, record);
    await store.close();
    const raw = new Level<string, Uint8Array>(join(dir, 'pointer'), { keyEncoding: 'utf8', valueEncoding: 'view' });
    const value = (await raw.get(`hit!${stored.hitId}`)) as Uint8Array;
    await raw.close();
    expect(value.length).toBeLessThan(2_000);
    const pointer = decodeStoredValue(value);
    expect(pointer.form).toBe('pointer');
    // One payload in the log: the disposition did not write it again.
    expect(pointer.form === 'pointer' && pointer.payload).toEqual({ segment: 1, offset: 0, length: opened.signed.payload.length });
    store = await HitStore.open(join(dir, 'pointer'));
    expect(await store.get(stored.hitId)).toEqual({ ...stored, dispositions: [record] });
    // As the receiver stores a hit it just verified: from the signed parts, no record made first.
    const next = await received(makeHit('pole-1', 'test-pd', Date.now() + 1));
    await store.putSigned(next.stored, next.opened.signed);
    expect(await store.get(next.stored.hitId)).toEqual(next.stored);
    expect(await store.signedJws(next.stored.hitId)).toBe(next.jws);
    await store.close();
  });

  it('regression: framed records with the payload inline (receivers before the segment log) still open, list and take dispositions', async () => {
    const a = await received(makeHit('pole-1', 'test-pd', Date.now()));
    const raw = new Level<string, Uint8Array>(join(dir, 'inline'), { keyEncoding: 'utf8', valueEncoding: 'view' });
    await raw.put(`hit!${a.stored.hitId}`, recordOfSigned(a.stored, a.opened.signed), { sync: true });
    await raw.close();
    const store = await HitStore.open(join(dir, 'inline'));
    const b = await received(makeHit('pole-1', 'test-pd', Date.now() + 1));
    await store.put(b.stored, recordOfSigned(b.stored, b.opened.signed));
    expect(await store.hitIds()).toEqual([a.stored.hitId, b.stored.hitId]);
    expect(await store.latest(1)).toEqual([b.stored]);
    expect(await store.latest(5)).toEqual([a.stored, b.stored]);
    expect(await store.signedJws(a.stored.hitId)).toBe(a.jws);
    const record = { disposition: 'visually-verified' as const, reason: 'crop matches', by: 'op', at: 5 };
    await store.putDispositions({ ...a.stored, dispositions: [record] });
    expect(await store.get(a.stored.hitId)).toEqual({ ...a.stored, dispositions: [record] });
    expect(await store.signedJws(a.stored.hitId)).toBe(a.jws);
    await store.close();
  });

  it('starts from the keys and the newest hits only: a record it cannot read does not stop it', async () => {
    const raw = new Level<string, Uint8Array>(join(dir, 'keys'), { keyEncoding: 'utf8', valueEncoding: 'view' });
    // The oldest hitId sorts first; its record is not one this receiver reads.
    await raw.put('hit!00000000-0000-7000-8000-000000000000', Buffer.from([9, 9, 9]), { sync: true });
    await raw.close();
    const store = await HitStore.open(join(dir, 'keys'));
    const hits = [];
    for (let i = 1; i <= 3; i++) {
      const h = await received(makeHit('pole-1', 'test-pd', Date.now() + i));
      await store.putSigned(h.stored, h.opened.signed);
      hits.push(h.stored);
    }
    expect(await store.hitIds()).toEqual(['00000000-0000-7000-8000-000000000000', ...hits.map((h) => h.hitId)]);
    expect(await store.latest(2)).toEqual(hits.slice(1));
    // Among the newest, it is skipped and named — dispatch starts, and the record stays stored.
    const skipped: [string, string][] = [];
    expect(await store.latest(4, (id, err) => void skipped.push([id, err.message]))).toEqual(hits);
    expect(skipped).toEqual([['00000000-0000-7000-8000-000000000000', expect.stringMatching(/form 9/)]]);
    expect(await store.hitIds()).toContain('00000000-0000-7000-8000-000000000000');
    await store.close();
  });

  it('a crash between the payload and its record leaves bytes no record names: the store opens without the hit and takes it again', async () => {
    const { opened, stored } = await received(makeHit('pole-1', 'test-pd', Date.now()));
    // As a crash after the append's fdatasync and before the record's write would leave it.
    const log = await SegmentLog.open(join(dir, 'torn-payloads'));
    await log.append([opened.signed.payload]);
    await log.close();
    const store = await HitStore.open(join(dir, 'torn'), join(dir, 'torn-payloads'));
    expect(await store.hitIds()).toEqual([]);
    await store.put(stored, recordOfSigned(stored, opened.signed));
    expect(await store.get(stored.hitId)).toEqual(stored);
    await store.close();
  });

  it('passes between peers in either form, and refuses what is neither', async () => {
    const msg = makeHit('pole-1', 'test-pd', Date.now());
    const { opened, stored } = await received(msg);
    expect(parsePeerRecord(recordOfSigned(stored, opened.signed), 'pole-1', 'test-pd')).toEqual(stored);
    expect(parsePeerRecord(Buffer.from(JSON.stringify(stored)), 'pole-1', 'test-pd')).toEqual(stored);
    // Sealed from its parts, a record opens to the same bytes as the whole record.
    const key = randomBytes(32);
    const topic = 'alpr-dispatch/v1/test-pd/dispatch/records/pole-1';
    const parts = recordPartsOfSigned(stored, opened.signed);
    expect(openRecord(key, topic, sealRecord(key, topic, parts)).equals(recordOfSigned(stored, opened.signed))).toBe(true);
    expect(openRecord(key, topic, sealRecord(key, topic, Buffer.concat(parts))).equals(Buffer.concat(parts))).toBe(true);
    const refusal = (bytes: Buffer): string => refusalOf(() => parsePeerRecord(bytes, 'pole-1', 'test-pd'), Error, (e) => e.message);
    expect(refusal(recordOfSigned(stored, opened.signed))).toBe('accepted');
    expect(refusal(recordOfSigned({ ...stored, device: 'pole-2' }, opened.signed))).toMatch(/pole-1's topic/);
    expect(refusal(recordOfSigned({ ...stored, v: 3 as 1 }, opened.signed))).toMatch(/version 3/);
    const framed = recordOfSigned(stored, opened.signed);
    expect(refusal(Buffer.concat([Buffer.from([3]), framed.subarray(1)]))).toMatch(/form 3/);
    expect(refusal(framed.subarray(0, 40))).toMatch(/past its end/);
    expect(refusalOf(() => decodeHitRecord(Buffer.from('{"v":1')), HitRecordError, (e) => e.message)).toMatch(/not JSON/);
  });
});
