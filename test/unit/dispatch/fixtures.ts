/**
 * Shared by the dispatch tests: hit messages (v2) as a device builds them, sealed with the device
 * side's own sealer (gateway/delivery/envelope.ts), and the certificates a dispatch center holds,
 * made by test/helpers/pki.ts (openssl).
 */
import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { sealHit } from '../../../gateway/delivery/envelope.ts';
import type { HitMessage } from '../../../gateway/delivery/hit-message.ts';
import { certThumbprint } from '../../../gateway/delivery/identity.ts';
import { createUuidV7 } from '../../../gateway/ids.ts';
import type { IssuedCert, TestPki } from '../../helpers/pki.ts';

const uuid = createUuidV7();

/** A tiny valid JPEG (SOI … EOI), base64: enough for schema and round-trip checks. */
export const TINY_JPEG_B64 = Buffer.from([0xff, 0xd8, 0xff, 0xd9]).toString('base64');

export function makeHit(device: string, agency: string, now: number, over: Partial<HitMessage> = {}): HitMessage {
  return {
    v: 2,
    hitId: uuid(now - 900),
    agency,
    device,
    site: 'Main St & 5th',
    camera: 'north',
    plate: '7ABC123',
    state: 'ca',
    confidence: 0.93,
    candidates: [{ text: '7ABC123', score: 0.93 }, { text: '7A8C123', score: 0.04 }],
    box: { x: 10, y: 20, width: 120, height: 40 },
    direction: 'toward',
    images: { plate: TINY_JPEG_B64, overview: TINY_JPEG_B64 },
    match: {
      entryId: 'stolen-vehicle:7ABC123',
      listId: 'ncic',
      listVersion: '2026-11-22T06:00:00Z',
      kind: 'exact',
      distance: 0,
      substitutions: [],
      listType: 'stolen-vehicle',
      priority: 90,
      listedPlate: '7ABC123',
      covert: false,
      explanation: 'exact match on 7ABC123',
    },
    hotlist: { version: '2026-11-22T06:00:00Z', generatedAt: now - 3_600_000, ageMs: 3_600_000, stale: false },
    capturedAt: now - 900,
    readAt: now - 700,
    matchedAt: now - 650,
    publishedAt: now - 100,
    attempt: 1,
    versions: { model: 'plates-0.3', firmware: '0.1.0', config: 'abc123' },
    clock: 'system',
    ...over,
  };
}

export interface DispatchCerts {
  readonly pki: TestPki;
  readonly broker: IssuedCert;
  /** TLS client certificate and signing identity (CN dispatch). */
  readonly dispatch: IssuedCert;
  /** The JWE recipient. */
  readonly encryption: IssuedCert;
}

export async function dispatchCerts(pki: TestPki): Promise<DispatchCerts> {
  // One at a time: `openssl ca` keeps one index file per CA.
  const broker = await pki.issue('broker', { server: true, dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
  const dispatch = await pki.issue('dispatch', { client: true });
  const encryption = await pki.issue('dispatch-enc');
  return { pki, broker, dispatch, encryption };
}

/** Signs as `signer` (key and chain; `chainOf` to put another certificate in x5c) and encrypts to `encryption`. */
export async function seal(message: HitMessage, signer: IssuedCert, encryption: IssuedCert, chainOf: IssuedCert = signer): Promise<string> {
  const cert = new X509Certificate(encryption.certPem);
  return sealHit(
    message,
    { key: createPrivateKey(signer.keyPem), x5c: [new X509Certificate(chainOf.certPem).raw.toString('base64')] },
    { key: createPublicKey(cert.publicKey.export({ type: 'spki', format: 'pem' })), kid: certThumbprint(cert), notAfter: Date.parse(cert.validTo) },
  );
}
