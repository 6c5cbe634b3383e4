import { describe, expect, it } from 'vitest';
import { coerceToFormat, rankCandidates } from '../../../models/plates/disambiguate.ts';
import { confirmsExtraAtEnd, extraAtEnd, letterO, plateHasDigit } from '../../../models/plates/reading.ts';
import { allFormats, fitsFormat, GENERIC_FORMATS, statesFitting, US_STATE_FORMATS } from '../../../models/plates/us-formats.ts';

/** A lattice stand-in: log-probabilities of the strings it knows, −∞ for the rest. */
const lattice =
  (known: Record<string, number>) =>
  (text: string): number =>
    known[text] ?? -Infinity;

describe('registration formats (data)', () => {
  it('covers every state and DC with well-formed patterns', () => {
    expect(Object.keys(US_STATE_FORMATS)).toHaveLength(51);
    for (const f of allFormats()) expect(f).toMatch(/^[#@]{4,8}$/);
    expect(GENERIC_FORMATS.length).toBeGreaterThan(5);
  });

  it('matches digits to # and letters to @, with 0 standing for O in letter slots', () => {
    expect(fitsFormat('7ABC123', '#@@@###')).toBe(true);
    expect(fitsFormat('7AB0123', '#@@@###')).toBe(true); // 0 for O
    expect(fitsFormat('7A8C123', '#@@@###')).toBe(false);
    expect(fitsFormat('ABC123', '#@@@###')).toBe(false);
    expect(statesFitting('7ABC123')).toContain('ca');
  });
});

describe('look-alike disambiguation by format', () => {
  it('coerces a reading into a format through look-alike swaps only', () => {
    expect(coerceToFormat('ABC12B4', '@@@####')).toEqual([{ text: 'ABC1284', swaps: 1 }]);
    expect(coerceToFormat('8BC1234', '@@@####')).toEqual([{ text: 'BBC1234', swaps: 1 }]);
    expect(coerceToFormat('0BC1234', '@@@####')).toEqual([{ text: '0BC1234', swaps: 0 }]); // 0 already stands for O
    expect(coerceToFormat('ABCD234', '@@@####').map((v) => v.text)).toEqual(['ABC0234']);
    expect(coerceToFormat('A0C1234', '@@@####')).toEqual([{ text: 'A0C1234', swaps: 0 }]);
    expect(coerceToFormat('XBC1234', '#@@####')).toEqual([]); // X has no digit look-alike
  });

  it('prefers the format-fitting swap when the lattice finds it nearly as likely (B↔8 in a digit slot)', () => {
    const ranked = rankCandidates(['ABC12B4'], lattice({ ABC12B4: -0.4, ABC1284: -1.1 }), allFormats());
    expect(ranked[0]?.text).toBe('ABC1284');
    expect(ranked[0]?.format).toBe('@@@####');
  });

  it('prefers a fitting beam candidate over a better-scored one that fits nothing (S↔5 in a letter slot)', () => {
    const ranked = rankCandidates(['5GS1234', 'SGS1234'], lattice({ '5GS1234': -0.3, SGS1234: -0.9 }), ['@@@####']);
    expect(ranked.map((r) => r.text)).toEqual(['SGS1234', '5GS1234']);
  });

  it('never forces a fit the lattice does not support', () => {
    const ranked = rankCandidates(['ABC12B4'], lattice({ ABC12B4: -0.2, ABC1284: -9 }), allFormats());
    expect(ranked[0]?.text).toBe('ABC12B4');
  });

  it('keeps vanity plates that fit no format as read', () => {
    const known = { ANYTEXT: -0.1, ANYTEXT1: -4, BIGCAT: -0.2, B1GCAT: -3 };
    expect(rankCandidates(['ANYTEXT', 'ANYTEXT1'], lattice(known), allFormats())[0]?.text).toBe('ANYTEXT');
    expect(rankCandidates(['BIGCAT', 'B1GCAT'], lattice(known), allFormats())[0]?.text).toBe('BIGCAT');
  });

  it('returns at most topN candidates, best first, without duplicates', () => {
    const ranked = rankCandidates(['ABC1234', 'ABC1Z34', 'A8C1234'], lattice({ ABC1234: -0.1, ABC1Z34: -2, A8C1234: -3, ABC1234X: -4 }), allFormats(), {
      formatBonus: 2.5,
      swapPenalty: 0.5,
      topN: 2,
    });
    expect(ranked).toHaveLength(2);
    expect(ranked[0]?.text).toBe('ABC1234');
    expect(new Set(ranked.map((r) => r.text)).size).toBe(2);
    expect(ranked[0]!.rank).toBeGreaterThanOrEqual(ranked[1]!.rank);
  });

  it('spells 0 in letter positions as O for the O alternative', () => {
    expect(letterO('N0X218', '@@@###')).toBe('NOX218');
    expect(letterO('ABC1034', '@@@####')).toBe('ABC1034');
  });

  // The CRNN reads the whole plate; PP-OCR only the detector's line, which can stop short of a
  // character split off by a dot or an emblem (12132 · W read 12132).
  it('finds one more character at an end, and nothing else', () => {
    expect(extraAtEnd('12132', '12132W')).toBe('end');
    expect(extraAtEnd('434R', '4434R')).toBe('start');
    expect(extraAtEnd('555', '5555')).toBe('end'); // both ends fit: the end is tried
    expect(extraAtEnd('HP7562', '6HP7562')).toBe('start');
    expect(extraAtEnd('12132', '12132WX')).toBeUndefined();
    expect(extraAtEnd('12132', '1Z132W')).toBeUndefined();
    expect(extraAtEnd('12132', '12132')).toBeUndefined();
    expect(extraAtEnd('', 'A')).toBeUndefined();
    // With a substitution allowed in the rest (a squeezed wide crop: "CVS-20 E" read CNS20E).
    expect(extraAtEnd('CVS20', 'CNS20E')).toBeUndefined();
    expect(extraAtEnd('CVS20', 'CNS20E', 1)).toBe('end');
    expect(extraAtEnd('CVS20', 'CNS2ZE', 1)).toBeUndefined();
    expect(extraAtEnd('33333', 'B33333', 1)).toBe('start'); // the exact side wins over the end
    expect(extraAtEnd('434R', '4A34R', 1)).toBe('start'); // A34R is 434R with one substitution
  });

  it('takes the wide reading only when its extra character is at that end and read surely', () => {
    const narrow = { text: '12132', charProbs: [1, 1, 1, 1, 1], candidates: [] };
    const wide = (text: string, charProbs: number[]) => ({ text, charProbs, candidates: [] });
    expect(confirmsExtraAtEnd(narrow, wide('12132W', [1, 1, 1, 1, 1, 0.59]), 'end', 0.5)).toBe(true);
    expect(confirmsExtraAtEnd(narrow, wide('12132W', [1, 1, 1, 1, 1, 0.3]), 'end', 0.5)).toBe(false);
    expect(confirmsExtraAtEnd(narrow, wide('612132', [0.9, 1, 1, 1, 1, 1]), 'end', 0.5)).toBe(false);
    expect(confirmsExtraAtEnd(narrow, wide('612132', [0.24, 1, 1, 1, 1, 1]), 'start', 0.5)).toBe(false);
    expect(confirmsExtraAtEnd(narrow, wide('2132', [1, 1, 1, 1]), 'end', 0.5)).toBe(false);
  });

  // A badge (HYUNDAI read HYUN0AI) must count as letters only, or its read stops the finer
  // detection pass that finds the plate below it (us-dev: a night scene lost its plate so).
  it('takes a 0 for an O unless a format puts a digit there', () => {
    expect(plateHasDigit({ text: 'HYUN0AI' })).toBe(false);
    expect(plateHasDigit({ text: 'T0Y0TA' })).toBe(false);
    expect(plateHasDigit({ text: 'N0X', format: '@@@' })).toBe(false);
    expect(plateHasDigit({ text: 'ABC1034', format: '@@@####' })).toBe(true);
    expect(plateHasDigit({ text: 'AB0', format: '@@#' })).toBe(true);
    expect(plateHasDigit({ text: 'ABC123' })).toBe(true);
  });
});
