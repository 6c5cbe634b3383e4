/**
 * What an attacker (or a careless release) puts on the update server: metadata signed by the
 * wrong keys, too few keys, old versions, mismatched snapshots. Written straight into the served
 * folder, bypassing the release tool's own checks.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { signerFor, type KeyFile } from '../../ota/release/keys.ts';
import { expiresIn, parseSnapshot, parseTargets, parseTimestamp, serialise, snapshotJson, targetsJson, timestampJson, unsigned } from '../../ota/release/metadata.ts';

export async function readServed(out: string, file: string): Promise<Record<string, unknown>> {
  return JSON.parse(await readFile(path.join(out, 'metadata', file), 'utf8')) as Record<string, unknown>;
}

/** Publishes targets `version` signed by `targetsKeys`, with a matching snapshot and timestamp signed by the online keys. */
export async function forgeRelease(out: string, opts: {
  targetsVersion: number; snapshotVersion: number; timestampVersion: number;
  targets: Record<string, unknown>; targetsKeys: readonly KeyFile[]; snapshotKeys: readonly KeyFile[]; timestampKeys: readonly KeyFile[];
}): Promise<void> {
  const now = Date.now();
  const t = parseTargets(unsigned(targetsJson(opts.targetsVersion, expiresIn(now, 30), opts.targets)));
  for (const k of opts.targetsKeys) t.sign(signerFor(k), true);
  await writeFile(path.join(out, 'metadata', `${opts.targetsVersion}.targets.json`), serialise(t));
  const s = parseSnapshot(unsigned(snapshotJson(opts.snapshotVersion, expiresIn(now, 7), opts.targetsVersion)));
  for (const k of opts.snapshotKeys) s.sign(signerFor(k), true);
  const sBytes = serialise(s);
  await writeFile(path.join(out, 'metadata', `${opts.snapshotVersion}.snapshot.json`), sBytes);
  const ts = parseTimestamp(unsigned(timestampJson(opts.timestampVersion, expiresIn(now, 1), opts.snapshotVersion, sBytes)));
  for (const k of opts.timestampKeys) ts.sign(signerFor(k), true);
  await writeFile(path.join(out, 'metadata', 'timestamp.json'), serialise(ts));
}
