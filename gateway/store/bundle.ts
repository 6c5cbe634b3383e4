/**
 * Evidence bundles: a hold exported for release to another agency or a court (P6, P11). The
 * bundle is one compact JWE (to the recipient's public key, or a password) around one compact JWS
 * (ES256, device key, public key in the header) over the manifest: the release record, the hold,
 * each record's exact stored JSON and images, and each chain from genesis to a signed head.
 * `alpr evidence verify` (bundle-verify.ts) checks all of it offline.
 */
import { createPublicKey, type JsonWebKey as NodeJwk, type KeyObject } from 'node:crypto';
import { CompactEncrypt, type JWK } from 'jose';
import type { AccessContext } from './access.ts';
import type { StoreCore } from './core.ts';
import { AccessDeniedError, InvalidInputError } from './errors.ts';
import type { Holds, ReleaseRecord } from './holds.ts';
import type { RecordClass } from './records.ts';

export interface ReleaseRequest {
  readonly agency: string;
  readonly requester: string;
  readonly purpose: string;
  readonly approver: string;
  readonly requestRef?: string;
}

export type Recipient = { readonly publicKey: string | JWK } | { readonly password: string };

export interface BundleManifest {
  readonly type: 'alpr.evidence-bundle';
  readonly v: 1;
  readonly bundleId: string;
  readonly device: { readonly id: string; readonly kid: string; readonly publicKey: JWK };
  readonly exportedAt: number;
  readonly exportedBy: string;
  readonly exportedFrom: string;
  readonly hold: { readonly id: string; readonly caseNumber: string; readonly reason: string; readonly placedBy: string; readonly placedAt: number };
  readonly release: ReleaseRecord;
  readonly records: readonly {
    readonly id: string; readonly day: string; readonly class: RecordClass; readonly cameraId: string; readonly seq: number;
    /** The stored JSON, byte for byte: the chain digest covers exactly this text. */
    readonly json: string;
    readonly images: { readonly plate?: string; readonly overview?: string };
  }[];
  readonly chains: readonly { readonly day: string; readonly camera: string; readonly digests: readonly string[]; readonly head: string }[];
}

export const PBES2_ITERATIONS = 210_000;

function field(v: unknown, name: string, min = 2, max = 200): string {
  if (typeof v !== 'string' || v.trim().length < min || v.trim().length > max) throw new InvalidInputError(`release.${name}: ${min} to ${max} characters`);
  return v.trim();
}

export function checkRelease(req: unknown, forbidden: readonly string[]): ReleaseRequest {
  if (typeof req !== 'object' || req === null) throw new InvalidInputError('release: {agency, requester, purpose, approver} is required (P11)');
  const r = req as Record<string, unknown>;
  const out: ReleaseRequest = {
    agency: field(r.agency, 'agency'), requester: field(r.requester, 'requester'), purpose: field(r.purpose, 'purpose', 3, 500),
    approver: field(r.approver, 'approver'), ...(r.requestRef !== undefined ? { requestRef: field(r.requestRef, 'requestRef', 1, 100) } : {}),
  };
  const bad = forbidden.find((f) => out.purpose.toLowerCase().includes(f.toLowerCase()));
  if (bad !== undefined) throw new AccessDeniedError(`release for "${bad}" is forbidden by agency policy (P11)`);
  return out;
}

function recipientKey(recipient: Recipient): { alg: string; key: KeyObject | Uint8Array } {
  if ('password' in recipient) {
    if (typeof recipient.password !== 'string' || recipient.password.length < 12) throw new InvalidInputError('recipient.password: at least 12 characters');
    return { alg: 'PBES2-HS512+A256KW', key: Buffer.from(recipient.password, 'utf8') };
  }
  let key: KeyObject;
  try {
    key = typeof recipient.publicKey === 'string'
      ? createPublicKey(recipient.publicKey)
      : createPublicKey({ key: recipient.publicKey as NodeJwk, format: 'jwk' });
  } catch {
    throw new InvalidInputError('recipient.publicKey: not a PEM or JWK public key');
  }
  if (key.asymmetricKeyType !== 'ec' && key.asymmetricKeyType !== 'x25519') throw new InvalidInputError('recipient.publicKey: an EC (P-256/384/521) or X25519 key is needed');
  return { alg: 'ECDH-ES+A256KW', key };
}

export async function exportHold(core: StoreCore, holds: Holds, ctx: AccessContext, holdId: string, request: { release: unknown; recipient: Recipient }): Promise<{ bundle: string; manifest: BundleManifest }> {
  const release = checkRelease(request.release, core.forbiddenReleasePurposes);
  const enc = recipientKey(request.recipient);
  const meta = await holds.meta(holdId);
  const { records, chains } = await holds.contents(meta);
  // "Signed at every export": the live chains of the held days, where they still exist.
  for (const day of new Set(chains.map((c) => c.day))) await core.chains.signDay(day);
  const now = core.clock.now();
  const record: ReleaseRecord = { ...release, releasedAt: now, releasedBy: ctx.user, bundleId: core.newId(now) };
  const b64 = (b: Uint8Array | undefined): string | undefined => (b ? Buffer.from(b).toString('base64') : undefined);
  const manifest: BundleManifest = {
    type: 'alpr.evidence-bundle', v: 1, bundleId: record.bundleId,
    device: { id: core.signer.deviceId, kid: core.signer.kid, publicKey: core.signer.publicJwk },
    exportedAt: now, exportedBy: ctx.user, exportedFrom: ctx.source,
    hold: { id: meta.id, caseNumber: meta.caseNumber, reason: meta.reason, placedBy: meta.placedBy, placedAt: meta.placedAt },
    release: record,
    records: records.map((r) => ({
      id: r.id, day: r.day, class: r.class, cameraId: r.cameraId, seq: r.seq, json: r.json,
      images: { ...(r.images.plate ? { plate: b64(r.images.plate) } : {}), ...(r.images.overview ? { overview: b64(r.images.overview) } : {}) },
    })),
    chains: chains.map((c) => ({ day: c.day, camera: c.camera, digests: c.links.map((l) => l.d), head: c.head })),
  };
  const jws = await core.signer.sign('alpr-evidence-bundle', manifest, { embedKey: true });
  const jwe = new CompactEncrypt(Buffer.from(jws, 'utf8')).setProtectedHeader({ alg: enc.alg, enc: 'A256GCM', cty: 'alpr-evidence-bundle+jws' });
  if (enc.alg.startsWith('PBES2')) jwe.setKeyManagementParameters({ p2c: PBES2_ITERATIONS });
  const bundle = await jwe.encrypt(enc.key);
  // The approved request is kept on file with the hold (P11).
  await holds.recordRelease(meta, record);
  return { bundle, manifest };
}
