/**
 * The device's TLS and signing identity, read from PEM files (provisioning writes them; a
 * certificate rotation replaces them in place): the device key, its certificate chain (leaf
 * first), the agency CA bundle, and the dispatch center's encryption certificate. Read again on
 * every (re)connect and every rotation, never cached across one.
 */
import { X509Certificate, createHash, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { importPKCS8, type CryptoKey } from 'jose';

export class IdentityError extends Error {
  override readonly name = 'IdentityError';
}

export interface IdentityPaths {
  readonly keyFile: string;
  readonly certFile: string;
  readonly caFile: string;
}

export interface DeviceIdentity {
  /** PEM texts, as the TLS stack takes them. */
  readonly keyPem: string;
  readonly certPem: string;
  readonly caPem: string;
  readonly key: KeyObject;
  /** The same key imported once for jose (a KeyObject would be converted at every signature). */
  readonly signingKey: CryptoKey;
  /** The device chain, leaf first. */
  readonly chain: readonly X509Certificate[];
  /** base64 DER of `chain`, for a JWS `x5c` header. */
  readonly x5c: readonly string[];
  readonly anchors: readonly X509Certificate[];
  /** Leaf serial (upper-case hex) and expiry, for the status. */
  readonly serial: string;
  readonly notAfter: number;
  readonly commonName: string;
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** Every certificate in a PEM text, in file order. */
export function parseCertificates(pem: string, source: string): X509Certificate[] {
  const blocks = pem.match(PEM_CERT) ?? [];
  if (!blocks.length) throw new IdentityError(`${source}: no PEM certificate found`);
  return blocks.map((b, i) => {
    try {
      return new X509Certificate(b);
    } catch (err) {
      throw new IdentityError(`${source}: certificate ${i + 1} is not readable (${(err as Error).message})`);
    }
  });
}

/** The subject's CN, or '' when it has none. */
export function commonName(cert: X509Certificate): string {
  for (const line of cert.subject.split('\n')) if (line.startsWith('CN=')) return line.slice(3);
  return '';
}

/** RFC 7515 `x5t#S256`-style thumbprint: base64url SHA-256 of the DER. */
export function certThumbprint(cert: X509Certificate): string {
  return createHash('sha256').update(cert.raw).digest('base64url');
}

async function readText(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new IdentityError(`${what} ${path}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
}

export async function loadIdentity(paths: IdentityPaths): Promise<DeviceIdentity> {
  const [keyPem, certPem, caPem] = await Promise.all([
    readText(paths.keyFile, 'device key'), readText(paths.certFile, 'device certificate'), readText(paths.caFile, 'CA bundle'),
  ]);
  let key: KeyObject;
  try {
    key = createPrivateKey(keyPem);
  } catch (err) {
    throw new IdentityError(`device key ${paths.keyFile}: not a readable private key (${(err as Error).message})`);
  }
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new IdentityError(`device key ${paths.keyFile}: expected an EC P-256 key (ES256), got ${key.asymmetricKeyType ?? '?'} ${key.asymmetricKeyDetails?.namedCurve ?? ''}`.trimEnd());
  }
  const chain = parseCertificates(certPem, `device certificate ${paths.certFile}`);
  const leaf = chain[0] as X509Certificate;
  if (!leaf.checkPrivateKey(key)) throw new IdentityError(`device certificate ${paths.certFile} does not belong to the key in ${paths.keyFile}`);
  const anchors = parseCertificates(caPem, `CA bundle ${paths.caFile}`);
  const signingKey = await importPKCS8(key.export({ type: 'pkcs8', format: 'pem' }).toString(), 'ES256');
  return {
    keyPem, certPem, caPem, key, signingKey, chain, anchors,
    x5c: chain.map((c) => c.raw.toString('base64')),
    serial: leaf.serialNumber.toUpperCase(),
    notAfter: Date.parse(leaf.validTo),
    commonName: commonName(leaf),
  };
}

/** The dispatch center's encryption certificate: the JWE recipient. */
export interface DispatchRecipient {
  readonly key: KeyObject;
  /** SHA-256 thumbprint of the certificate (base64url): the JWE `kid`. */
  readonly kid: string;
  readonly notAfter: number;
}

export async function loadDispatchRecipient(certFile: string): Promise<DispatchRecipient> {
  const [cert] = parseCertificates(await readText(certFile, 'dispatch encryption certificate'), `dispatch encryption certificate ${certFile}`);
  const key = createPublicKey((cert as X509Certificate).publicKey.export({ type: 'spki', format: 'pem' }));
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new IdentityError(`dispatch encryption certificate ${certFile}: expected an EC P-256 key (ECDH-ES)`);
  }
  return { key, kid: certThumbprint(cert as X509Certificate), notAfter: Date.parse((cert as X509Certificate).validTo) };
}
