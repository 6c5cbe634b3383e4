/**
 * Signing keys of the release tool: ed25519, kept as small JSON files. The private half never
 * leaves the file it was written to (mode 0600); the public half is what root metadata lists.
 * Offline keys (root, targets) live on security staff's media; online keys (snapshot,
 * timestamp) on the machine that re-signs the timestamp daily.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign as edSign } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { Key, Signature } from '@tufjs/models';
import { ReleaseError } from '../errors.ts';

export const KEY_FORMAT = 'alpr-ota-key';

export interface KeyFile {
  readonly format: typeof KEY_FORMAT;
  readonly keyid: string;
  readonly keytype: 'ed25519';
  readonly scheme: 'ed25519';
  /** Raw 32-byte public key, hex (TUF's ed25519 key value). */
  readonly public: string;
  /** PKCS#8 PEM; absent in a public-only file. */
  readonly private?: string;
}

/**
 * TUF key ids are the SHA-256 of the key's canonical JSON. For this key shape (fixed ASCII
 * strings and hex) canonical JSON is JSON with sorted keys and no whitespace.
 */
export function keyIdOf(publicHex: string): string {
  const canonical = `{"keytype":"ed25519","keyval":{"public":"${publicHex}"},"scheme":"ed25519"}`;
  return createHash('sha256').update(canonical).digest('hex');
}

export function generateKey(): KeyFile {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  // The SPKI DER of an ed25519 key ends with the 32 raw key bytes.
  const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32).toString('hex');
  return {
    format: KEY_FORMAT,
    keyid: keyIdOf(raw),
    keytype: 'ed25519',
    scheme: 'ed25519',
    public: raw,
    private: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
  };
}

export function publicOnly(key: KeyFile): KeyFile {
  const { private: _secret, ...pub } = key;
  return pub;
}

export function tufKey(key: KeyFile): Key {
  return new Key({ keyID: key.keyid, keyType: key.keytype, scheme: key.scheme, keyVal: { public: key.public } });
}

/** A signer for Metadata.sign(): models hands it the canonical bytes of `signed`. */
export function signerFor(key: KeyFile): (data: Buffer) => Signature {
  if (!key.private) throw new ReleaseError(`key ${key.keyid.slice(0, 12)} has no private half (a public key file cannot sign)`);
  const priv = createPrivateKey(key.private);
  return (data) => new Signature({ keyID: key.keyid, sig: edSign(null, data, priv).toString('hex') });
}

export async function writeKeyFile(path: string, key: KeyFile): Promise<void> {
  await writeFile(path, `${JSON.stringify(key, null, 2)}\n`, { mode: key.private ? 0o600 : 0o644, flag: 'wx' });
}

export async function readKeyFile(path: string): Promise<KeyFile> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    throw new ReleaseError(`${path}: cannot read key file (${(err as Error).message})`);
  }
  const k = json as Partial<KeyFile>;
  if (k.format !== KEY_FORMAT || k.keytype !== 'ed25519' || typeof k.public !== 'string' || !/^[0-9a-f]{64}$/.test(k.public)) {
    throw new ReleaseError(`${path}: not an ${KEY_FORMAT} ed25519 key file`);
  }
  if (keyIdOf(k.public) !== k.keyid) throw new ReleaseError(`${path}: keyid does not match the public key`);
  if (k.private !== undefined) {
    const derived = createPublicKey(createPrivateKey(k.private)).export({ format: 'der', type: 'spki' }).subarray(-32).toString('hex');
    if (derived !== k.public) throw new ReleaseError(`${path}: private key does not belong to the public key`);
  }
  return k as KeyFile;
}
