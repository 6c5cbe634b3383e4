/**
 * Certificate revocation lists (RFC 5280 §5) for the receiver. node-forge's X.509 layer parses
 * RSA CRLs only, so the CertificateList is read here from forge's ASN.1 codec and its ECDSA
 * signature checked with Node's crypto against the issuing CA.
 *
 *   CertificateList ::= SEQUENCE { tbsCertList, signatureAlgorithm, signatureValue BIT STRING }
 *   TBSCertList ::= SEQUENCE { version INTEGER OPTIONAL, signature, issuer Name, thisUpdate Time,
 *     nextUpdate Time OPTIONAL, revokedCertificates SEQUENCE OF SEQUENCE { userCertificate
 *     INTEGER, revocationDate Time, crlEntryExtensions OPTIONAL } OPTIONAL, crlExtensions [0] OPTIONAL }
 */
import { verify as verifySignature, type X509Certificate } from 'node:crypto';
import forge from 'node-forge';

const { asn1 } = forge;
type Node = forge.asn1.Asn1;
const U = asn1.Class.UNIVERSAL;

export class CrlError extends Error {
  override readonly name = 'CrlError';
}

export interface Crl {
  /** DER of the signed part, what the signature covers. */
  readonly tbs: Buffer;
  readonly signatureAlgorithm: string;
  readonly signature: Buffer;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date | undefined;
  /** Serial numbers, upper-case hex without leading zeros (as {@link normaliseSerial} gives). */
  readonly revoked: ReadonlySet<string>;
}

const ECDSA_SHA256 = '1.2.840.10045.4.3.2';
const ECDSA_SHA384 = '1.2.840.10045.4.3.3';
const RSA_SHA256 = '1.2.840.113549.1.1.11';
const HASH: Record<string, string> = { [ECDSA_SHA256]: 'sha256', [ECDSA_SHA384]: 'sha384', [RSA_SHA256]: 'sha256' };

/** "00AB01" / "ab01" / "AB:01" → "AB01": the one form serials are compared in. */
export function normaliseSerial(hex: string): string {
  const s = hex.replace(/[^0-9a-fA-F]/g, '').toUpperCase().replace(/^0+/, '');
  return s === '' ? '0' : s;
}

function kids(node: Node | undefined, what: string): Node[] {
  if (!node || !Array.isArray(node.value)) throw new CrlError(`CRL ${what}: expected a constructed value`);
  return node.value;
}

function prim(node: Node | undefined, what: string): string {
  if (!node || typeof node.value !== 'string') throw new CrlError(`CRL ${what}: expected a primitive value`);
  return node.value;
}

function isTime(node: Node | undefined): boolean {
  return node?.tagClass === U && (node.type === asn1.Type.UTCTIME || node.type === asn1.Type.GENERALIZEDTIME);
}

function timeOf(node: Node | undefined, what: string): Date {
  if (!isTime(node)) throw new CrlError(`CRL ${what}: expected a time`);
  const text = prim(node, what);
  const date = node?.type === asn1.Type.UTCTIME ? asn1.utcTimeToDate(text) : asn1.generalizedTimeToDate(text);
  if (Number.isNaN(date.getTime())) throw new CrlError(`CRL ${what}: unreadable time ${JSON.stringify(text)}`);
  return date;
}

function algorithmOf(node: Node | undefined, what: string): string {
  const first = kids(node, what)[0];
  if (!first || first.type !== asn1.Type.OID) throw new CrlError(`CRL ${what}: expected an algorithm identifier`);
  return asn1.derToOid(prim(first, what));
}

/** Every `-----BEGIN X509 CRL-----` block of a PEM text, as DER. */
export function crlPemBlocks(pem: string): Buffer[] {
  const out: Buffer[] = [];
  for (const m of pem.matchAll(/-----BEGIN X509 CRL-----([\s\S]*?)-----END X509 CRL-----/g)) out.push(Buffer.from((m[1] ?? '').replace(/\s+/g, ''), 'base64'));
  return out;
}

export function parseCrlDer(der: Uint8Array): Crl {
  let root: Node;
  try {
    // decodeBitStrings false: the signature's BIT STRING holds an ECDSA SEQUENCE forge would otherwise descend into.
    root = asn1.fromDer(Buffer.from(der).toString('binary'), { strict: true, parseAllBytes: true, decodeBitStrings: false } as unknown as boolean);
  } catch (err) {
    throw new CrlError(`CRL: not DER (${(err as Error).message})`);
  }
  const [tbsNode, sigAlgNode, sigNode] = kids(root, 'CertificateList');
  const tbsFields = kids(tbsNode, 'tbsCertList');
  let i = 0;
  if (tbsFields[i]?.type === asn1.Type.INTEGER && tbsFields[i]?.tagClass === U) i++; // version v2
  i++; // signature algorithm inside tbs; the outer one is what is checked
  i++; // issuer Name; the issuer is found by whose key verifies the signature
  const thisUpdate = timeOf(tbsFields[i++], 'thisUpdate');
  const nextUpdate = isTime(tbsFields[i]) ? timeOf(tbsFields[i++], 'nextUpdate') : undefined;
  const revoked = new Set<string>();
  const list = tbsFields[i];
  if (list && list.tagClass === U && list.type === asn1.Type.SEQUENCE) {
    for (const entry of kids(list, 'revokedCertificates')) {
      const serial = kids(entry, 'revoked entry')[0];
      if (!serial || serial.type !== asn1.Type.INTEGER) throw new CrlError('CRL revoked entry: expected a serial number');
      revoked.add(normaliseSerial(Buffer.from(prim(serial, 'serial'), 'binary').toString('hex')));
    }
  }
  if (!sigNode || sigNode.type !== asn1.Type.BITSTRING) throw new CrlError('CRL signatureValue: expected a BIT STRING');
  const bits = prim(sigNode, 'signatureValue');
  return {
    tbs: Buffer.from(asn1.toDer(tbsNode as Node).getBytes(), 'binary'),
    signatureAlgorithm: algorithmOf(sigAlgNode, 'signatureAlgorithm'),
    signature: Buffer.from(bits.slice(1), 'binary'), // first byte: unused bits (0)
    thisUpdate,
    nextUpdate,
    revoked,
  };
}

/** True when `issuer`'s key made the CRL's signature. */
export function crlSignedBy(crl: Crl, issuer: X509Certificate): boolean {
  const hash = HASH[crl.signatureAlgorithm];
  if (!hash) throw new CrlError(`CRL signature algorithm ${crl.signatureAlgorithm} is not supported`);
  try {
    return verifySignature(hash, crl.tbs, issuer.publicKey, crl.signature);
  } catch {
    return false; // a key of another type cannot have made it
  }
}

export interface VerifiedCrl extends Crl {
  readonly issuer: X509Certificate;
}

/** The CRLs of a PEM bundle, each with the trusted CA whose key signed it; any other is refused. */
export function loadCrls(pem: string, issuers: readonly X509Certificate[]): VerifiedCrl[] {
  const blocks = crlPemBlocks(pem);
  if (blocks.length === 0) throw new CrlError('CRL: no "X509 CRL" PEM block found');
  return blocks.map((der, n) => {
    const crl = parseCrlDer(der);
    const issuer = issuers.find((ca) => crlSignedBy(crl, ca));
    if (!issuer) throw new CrlError(`CRL #${n + 1}: not signed by any trusted CA`);
    return { ...crl, issuer };
  });
}

/**
 * Freshness at `now`: a CRL past its nextUpdate (or not yet in force) is refused rather than
 * trusted, so a stale list cannot hide a revocation that a newer one would show.
 */
export function checkCrlsInForce(crls: readonly VerifiedCrl[], now: number, skewMs = 5 * 60_000): void {
  crls.forEach((crl, n) => {
    if (crl.thisUpdate.getTime() > now + skewMs) throw new CrlError(`CRL #${n + 1}: thisUpdate ${crl.thisUpdate.toISOString()} is in the future`);
    if (crl.nextUpdate && crl.nextUpdate.getTime() < now) throw new CrlError(`CRL #${n + 1}: expired (nextUpdate ${crl.nextUpdate.toISOString()})`);
  });
}

/** Revoked per the CRL its issuer signed. */
export function isRevokedBy(cert: X509Certificate, crls: readonly VerifiedCrl[]): boolean {
  const serial = normaliseSerial(cert.serialNumber);
  return crls.some((crl) => cert.checkIssued(crl.issuer) && crl.revoked.has(serial));
}
