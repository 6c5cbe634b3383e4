/**
 * The outbox's copy-free sealing (gateway/delivery/outbox-seal.ts) makes and opens the store's
 * sealed values (gateway/store/crypto.ts) byte for byte: entries sealed before it still open,
 * and what it seals opens with the store's code.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { openSealed, sealTextParts } from '../../../gateway/delivery/outbox-seal.ts';
import { open, seal } from '../../../gateway/store/crypto.ts';
import { IntegrityError } from '../../../gateway/store/errors.ts';

describe('outbox sealing', () => {
  const key = randomBytes(32);
  const aad = 'obx!q!0!0000000000000001!001800000000000!id-1';
  const text = `{"plate":"ABC123","note":"ünïcode ✓","image":"${randomBytes(3000).toString('base64')}"}`;

  it("is the store's format both ways (same IV: same bytes)", () => {
    const iv = randomBytes(12);
    const parts = sealTextParts(key, text, aad, () => iv);
    const theirs = seal(key, Buffer.from(text, 'utf8'), aad, () => iv);
    expect(Buffer.concat(parts).equals(theirs)).toBe(true);
    expect(open(key, Buffer.concat(parts), aad).toString('utf8')).toBe(text);
    expect(openSealed(key, theirs, aad).toString('utf8')).toBe(text);
  });

  it('refuses a value moved to another key, altered, of another version or under another key', () => {
    const sealed = Buffer.concat(sealTextParts(key, text, aad));
    expect(() => openSealed(key, sealed, `${aad}x`)).toThrow(IntegrityError);
    const flipped = Buffer.from(sealed);
    flipped[40] = (flipped[40] as number) ^ 1;
    expect(() => openSealed(key, flipped, aad)).toThrow(IntegrityError);
    expect(() => openSealed(key, Buffer.concat([Buffer.from([2]), sealed.subarray(1)]), aad)).toThrow(/known version/);
    expect(() => openSealed(randomBytes(32), sealed, aad)).toThrow(IntegrityError);
  });
});
