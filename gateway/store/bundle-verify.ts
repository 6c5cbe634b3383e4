/**
 * Offline verification of an evidence bundle — what `alpr evidence verify` runs for a court or a
 * receiving agency: decrypt, check the device signature (against a device key the verifier trusts,
 * when given), recompute every chain from genesis to its signed head, and recompute every
 * record's digest from its JSON and images and find it at its place in its chain.
 */
import { createPublicKey, type JsonWebKey as NodeJwk, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, compactDecrypt, compactVerify, decodeProtectedHeader, type JWK } from 'jose';
import { chainHashes, recordDigest, type HeadStatement } from './chain.ts';
import { PBES2_ITERATIONS, type BundleManifest } from './bundle.ts';
import { verifyStatement } from './signer.ts';

export interface BundleCheck {
  readonly ok: boolean;
  readonly problems: readonly string[];
  readonly manifest?: BundleManifest;
  /** Thumbprint of the key that signed, to compare with the device's registered key. */
  readonly deviceKid?: string;
  /** A trusted device key was given and the bundle is signed by it. */
  readonly deviceKeyTrusted: boolean;
  readonly records: readonly { id: string; ok: boolean; problem?: string }[];
  readonly chains: readonly { day: string; camera: string; length: number; ok: boolean; problem?: string }[];
}

export interface VerifyOptions {
  readonly privateKey?: KeyObject;
  readonly password?: string;
  /** The device's public key as registered with the agency; without it the embedded key is only reported. */
  readonly trustedDeviceKey?: KeyObject;
}

const fail = (problems: string[]): BundleCheck => ({ ok: false, problems, deviceKeyTrusted: false, records: [], chains: [] });

export async function verifyBundle(bundle: string, options: VerifyOptions): Promise<BundleCheck> {
  const key = options.privateKey ?? (options.password !== undefined ? Buffer.from(options.password, 'utf8') : undefined);
  if (!key) return fail(['no decryption key or password given']);
  let jws: string;
  try {
    const algorithms = options.privateKey ? ['ECDH-ES+A256KW'] : ['PBES2-HS512+A256KW'];
    const decrypted = await compactDecrypt(bundle.trim(), key, {
      keyManagementAlgorithms: algorithms, contentEncryptionAlgorithms: ['A256GCM'], maxPBES2Count: PBES2_ITERATIONS,
    });
    jws = Buffer.from(decrypted.plaintext).toString('utf8');
  } catch (err) {
    return fail([`cannot decrypt the bundle: ${(err as Error).message}`]);
  }
  let manifest: BundleManifest;
  let deviceKey: KeyObject;
  let deviceKid: string;
  try {
    const header = decodeProtectedHeader(jws);
    if (header.typ !== 'alpr-evidence-bundle' || !header.jwk) return fail(['not an evidence bundle (header)']);
    deviceKey = createPublicKey({ key: header.jwk as NodeJwk, format: 'jwk' });
    deviceKid = await calculateJwkThumbprint(header.jwk as JWK);
    const { payload } = await compactVerify(jws, deviceKey, { algorithms: ['ES256'] });
    manifest = JSON.parse(Buffer.from(payload).toString('utf8')) as BundleManifest;
  } catch (err) {
    return fail([`the device signature does not verify: ${(err as Error).message}`]);
  }
  const problems: string[] = [];
  let trusted = false;
  if (options.trustedDeviceKey) {
    const expected = await calculateJwkThumbprint(options.trustedDeviceKey.export({ format: 'jwk' }) as JWK);
    trusted = expected === deviceKid;
    if (!trusted) problems.push(`signed by key ${deviceKid}, not by the trusted device key ${expected}`);
  }
  if (manifest.device.kid !== deviceKid) problems.push('the manifest names a different device key than the one that signed it');

  const chains: { day: string; camera: string; length: number; ok: boolean; problem?: string }[] = [];
  const digestsOf = new Map<string, readonly string[]>();
  for (const c of manifest.chains) {
    const name = `${c.day}/${c.camera}`;
    let problem: string | undefined;
    try {
      const head = await verifyStatement<HeadStatement>(c.head, deviceKey, 'alpr-chain-head', `chain head ${name}`);
      const hashes = chainHashes({ device: manifest.device.id, camera: c.camera, day: c.day }, c.digests);
      if (head.device !== manifest.device.id || head.camera !== c.camera || head.day !== c.day) problem = 'the signed head belongs to another chain';
      else if (head.seq !== c.digests.length - 1) problem = `the signed head is at link ${head.seq} but the chain has ${c.digests.length} links`;
      else if (hashes[hashes.length - 1] !== head.hash) problem = 'the links do not hash to the signed head (a link was altered, removed or reordered)';
    } catch (err) {
      problem = (err as Error).message;
    }
    if (problem) problems.push(`chain ${name}: ${problem}`);
    else digestsOf.set(`${c.day}!${c.camera}`, c.digests);
    chains.push({ day: c.day, camera: c.camera, length: c.digests.length, ok: !problem, ...(problem ? { problem } : {}) });
  }

  const records: { id: string; ok: boolean; problem?: string }[] = [];
  for (const r of manifest.records) {
    let problem: string | undefined;
    const digests = digestsOf.get(`${r.day}!${r.cameraId}`);
    let parsed: { id?: unknown; cameraId?: unknown } = {};
    try {
      parsed = JSON.parse(r.json) as typeof parsed;
    } catch {
      problem = 'its JSON does not parse';
    }
    const digest = recordDigest(r.json, Buffer.from(r.images.plate ?? '', 'base64'), r.images.overview !== undefined ? Buffer.from(r.images.overview, 'base64') : undefined);
    if (problem) { /* already named */ } else if (parsed.id !== r.id || parsed.cameraId !== r.cameraId) problem = 'its JSON names another detection or camera';
    else if (!digests) problem = 'its chain is missing or does not verify';
    else if (digests[r.seq] !== digest) problem = `its content does not match link ${r.seq} of its chain (altered)`;
    if (problem) problems.push(`record ${r.id}: ${problem}`);
    records.push({ id: r.id, ok: !problem, ...(problem ? { problem } : {}) });
  }
  return { ok: problems.length === 0, problems, manifest, deviceKid, deviceKeyTrusted: trusted, records, chains };
}
