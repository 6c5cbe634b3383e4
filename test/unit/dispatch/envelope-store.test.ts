/**
 * Opening envelopes outside MQTT (the refusals the integration test does not reach: another
 * recipient, wrong types, a chain checked at the signed publish time), and the hit store's
 * durability across reopening.
 */
import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CompactEncrypt, CompactSign } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EnvelopeError, openHitEnvelope, type OpenOptions } from '../../../dispatch/envelope.ts';
import { HitStore, type StoredHit } from '../../../dispatch/hit-store.ts';
import { certThumbprint } from '../../../dispatch/receiver.ts';
import { createTestPki, type IssuedCert, type TestPki } from '../../helpers/pki.ts';
import { dispatchCerts, makeHit, seal, type DispatchCerts } from './fixtures.ts';

const enc = new TextEncoder();

describe('openHitEnvelope', () => {
  let pki: TestPki;
  let certs: DispatchCerts;
  let pole1: IssuedCert;
  let opts: OpenOptions;

  beforeAll(async () => {
    pki = await createTestPki();
    certs = await dispatchCerts(pki);
    pole1 = await pki.issue('pole-1', { client: true });
    opts = {
      decryptionKey: createPrivateKey(certs.encryption.keyPem),
      kid: certThumbprint(new X509Certificate(certs.encryption.certPem)),
      anchors: [new X509Certificate(pki.caCertPem)],
      crls: undefined,
      now: Date.now(),
      maxAgeMs: 86_400_000,
      maxSkewMs: 300_000,
    };
  }, 60_000);

  afterAll(() => pki?.dispose());

  async function reason(payload: string, over: Partial<OpenOptions> = {}, base: OpenOptions = opts): Promise<string> {
    try {
      await openHitEnvelope(Buffer.from(payload), { ...base, ...over });
      return 'opened';
    } catch (err) {
      if (err instanceof EnvelopeError) return err.reason;
      throw err;
    }
  }

  /** A JWS over `body` with pole-1's key and chain, `typ`/`alg` as given, inside a JWE to dispatch. */
  async function custom(body: unknown, header: { typ: string }, cty = 'alpr-hit+jws'): Promise<string> {
    const x5c = [new X509Certificate(pole1.certPem).raw.toString('base64')];
    const jws = await new CompactSign(enc.encode(JSON.stringify(body))).setProtectedHeader({ alg: 'ES256', typ: header.typ, x5c }).sign(createPrivateKey(pole1.keyPem));
    const recipient = createPublicKey(new X509Certificate(certs.encryption.certPem).publicKey.export({ type: 'spki', format: 'pem' }));
    return new CompactEncrypt(enc.encode(jws)).setProtectedHeader({ alg: 'ECDH-ES+A256KW', enc: 'A256GCM', cty, kid: opts.kid as string }).encrypt(recipient);
  }

  it('opens a sealed hit and returns the signed JSON and the leaf', async () => {
    const msg = makeHit('pole-1', 'test-pd', opts.now);
    const opened = await openHitEnvelope(Buffer.from(await seal(msg, pole1, certs.encryption)), opts);
    expect(opened.message).toEqual(msg);
    expect(opened.signerCn).toBe('pole-1');
  });

  it('refuses an envelope for another key (kid) as not-for-us, before any decryption', async () => {
    const other = await pki.issue('other-dispatch');
    expect(await reason(await seal(makeHit('pole-1', 'test-pd', opts.now), pole1, other))).toBe('not-for-us');
    // Without the kid check the key agreement fails: the envelope does not authenticate.
    const { kid: _kid, ...noKid } = opts;
    expect(await reason(await seal(makeHit('pole-1', 'test-pd', opts.now), pole1, other), {}, noKid)).toBe('tampered');
  });

  it('refuses wrong content types and non-objects', async () => {
    const msg = makeHit('pole-1', 'test-pd', opts.now);
    expect(await reason(await custom(msg, { typ: 'alpr-ack+jws' }))).toBe('malformed');
    expect(await reason(await custom(msg, { typ: 'alpr-hit+jws' }, 'text/plain'))).toBe('malformed');
    expect(await reason(await custom([1, 2], { typ: 'alpr-hit+jws' }))).toBe('invalid-hit');
    expect(await reason(await custom({ ...msg, publishedAt: 'soon' }, { typ: 'alpr-hit+jws' }))).toBe('invalid-hit');
    expect(await reason('a.b.c')).toBe('malformed');
  });

  it('checks the certificate at the signed publish time, within the freshness window', async () => {
    const cert = new X509Certificate(pole1.certPem);
    const after = Date.parse(cert.validTo) + 60_000;
    const msg = makeHit('pole-1', 'test-pd', after, { publishedAt: after });
    expect(await reason(await seal(msg, pole1, certs.encryption), { now: after })).toBe('expired-cert');
    expect(await reason(await seal({ ...msg, publishedAt: opts.now + 3_600_000 }, pole1, certs.encryption))).toBe('stale');
  });
});

describe('HitStore', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hit-store-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('keeps hits, dispositions still to send and certificate serials across reopening', async () => {
    const msg = makeHit('pole-1', 'test-pd', Date.now());
    const hit: StoredHit = { v: 1, hitId: msg.hitId, agency: 'test-pd', device: 'pole-1', hit: msg, receivedAt: 5, latencyMs: 900, transitMs: 100, signer: { cn: 'pole-1', serial: '1001' }, dispositions: [] };
    let store = await HitStore.open(join(dir, 'db'));
    await store.put(hit);
    const record = { disposition: 'misread' as const, reason: 'crop reads 7ABG123', by: 'op', at: 77 };
    await store.putDisposition({ ...hit, dispositions: [record] }, record);
    await store.setCertSerial('pole-1', '1001');
    await store.close();

    store = await HitStore.open(join(dir, 'db'));
    const all: StoredHit[] = [];
    for await (const h of store.all()) all.push(h);
    expect(all.map((h) => [h.hitId, h.dispositions.length])).toEqual([[msg.hitId, 1]]);
    expect(await store.unsent()).toEqual([{ hitId: msg.hitId, device: 'pole-1', receivedAt: 5, record }]);
    expect(await store.certSerial('pole-1')).toBe('1001');
    await store.markSent(msg.hitId, record);
    expect(await store.unsent()).toEqual([]);
    expect((await store.get(msg.hitId))?.dispositions).toEqual([record]);
    await store.close();
  });
});
