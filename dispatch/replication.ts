/**
 * Receivers of one share group keep each other's stores complete through the broker. The
 * shared subscription hands each hit to one receiver; that one stores and acks it, then passes
 * the device's original envelope on to its peers, who verify it themselves (nothing a peer says
 * is taken on trust) and store it without acking. So every console shows every hit, and a
 * device's re-send that lands on another receiver is a duplicate there too. Dispositions travel
 * the same way, as the signed ack the device gets, checked against the dispatch identity.
 *
 * Topics (outside the device scheme, so no device name can collide):
 *   alpr-dispatch/v1/{agency}/{group}/hits/{device}   the envelope as the device sent it
 *   alpr-dispatch/v1/{agency}/{group}/dispositions    the signed disposition ack
 *   alpr-dispatch/v1/{agency}/{group}/status/{device} the device's status as it published it
 * Peers subscribe with MQTT 5 "no local", so a receiver does not get its own.
 */
import type { X509Certificate } from 'node:crypto';
import { compactVerify, decodeProtectedHeader } from 'jose';
import { commonName, verifyChain } from '../provisioning/chain.ts';
import type { VerifiedCrl } from '../provisioning/crl.ts';
import { ACK_TYP, DISPOSITIONS, type AckPayload, type Disposition } from './signer.ts';

export interface ReplicaTopics {
  hits(device: string): string;
  status(device: string): string;
  readonly dispositions: string;
  /** What a peer subscribes to. */
  readonly all: string;
}

export function replicaTopics(agency: string, group: string): ReplicaTopics {
  const base = `alpr-dispatch/v1/${agency}/${group}`;
  return { hits: (device) => `${base}/hits/${device}`, status: (device) => `${base}/status/${device}`, dispositions: `${base}/dispositions`, all: `${base}/#` };
}

export type ReplicaMessage = { readonly kind: 'hits' | 'status'; readonly device: string } | { readonly kind: 'dispositions' };

export function parseReplicaTopic(topic: string, agency: string, group: string): ReplicaMessage | undefined {
  const base = `alpr-dispatch/v1/${agency}/${group}/`;
  if (!topic.startsWith(base)) return undefined;
  const rest = topic.slice(base.length);
  if (rest === 'dispositions') return { kind: 'dispositions' };
  const m = /^(hits|status)\/([a-z0-9][a-z0-9-]*)$/.exec(rest);
  return m ? { kind: m[1] as 'hits' | 'status', device: m[2] as string } : undefined;
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
