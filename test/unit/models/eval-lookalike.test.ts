import { describe, expect, it } from 'vitest';
import {
  areLookalikes,
  LOOKALIKE_CLASSES,
  LookalikeHotlist,
  lookalikeMatch,
  lookalikeVariants,
  normalisePlate,
} from '../../../models/eval/lookalike.ts';
import { randomPlate, randomPlates, seededRandom } from '../../../models/eval/random-plates.ts';

describe('plate normalisation (benchmark rule)', () => {
  it.each([
    ['abc 1234', 'ABC1234'],
    ['ABC-1234', 'ABC1234'],
    [' 7 abc-12 3 ', '7ABC123'],
    ['ILEG0', 'ILEG0'],
  ])('%j → %s', (raw, want) => {
    expect(normalisePlate(raw)).toBe(want);
  });
});

describe('look-alike matching: exact plus one look-alike substitution', () => {
  it('has the issue’s classes', () => {
    expect(LOOKALIKE_CLASSES).toEqual(['O0DQ', 'I1', 'B8', 'S5', 'Z2', 'G6']);
  });

  it.each([
    ['O', '0'], ['0', 'D'], ['D', 'Q'], ['Q', 'O'], ['I', '1'], ['B', '8'], ['S', '5'], ['Z', '2'], ['G', '6'],
  ])('%s and %s are look-alikes, both ways', (a, b) => {
    expect(areLookalikes(a, b)).toBe(true);
    expect(areLookalikes(b, a)).toBe(true);
  });

  it.each([['A', '4'], ['B', '3'], ['1', '7'], ['O', 'O'], ['8', '0'], ['S', 'Z']])('%s and %s are not', (a, b) => {
    expect(areLookalikes(a, b)).toBe(false);
  });

  it.each([
    // read, entry, result
    ['7ABC123', '7ABC123', 'exact'],
    ['7A8C123', '7ABC123', 'lookalike'], // B read as 8
    ['0SG719', 'OSG719', 'lookalike'],
    ['D5G719', 'OSG719', undefined], // two substitutions
    ['7ABC128', '7ABC123', undefined], // 3/8 are not look-alikes
    ['7ABC12', '7ABC123', undefined], // a dropped character is not a look-alike
    ['7ABC1234', '7ABC123', undefined],
    ['1AMW24O', '1AMW240', 'lookalike'],
    ['IAMW240', '1AMW240', 'lookalike'],
    ['', '', 'exact'],
  ] as const)('read %s vs entry %s → %s', (read, entry, want) => {
    expect(lookalikeMatch(read, entry)).toBe(want);
  });

  it('lists the read itself and each single look-alike substitution', () => {
    expect(lookalikeVariants('B1')).toEqual(['B1', '81', 'BI']);
    expect(lookalikeVariants('O')).toEqual(['O', '0', 'D', 'Q']);
    expect(lookalikeVariants('AX7')).toEqual(['AX7']);
  });

  it('a hot list agrees with lookalikeMatch on every entry', () => {
    const entries = ['7ABC123', '7A8C123', 'OSG719', '0SG719', 'XYZ999'];
    const list = new LookalikeHotlist(entries);
    for (const read of ['7ABC123', '7A8C123', '0SG719', 'D5G719', 'XYZ999', 'XYZ99']) {
      const want = entries.flatMap((e) => {
        const kind = lookalikeMatch(read, e);
        return kind ? [{ entry: e, kind }] : [];
      });
      expect([...list.match(read)].sort((a, b) => a.entry.localeCompare(b.entry))).toEqual(want.sort((a, b) => a.entry.localeCompare(b.entry)));
    }
  });

  it('normalises both entries and reads', () => {
    const list = new LookalikeHotlist(['abc-123']);
    expect(list.has('ABC 123')).toBe(true);
    expect(list.match('a8c 123')).toEqual([{ entry: 'ABC123', kind: 'lookalike' }]);
  });
});

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
