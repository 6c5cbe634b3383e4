/**
 * P-256 keys, PKCS#10 requests, X.509 certificates and CRLs: assembled with `forge.asn1` (forge's
 * own X.509 code is RSA-only) and signed with Node's crypto as ECDSA with SHA-256, DER signatures
 * (RFC 5758 3.2: ecdsa-with-SHA256, parameters absent). Parsing of issued certificates leans on
 * Node's `X509Certificate`; requests and CRLs, which Node cannot read, are parsed here.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, sign, verify, X509Certificate, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import {
  AsnType, UNIVERSAL, bits, bool, bytesOf, children, der, explicit, fromBin, fromPem, fromPemAll, implicitConstructed, implicitPrimitive,
  isContext, octets, oid, oidOf, parse, rawBits, seq, set, small, time, toBin, toPem, uint, utf8, type Node,
} from './asn1.ts';
import forge from 'node-forge';

export const OID = {
  commonName: '2.5.4.3',
  organization: '2.5.4.10',
  organizationalUnit: '2.5.4.11',
  ecPublicKey: '1.2.840.10045.2.1',
  prime256v1: '1.2.840.10045.3.1.7',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  extensionRequest: '1.2.840.113549.1.9.14',
  subjectKeyId: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  crlNumber: '2.5.29.20',
  crlReason: '2.5.29.21',
  authorityKeyId: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
} as const;

/** Anything wrong with a request, certificate or CRL handed to us: says what and why. */
export class X509Error extends Error {
  override readonly name = 'X509Error';
}

export interface Subject {
  readonly commonName: string;
  readonly organization?: string;
  readonly organizationalUnit?: string;
}

export interface AltNames {
  readonly dns?: readonly string[];
  readonly ips?: readonly string[];
  readonly uris?: readonly string[];
}

// ---------------------------------------------------------------- keys

export function generateP256Key(): KeyObject {
  return generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
}

export const privateKeyPem = (key: KeyObject): string => key.export({ type: 'pkcs8', format: 'pem' }).toString();

/** A private key from PKCS#8 PEM, refused unless it is P-256 (the only curve the fleet uses). */
export function loadP256Key(pem: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (err) {
    throw new X509Error(`not a readable private key (${(err as Error).message})`);
  }
  assertP256(key, 'private key');
  return key;
}

function assertP256(key: KeyObject, what: string): void {
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new X509Error(`${what}: expected an EC P-256 key, got ${key.asymmetricKeyType ?? 'unknown'} ${key.asymmetricKeyDetails?.namedCurve ?? ''}`.trim());
  }
}

const spkiDer = (key: KeyObject): Buffer => (key.type === 'private' ? createPublicKey(key) : key).export({ type: 'spki', format: 'der' });

/** SHA-1 of the public key bits (RFC 5280 4.2.1.2, method 1). */
function keyId(spki: Buffer): Buffer {
  const [, bitString] = children(parse(spki), 'SubjectPublicKeyInfo');
  return createHash('sha1').update(fromBin(bytesOf(bitString, 'subjectPublicKey')).subarray(1)).digest();
}

// ---------------------------------------------------------------- names

function name(subject: Subject): Node {
  const rdn = (type: string, value: string): Node => set([seq([oid(type), utf8(value)])]);
  const parts: Node[] = [];
  if (subject.organization !== undefined) parts.push(rdn(OID.organization, subject.organization));
  if (subject.organizationalUnit !== undefined) parts.push(rdn(OID.organizationalUnit, subject.organizationalUnit));
  parts.push(rdn(OID.commonName, subject.commonName));
  return seq(parts);
}

function readName(node: Node | undefined): Subject {
  const out: { commonName?: string; organization?: string; organizationalUnit?: string } = {};
  for (const rdn of children(node, 'Name')) {
    for (const atv of children(rdn, 'RelativeDistinguishedName')) {
      const [type, value] = children(atv, 'AttributeTypeAndValue');
      const text = forge.util.decodeUtf8(bytesOf(value, 'attribute value'));
      const t = oidOf(type, 'attribute type');
      if (t === OID.commonName) out.commonName = text;
      else if (t === OID.organization) out.organization = text;
      else if (t === OID.organizationalUnit) out.organizationalUnit = text;
    }
  }
  if (out.commonName === undefined) throw new X509Error('subject has no common name');
  return out as Subject;
}

function ipBytes(ip: string): Buffer {
  const v = isIP(ip);
  if (v === 4) return Buffer.from(ip.split('.').map(Number));
  if (v === 6) {
    const [head = '', tail = ''] = ip.split('::');
    const h = head ? head.split(':') : [];
    const t = tail ? tail.split(':') : [];
    const groups = ip.includes('::') ? [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t] : h;
    return Buffer.concat(groups.map((g) => Buffer.from(g.padStart(4, '0'), 'hex')));
  }
  throw new X509Error(`not an IP address: ${JSON.stringify(ip)}`);
}

function generalNames(alt: AltNames): Node {
  return seq([
    ...(alt.dns ?? []).map((d) => implicitPrimitive(2, d)),
    ...(alt.uris ?? []).map((u) => implicitPrimitive(6, u)),
    ...(alt.ips ?? []).map((ip) => implicitPrimitive(7, toBin(ipBytes(ip)))),
  ]);
}

function readGeneralNames(node: Node | undefined): AltNames {
  const dns: string[] = [];
  const uris: string[] = [];
  const ips: string[] = [];
  for (const gn of children(node, 'GeneralNames')) {
    if (isContext(gn, 2)) dns.push(bytesOf(gn, 'dNSName'));
    else if (isContext(gn, 6)) uris.push(bytesOf(gn, 'uniformResourceIdentifier'));
    else if (isContext(gn, 7)) {
      const b = fromBin(bytesOf(gn, 'iPAddress'));
      ips.push(b.length === 4 ? [...b].join('.') : (b.toString('hex').match(/.{4}/g) ?? []).map((g) => parseInt(g, 16).toString(16)).join(':'));
    }
  }
  return { dns, uris, ips };
}

const extension = (id: string, critical: boolean, value: Node): Node => seq([oid(id), ...(critical ? [bool(true)] : []), octets(der(value))]);
const sigAlg = (): Node => seq([oid(OID.ecdsaWithSha256)]);

function signed(tbs: Node, key: KeyObject): Node {
  assertP256(key, 'signing key');
  return seq([tbs, sigAlg(), bits(sign('sha256', der(tbs), key))]);
}

// ---------------------------------------------------------------- PKCS#10

/** A PKCS#10 request (RFC 2986) with the alt names in an extensionRequest attribute. */
export function createCsr(key: KeyObject, subject: Subject, alt: AltNames): Buffer {
  const spki = parse(spkiDer(key));
  const attributes = implicitConstructed(0, [
    seq([oid(OID.extensionRequest), set([seq([extension(OID.subjectAltName, false, generalNames(alt))])])]),
  ]);
  return der(signed(seq([small(0), name(subject), spki, attributes]), key));
}

export interface ParsedCsr {
  readonly subject: Subject;
  readonly altNames: AltNames;
  readonly publicKey: KeyObject;
}

/** Parses and verifies a request's self-signature; anything malformed is an X509Error naming the part. */
export function parseCsr(input: Uint8Array): ParsedCsr {
  let root: Node;
  try {
    root = parse(input);
  } catch (err) {
    throw new X509Error(`certificate request is not DER (${(err as Error).message})`);
  }
  try {
    const [info, alg, sig] = children(root, 'CertificationRequest');
    if (oidOf(children(alg, 'signatureAlgorithm')[0], 'signature algorithm') !== OID.ecdsaWithSha256) {
      throw new X509Error('certificate request: only ecdsa-with-SHA256 is accepted');
    }
    const [version, subjectNode, spkiNode, attrs] = children(info, 'CertificationRequestInfo');
    if (bytesOf(version, 'version') !== '\x00') throw new X509Error('certificate request: version must be 1 (0)');
    let publicKey: KeyObject;
    try {
      publicKey = createPublicKey({ key: der(spkiNode as Node), format: 'der', type: 'spki' });
    } catch (err) {
      throw new X509Error(`certificate request: unreadable public key (${(err as Error).message})`);
    }
    assertP256(publicKey, 'certificate request public key');
    const signature = fromBin(bytesOf(sig, 'signature')).subarray(1);
    if (!verify('sha256', der(info as Node), publicKey, signature)) throw new X509Error('certificate request: signature does not verify (not signed by the key it carries)');
    let altNames: AltNames = {};
    for (const attr of attrs ? children(attrs, 'attributes') : []) {
      const [type, values] = children(attr, 'Attribute');
      if (oidOf(type, 'attribute type') !== OID.extensionRequest) continue;
      for (const ext of children(children(values, 'extensionRequest values')[0], 'Extensions')) {
        const parts = children(ext, 'Extension');
        if (oidOf(parts[0], 'extension id') === OID.subjectAltName) {
          altNames = readGeneralNames(parse(fromBin(bytesOf(parts[parts.length - 1], 'extension value'))));
        }
      }
    }
    return { subject: readName(subjectNode), altNames, publicKey };
  } catch (err) {
    if (err instanceof X509Error) throw err;
    throw new X509Error(`certificate request is malformed: ${(err as Error).message}`);
  }
}

// ---------------------------------------------------------------- certificates

export interface IssueOptions {
  readonly subject: Subject;
  readonly altNames?: AltNames;
  readonly publicKey: KeyObject;
  /** The issuing CA; absent for a self-signed root (then `signingKey` is the subject's own). */
  readonly issuer?: X509Certificate;
  readonly signingKey: KeyObject;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly ca?: boolean;
  readonly extendedKeyUsage?: readonly ('clientAuth' | 'serverAuth')[];
  /** Unsigned big-endian; default 16 random bytes. */
  readonly serial?: Buffer;
}

/** 16 random bytes, top bit clear and next bit set: positive, always 32 hex digits. */
export function newSerial(): Buffer {
  const b = randomBytes(16);
  b[0] = ((b[0] ?? 0) & 0x7f) | 0x40;
  return b;
}

/** The subject Name of a certificate, as its exact DER node (an issuer field must match it byte for byte). */
function subjectNodeOf(cert: X509Certificate): Node {
  const tbs = children(parse(cert.raw), 'Certificate')[0];
  return children(tbs, 'TBSCertificate')[5] as Node;
}

export function issueCertificate(o: IssueOptions): Buffer {
  if (o.notAfter.getTime() <= o.notBefore.getTime()) throw new X509Error('notAfter must be after notBefore');
  const spki = spkiDer(o.publicKey);
  const issuerSpki = o.issuer ? spkiDer(o.issuer.publicKey) : spki;
  const exts: Node[] = [
    extension(OID.basicConstraints, true, seq(o.ca ? [bool(true), small(0)] : [])),
    // CA: keyCertSign + cRLSign (0x06, one unused bit); leaf: digitalSignature (0x80, seven unused).
    extension(OID.keyUsage, true, rawBits(o.ca ? '\x01\x06' : '\x07\x80')),
    extension(OID.subjectKeyId, false, octets(keyId(spki))),
    extension(OID.authorityKeyId, false, seq([implicitPrimitive(0, toBin(keyId(issuerSpki)))])),
  ];
  if (o.extendedKeyUsage?.length) exts.push(extension(OID.extKeyUsage, false, seq(o.extendedKeyUsage.map((u) => oid(OID[u])))));
  const alt = o.altNames;
  if (alt && (alt.dns?.length || alt.ips?.length || alt.uris?.length)) exts.push(extension(OID.subjectAltName, false, generalNames(alt)));
  const tbs = seq([
    explicit(0, small(2)),
    uint(o.serial ?? newSerial()),
    sigAlg(),
    o.issuer ? subjectNodeOf(o.issuer) : name(o.subject),
    seq([time(o.notBefore), time(o.notAfter)]),
    name(o.subject),
    parse(spki),
    explicit(3, seq(exts)),
  ]);
  return der(signed(tbs, o.signingKey));
}

export const certPem = (d: Uint8Array): string => toPem('CERTIFICATE', d);

/** Every certificate in a PEM text, in order; an error if there is none or one is unreadable. */
export function readCertificates(pem: string, what = 'certificate file'): X509Certificate[] {
  const blocks = fromPemAll(pem, 'CERTIFICATE');
  if (blocks.length === 0) throw new X509Error(`${what}: no certificate found`);
  return blocks.map((b, i) => {
    try {
      return new X509Certificate(b);
    } catch (err) {
      throw new X509Error(`${what}: certificate ${i + 1} is unreadable (${(err as Error).message})`);
    }
  });
}

/** The serial as upper-case hex without leading zero bytes (Node's spelling, normalised). */
export const serialHex = (cert: X509Certificate): string => normaliseSerial(cert.serialNumber);
export const normaliseSerial = (hex: string): string => hex.toUpperCase().replace(/^(00)+(?=.)/, '');

export const notAfterMs = (cert: X509Certificate): number => Date.parse(cert.validTo);
export const notBeforeMs = (cert: X509Certificate): number => Date.parse(cert.validFrom);

// ---------------------------------------------------------------- CRLs

export type RevocationReason = 'unspecified' | 'keyCompromise' | 'superseded' | 'cessationOfOperation';
const REASON_CODES: Record<RevocationReason, number> = { unspecified: 0, keyCompromise: 1, superseded: 4, cessationOfOperation: 5 };

export interface RevokedEntry {
  readonly serial: string;
  readonly at: Date;
  readonly reason?: RevocationReason;
}

export interface CrlOptions {
  readonly issuer: X509Certificate;
  readonly signingKey: KeyObject;
  readonly revoked: readonly RevokedEntry[];
  readonly thisUpdate: Date;
  readonly nextUpdate: Date;
  readonly number: number;
}

/** A v2 CRL (RFC 5280 5.1) with CRL number and authority key identifier. */
export function createCrl(o: CrlOptions): Buffer {
  const entries = o.revoked.map((r) => {
    const entry: Node[] = [uint(Buffer.from(r.serial.length % 2 ? `0${r.serial}` : r.serial, 'hex')), time(r.at)];
    if (r.reason && r.reason !== 'unspecified') {
      const enumerated = forge.asn1.create(UNIVERSAL, AsnType.ENUMERATED, false, String.fromCharCode(REASON_CODES[r.reason]));
      entry.push(seq([extension(OID.crlReason, false, enumerated)]));
    }
    return seq(entry);
  });
  const tbs = seq([
    small(1),
    sigAlg(),
    subjectNodeOf(o.issuer),
    time(o.thisUpdate),
    time(o.nextUpdate),
    ...(entries.length ? [seq(entries)] : []),
    explicit(0, seq([
      extension(OID.crlNumber, false, small(o.number)),
      extension(OID.authorityKeyId, false, seq([implicitPrimitive(0, toBin(keyId(spkiDer(o.issuer.publicKey))))])),
    ])),
  ]);
  return der(signed(tbs, o.signingKey));
}

export const crlPem = (d: Uint8Array): string => toPem('X509 CRL', d);

export interface ParsedCrl {
  readonly issuerDer: Buffer;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date | undefined;
  readonly revoked: ReadonlySet<string>;
  /** Checks the CRL's signature against a candidate issuer. */
  signedBy(issuer: X509Certificate): boolean;
}

function readTime(node: Node | undefined, what: string): Date {
  const text = bytesOf(node, what);
  if (node?.type === AsnType.UTCTIME) return forge.asn1.utcTimeToDate(text);
  if (node?.type === AsnType.GENERALIZEDTIME) return forge.asn1.generalizedTimeToDate(text);
  throw new X509Error(`${what}: expected a time`);
}

export function parseCrl(input: Uint8Array): ParsedCrl {
  try {
    const [tbs, , sig] = children(parse(input), 'CertificateList');
    const fields = children(tbs, 'TBSCertList');
    // version is OPTIONAL (absent means v1): skip it when present
    let i = fields[0]?.type === AsnType.INTEGER && fields[0].tagClass === UNIVERSAL ? 1 : 0;
    i++; // signature algorithm
    const issuerDer = der(fields[i++] as Node);
    const thisUpdate = readTime(fields[i++], 'thisUpdate');
    let nextUpdate: Date | undefined;
    const maybeNext = fields[i];
    if (maybeNext && (maybeNext.type === AsnType.UTCTIME || maybeNext.type === AsnType.GENERALIZEDTIME) && maybeNext.tagClass === UNIVERSAL) {
      nextUpdate = readTime(maybeNext, 'nextUpdate');
      i++;
    }
    const revoked = new Set<string>();
    const list = fields[i];
    if (list && list.tagClass === UNIVERSAL && list.type === AsnType.SEQUENCE) {
      for (const entry of children(list, 'revokedCertificates')) {
        revoked.add(normaliseSerial(fromBin(bytesOf(children(entry, 'revoked entry')[0], 'serial')).toString('hex')));
      }
    }
    const tbsDer = der(tbs as Node);
    const signature = fromBin(bytesOf(sig, 'signature')).subarray(1);
    return {
      issuerDer,
      thisUpdate,
      nextUpdate,
      revoked,
      signedBy: (issuer) => der(subjectNodeOf(issuer)).equals(issuerDer) && verify('sha256', tbsDer, issuer.publicKey, signature),
    };
  } catch (err) {
    if (err instanceof X509Error) throw err;
    throw new X509Error(`CRL is malformed: ${(err as Error).message}`);
  }
}

/**
 * Whether a certificate appears on a CRL from its issuer. `crlPem` may hold several CRLs (one per
 * CA during a CA rotation); only those whose issuer is the certificate's issuer count. With
 * `trust` (the CA certificates), each counted CRL must be signed by one of them, and a CRL that
 * is not is an error rather than a silent "not revoked".
 */
export function isRevoked(cert: X509Certificate | string, crlText: string, trust?: readonly X509Certificate[]): boolean {
  const leaf = typeof cert === 'string' ? (readCertificates(cert)[0] as X509Certificate) : cert;
  const blocks = fromPemAll(crlText, 'X509 CRL');
  if (blocks.length === 0) throw new X509Error('no CRL found in the text given');
  const issuerDer = der(children(children(parse(leaf.raw), 'Certificate')[0], 'TBSCertificate')[3] as Node);
  const serial = serialHex(leaf);
  for (const block of blocks) {
    const crl = parseCrl(block);
    if (!crl.issuerDer.equals(issuerDer)) continue;
    if (trust && !trust.some((ca) => crl.signedBy(ca))) throw new X509Error('CRL is not signed by a trusted CA');
    if (crl.revoked.has(serial)) return true;
  }
  return false;
}

export { fromPem, fromPemAll, toPem };
