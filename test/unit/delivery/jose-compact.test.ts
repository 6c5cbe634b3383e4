/**
 * The hit envelope's JOSE made and opened with node:crypto (jose-compact.ts), checked against
 * jose in both directions, against RFC 7518's Concat KDF example, and for every refusal jose
 * makes: altered parts, a key off the curve, headers it does not implement, non-canonical
 * base64url.
 */
import { generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { CompactEncrypt, CompactSign, compactDecrypt, compactVerify, decodeProtectedHeader } from 'jose';
import { describe, expect, it } from 'vitest';
import { CompactError, concatKdf, decryptJwe, fromB64u, parseJwe, parseJws, sealCompact, signCompact, verifyEs256 } from '../../../gateway/delivery/jose-compact.ts';
import { refusalOf } from '../../helpers/refusal.ts';

const p256 = (): { privateKey: KeyObject; publicKey: KeyObject } => generateKeyPairSync('ec', { namedCurve: 'P-256' });
const signer = p256();
const dispatch = p256();
const X5C = ['MIIBfake', 'MIIBca'];
const TYP = 'alpr-hit+jws';
const enc = new TextEncoder();
const body = { hitId: 'h-1', plate: '7ABC123', site: 'Café du Pont', images: { overview: randomBytes(30_000).toString('base64') } };
const keys = { signingKey: signer.privateKey, x5c: X5C, recipient: dispatch.publicKey, kid: 'kid-1' };

/** What the pole sends, opened the way dispatch opens it; throws a CompactError when refused. */
function open(jwe: string, key = dispatch.privateKey, verifyWith = signer.publicKey): unknown {
  const jws = parseJws(decryptJwe(parseJwe(jwe), key));
  return JSON.parse(verifyEs256(jws, verifyWith).toString('utf8'));
}

async function joseSeal(payload: unknown, header: Record<string, unknown> = {}, jwe: Record<string, unknown> = {}, apu?: Uint8Array): Promise<string> {
  const jws = await new CompactSign(enc.encode(JSON.stringify(payload))).setProtectedHeader({ alg: 'ES256', typ: TYP, x5c: X5C, ...header }).sign(signer.privateKey);
  const e = new CompactEncrypt(enc.encode(jws)).setProtectedHeader({ alg: 'ECDH-ES+A256KW', enc: 'A256GCM', cty: TYP, kid: 'kid-1', ...jwe });
  if (apu) e.setKeyManagementParameters({ apu, apv: enc.encode('dispatch') });
  return e.encrypt(dispatch.publicKey);
}

const refusal = (fn: () => unknown): string => refusalOf(fn, CompactError, (e) => e.message);

/** Replaces the part `i` of a compact string. */
const withPart = (compact: string, i: number, part: string): string => compact.split('.').map((p, j) => (j === i ? part : p)).join('.');

describe('hit envelope JOSE with node:crypto', () => {
  it('seals what jose opens: the same headers, the signature by the pole key, the JSON unchanged', async () => {
    const jwe = sealCompact(JSON.stringify(body), TYP, keys).toString('latin1');
    expect(decodeProtectedHeader(jwe)).toEqual({ alg: 'ECDH-ES+A256KW', enc: 'A256GCM', cty: TYP, kid: 'kid-1', epk: { kty: 'EC', crv: 'P-256', x: expect.any(String), y: expect.any(String) } });
    const { plaintext } = await compactDecrypt(jwe, dispatch.privateKey, { keyManagementAlgorithms: ['ECDH-ES+A256KW'], contentEncryptionAlgorithms: ['A256GCM'] });
    const jws = new TextDecoder().decode(plaintext);
    expect(decodeProtectedHeader(jws)).toEqual({ alg: 'ES256', typ: TYP, x5c: X5C });
    const { payload } = await compactVerify(jws, signer.publicKey, { algorithms: ['ES256'] });
    expect(JSON.parse(new TextDecoder().decode(payload))).toEqual(body);
    // A fresh ephemeral key and IV each time.
    const again = sealCompact(JSON.stringify(body), TYP, keys).toString('latin1');
    expect(again.split('.')[0]).not.toBe(jwe.split('.')[0]);
  });

  it('opens what jose seals, with and without PartyUInfo/PartyVInfo, and its own', async () => {
    expect(open(await joseSeal(body))).toEqual(body);
    expect(open(await joseSeal(body, {}, {}, enc.encode('pole-1')))).toEqual(body);
    expect(open(sealCompact(JSON.stringify(body), TYP, keys).toString('latin1'))).toEqual(body);
    // The payload as UTF-8 bytes in parts (the stamped draft) is sealed as the one text they make.
    const json = Buffer.from(JSON.stringify(body));
    expect(open(sealCompact([json.subarray(0, 1001), json.subarray(1001)], TYP, keys).toString('latin1'))).toEqual(body);
  });

  it('signs the small messages (acks, commands) as jose does: jose verifies them, and so does verifyEs256', async () => {
    const ack = { hitId: 'h-1', device: 'pole-1', receivedAt: 5, reason: 'Café' };
    const jws = signCompact(ack, 'alpr-ack+jws', signer.privateKey, X5C);
    expect(decodeProtectedHeader(jws)).toEqual({ alg: 'ES256', typ: 'alpr-ack+jws', x5c: X5C });
    const { payload } = await compactVerify(jws, signer.publicKey, { algorithms: ['ES256'] });
    expect(JSON.parse(new TextDecoder().decode(payload))).toEqual(ack);
    expect(JSON.parse(verifyEs256(parseJws(Buffer.from(jws, 'latin1')), signer.publicKey).toString('utf8'))).toEqual(ack);
    await expect(compactVerify(jws, p256().publicKey, { algorithms: ['ES256'] })).rejects.toThrow();
  });

  it('derives the key of RFC 7518 appendix C with the Concat KDF', () => {
    const z = Buffer.from([158, 86, 217, 29, 129, 113, 53, 211, 114, 131, 66, 131, 191, 132, 38, 156, 251, 49, 110, 163, 218, 128, 106, 72, 246, 218, 167, 121, 140, 254, 144, 196]);
    expect(concatKdf(z, 128, 'A128GCM', Buffer.from('Alice'), Buffer.from('Bob')).toString('base64url')).toBe('VqqN6vgjbSBcIijNcacQGg');
  });

  it('refuses an envelope altered anywhere: header, wrapped key, IV, ciphertext, tag', async () => {
    const jwe = sealCompact(JSON.stringify(body), TYP, keys).toString('latin1');
    const flip = (part: string): string => {
      const bytes = fromB64u(part, 'part');
      bytes.writeUInt8(bytes.readUInt8(bytes.length >> 1) ^ 1, bytes.length >> 1);
      return bytes.toString('base64url');
    };
    for (let i = 1; i < 5; i++) expect(refusal(() => open(withPart(jwe, i, flip(jwe.split('.')[i] as string))))).not.toBe('accepted');
    // The header is the associated data: a member added changes nothing decrypted, yet fails.
    const header = decodeProtectedHeader(jwe);
    expect(refusal(() => open(withPart(jwe, 0, Buffer.from(JSON.stringify({ ...header, x: 1 })).toString('base64url'))))).toMatch(/authenticate/);
    // Another recipient's key.
    expect(refusal(() => open(jwe, p256().privateKey))).toMatch(/unwrap/);
  });

  it('refuses an ephemeral key off the curve, and headers it does not implement', () => {
    const jwe = sealCompact(JSON.stringify(body), TYP, keys).toString('latin1');
    const header = decodeProtectedHeader(jwe) as { epk: { x: string; y: string } };
    const y = fromB64u(header.epk.y, 'y');
    y.writeUInt8(y.readUInt8(31) ^ 1, 31);
    const offCurve = withPart(jwe, 0, Buffer.from(JSON.stringify({ ...header, epk: { ...header.epk, y: y.toString('base64url') } })).toString('base64url'));
    expect(refusal(() => open(offCurve))).toMatch(/epk unusable/);
    // Coordinates of the wrong size, or the point at infinity's encoding, are no P-256 point either.
    const short = withPart(jwe, 0, Buffer.from(JSON.stringify({ ...header, epk: { ...header.epk, y: y.subarray(1).toString('base64url') } })).toString('base64url'));
    expect(refusal(() => open(short))).toMatch(/epk unusable/);
    const zero = Buffer.alloc(32).toString('base64url');
    expect(refusal(() => open(withPart(jwe, 0, Buffer.from(JSON.stringify({ ...header, epk: { ...header.epk, x: zero, y: zero } })).toString('base64url'))))).toMatch(/epk unusable/);
    // jose refuses to make these; checked before any decryption or signature check.
    expect(refusal(() => open(withPart(jwe, 0, Buffer.from(JSON.stringify({ ...header, crit: ['exp'], exp: 1 })).toString('base64url'))))).toMatch(/critical/);
    expect(refusal(() => open(withPart(jwe, 0, Buffer.from(JSON.stringify({ ...header, zip: 'DEF' })).toString('base64url'))))).toMatch(/compressed/);
    const jws = parseJws(decryptJwe(parseJwe(jwe), dispatch.privateKey));
    expect(refusal(() => verifyEs256({ ...jws, header: { ...jws.header, crit: ['b64'], b64: false } }, signer.publicKey))).toMatch(/crit, b64/);
    expect(refusal(() => open(withPart(jwe, 2, randomBytes(16).toString('base64url'))))).toMatch(/iv\/tag/);
  });

  it('refuses a signature by another key or of the wrong size', async () => {
    expect(refusal(() => open(sealCompact(JSON.stringify(body), TYP, keys).toString('latin1'), dispatch.privateKey, p256().publicKey))).toMatch(/signature verification failed/);
    const jws = parseJws(decryptJwe(parseJwe(await joseSeal(body)), dispatch.privateKey));
    expect(refusal(() => verifyEs256({ ...jws, signatureB64: randomBytes(72).toString('base64url') }, signer.publicKey))).toMatch(/signature verification failed/);
    expect(refusal(() => verifyEs256(jws, signer.publicKey))).toBe('accepted');
    expect(refusal(() => parseJws(Buffer.from('a.b.c.d')))).toMatch(/three parts/);
    expect(refusal(() => parseJwe('a.b.c'))).toMatch(/five parts/);
  });

  it('takes base64url only in its canonical form: every other byte value, anywhere, is refused', () => {
    for (let len = 0; len < 8; len++) {
      const text = randomBytes(len).toString('base64url');
      expect(fromB64u(text, 'x').toString('base64url')).toBe(text);
      for (let pos = 0; pos <= text.length; pos++) {
        for (let c = 0; c < 256; c++) {
          const ch = String.fromCharCode(c);
          for (const variant of [text.slice(0, pos) + ch + text.slice(pos), text.slice(0, pos) + ch + text.slice(pos + 1)]) {
            const canonical = Buffer.from(variant, 'base64url').toString('base64url') === variant;
            expect(refusal(() => fromB64u(variant, 'x')) === 'accepted', JSON.stringify(variant)).toBe(canonical);
          }
        }
      }
    }
    expect(refusal(() => fromB64u('QUJ', 'x'))).toMatch(/not base64url/); // "AB" with a stray trailing bit (QUI)
    expect(refusal(() => fromB64u('QUJD=', 'x'))).toMatch(/not base64url/);
  });
});
