/**
 * Receivers of one share group keep each other's stores complete through the broker. The
 * shared subscription hands each hit to one receiver; that one verifies, stores and acks it,
 * then passes its stored record on to its peers, who store it without acking. So every console
 * shows every hit, and a device's re-send that lands on another receiver is a duplicate there
 * too. Dispositions travel as the signed ack the device gets, checked against the dispatch
 * identity.
 *
 * A record travels sealed (sealRecord): AES-256-GCM under a key derived from the dispatch
 * decryption key, which every receiver of the group holds (it opens the devices' hits) and
 * nobody else does — not the broker, not a device (a device has the public half). So a peer
 * knows the record comes from a receiver that checked the device's envelope, unaltered, and the
 * broker cannot read it. Checking the envelope again at every peer (what receivers did before)
 * cost each receiver the decryption and signature checks of every hit in the group, about half
 * of dispatch's CPU (bench delivery): a receiver that can forge these records holds the keys
 * to forge acks and open every hit anyway, so the peer's second check bought nothing.
 *
 * Topics (outside the device scheme, so no device name can collide):
 *   alpr-dispatch/v1/{agency}/{group}/records/{device} a stored hit, sealed (below)
 *   alpr-dispatch/v1/{agency}/{group}/dispositions     the signed disposition ack
 *   alpr-dispatch/v1/{agency}/{group}/status/{device}  the device's status as it published it
 *   alpr-dispatch/v1/{agency}/{group}/hits/{device}    the device's envelope: what receivers
 *                                                      before sealed records sent; still taken,
 *                                                      and checked in full like a device's
 * Peers subscribe with MQTT 5 "no local", so a receiver does not get its own.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes, type KeyObject, type X509Certificate } from 'node:crypto';
import { compactVerify, decodeProtectedHeader } from 'jose';
import { parseHitMessage } from '../gateway/delivery/hit-message.ts';
import { gcmAll } from '../gateway/delivery/jose-compact.ts';
import { commonName, verifyChain } from '../provisioning/chain.ts';
import type { VerifiedCrl } from '../provisioning/crl.ts';
import { decodeHitRecord, storedOf } from './hit-record.ts';
import type { StoredHit } from './hit-store.ts';
import { ACK_TYP, DISPOSITIONS, type AckPayload, type Disposition } from './signer.ts';

export interface ReplicaTopics {
  records(device: string): string;
  hits(device: string): string;
  status(device: string): string;
  readonly dispositions: string;
  /** What a peer subscribes to. */
  readonly all: string;
}

export function replicaTopics(agency: string, group: string): ReplicaTopics {
  const base = `alpr-dispatch/v1/${agency}/${group}`;
  return { records: (device) => `${base}/records/${device}`, hits: (device) => `${base}/hits/${device}`, status: (device) => `${base}/status/${device}`, dispositions: `${base}/dispositions`, all: `${base}/#` };
}

export type ReplicaMessage = { readonly kind: 'records' | 'hits' | 'status'; readonly device: string } | { readonly kind: 'dispositions' };

export function parseReplicaTopic(topic: string, agency: string, group: string): ReplicaMessage | undefined {
  const base = `alpr-dispatch/v1/${agency}/${group}/`;
  if (!topic.startsWith(base)) return undefined;
  const rest = topic.slice(base.length);
  if (rest === 'dispositions') return { kind: 'dispositions' };
  const m = /^(records|hits|status)\/([a-z0-9][a-z0-9-]*)$/.exec(rest);
  return m ? { kind: m[1] as 'records' | 'hits' | 'status', device: m[2] as string } : undefined;
}

export type PeerDisposition = AckPayload & { readonly disposition: Disposition; readonly reason: string; readonly by: string; readonly at: number };

/** A disposition a peer made: a signed ack from the dispatch identity (`signerCn`) under the agency CA. */
export async function verifyPeerDisposition(jws: string, anchors: readonly X509Certificate[], crls: readonly VerifiedCrl[] | undefined, signerCn: string, now: number): Promise<PeerDisposition> {
  const header = decodeProtectedHeader(jws);
  if (header.typ !== ACK_TYP || header.alg !== 'ES256' || !Array.isArray(header.x5c)) throw new Error(`not a signed ack (typ ${String(header.typ)})`);
  const leaf = verifyChain(header.x5c, anchors, now, crls);
  if (commonName(leaf) !== signerCn) throw new Error(`signed by ${String(commonName(leaf))}, not the dispatch identity ${signerCn}`);
  const { payload } = await compactVerify(jws, leaf.publicKey, { algorithms: ['ES256'] });
  const ack = JSON.parse(new TextDecoder().decode(payload)) as Partial<PeerDisposition>;
  if (typeof ack.hitId !== 'string' || typeof ack.device !== 'string' || typeof ack.receivedAt !== 'number') throw new Error('ack without hitId, device or receivedAt');
  if (!DISPOSITIONS.includes(ack.disposition as Disposition) || typeof ack.reason !== 'string' || typeof ack.by !== 'string' || typeof ack.at !== 'number') throw new Error('ack carries no complete disposition');
  return ack as PeerDisposition;
}

/**
 * The group's record key: HKDF-SHA256 of the dispatch decryption key's private scalar, bound to
 * the agency and the share group. Every receiver that can open the devices' hits derives it.
 */
export function recordKey(decryptionKey: KeyObject, agency: string, group: string): Buffer {
  const d = decryptionKey.export({ format: 'jwk' }).d;
  if (typeof d !== 'string') throw new Error('record key: the decryption key has no private part');
  return Buffer.from(hkdfSync('sha256', Buffer.from(d, 'base64url'), 'alpr-dispatch replication record', `v1/${agency}/${group}`, 32));
}

/** Sealed record: version (1) ‖ salt (16) ‖ IV (12) ‖ GCM tag (16) ‖ ciphertext. */
const RECORD_V1 = 1;
const HEAD = 1 + 16 + 12 + 16;

/** Per record its own key (HKDF of the group key with a random salt): no IV is ever reused under one key. */
function messageKey(groupKey: Buffer, salt: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', groupKey, salt, 'record', 32));
}

/**
 * Seals a stored hit's record (hit-record.ts; whole, or in parts as recordPartsOfSigned makes it)
 * for the peers; the topic is the associated data (a record cannot be moved to another device's
 * topic).
 */
export function sealRecord(groupKey: Buffer, topic: string, record: Buffer | readonly Buffer[]): Buffer {
  const salt = randomBytes(16);
  const iv = randomBytes(12);
  const gcm = createCipheriv('aes-256-gcm', messageKey(groupKey, salt), iv, { authTagLength: 16 });
  gcm.setAAD(Buffer.from(topic, 'utf8'));
  const ciphertext = (Buffer.isBuffer(record) ? [record] : record).map((part) => gcm.update(part));
  gcm.final(); // GCM: no more output, makes the tag
  return Buffer.concat([Buffer.from([RECORD_V1]), salt, iv, gcm.getAuthTag(), ...ciphertext]);
}

/** Opens a sealed record from a peer; throws when it is not one sealed with this group's key for this topic. */
export function openRecord(groupKey: Buffer, topic: string, sealed: Buffer): Buffer {
  if (sealed.length < HEAD || sealed[0] !== RECORD_V1) throw new Error('not a sealed record (version 1)');
  const salt = sealed.subarray(1, 17);
  const iv = sealed.subarray(17, 29);
  const tag = sealed.subarray(29, HEAD);
  try {
    const gcm = createDecipheriv('aes-256-gcm', messageKey(groupKey, salt), iv, { authTagLength: 16 });
    gcm.setAAD(Buffer.from(topic, 'utf8'));
    gcm.setAuthTag(tag);
    return gcmAll(gcm, sealed.subarray(HEAD));
  } catch {
    throw new Error('record does not authenticate: not sealed by a receiver of this group, or altered');
  }
}

/**
 * A record a peer sealed (hit-record.ts: framed, or JSON from a receiver before): what the peer
 * stored for `device` of `agency` (the topic's), the hit message valid by the schema. Throws
 * naming what is wrong.
 */
export function parsePeerRecord(bytes: Uint8Array, device: string, agency: string): StoredHit {
  const r: Partial<StoredHit> = storedOf(decodeHitRecord(bytes));
  const hit = parseHitMessage(r.hit);
  if (r.hitId !== hit.hitId || r.device !== device || hit.device !== device || r.agency !== agency || hit.agency !== agency) {
    throw new Error(`record for ${String(r.agency)}/${String(r.device)} hit ${String(r.hitId)} on ${agency}/${device}'s topic`);
  }
  if (typeof r.receivedAt !== 'number' || typeof r.latencyMs !== 'number' || typeof r.transitMs !== 'number') throw new Error('record without receivedAt, latencyMs or transitMs');
  if (r.signer?.cn !== device || typeof r.signer.serial !== 'string') throw new Error('record without the signer of the device');
  if (!Array.isArray(r.dispositions)) throw new Error('record without dispositions');
  return { ...(r as StoredHit), hit };
}
