/**
 * Building and checking TUF metadata for the release tool. Signed parts are built as plain JSON
 * (the TUF wire format) and parsed through @tufjs/models, so the tool writes exactly what the
 * device's tuf-js reads, and thresholds are checked with the same code the client runs.
 */
import { createHash } from 'node:crypto';
import { Metadata, MetadataKind, type Root, type Snapshot, type Targets, type Timestamp } from '@tufjs/models';
import type { KeyFile } from './keys.ts';

export const SPEC_VERSION = '1.0.31';
export type RoleName = 'root' | 'targets' | 'snapshot' | 'timestamp';
export const ROLES: readonly RoleName[] = ['root', 'targets', 'snapshot', 'timestamp'];

export interface RoleKeys {
  readonly keys: readonly KeyFile[];
  readonly threshold: number;
}

type Json = Record<string, unknown>;

export function expiresIn(now: number, days: number): string {
  // TUF wants second precision with a Z suffix.
  return new Date(now + days * 86_400_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function rootJson(version: number, expires: string, roles: Readonly<Record<RoleName, RoleKeys>>): Json {
  const keys: Record<string, Json> = {};
  const roleJson: Record<string, Json> = {};
  for (const name of ROLES) {
    const r = roles[name];
    for (const k of r.keys) keys[k.keyid] = { keytype: k.keytype, scheme: k.scheme, keyval: { public: k.public } };
    roleJson[name] = { keyids: r.keys.map((k) => k.keyid), threshold: r.threshold };
  }
  return { _type: 'root', spec_version: SPEC_VERSION, version, expires, consistent_snapshot: true, keys, roles: roleJson };
}

export function parseRoot(json: unknown): Metadata<Root> {
  return Metadata.fromJSON(MetadataKind.Root, json as never);
}
export function parseTargets(json: unknown): Metadata<Targets> {
  return Metadata.fromJSON(MetadataKind.Targets, json as never);
}
export function parseSnapshot(json: unknown): Metadata<Snapshot> {
  return Metadata.fromJSON(MetadataKind.Snapshot, json as never);
}
export function parseTimestamp(json: unknown): Metadata<Timestamp> {
  return Metadata.fromJSON(MetadataKind.Timestamp, json as never);
}

export function unsigned(signed: Json): Json {
  return { signed, signatures: [] };
}

export function targetsJson(version: number, expires: string, targets: Record<string, unknown>): Json {
  return { _type: 'targets', spec_version: SPEC_VERSION, version, expires, targets };
}

export function snapshotJson(version: number, expires: string, targetsVersion: number): Json {
  return { _type: 'snapshot', spec_version: SPEC_VERSION, version, expires, meta: { 'targets.json': { version: targetsVersion } } };
}

/** The timestamp pins the snapshot's hash and length too: a swapped snapshot of the same version is refused. */
export function timestampJson(version: number, expires: string, snapshotVersion: number, snapshotBytes: Uint8Array): Json {
  return {
    _type: 'timestamp',
    spec_version: SPEC_VERSION,
    version,
    expires,
    meta: {
      'snapshot.json': {
        version: snapshotVersion,
        length: snapshotBytes.length,
        hashes: { sha256: createHash('sha256').update(snapshotBytes).digest('hex') },
      },
    },
  };
}

/** How many valid signatures `meta` carries from the keys `root` lists for `role`. */
export function countValid(root: Metadata<Root>, role: RoleName, meta: Metadata<Root | Targets | Snapshot | Timestamp>): { valid: number; threshold: number } {
  const r = root.signed.roles[role];
  if (!r) return { valid: 0, threshold: Infinity };
  let valid = 0;
  for (const keyid of r.keyIDs) {
    const key = root.signed.keys[keyid];
    if (!key || !meta.signatures[keyid]) continue;
    try {
      key.verifySignature(meta);
      valid += 1;
    } catch {
      // an invalid signature counts as none; the threshold check reports the shortfall
    }
  }
  return { valid, threshold: r.threshold };
}

/** Serialised exactly as published (the snapshot's hash in the timestamp covers these bytes). */
export function serialise(meta: Metadata<Root | Targets | Snapshot | Timestamp>): Buffer {
  return Buffer.from(`${JSON.stringify(meta.toJSON(), null, 1)}\n`);
}
