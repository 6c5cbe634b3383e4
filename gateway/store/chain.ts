/**
 * Hash chains over detections, one per camera and storage day. Each record's digest covers its
 * exact stored JSON and its images; each link's hash covers the previous hash and the digest, so
 * removing, editing or reordering a record changes every later hash, and the signed head (at
 * least once a minute, at every purge and export) fixes the whole chain to the device key.
 *
 *   digest_i = SHA-256("alpr-record-v1" ‖ len ‖ json ‖ SHA-256(plate) ‖ SHA-256(overview or ""))
 *   hash_-1  = SHA-256("alpr-chain-v1|{device}|{camera}|{day}")
 *   hash_i   = SHA-256(hash_{i-1} ‖ digest_i)
 *
 * An amended record (an early hit completed when its vehicle leaves) gets a new link; the
 * earlier link stays in the chain as the digest of the version dispatch received.
 * These functions are pure so that `alpr evidence verify` runs them without a database.
 */
import { sha256 } from './crypto.ts';

export interface ChainId {
  readonly device: string;
  readonly camera: string;
  readonly day: string;
}

/** What the chain stores per record (JSON under `lnk!{day}!{camera}!{seq}`). */
export interface Link {
  readonly id: string;
  /** r: read, h: hit */
  readonly c: 'r' | 'h';
  /** hex digest of the record version this link covers */
  readonly d: string;
  /** hex chain hash up to and including this link */
  readonly h: string;
}

export interface Head {
  readonly seq: number;
  readonly hash: string;
}

/** The signed statement of a chain head. */
export interface HeadStatement extends ChainId {
  readonly type: 'alpr.chain-head';
  readonly v: 1;
  readonly seq: number;
  readonly hash: string;
  readonly at: number;
}

export function recordDigest(json: string, plate: Uint8Array, overview?: Uint8Array): string {
  const body = Buffer.from(json, 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32BE(body.length);
  return sha256('alpr-record-v1', len, body, sha256(plate), sha256(overview ?? new Uint8Array())).toString('hex');
}

export function genesis(chain: ChainId): Head {
  return { seq: -1, hash: sha256(`alpr-chain-v1|${chain.device}|${chain.camera}|${chain.day}`).toString('hex') };
}

export function nextHead(prev: Head, digest: string): Head {
  return { seq: prev.seq + 1, hash: sha256(Buffer.from(prev.hash, 'hex'), Buffer.from(digest, 'hex')).toString('hex') };
}

/** Recomputes a chain from its digests; the hash after each link. */
export function chainHashes(chain: ChainId, digests: readonly string[]): string[] {
  let head = genesis(chain);
  return digests.map((d) => (head = nextHead(head, d)).hash);
}
