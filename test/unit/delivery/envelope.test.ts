import { X509Certificate, createPrivateKey } from 'node:crypto';
import { CompactSign, decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACK_TYP, EnvelopeError, openHit, sealHit, signJson, verifySigned } from '../../../gateway/delivery/envelope.ts';
import { buildHitDraft, hitMessageSchema, parseHitMessage, stampHit, stampHitJson, stampHitParts } from '../../../gateway/delivery/hit-message.ts';
import { createTestPki } from '../../helpers/pki.ts';
import { IMAGES, deliveryPki, hitDetection, type DeliveryPki } from './fixtures.ts';

const ID = '019a9a3c-1234-7abc-8def-0123456789ab';

describe('hit envelope (JWS in JWE, jose)', () => {
  let f: DeliveryPki;
  beforeAll(async () => {
    f = await deliveryPki();
  }, 60_000);
  afterAll(async () => f?.pki.dispose());

  it('builds a version-2 message the receiver schema accepts, with everything a dispatcher checks', () => {
    const draft = buildHitDraft('test-pd', hitDetection(ID), IMAGES, { lat: 37.8, lon: -122.3, source: 'configured' });
    const message = stampHit(draft, 1_790_000_000_100, 1);
    const parsed = parseHitMessage(JSON.parse(JSON.stringify(message)));
    expect(parsed).toMatchObject({
      v: 2, hitId: ID, device: 'pole-1', agency: 'test-pd', camera: 'north', plate: '7ABC123', site: 'Main St',
      capturedAt: 1_790_000_000_000, readAt: 1_790_000_000_040, matchedAt: 1_790_000_000_041, publishedAt: 1_790_000_000_100, attempt: 1,
      hotlist: { version: '2026-11-22T06:00:00Z', ageMs: 3_600_000, stale: false },
      match: { kind: 'exact', listType: 'stolen-vehicle', sealed: 'eyJhbGciOi.sealed.blob', explanation: 'exact match on 7ABC123' },
      location: { lat: 37.8, lon: -122.3, source: 'configured' },
      clock: 'trusted',
    });
    expect(Buffer.from(parsed.images.plate, 'base64')).toEqual(Buffer.from(IMAGES.plate));
    expect(() => parseHitMessage({ ...message, v: 1 })).toThrow(/hit message invalid at v/);
    expect(hitMessageSchema.safeParse({ ...message, hitId: 'nope' }).success).toBe(false);
  });

  it('regression: frame times with fractions of a millisecond (the pipeline\'s) make a valid message', () => {
    const d = hitDetection(ID);
    const draft = buildHitDraft('test-pd', { ...d, capturedAt: d.capturedAt + 0.375, readAt: d.readAt + 0.5, matchedAt: d.readAt + 1.25 }, IMAGES);
    expect(() => parseHitMessage(JSON.parse(JSON.stringify(stampHit(draft, 1_790_000_000_100, 1))))).not.toThrow();
    expect(Number.isInteger(draft.capturedAt)).toBe(true);
  });

  it('stamps a draft\'s JSON text as stampHit stamps the draft (the outbox sends without parsing it again)', () => {
    const draft = buildHitDraft('test-pd', hitDetection(ID), IMAGES, { lat: 37.8, lon: -122.3, source: 'configured' });
    const json = JSON.stringify(draft);
    expect(stampHitJson(json, 1_790_000_000_100, 3)).toBe(JSON.stringify(stampHit(JSON.parse(json) as typeof draft, 1_790_000_000_100, 3)));
    expect(JSON.parse(stampHitJson('{}', 5, 1))).toEqual({ publishedAt: 5, attempt: 1 });
    expect(() => stampHitJson('[1]', 5, 1)).toThrow(/not a JSON object/);
    // The same on its UTF-8 bytes, in two parts.
    const stamped = (text: string, at: number, attempt: number): string => Buffer.concat(stampHitParts(Buffer.from(text), at, attempt)).toString('utf8');
    expect(stamped(json, 1_790_000_000_100, 3)).toBe(stampHitJson(json, 1_790_000_000_100, 3));
    expect(stamped('{}', 5, 1)).toBe(stampHitJson('{}', 5, 1));
    expect(() => stampHitParts(Buffer.from('[1]'), 5, 1)).toThrow(/not a JSON object/);
  });

  it('explains an edit-distance match character by character', () => {
    const d = hitDetection(ID, '7A8C123');
    const match = { ...d.match!, kind: 'edit-distance' as const, distance: 1, substitutions: [{ position: 2, read: '8', listed: 'B', op: 'substituted' as const }] };
    const draft = buildHitDraft('test-pd', { ...d, match }, IMAGES);
    expect(draft.match.explanation).toBe("1 edit(s) from 7A8C123: '8' read for 'B' at 2");
  });

  it('seals at send time and opens only with the dispatch key; headers as the contract says', async () => {
    const message = stampHit(buildHitDraft('test-pd', hitDetection(ID), IMAGES), 1_790_000_000_100, 2);
    const jwe = await sealHit(message, f.identity, f.recipient);
    expect(jwe.split('.')).toHaveLength(5);
    expect(jwe).not.toContain('7ABC123');
    expect(decodeProtectedHeader(jwe)).toMatchObject({ alg: 'ECDH-ES+A256KW', enc: 'A256GCM', cty: 'alpr-hit+jws', kid: f.recipient.kid });
    const anchors = [new X509Certificate(f.pki.caCertPem)];
    const { message: opened, jws } = await openHit(jwe, f.dispatchKey, anchors, 'pole-1', Date.now());
    expect(opened).toEqual(JSON.parse(JSON.stringify(message)));
    expect(decodeProtectedHeader(jws)).toMatchObject({ alg: 'ES256', typ: 'alpr-hit+jws', x5c: [...f.identity.x5c] });
    // Another key cannot open it.
    await expect(openHit(jwe, createPrivateKey(f.device.keyPem), anchors, 'pole-1', Date.now())).rejects.toThrow();
  });

  it('refuses a reply signed by the wrong identity, another CA, a wrong type or a tampered payload', async () => {
    const anchors = [new X509Certificate(f.pki.caCertPem)];
    const dispatchIdentity = { key: createPrivateKey(f.dispatch.keyPem), x5c: [new X509Certificate(f.dispatch.certPem).raw.toString('base64')] };
    const good = await signJson(ACK_TYP, { hitId: ID }, dispatchIdentity);
    await expect(verifySigned(good, ACK_TYP, anchors, 'dispatch', Date.now())).resolves.toEqual({ hitId: ID });
    // The device's own certificate is from the right CA but is not the dispatch identity.
    await expect(verifySigned(await signJson(ACK_TYP, { hitId: ID }, f.identity), ACK_TYP, anchors, 'dispatch', Date.now())).rejects.toThrow(/signer CN "pole-1"/);
    await expect(verifySigned(good, 'alpr-cmd+jws', anchors, 'dispatch', Date.now())).rejects.toThrow(/typ alpr-ack\+jws/);
    const [h, , s] = good.split('.');
    const forged = `${h}.${Buffer.from(JSON.stringify({ hitId: 'other' })).toString('base64url')}.${s}`;
    await expect(verifySigned(forged, ACK_TYP, anchors, 'dispatch', Date.now())).rejects.toThrow(EnvelopeError);
    const other = await createTestPki('Other CA');
    try {
      const impostor = await other.issue('dispatch', { client: true });
      const signed = await new CompactSign(Buffer.from('{}')).setProtectedHeader({ alg: 'ES256', typ: ACK_TYP, x5c: [new X509Certificate(impostor.certPem).raw.toString('base64')] }).sign(createPrivateKey(impostor.keyPem));
      await expect(verifySigned(signed, ACK_TYP, anchors, 'dispatch', Date.now())).rejects.toThrow(/not issued by a trusted agency CA/);
    } finally {
      await other.dispose();
    }
  });
});
