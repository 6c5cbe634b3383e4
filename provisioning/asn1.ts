/**
 * Thin DER helpers over `forge.asn1`. node-forge's X.509 layer signs and verifies RSA only, so
 * the certificate, CSR, CRL and PKCS#7 structures here are assembled from its ASN.1 codec and
 * signed with Node's crypto (ECDSA P-256). forge speaks "binary strings"; Buffers cross the
 * boundary through the two converters below.
 */
import forge from 'node-forge';

export type Node = forge.asn1.Asn1;
const { asn1 } = forge;
const U = asn1.Class.UNIVERSAL;
const T = asn1.Type;

export const toBin = (buf: Uint8Array): string => Buffer.from(buf).toString('binary');
export const fromBin = (bin: string): Buffer => Buffer.from(bin, 'binary');

export const seq = (items: Node[]): Node => asn1.create(U, T.SEQUENCE, true, items);
export const set = (items: Node[]): Node => asn1.create(U, T.SET, true, items);
export const oid = (dotted: string): Node => asn1.create(U, T.OID, false, asn1.oidToDer(dotted).getBytes());
export const utf8 = (text: string): Node => asn1.create(U, T.UTF8, false, forge.util.encodeUtf8(text));
export const ia5 = (text: string): Node => asn1.create(U, T.IA5STRING, false, text);
export const bool = (v: boolean): Node => asn1.create(U, T.BOOLEAN, false, v ? '\xff' : '\x00');
export const octets = (buf: Uint8Array): Node => asn1.create(U, T.OCTETSTRING, false, toBin(buf));
/** A BIT STRING holding whole bytes (signatures, keys): no unused bits. */
export const bits = (buf: Uint8Array): Node => asn1.create(U, T.BITSTRING, false, `\x00${toBin(buf)}`);
export const rawBits = (bin: string): Node => asn1.create(U, T.BITSTRING, false, bin);
export const nul = (): Node => asn1.create(U, T.NULL, false, '');

/** An INTEGER from unsigned big-endian bytes (a leading zero is added when the top bit is set). */
export function uint(buf: Uint8Array): Node {
  let start = 0;
  while (start < buf.length - 1 && buf[start] === 0) start++;
  const trimmed = Buffer.from(buf.subarray(start));
  const body = (trimmed[0] ?? 0) & 0x80 ? Buffer.concat([Buffer.of(0), trimmed]) : trimmed;
  return asn1.create(U, T.INTEGER, false, toBin(body.length ? body : Buffer.of(0)));
}
export const small = (n: number): Node => asn1.create(U, T.INTEGER, false, asn1.integerToDer(n).getBytes());

/** UTCTime up to 2049, GeneralizedTime from 2050 (RFC 5280 4.1.2.5). */
export function time(date: Date): Node {
  return date.getUTCFullYear() < 2050
    ? asn1.create(U, T.UTCTIME, false, asn1.dateToUtcTime(date))
    : asn1.create(U, T.GENERALIZEDTIME, false, asn1.dateToGeneralizedTime(date));
}

export const explicit = (tag: number, inner: Node): Node => asn1.create(asn1.Class.CONTEXT_SPECIFIC, tag, true, [inner]);
/** A context tag replacing a primitive type's tag (GeneralName's [2] dNSName, [6] URI, [7] IP). */
export const implicitPrimitive = (tag: number, bin: string): Node => asn1.create(asn1.Class.CONTEXT_SPECIFIC, tag, false, bin);
export const implicitConstructed = (tag: number, items: Node[]): Node => asn1.create(asn1.Class.CONTEXT_SPECIFIC, tag, true, items);

export const der = (node: Node): Buffer => fromBin(asn1.toDer(node).getBytes());

/**
 * Strict DER parse of a whole buffer. Bit strings are left as bytes: forge would otherwise try to
 * read an ECDSA signature inside one as nested ASN.1.
 */
export function parse(buf: Uint8Array): Node {
  const options = { strict: true, parseAllBytes: true, decodeBitStrings: false };
  return asn1.fromDer(toBin(buf), options as unknown as boolean);
}

export const children = (node: Node | undefined, what: string): Node[] => {
  if (!node || !Array.isArray(node.value)) throw new Error(`${what}: expected a constructed value`);
  return node.value;
};
export const bytesOf = (node: Node | undefined, what: string): string => {
  if (!node || typeof node.value !== 'string') throw new Error(`${what}: expected a primitive value`);
  return node.value;
};
export const oidOf = (node: Node | undefined, what: string): string => {
  if (!node || node.type !== T.OID || node.tagClass !== U) throw new Error(`${what}: expected an OBJECT IDENTIFIER`);
  return asn1.derToOid(bytesOf(node, what));
};
export const isContext = (node: Node | undefined, tag: number): boolean => node?.tagClass === asn1.Class.CONTEXT_SPECIFIC && node.type === tag;

export function toPem(label: string, body: Uint8Array): string {
  const b64 = Buffer.from(body).toString('base64').replace(/.{64}/g, '$&\n').replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

/** Every PEM block with this label, in order. */
export function fromPemAll(text: string, label: string): Buffer[] {
  const re = new RegExp(`-----BEGIN ${label}-----([\\s\\S]*?)-----END ${label}-----`, 'g');
  return [...text.matchAll(re)].map((m) => Buffer.from((m[1] ?? '').replace(/\s+/g, ''), 'base64'));
}

export function fromPem(text: string, label: string): Buffer {
  const [first] = fromPemAll(text, label);
  if (!first || first.length === 0) throw new Error(`expected a PEM "${label}" block`);
  return first;
}

export { T as AsnType, U as UNIVERSAL };
