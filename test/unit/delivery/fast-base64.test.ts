import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { installFastBase64 } from '../../../gateway/delivery/fast-base64.ts';

type WithB64 = Uint8Array & { toBase64(o?: { alphabet?: string; omitPadding?: boolean }): string };
const U8 = Uint8Array as unknown as { fromBase64(s: string, o?: { alphabet?: string }): Uint8Array };

describe('Uint8Array base64 for jose (installFastBase64)', () => {
  installFastBase64();
  it('matches Buffer in both alphabets, padded or not, for every length', () => {
    for (let n = 0; n < 40; n++) {
      const bytes = new Uint8Array(randomBytes(n));
      const b = Buffer.from(bytes);
      expect((bytes as WithB64).toBase64()).toBe(b.toString('base64'));
      expect((bytes as WithB64).toBase64({ alphabet: 'base64url', omitPadding: true })).toBe(b.toString('base64url'));
      expect(Buffer.from(U8.fromBase64(b.toString('base64url'), { alphabet: 'base64url' }))).toEqual(b);
      expect(Buffer.from(U8.fromBase64(b.toString('base64')))).toEqual(b);
    }
    // A view into a larger buffer encodes only its own bytes.
    const big = new Uint8Array([1, 2, 3, 4, 5, 6]);
    expect((big.subarray(2, 4) as WithB64).toBase64()).toBe(Buffer.from([3, 4]).toString('base64'));
  });

  it('refuses characters outside the alphabet instead of skipping them', () => {
    expect(() => U8.fromBase64('ab$d', { alphabet: 'base64url' })).toThrow(SyntaxError);
    expect(() => U8.fromBase64('ab+/', { alphabet: 'base64url' })).toThrow(SyntaxError);
    expect(() => U8.fromBase64('ab-_')).toThrow(SyntaxError);
    expect(() => U8.fromBase64('abcde')).toThrow(SyntaxError);
  });
});
