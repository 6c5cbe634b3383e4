import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { applyDelta, makeDelta } from '../../../ota/delta.ts';
import { OtaError } from '../../../ota/errors.ts';

function edited(base: Buffer): Buffer {
  // A hot list's day: a few entries changed, some added, some removed.
  return Buffer.concat([
    base.subarray(0, 10_000),
    Buffer.from('INSERTED ENTRY 7ABC123,ca,stolen-vehicle,90\n'),
    base.subarray(10_000, 50_000),
    randomBytes(300),
    base.subarray(50_300, 120_000),
    base.subarray(121_000),
    Buffer.from('tail'),
  ]);
}

describe('binary delta', () => {
  it('rebuilds the new file exactly and is much smaller than it', () => {
    const base = randomBytes(200_000);
    const next = edited(base);
    const delta = makeDelta(base, next);
    expect(applyDelta(base, delta, next.length).equals(next)).toBe(true);
    expect(delta.length).toBeLessThan(next.length / 20);
  });

  it('works when nothing is shared and when everything is', () => {
    const a = randomBytes(5_000);
    const b = randomBytes(7_000);
    expect(applyDelta(a, makeDelta(a, b), b.length).equals(b)).toBe(true);
    expect(applyDelta(a, makeDelta(a, a), a.length).equals(a)).toBe(true);
    expect(applyDelta(a, makeDelta(a, Buffer.alloc(0)), 0).length).toBe(0);
  });

  it('refuses a delta that is not one, reaches past its base, or outgrows the signed length', () => {
    const base = randomBytes(4_000);
    const next = edited(Buffer.concat([base, randomBytes(200_000)]));
    const delta = makeDelta(base, next);
    expect(() => applyDelta(base, Buffer.from('GARBAGE!'), 100)).toThrow(/not an ALPRDLT1 delta/);
    expect(() => applyDelta(base, delta, next.length - 1)).toThrow(/exceeds the signed length/);
    expect(() => applyDelta(base.subarray(0, 100), makeDelta(base, base), base.length)).toThrow(/reaches past the base/);
    expect(() => applyDelta(base, delta.subarray(0, delta.length - 3), next.length)).toThrow(OtaError);
  });
});
