import { describe, expect, it } from 'vitest';
import { align, classifyMisread, countConfusions, editDistance } from '../../../models/eval/confusions.ts';
import { hotlistOf } from '../../../models/eval/runner.ts';
import { computeMetrics, median, percentile, type ImageOutcome } from '../../../models/eval/metrics.ts';
import { chooseRead, scoreImage, summariseRead, type ReadSummary } from '../../../models/eval/score.ts';
import type { PlateRead } from '../../../models/types.ts';

const read = (text: string, over: Partial<ReadSummary> = {}): ReadSummary => ({
  text,
  confidence: 0.9,
  candidates: [text],
  box: { x: 0, y: 0, width: 100, height: 50 },
  ...over,
});

describe('alignment by edit distance', () => {
  it.each([
    ['ABC123', 'ABC123', 'ABC123'],
    ['7ABC123', '7A8C123', '7A[B8]C123'],
    ['7ABC123', 'ABC123', '[7-]ABC123'],
    ['ABC123', 'ABC1234', 'ABC123[+4]'],
    ['OSG719', '0SG71', '[O0]SG71[9-]'],
    ['', 'AB', '[+A][+B]'],
    ['AB', '', '[A-][B-]'],
  ])('%s → %s is %s', (truth, readText, want) => {
    const shown = align(truth, readText)
      .map((o) => (o.op === 'match' ? o.read : o.op === 'sub' ? `[${o.truth}${o.read}]` : o.op === 'del' ? `[${o.truth}-]` : `[+${o.read}]`))
      .join('');
    expect(shown).toBe(want);
    expect(editDistance(truth, readText)).toBe(align(truth, readText).filter((o) => o.op !== 'match').length);
  });

  it('counts character confusions over many pairs, most frequent first', () => {
    const table = countConfusions([
      ['OSG719', '0SG719'],
      ['ABO123', 'AB0123'],
      ['7ABC123', '7A8C123'],
      ['7ABC123', 'ABC123'],
      ['XYZ', 'XYZ'],
    ]);
    expect(table).toEqual([
      { label: 'O→0', truth: 'O', read: '0', count: 2 },
      { label: 'B→8', truth: 'B', read: '8', count: 1 },
      { label: '−7', truth: '7', read: '', count: 1 },
    ]);
  });

  it.each([
    ['7ABC123', undefined, true, 'no plate read'],
    ['7ABC123', 'CALIFORNIA1', false, 'plate missed, other text read'],
    ['7ABC123', '7A8C123', true, 'one look-alike substitution'],
    ['7ABC123', '7ABC128', true, 'one other substitution'],
    ['7ABC123', 'ABC123', true, 'characters dropped'],
    ['7ABC123', '7ABC1234', true, 'characters added'],
    ['7ABC123', '1A8C12', true, 'several errors'],
  ] as const)('classifies %s read as %s', (truth, r, overlaps, kind) => {
    expect(classifyMisread(truth, r, overlaps)).toBe(kind);
  });
});

describe('scoring one image', () => {
  const hotlist = hotlistOf(['7ABC123', 'XYZ9999', '8ABC123']);

  it('scores the read whose box overlaps the truth box, not the most confident one', () => {
    const truth = { plate: '7ABC123', box: { x: 100, y: 100, width: 100, height: 50 } };
    const reads = [read('CALIF0RNIA', { confidence: 0.99, box: { x: 0, y: 0, width: 60, height: 20 } }), read('7ABC123', { confidence: 0.5, box: { x: 90, y: 95, width: 120, height: 60 } })];
    expect(chooseRead(truth, reads)?.index).toBe(1);
    const s = scoreImage([truth], reads, hotlist);
    expect(s.truths[0]).toMatchObject({ chosen: 1, exact: true, top3: true, hit: true, hitKind: 'exact' });
    expect(s.truths[0]!.iou).toBeGreaterThan(0.5);
    expect(s.noPlate).toBe(false);
  });

  it('falls back to the most confident read when none overlaps, or there is no box', () => {
    const reads = [read('AAA111', { confidence: 0.4 }), read('BBB222', { confidence: 0.8 })];
    expect(chooseRead({ plate: 'X1', box: { x: 500, y: 500, width: 10, height: 10 } }, reads)).toEqual({ index: 1, iou: 0 });
    expect(chooseRead({ plate: 'X1' }, reads)).toEqual({ index: 1 });
    expect(chooseRead({ plate: 'X1' }, [])).toBeUndefined();
  });

  it('top-3 looks at the first three candidates of the scored read only', () => {
    const s = scoreImage([{ plate: '7ABC123' }], [read('7A8C123', { candidates: ['7A8C123', '7A8C128', '7ABC123', 'X'] })], hotlist);
    expect(s.truths[0]).toMatchObject({ exact: false, top3: true });
    const s4 = scoreImage([{ plate: '7ABC123' }], [read('7A8C12', { candidates: ['7A8C12', 'A', 'B', '7ABC123'] })], hotlist);
    expect(s4.truths[0]).toMatchObject({ exact: false, top3: false });
  });

  it('a look-alike read hits its own entry; a candidate hitting another entry is a false hit', () => {
    // 7A8C123 is one look-alike from 7ABC123; its candidate 8ABC123 hits another entry exactly.
    const s = scoreImage([{ plate: '7ABC123' }], [read('7A8C123', { candidates: ['7A8C123', '8ABC123'] })], hotlist);
    expect(s.truths[0]).toMatchObject({ hit: true, hitKind: 'ocr-equivalent', exact: false });
    expect(s.falseHits).toEqual(['8ABC123']);
  });

  it('matches a read as the gateway matches a one-read pass: alternatives below the policy\'s vote share do not hit', () => {
    const plateRead = (candidates: { text: string; score: number }[]): PlateRead => ({
      text: candidates[0]!.text, confidence: 0.84, charConfidences: [], box: { x: 0, y: 0, width: 100, height: 50 }, candidates, crop: new Uint8Array(),
    });
    // 555 read for 3555: its alternative 5555 is another plate on the list.
    const weak = summariseRead(plateRead([{ text: '555', score: 0.9 }, { text: '5555', score: 0.05 }, { text: '3555', score: 0.05 }]));
    expect(weak.votes?.map((v) => v.text)).toEqual(['555', '3555', '5555']);
    const list = hotlistOf(['3555', '5555']);
    expect(scoreImage([{ plate: '3555' }], [weak], list)).toMatchObject({ falseHits: [], truths: [{ hit: false }] });
    // The same alternatives with a real share of the vote are matched (and one is a false hit).
    const strong = summariseRead(plateRead([{ text: '555', score: 0.5 }, { text: '5555', score: 0.3 }, { text: '3555', score: 0.2 }]));
    expect(scoreImage([{ plate: '3555' }], [strong], list)).toMatchObject({ falseHits: ['5555'], truths: [{ hit: true, hitKind: 'exact' }] });
  });

  it('state is compared when the truth has one, and nothing read is a no-plate image', () => {
    expect(scoreImage([{ plate: '7ABC123', state: 'ca' }], [read('7ABC123', { state: 'CA' })], hotlist).truths[0]!.stateCorrect).toBe(true);
    expect(scoreImage([{ plate: '7ABC123', state: 'ca' }], [read('7ABC123')], hotlist).truths[0]!.stateCorrect).toBe(false);
    expect(scoreImage([{ plate: '7ABC123' }], [read('7ABC123')], hotlist).truths[0]!.stateCorrect).toBeUndefined();
    const none = scoreImage([{ plate: '7ABC123', state: 'ca' }], [], hotlist);
    expect(none).toEqual({
      noPlate: true,
      falseHits: [],
      truths: [{ truth: { plate: '7ABC123', state: 'ca' }, exact: false, top3: false, hit: false, stateCorrect: false }],
    });
  });
});

describe('summary metrics', () => {
  it('median and nearest-rank p95', () => {
    expect(median([])).toBe(0);
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    const hundred = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(hundred, 95)).toBe(95);
    expect(percentile([7], 95)).toBe(7);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 95)).toBe(10);
  });

  it('rates over scored images, errors left out and counted', () => {
    // Seven characters: the gateway's default policy forgives look-alikes from seven on.
    const hotlist = hotlistOf(['AAA1111', 'BBB2222', 'CCC3333', 'DDD4444', 'EEE5555']);
    const outcome = (file: string, plate: string, reads: ReadSummary[], ms: number): ImageOutcome => ({
      file,
      reads,
      score: scoreImage([{ plate, state: 'tx' }], reads, hotlist),
      recogniseMs: ms,
      decodeMs: 1,
      detectMs: ms / 2,
      ocrMs: ms / 4,
    });
    const outcomes: ImageOutcome[] = [
      outcome('a', 'AAA1111', [read('AAA1111', { state: 'tx' })], 10), // exact, hit, state
      outcome('b', 'BBB2222', [read('BBB222')], 20), // dropped char: no hit
      outcome('c', 'CCC3333', [], 30), // no plate
      outcome('d', 'DDD4444', [read('0DD4444', { candidates: ['0DD4444', 'EEE5555'] })], 40), // look-alike hit + false hit
      { file: 'e', error: 'cannot decode: truncated', reads: [] },
    ];
    expect(computeMetrics(outcomes)).toEqual({
      images: 4,
      plates: 4,
      errors: 1,
      exactRate: 0.25,
      top3Rate: 0.25,
      noPlateRate: 0.25,
      hitRecall: 0.5,
      falseHitRate: 0.25,
      stateRate: 0.25,
      medianMs: 25,
      p95Ms: 40,
      decodeMs: 1,
      detectMs: 12.5,
      ocrMs: 6.3,
    });
  });

  it('state rate is null when no truth has a state', () => {
    const hotlist = hotlistOf(['AAA111']);
    const m = computeMetrics([{ file: 'a', reads: [], score: scoreImage([{ plate: 'AAA111' }], [], hotlist), recogniseMs: 5 }]);
    expect(m.stateRate).toBeNull();
    expect(m.noPlateRate).toBe(1);
  });
});
