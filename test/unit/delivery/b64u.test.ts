/**
 * base64url in pieces (gateway/delivery/b64u.ts): the same bytes and the same refusals as the
 * whole-string codec, at every size around the piece boundaries, with a stray character
 * anywhere — at a boundary too.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { b64uLength, Base64UrlError, decodeB64u, fromB64u, writeB64u } from '../../../gateway/delivery/b64u.ts';
import { refusalOf } from '../../helpers/refusal.ts';

/** Sizes in bytes on both sides of the pieces (49,152 bytes encoded, 65,536 characters decoded). */
const SIZES = [0, 1, 2, 3, 4, 49_151, 49_152, 49_153, 98_304, 98_305, 200_000, 200_001, 200_002];

const decoded = (text: string): string => refusalOf(() => decodeB64u(Buffer.from(`..${text}..`, 'latin1'), 2, text.length + 2, 'x'), Base64UrlError, (e) => e.message);

describe('base64url in pieces', () => {
  it('encodes as Buffer does, into a buffer of b64uLength', () => {
    for (const n of SIZES) {
      const bytes = randomBytes(n);
      const out = Buffer.alloc(b64uLength(n) + 2, '#');
      expect(writeB64u(out, 1, bytes)).toBe(1 + b64uLength(n));
      expect(out.toString('latin1')).toBe(`#${bytes.toString('base64url')}#`);
    }
  });

  it('encodes bytes in parts as the one buffer they make', () => {
    for (const n of SIZES) {
      const bytes = randomBytes(n);
      for (const cut of [0, 1, 2, Math.max(0, n - 2), n]) {
        if (cut > n) continue;
        const parts = [bytes.subarray(0, cut), bytes.subarray(cut, cut + 1), bytes.subarray(cut + 1)];
        const out = Buffer.alloc(b64uLength(n));
        expect(writeB64u(out, 0, parts)).toBe(b64uLength(n));
        expect(out.toString('latin1')).toBe(bytes.toString('base64url'));
      }
    }
  });

  it('decodes what it encodes, and only the range it is given', () => {
    for (const n of SIZES) {
      const bytes = randomBytes(n);
      const text = bytes.toString('base64url');
      const src = Buffer.from(`a.${text}.b`, 'latin1');
      expect(decodeB64u(src, 2, 2 + text.length, 'x').equals(bytes)).toBe(true);
    }
  });

  it('refuses what fromB64u refuses: a stray, padding or other-alphabet character anywhere, non-zero trailing bits', () => {
    for (const n of [200_000, 200_001, 200_002, 98_305]) {
      const text = randomBytes(n).toString('base64url');
      expect(decoded(text)).toBe('accepted');
      // Around each piece boundary and at both ends: inserted, and in place of a character.
      const spots = [0, 1, 65_535, 65_536, 65_537, 131_072, text.length - 1, text.length].filter((p) => p <= text.length);
      for (const pos of spots) {
        for (const ch of ['=', '+', '/', ' ', '\n', '.', '\u00e9', '\u00ff', '*']) {
          for (const variant of [text.slice(0, pos) + ch + text.slice(pos), text.slice(0, pos) + ch + text.slice(pos + 1)]) {
            expect(decoded(variant), `${n} bytes, ${JSON.stringify(ch)} at ${pos}`).not.toBe('accepted');
          }
        }
      }
    }
    // The same verdict as the whole-string check on every short variant.
    for (let len = 0; len < 8; len++) {
      const text = randomBytes(len).toString('base64url');
      for (let pos = 0; pos <= text.length; pos++) {
        for (let c = 0; c < 256; c++) {
          const variant = text.slice(0, pos) + String.fromCharCode(c) + text.slice(pos);
          const whole = refusalOf(() => fromB64u(variant, 'x'), Base64UrlError, (e) => e.message);
          expect(decoded(variant) === 'accepted', JSON.stringify(variant)).toBe(whole === 'accepted');
        }
      }
    }
    expect(decoded('QUJ')).toMatch(/not base64url/); // "AB" with a stray trailing bit
  });
});
