/**
 * The PKCS#7 "certs-only" message EST uses for every certificate response (RFC 7030 4.1.3,
 * 4.2.3): a degenerate SignedData (RFC 5652 5.1) with no content and no signers, carrying a set of
 * certificates. Sent base64-encoded over HTTP (Content-Transfer-Encoding: base64).
 */
import { X509Certificate } from 'node:crypto';
import { children, der, explicit, implicitConstructed, isContext, oid, oidOf, parse, seq, set, small } from './asn1.ts';
import { X509Error } from './x509.ts';

const SIGNED_DATA = '1.2.840.113549.1.7.2';
const DATA = '1.2.840.113549.1.7.1';

export function certsOnly(certs: readonly X509Certificate[]): Buffer {
  const signedData = seq([
    small(1),
    set([]),
    seq([oid(DATA)]),
    implicitConstructed(0, certs.map((c) => parse(c.raw))),
    set([]),
  ]);
  return der(seq([oid(SIGNED_DATA), explicit(0, signedData)]));
}

/** The certificates of a certs-only message, in the order given; a clear error for anything else. */
export function readCertsOnly(input: Uint8Array): X509Certificate[] {
  let root;
  try {
    root = parse(input);
  } catch (err) {
    throw new X509Error(`PKCS#7 response is not DER (truncated or corrupt: ${(err as Error).message})`);
  }
  try {
    const [type, content] = children(root, 'ContentInfo');
    if (oidOf(type, 'contentType') !== SIGNED_DATA) throw new X509Error('PKCS#7 response is not SignedData');
    const fields = children(children(content, 'content')[0], 'SignedData');
    const certSet = fields.find((f) => isContext(f, 0));
    if (!certSet) throw new X509Error('PKCS#7 response holds no certificates');
    return children(certSet, 'certificates').map((c, i) => {
      try {
        return new X509Certificate(der(c));
      } catch (err) {
        throw new X509Error(`PKCS#7 response: certificate ${i + 1} is unreadable (${(err as Error).message})`);
      }
    });
  } catch (err) {
    if (err instanceof X509Error) throw err;
    throw new X509Error(`PKCS#7 response is malformed: ${(err as Error).message}`);
  }
}

