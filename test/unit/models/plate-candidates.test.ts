import { describe, expect, it } from 'vitest';
import type { RotatedRect } from '../../../models/geometry.ts';
import { charInkHeights, keepTallCharacters, otsuThreshold } from '../../../models/plates/char-heights.ts';
import { joinSplitGroups, plateCandidates, plateLikeness } from '../../../models/plates/candidates.ts';
import { blankSteps, candidateScores, dropShortCharacters } from '../../../models/plates/reading.ts';
import { editDistance, phraseSimilarity, stateFromCaptions } from '../../../models/plates/state-match.ts';
import { ctcLogProb, foldSymbol, PLATE_SYMBOLS, type StepMatrix } from '../../../models/ppocr/ctc.ts';
import type { RgbImage } from '../../../models/types.ts';

const rect = (cx: number, cy: number, width: number, height: number): RotatedRect => ({ cx, cy, ux: 1, uy: 0, width, height });
const line = (r: RotatedRect) => ({ rect: r, score: 0.9 });

/** Paints columns x0…x0+width−1 of rows y0…y1−1 of an RGB image `w` pixels wide in grey level `v`. */
function paint(data: Uint8Array, w: number, x0: number, width: number, y0: number, y1: number, v: number): void {
  for (let y = y0; y < y1; y++) for (let x = x0; x < x0 + width; x++) data.fill(v, (y * w + x) * 3, (y * w + x) * 3 + 3);
}

describe('split registrations', () => {
  it('joins groups of one height on one line across an emblem ("832 [seal] AXV")', () => {
    const groups = joinSplitGroups([line(rect(60, 80, 90, 40)), line(rect(230, 80, 90, 40))]);
    expect(groups).toHaveLength(1);
    expect(groups[0]!.parts.map((p) => p.cx)).toEqual([60, 230]);
    expect(groups[0]!.rect.width).toBeCloseTo(260, 0);
  });

  it('keeps apart groups of different heights, off the line, or too far for one plate', () => {
    expect(joinSplitGroups([line(rect(60, 80, 90, 40)), line(rect(230, 80, 90, 28))])).toHaveLength(2);
    expect(joinSplitGroups([line(rect(60, 80, 90, 40)), line(rect(230, 110, 90, 40))])).toHaveLength(2);
    expect(joinSplitGroups([line(rect(60, 80, 90, 40)), line(rect(400, 80, 90, 40))])).toHaveLength(2);
  });
});

describe('plate candidates', () => {
  it('keeps the registration, attaches the state name and slogan to it as captions', () => {
    const reg = rect(150, 80, 230, 44);
    const state = rect(150, 35, 90, 18);
    const slogan = rect(150, 125, 80, 16);
    const cands = plateCandidates([line(reg), line(state), line(slogan)]);
    expect(cands).toHaveLength(1);
    expect(cands[0]!.rect).toEqual(reg);
    expect(cands[0]!.secondary).toEqual(expect.arrayContaining([state, slogan]));
    expect(cands[0]!.likeness).toBe(1);
  });

  it('rates a year sticker beside a taller registration as unlike a plate', () => {
    const reg = rect(150, 80, 200, 44);
    const sticker = rect(290, 100, 40, 20);
    expect(plateLikeness(sticker, [reg, sticker])).toBeLessThan(0.5);
    expect(plateLikeness(reg, [reg, sticker])).toBe(1);
  });
});

describe('stacked letters beside the registration', () => {
  it('trims short characters at the ends only, never from the middle', () => {
    expect(keepTallCharacters([30, 31, 30, 29, 14, 13])).toEqual([0, 1, 2, 3]); // "2678" + stacked "HH"
    expect(keepTallCharacters([13, 30, 31, 30, 29])).toEqual([1, 2, 3, 4]);
    expect(keepTallCharacters([30, 31, 12, 30, 29])).toEqual([0, 1, 2, 3, 4]); // a broken stroke mid-line
    expect(keepTallCharacters([30, 0, 12])).toEqual([0, 1, 2]); // too few measurements
  });

  it('measures ink heights on a crop and masks the short character out of the lattice', () => {
    // 40×20 white crop: three tall bars and a short one at the right end.
    const w = 40;
    const h = 20;
    const data = new Uint8Array(w * h * 3).fill(255);
    const bar = (x0: number, y0: number, y1: number): void => paint(data, w, x0, 3, y0, y1, 0);
    bar(3, 2, 18);
    bar(13, 2, 18);
    bar(23, 2, 18);
    bar(33, 12, 18);
    const crop: RgbImage = { width: w, height: h, data };
    expect(charInkHeights(crop, [0, 10, 20, 30].map((x0) => ({ x0, x1: x0 + 10 })))).toEqual([16, 16, 16, 6]);
    // Lattice: 8 steps of 5 px; "1117" — characters at steps 1, 3, 5, 7, blanks between.
    const C = PLATE_SYMBOLS.length + 1;
    const probs = new Float32Array(8 * C);
    ['', '1', '', '1', '', '1', '', '7'].forEach((ch, t) => {
      probs[t * C + (ch ? PLATE_SYMBOLS.indexOf(ch) + 1 : 0)] = 1;
    });
    const m: StepMatrix = { steps: 8, classes: C, probs };
    const trimmed = dropShortCharacters(m, '1117', crop, 5);
    expect(ctcLogProb(trimmed, '111')).toBeCloseTo(0, 5);
    expect(ctcLogProb(trimmed, '1117')).toBeLessThan(-50); // probability floored at 1e-30 per step
  });
});

describe('character heights of bold characters filling a tight crop', () => {
  // Seven dark glyphs 30 px wide and 46 px tall in a 48 px crop (one row of paper above and
  // below), each with a light counter 10 px wide in its middle, 6 px of paper between them: in the
  // middle rows the ink is the commoner class.
  const w = 7 * 36;
  const h = 48;
  const data = new Uint8Array(w * h * 3).fill(235);
  for (let g = 0; g < 7; g++) {
    for (let y = 1; y < h - 1; y++) {
      for (let x = g * 36 + 3; x < g * 36 + 33; x++) {
        const half = [6, 7, 12, 15, 13, 13, 6][g]!; // counters of different heights, as a 4, M, D, V, 0, 0, 9
        const counter = x >= g * 36 + 13 && x < g * 36 + 23 && y >= 24 - half && y < 24 + half;
        if (!counter) data.fill(30, (y * w + x) * 3, (y * w + x) * 3 + 3);
      }
    }
  }
  const crop: RgbImage = { width: w, height: h, data };
  const ranges = Array.from({ length: 7 }, (_, g) => ({ x0: g * 36, x1: g * 36 + 36 }));

  it('measures the glyphs, not their counters, and keeps every character (regression: 4MDV009 read DV00)', () => {
    expect(charInkHeights(crop, ranges)).toEqual([46, 46, 46, 46, 46, 46, 46]);
    expect(keepTallCharacters(charInkHeights(crop, ranges))).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });

  it('keeps the middle-rows rule when the other class is not a line of like glyphs', () => {
    // Light characters of one height on dark paper, one of them short: the rule (rarer class in the
    // middle rows = the characters) measures 40, 40, 20; the paper is one wide component.
    const ww = 90;
    const d = new Uint8Array(ww * h * 3).fill(20);
    const glyph = (x0: number, y0: number, y1: number): void => paint(d, ww, x0, 8, y0, y1, 240);
    glyph(10, 4, 44);
    glyph(40, 4, 44);
    glyph(70, 14, 34);
    expect(charInkHeights({ width: ww, height: h, data: d }, [0, 30, 60].map((x0) => ({ x0, x1: x0 + 30 })))).toEqual([40, 40, 20]);
  });
});

describe('lattice helpers', () => {
  const C = PLATE_SYMBOLS.length + 1;
  const at = (rows: Record<string, number>[]): StepMatrix => {
    const probs = new Float32Array(rows.length * C);
    rows.forEach((r, t) => {
      for (const [ch, p] of Object.entries(r)) probs[t * C + (ch === '-' ? 0 : PLATE_SYMBOLS.indexOf(ch) + 1)] = p;
    });
    return { steps: rows.length, classes: C, probs };
  };

  it('scores a string by summing over its alignments', () => {
    const m = at([{ A: 0.6, '-': 0.4 }, { A: 0.5, '-': 0.5 }]);
    // "A" = AA + A- + -A = 0.3 + 0.3 + 0.2
    expect(Math.exp(ctcLogProb(m, 'A'))).toBeCloseTo(0.8, 6);
    expect(Math.exp(ctcLogProb(m, 'AA'))).toBeCloseTo(0, 6); // needs a blank between
    expect(ctcLogProb(m, 'B')).toBeLessThan(-50);
    expect(ctcLogProb(m, 'a')).toBe(-Infinity); // not in the alphabet
  });

  it('folds O into 0 and forces steps to blank', () => {
    const m = at([{ O: 0.7, '0': 0.2, '-': 0.1 }]);
    foldSymbol(m, 'O', '0');
    expect(Math.exp(ctcLogProb(m, '0'))).toBeCloseTo(0.9, 6);
    expect(Math.exp(ctcLogProb(blankSteps(m, [0]), ''))).toBeCloseTo(1, 6);
  });

  it('gives candidates scores that are shares, best first', () => {
    const scores = candidateScores([
      { text: 'A', logProb: Math.log(0.2) },
      { text: 'B', logProb: Math.log(0.6) },
      { text: 'C', logProb: Math.log(0.2) },
    ]).map((c) => c.score);
    expect(scores[0]).toBeCloseTo(0.2, 6);
    expect(scores[1]).toBeCloseTo(0.2, 6); // capped by the one ranked above
    expect(scores[2]).toBeCloseTo(0.2, 6);
  });

  it('finds Otsu’s threshold between two modes', () => {
    const hist = new Array<number>(256).fill(0);
    hist[40] = 100;
    hist[200] = 300;
    const t = otsuThreshold(hist);
    expect(t).toBeGreaterThanOrEqual(40);
    expect(t).toBeLessThan(200);
  });
});

describe('state from the printed captions', () => {
  it.each([
    ['California', 'ca'],
    ['TEXAS', 'tx'],
    ['Scenic IDAHO', 'id'],
    ['Florida', 'fl'],
    ['WEST VIRGINIA', 'wv'],
    ['Virginia', 'va'],
    ['Arkansas', 'ar'],
    ['Land of Lincoln', 'il'],
    ['Live Free or Die', 'nh'],
    ['Calif0rnia', 'ca'],
    ['PENNSYLVANIA', 'pa'],
  ])('%s → %s', (caption, state) => {
    expect(stateFromCaptions([caption])?.state).toBe(state);
  });

  it('names no state for stickers, registrations and noise', () => {
    expect(stateFromCaptions(['2008'])).toBeUndefined();
    expect(stateFromCaptions(['7ABC123'])).toBeUndefined();
    expect(stateFromCaptions(['XQZW VBNM'])).toBeUndefined();
    expect(stateFromCaptions(['OHIX'])).toBeUndefined(); // short names need an exact match
  });

  it('measures similarity against the best stretch of the caption', () => {
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(phraseSimilarity('EXPLORE MINNESOTA', 'MINNESOTA')).toBe(1);
    expect(phraseSimilarity('MINNES0TA', 'MINNESOTA')).toBeCloseTo(8 / 9, 6);
  });
});
