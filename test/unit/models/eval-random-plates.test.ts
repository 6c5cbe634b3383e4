import { describe, expect, it } from 'vitest';
import { randomPlate, randomPlates, seededRandom } from '../../../models/eval/random-plates.ts';

describe('random hot-list plates', () => {
  it('are realistic serials: 6–7 letters and digits, no I, O or Q', () => {
    const random = seededRandom(1);
    for (let i = 0; i < 2000; i++) {
      const p = randomPlate(random);
      expect(p).toMatch(/^[A-HJ-NPR-Z0-9]{6,7}$/);
      expect(p).toMatch(/[0-9]/);
    }
  });

  it('are reproducible from the seed, distinct, and avoid the excluded plates', () => {
    const a = randomPlates(5000, 42);
    expect(randomPlates(5000, 42)).toEqual(a);
    expect(randomPlates(5000, 43)).not.toEqual(a);
    expect(new Set(a).size).toBe(5000);
    const excluded = new Set(a.slice(0, 100));
    expect(randomPlates(5000, 42, excluded).some((p) => excluded.has(p))).toBe(false);
  });
});
