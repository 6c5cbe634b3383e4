/**
 * Statements the device signs with its P-256 key: chain heads, deletion receipts, audit
 * checkpoints and anchors, evidence bundles. Each is a compact JWS (ES256) whose `typ` names the
 * statement and whose payload is its JSON, so any JOSE library can check it with the device's
 * public key. The provisioning issue adds the certificate chain (`x5c`).
 */
import { createPublicKey, type JsonWebKey as NodeJwk, type KeyObject } from 'node:crypto';
import { CompactSign, calculateJwkThumbprint, compactVerify, type JWK } from 'jose';
import { IntegrityError } from './errors.ts';

export type StatementType = 'alpr-chain-head' | 'alpr-deletion-receipt' | 'alpr-audit-checkpoint' | 'alpr-audit-anchor' | 'alpr-evidence-bundle'
  | 'alpr-commissioning-report';

export class DeviceSigner {
  private constructor(
    private readonly key: KeyObject,
    readonly publicKey: KeyObject,
    readonly publicJwk: JWK,
    /** RFC 7638 thumbprint of the public key: short, stable, printed for people to compare. */
    readonly kid: string,
    readonly deviceId: string,
  ) {}

  static async create(signing: KeyObject, verifying: KeyObject, deviceId: string): Promise<DeviceSigner> {
    const jwk = verifying.export({ format: 'jwk' }) as JWK;
    const kid = await calculateJwkThumbprint(jwk);
    return new DeviceSigner(signing, verifying, { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y } as JWK, kid, deviceId);
  }

  /** `embedKey` puts the public key in the header (`jwk`), for statements that travel alone. */
  async sign(typ: StatementType, payload: object, options: { embedKey?: boolean } = {}): Promise<string> {
    return new CompactSign(Buffer.from(JSON.stringify(payload), 'utf8'))
      .setProtectedHeader({ alg: 'ES256', typ, kid: this.kid, ...(options.embedKey ? { jwk: this.publicJwk } : {}) })
      .sign(this.key);
  }
}

/** The payload of a statement of type `typ`, or an IntegrityError when the signature or type is wrong. */
export async function verifyStatement<T>(jws: string, key: KeyObject | JWK, typ: StatementType, what: string = typ): Promise<T> {
  const keyObject = 'kty' in key ? createPublicKey({ key: key as NodeJwk, format: 'jwk' }) : key;
  try {
    const { payload, protectedHeader } = await compactVerify(jws, keyObject, { algorithms: ['ES256'] });
    if (protectedHeader.typ !== typ) throw new Error(`typ ${String(protectedHeader.typ)}`);
    return JSON.parse(Buffer.from(payload).toString('utf8')) as T;
  } catch (err) {
    if (err instanceof IntegrityError) throw err;
    throw new IntegrityError(what, `signature does not verify (${(err as Error).message})`);
  }
}

/** The payload of a statement without checking its signature (to show what a bad one claims). */
export function readStatement<T>(jws: string): T {
  const payload = jws.split('.')[1] ?? '';
  return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as T;
}
