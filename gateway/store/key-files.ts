/**
 * The device's two long-lived keys, created at first boot under `{dataDir}/keys/` (mode 0700 for
 * the folder, 0600 for the files), written to a temporary name, fsynced and renamed so a power
 * cut leaves either the whole key or none:
 *   master.key      AES-256 key that wraps every data key (JSON, versioned)
 *   device-key.pem  ECDSA P-256 private key (PKCS#8) that signs chain heads, receipts,
 *                   audit checkpoints and evidence bundles
 * The provisioning issue will bind both to the device (secure element / TPM, device certificate);
 * until then they sit on the same card as the data — see docs/store-threat-model.md.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { chmod, mkdir, open, readFile, rename, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { RandomSource } from '../ids.ts';
import { systemRandom } from './crypto.ts';
import { KeyMaterialError } from './errors.ts';

export interface DeviceKeys {
  readonly master: Buffer;
  readonly signing: KeyObject;
  readonly verifying: KeyObject;
  /** Files created by this call (first boot), for the report. */
  readonly created: readonly string[];
}

export const MASTER_KEY_FILE = 'master.key';
export const DEVICE_KEY_FILE = 'device-key.pem';

/** temp name → write → fsync → rename → fsync the folder. */
export async function writeFileDurable(path: string, data: string | Uint8Array, mode = 0o600): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  const fh = await open(tmp, 'w', mode);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await chmod(tmp, mode); // open()'s mode is masked by the umask
  await rename(tmp, path);
  const dir = await open(dirname(path), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

async function readIfExists(path: string): Promise<Buffer | undefined> {
  try {
    return await readFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new KeyMaterialError(`${path}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
}

/** A key file readable by others is narrowed to 0600 rather than refused: the device must boot. */
async function narrow(path: string): Promise<void> {
  const { mode } = await stat(path);
  if ((mode & 0o077) !== 0) await chmod(path, 0o600);
}

function parseMaster(path: string, raw: Buffer): Buffer {
  try {
    const doc = JSON.parse(raw.toString('utf8')) as { v?: unknown; k?: unknown };
    const key = typeof doc.k === 'string' ? Buffer.from(doc.k, 'base64') : undefined;
    if (doc.v === 1 && key?.length === 32) return key;
  } catch {
    // fall through to the error below: the file is not the JSON we write
  }
  throw new KeyMaterialError(`${path}: not a version-1 master key file`);
}

export async function loadOrCreateKeys(dir: string, random: RandomSource = systemRandom): Promise<DeviceKeys> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  const created: string[] = [];

  const masterPath = join(dir, MASTER_KEY_FILE);
  let rawMaster = await readIfExists(masterPath);
  if (!rawMaster) {
    rawMaster = Buffer.from(JSON.stringify({ v: 1, kty: 'oct', use: 'wrap', k: Buffer.from(random(32)).toString('base64') }));
    await writeFileDurable(masterPath, rawMaster);
    created.push(masterPath);
  } else await narrow(masterPath);
  const master = parseMaster(masterPath, rawMaster);

  const devicePath = join(dir, DEVICE_KEY_FILE);
  let pem = await readIfExists(devicePath);
  if (!pem) {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    pem = Buffer.from(privateKey.export({ type: 'pkcs8', format: 'pem' }));
    await writeFileDurable(devicePath, pem);
    created.push(devicePath);
  } else await narrow(devicePath);
  let signing: KeyObject;
  try {
    signing = createPrivateKey(pem);
  } catch {
    throw new KeyMaterialError(`${devicePath}: not a PEM private key`);
  }
  if (signing.asymmetricKeyType !== 'ec' || signing.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new KeyMaterialError(`${devicePath}: expected an ECDSA P-256 key`);
  }
  return { master, signing, verifying: createPublicKey(signing), created };
}
