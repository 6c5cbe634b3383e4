/**
 * Sealing a hot-list entry's personal fields (P4): JWE compact, `ECDH-ES+A256KW` / `A256GCM`, to
 * the dispatch center's P-256 public key, with `jose`. The agency seals at import; the device
 * stores and forwards the blob and never holds a key that opens it; dispatch opens it for a hit.
 *
 * The plaintext names the entry it belongs to, so dispatch can tell a blob moved to another
 * entry (the device is in the field and may be tampered with).
 */
import { readFile } from 'node:fs/promises';
import { calculateJwkThumbprint, compactDecrypt, CompactEncrypt, exportJWK, importJWK, importSPKI, type CryptoKey, type JWK } from 'jose';

export const SEAL_ALG = 'ECDH-ES+A256KW';
export const SEAL_ENC = 'A256GCM';
/** Content type of the sealed plaintext, versioned with `v` inside. */
export const SEAL_CTY = 'alpr-hotlist-personal+json';

export class SealError extends Error {
  override readonly name = 'SealError';
}

export interface DispatchKey {
  readonly key: CryptoKey;
  /** RFC 7638 thumbprint of the public key: the `kid` of every blob, and `sealedTo` of the list. */
  readonly kid: string;
}

/** What a sealed blob holds. */
export interface SealedPersonal {
  readonly v: 1;
  readonly entryId: string;
  readonly fields: Readonly<Record<string, string>>;
}

function checkPublicEcJwk(jwk: JWK, source: string): void {
  if ('d' in jwk) throw new SealError(`${source}: this is a private key; the import needs the dispatch center's public key only (the private key stays at dispatch)`);
  if (jwk.kty !== 'EC' || jwk.crv !== 'P-256') throw new SealError(`${source}: expected an EC P-256 public key, got ${jwk.kty ?? '?'}${jwk.crv ? ` ${jwk.crv}` : ''}`);
}

/** Reads the dispatch center's public key from a JWK (JSON) or a PEM `PUBLIC KEY` file. */
export async function loadDispatchKey(path: string): Promise<DispatchKey> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new SealError(`${path}: cannot read the dispatch key: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return parseDispatchKey(text, path);
}

export async function parseDispatchKey(text: string, source = 'dispatch key'): Promise<DispatchKey> {
  const trimmed = text.trim();
  let jwk: JWK;
  if (trimmed.startsWith('{')) {
    try {
      jwk = JSON.parse(trimmed) as JWK;
    } catch (err) {
      throw new SealError(`${source}: not valid JSON (${(err as Error).message})`);
    }
    checkPublicEcJwk(jwk, source);
  } else if (trimmed.includes('PRIVATE KEY-----')) {
    throw new SealError(`${source}: this is a private key; the import needs the dispatch center's public key only (the private key stays at dispatch)`);
  } else if (trimmed.startsWith('-----BEGIN PUBLIC KEY-----')) {
    try {
      jwk = await exportJWK(await importSPKI(trimmed, SEAL_ALG, { extractable: true }));
    } catch (err) {
      throw new SealError(`${source}: not a usable public key (${(err as Error).message})`);
    }
    checkPublicEcJwk(jwk, source);
  } else {
    throw new SealError(`${source}: expected a JWK (JSON) or a PEM "PUBLIC KEY"`);
  }
  const publicJwk: JWK = { kty: 'EC', crv: 'P-256', x: jwk.x!, y: jwk.y! };
  let key: CryptoKey;
  try {
    key = (await importJWK(publicJwk, SEAL_ALG)) as CryptoKey;
  } catch (err) {
    throw new SealError(`${source}: not a usable P-256 public key (${(err as Error).message})`);
  }
  return { key, kid: await calculateJwkThumbprint(publicJwk) };
}

const encoder = new TextEncoder();

/** Seals one entry's personal fields. A fresh ephemeral key per blob (ECDH-ES). */
export async function sealPersonal(to: DispatchKey, entryId: string, fields: Readonly<Record<string, string>>): Promise<string> {
  const plaintext: SealedPersonal = { v: 1, entryId, fields };
  return new CompactEncrypt(encoder.encode(JSON.stringify(plaintext)))
    .setProtectedHeader({ alg: SEAL_ALG, enc: SEAL_ENC, kid: to.kid, cty: SEAL_CTY })
    .encrypt(to.key);
}

/** Dispatch side: opens a blob and checks it belongs to `entryId`. */
export async function openSealed(blob: string, privateKey: CryptoKey, entryId: string): Promise<SealedPersonal> {
  const { plaintext, protectedHeader } = await compactDecrypt(blob, privateKey, { keyManagementAlgorithms: [SEAL_ALG], contentEncryptionAlgorithms: [SEAL_ENC] });
  if (protectedHeader.cty !== SEAL_CTY) throw new SealError(`sealed blob: content type ${String(protectedHeader.cty)}, expected ${SEAL_CTY}`);
  const value = JSON.parse(new TextDecoder().decode(plaintext)) as SealedPersonal;
  if (value.v !== 1) throw new SealError(`sealed blob: version ${String(value.v)} is not understood`);
  if (value.entryId !== entryId) throw new SealError(`sealed blob belongs to entry ${value.entryId}, not ${entryId}`);
  return value;
}
