import { describe, expect, it } from 'vitest';
import { loadDictionary, resolvePpocrAssets } from '../../../models/ppocr/assets.ts';
import {
  alignedCharProbs,
  beamSearch,
  buildClassMap,
  greedyDecode,
  PLATE_SYMBOLS,
  restrictSteps,
  type StepMatrix,
} from '../../../models/ppocr/ctc.ts';

const C = PLATE_SYMBOLS.length + 1;

/** A lattice from rows like { '7': 0.7, T: 0.3 }; '-' is the blank. */
function lattice(rows: readonly Record<string, number>[]): StepMatrix {
  const probs = new Float32Array(rows.length * C);
  rows.forEach((row, t) => {
    for (const [sym, p] of Object.entries(row)) {
      const k = sym === '-' ? 0 : PLATE_SYMBOLS.indexOf(sym) + 1;
      if (k < 0) throw new Error(`bad symbol ${sym}`);
      probs[t * C + k] = p;
    }
  });
  return { steps: rows.length, classes: C, probs };
}

describe('class map', () => {
  it('folds lower-case and full-width into upper-case ASCII, separators into blank, drops the rest', () => {
    // model classes: blank, a, A, 中, -, １, space
    const map = buildClassMap(['a', 'A', '中', '-', '１'], 7);
    const A = PLATE_SYMBOLS.indexOf('A') + 1;
    const one = PLATE_SYMBOLS.indexOf('1') + 1;
    expect([...map]).toEqual([0, A, A, -1, 0, one, 0]);

    const out = new Float32Array([0.1, 0.2, 0.1, 0.4, 0.1, 0.05, 0.05]);
    const m = restrictSteps(out, 0, 1, map);
    expect(m.probs[0]).toBeCloseTo(0.25 / 0.6, 5); // blank + dash + space
    expect(m.probs[A]).toBeCloseTo(0.3 / 0.6, 5); // a + A
    expect(m.probs[one]).toBeCloseTo(0.05 / 0.6, 5);
  });

  it('refuses a model whose output width does not match the dictionary', () => {
    expect(() => buildClassMap(['A', 'B'], 5)).toThrow(/dictionary of 2 implies 4/);
  });

  it('the bundled dictionary plus blank and space is the recogniser width, 6625, and holds the plate alphabet', () => {
    const dict = loadDictionary(resolvePpocrAssets().dictionary);
    expect(dict.length).toBe(6623);
    const map = buildClassMap(dict, 6625);
    const covered = new Set([...map].filter((k) => k > 0));
    expect(covered.size).toBe(PLATE_SYMBOLS.length);
  });

  it('a step with nothing plate-like reads as blank', () => {
    const map = buildClassMap(['中'], 3);
    const m = restrictSteps(new Float32Array([0, 1, 0]), 0, 1, map);
    expect(m.probs[0]).toBe(1);
  });
});

describe('greedy decoding', () => {
  it('collapses repeats, drops blanks and keeps each run’s peak probability', () => {
    const m = lattice([{ A: 0.9, '-': 0.1 }, { A: 0.7, '-': 0.3 }, { '-': 1 }, { A: 0.8, B: 0.2 }, { B: 0.6, '-': 0.4 }]);
    const d = greedyDecode(m);
    expect(d.text).toBe('AAB');
    expect(d.charProbs.map((p) => +p.toFixed(2))).toEqual([0.9, 0.8, 0.6]);
  });
});

describe('beam search', () => {
  it('finds the most probable string where the best path is empty', () => {
    // Best path is blank-blank (0.36), but "A" sums three alignments: 0.16 + 0.24 + 0.24 = 0.64.
    const m = lattice([
      { '-': 0.6, A: 0.4 },
      { '-': 0.6, A: 0.4 },
    ]);
    expect(greedyDecode(m).text).toBe('');
    const [best, ...rest] = beamSearch(m);
    expect(best?.text).toBe('A');
    expect(best?.score).toBeCloseTo(0.64, 6);
    expect(rest.map((c) => c.text)).toEqual(['']);
  });

  it('ranks the top-N alternatives with their exact CTC probabilities', () => {
    const m = lattice([{ '7': 0.7, T: 0.3 }, { '-': 1 }, { A: 0.6, '4': 0.4 }]);
    const got = beamSearch(m, { topN: 3 }).map((c) => [c.text, +c.score.toFixed(6)]);
    expect(got).toEqual([
      ['7A', 0.42],
      ['74', 0.28],
      ['TA', 0.18],
    ]);
  });

  it('merges a repeated symbol unless a blank separates the repeats', () => {
    expect(beamSearch(lattice([{ A: 1 }, { A: 1 }])).map((c) => c.text)).toEqual(['A']);
    const split = beamSearch(lattice([{ A: 1 }, { '-': 1 }, { A: 1 }]));
    expect(split[0]?.text).toBe('AA');
    expect(split[0]?.score).toBeCloseTo(1, 6);
  });

  it('scores of all strings of a lattice sum to one when nothing is pruned', () => {
    const m = lattice([
      { '-': 0.5, A: 0.3, B: 0.2 },
      { '-': 0.2, A: 0.5, B: 0.3 },
      { '-': 0.4, A: 0.1, B: 0.5 },
    ]);
    const all = beamSearch(m, { topN: 100, beamWidth: 100, prune: 0 });
    expect(all.reduce((s, c) => s + c.score, 0)).toBeCloseTo(1, 6);
    expect(new Set(all.map((c) => c.text)).size).toBe(all.length);
  });
});

describe('aligned character probabilities', () => {
  it('gives each character the peak probability over the steps its best alignment uses', () => {
    const m = lattice([{ '7': 0.9, T: 0.1 }, { '7': 0.6, '-': 0.4 }, { '-': 1 }, { A: 0.8, '4': 0.2 }]);
    expect(alignedCharProbs(m, '7A').map((p) => +p.toFixed(2))).toEqual([0.9, 0.8]);
    expect(alignedCharProbs(m, 'T4').map((p) => +p.toFixed(2))).toEqual([0.1, 0.2]);
  });

  it('returns zeros for a string longer than the lattice can hold', () => {
    expect(alignedCharProbs(lattice([{ A: 1 }, { '-': 1 }]), 'AA')).toEqual([0, 0]);
  });
});
