import { describe, expect, it } from 'vitest';
import type { PlateRead } from '../../../models/types.ts';
import { PassTracker, directionOf, editDistance, voteText } from '../../../gateway/tracking.ts';

function read(text: string, confidence: number, x = 100, y = 300): PlateRead {
  return {
    text,
    charConfidences: [...text].map(() => confidence),
    confidence,
    box: { x, y, width: 120, height: 60 },
    candidates: [{ text, score: confidence }],
    crop: new Uint8Array([0xff, 0xd8]),
  };
}

describe('editDistance', () => {
  it('counts substitutions, insertions and deletions', () => {
    expect(editDistance('7ABC123', '7ABC123')).toBe(0);
    expect(editDistance('7ABC123', '7A8C123')).toBe(1);
    expect(editDistance('7ABC123', '7ABC12')).toBe(1);
    expect(editDistance('7ABC123', 'X7ABC123')).toBe(1);
    expect(editDistance('ABC', 'XYZ')).toBe(3);
  });
  it('stops early past the bound', () => {
    expect(editDistance('AAAAAAA', 'BBBBBBB', 1)).toBe(2);
    expect(editDistance('A', 'ABCDEF', 2)).toBe(3);
  });
});

describe('PassTracker', () => {
  it('joins reads of one plate across frames into one track and ends it after the expiry', () => {
    const t = new PassTracker(2000);
    t.add('cam', [read('7ABC123', 0.9, 100)], 1000, 1100);
    t.add('cam', [read('7A8C123', 0.6, 200)], 1250, 1350); // one bad frame
    t.add('cam', [read('7ABC123', 0.95, 300)], 1500, 1600);
    expect(t.expire(3000)).toEqual([]);
    const [track, ...rest] = t.expire(3500);
    expect(rest).toEqual([]);
    expect(track?.reads).toHaveLength(3);
    expect(track?.firstSeen).toBe(1000);
    expect(track?.lastSeen).toBe(1500);
    expect(track?.best.read.confidence).toBe(0.95);
    expect(voteText(track?.reads ?? []).text).toBe('7ABC123');
    expect(directionOf(track?.reads ?? [])).toBe('right');
  });

  it('keeps two vehicles in one frame apart', () => {
    const t = new PassTracker(1000);
    const touched = t.add('cam', [read('7ABC123', 0.9, 100), read('4XYZ987', 0.9, 600)], 0, 10);
    expect(touched).toHaveLength(2);
    t.add('cam', [read('7ABC123', 0.9, 120), read('4XYZ987', 0.9, 580)], 200, 210);
    const ended = t.expire(5000);
    expect(ended.map((x) => voteText(x.reads).text).sort()).toEqual(['4XYZ987', '7ABC123']);
    expect(ended.every((x) => x.reads.length === 2)).toBe(true);
  });

  it('keeps two vehicles with plates one character apart, side by side, apart', () => {
    const t = new PassTracker(1000);
    for (let i = 0; i < 4; i++) t.add('cam', [read('7ABC123', 0.9, 100 + 20 * i), read('7ABC128', 0.9, 900 - 20 * i)], i * 250, i * 250 + 5);
    const ended = t.expire(5000);
    expect(ended.map((x) => [voteText(x.reads).text, x.reads.length, directionOf(x.reads)]).sort()).toEqual([
      ['7ABC123', 4, 'right'],
      ['7ABC128', 4, 'left'],
    ]);
  });

  it('takes a badly misread frame where the plate is expected into the track, and the vote ignores it', () => {
    const t = new PassTracker(1000);
    t.add('cam', [read('7ABC123', 0.9, 100)], 0, 1);
    t.add('cam', [read('7ABC123', 0.9, 150)], 250, 251);
    t.add('cam', [read('1A8C7Z3', 0.4, 200)], 500, 501); // glare: four characters wrong, right place
    t.add('cam', [read('7ABC123', 0.9, 250)], 750, 751);
    const [track, ...rest] = t.drain();
    expect(rest).toEqual([]);
    expect(track?.reads).toHaveLength(4);
    expect(voteText(track?.reads ?? []).text).toBe('7ABC123');
  });

  it('takes the slogan of a plate leaving the frame into its pass (regression: DMVCAG0V became a vehicle)', () => {
    const t = new PassTracker(1000);
    const at = (x: number, y: number, w: number, text: string, c = 0.9): PlateRead => ({ ...read(text, c, x, y), box: { x, y, width: w, height: w * 0.38 } });
    t.add('cam', [at(785, 75, 189, '7TRK442')], 0, 1);
    t.add('cam', [at(781, 16, 182, '7TRK442')], 200, 201);
    t.add('cam', [at(828, 0, 74, 'DMVCAG0V', 0.79)], 400, 401);
    const [track, ...rest] = t.drain();
    expect(rest).toEqual([]);
    expect(track?.reads).toHaveLength(3);
    expect(voteText(track?.reads ?? []).text).toBe('7TRK442');
  });

  it('does not take an unrelated plate far from the prediction into the track', () => {
    const t = new PassTracker(1000);
    t.add('cam', [read('7ABC123', 0.9, 100)], 0, 1);
    t.add('cam', [read('7ABC123', 0.9, 150)], 250, 251);
    t.add('cam', [read('4XYZ987', 0.9, 900, 100)], 500, 501);
    expect(t.drain()).toHaveLength(2);
  });

  it('does not cut a vehicle in two while recognition runs behind (regression: split passes in the camera bench)', () => {
    const t = new PassTracker(1500);
    t.add('cam', [read('565WNB', 0.9, 100)], 0, 100);
    // Recognition stalls: two seconds of wall time pass, but no later frame has been looked at yet.
    expect(t.expire(2_000, new Map([['cam', 0]]))).toEqual([]);
    t.add('cam', [read('565WNB', 0.9, 140)], 250, 2_100);
    expect(t.expire(2_200, new Map([['cam', 250]]))).toEqual([]);
    // Frames 1.5 s after the last sighting have been analysed without the plate: the pass ends.
    const [ended] = t.expire(3_000, new Map([['cam', 1_750]]));
    expect(ended?.reads).toHaveLength(2);
  });

  it('ends a pass on wall time alone when its camera goes silent', () => {
    const t = new PassTracker(1000);
    t.add('cam', [read('7ABC123', 0.9)], 0, 1);
    expect(t.expire(3_900, new Map([['cam', 0]]))).toEqual([]);
    expect(t.expire(4_000, new Map([['cam', 0]]))).toHaveLength(1);
  });

  it('keeps cameras apart', () => {
    const t = new PassTracker(1000);
    t.add('north', [read('7ABC123', 0.9)], 0, 1);
    t.add('south', [read('7ABC123', 0.9)], 0, 1);
    expect(t.expire(5000)).toHaveLength(2);
  });

  it('keeps a vehicle that stops in view as one track while it is read', () => {
    const t = new PassTracker(1000);
    for (let i = 0; i < 20; i++) t.add('cam', [read('7ABC123', 0.9, 300)], i * 500, i * 500 + 5);
    expect(t.expire(9_600)).toEqual([]);
    const [track] = t.expire(20_000);
    expect(track?.reads).toHaveLength(20);
    expect(directionOf(track?.reads ?? [])).toBe('unknown');
  });

  it('weights each read’s vote by its confidence: a few sure reads outvote more unsure misreads (camera bench, cam1 4MDV009)', () => {
    // The reads the recogniser gave for that plate in view, in frame order (its candidates' own shares).
    const seen: [string, number, [string, number][]][] = [
      ['4DV00', 0.33, [['4DV00', 0.95], ['4DV0O', 0.95], ['4MDV00', 0.03]]],
      ['4MDV009', 0.87, [['4MDV009', 1], ['4MDV09', 0]]],
      ['4MDV009', 0.89, [['4MDV009', 1]]],
      ['4DV00', 0.31, [['4DV00', 0.81], ['4DV0O', 0.81], ['4MDV00', 0.13]]],
      ['4MDV00', 0.36, [['4MDV00', 0.75], ['4MDVO0', 0.75], ['4MDV009', 0.24]]],
      ['4MDV00', 0.35, [['4MDV00', 0.48], ['4MDVO0', 0.48], ['4MDV009', 0.45]]],
      ['4MDV00', 0.3, [['4MDV00', 0.47], ['4MDVO0', 0.47], ['4MDV009', 0.06]]],
      ['4DV00', 0.31, [['4DV00', 0.83], ['4DV0O', 0.83], ['4MDV00', 0.1]]],
      ['4DV00', 0.32, [['4DV00', 0.51], ['4DV0O', 0.51], ['4MDV00', 0.35]]],
      ['4MDV00', 0.38, [['4MDV00', 0.66], ['4MDVO0', 0.66], ['4MDV009', 0.3]]],
      ['4MDV009', 0.89, [['4MDV009', 1]]],
      ['4MDV00', 0.4, [['4MDV00', 0.73], ['4MDVO0', 0.73], ['4MDV009', 0.14]]],
      ['4DV00', 0.34, [['4DV00', 0.94], ['4DV0O', 0.94], ['4MDV00', 0.03]]],
    ];
    const reads = seen.map(([text, confidence, cands], i) => ({
      read: { ...read(text, confidence), candidates: cands.map(([t, score]) => ({ text: t, score })) },
      at: i * 133,
      readAt: i * 133 + 60,
    }));
    expect(voteText(reads)).toMatchObject({ text: '4MDV009', confidence: 0.89 });
    // Every other frame, about the rate the bench's worker analysed each camera: 2 sure reads
    // and 5 unsure ones. Counted without the weights, 4DV00 won (2.40 against 2.30).
    expect(voteText(reads.filter((_, i) => i % 2 === 0))).toMatchObject({ text: '4MDV009', confidence: 0.89 });
    // One read alone keeps its candidates' own shares.
    const one = voteText([reads[4]!]).candidates;
    expect(one.map((c) => c.text)).toEqual(['4MDV00', '4MDVO0', '4MDV009']);
    expect(one[2]!.score).toBeCloseTo(0.24 / 1.74, 6);
  });

  it('lets a split read (a character lost in one frame) join the track, and the vote keep the full text', () => {
    const t = new PassTracker(1000);
    t.add('cam', [read('7ABC123', 0.8)], 0, 1);
    t.add('cam', [read('7ABC12', 0.7)], 100, 101);
    t.add('cam', [read('7ABC123', 0.85)], 200, 201);
    const [track] = t.drain();
    expect(track?.reads).toHaveLength(3);
    expect(voteText(track?.reads ?? [])).toMatchObject({ text: '7ABC123', confidence: 0.85 });
  });

  it('starts a new track once the old one has expired', () => {
    const t = new PassTracker(1000);
    t.add('cam', [read('7ABC123', 0.9)], 0, 1);
    expect(t.expire(1500)).toHaveLength(1);
    const [again] = t.add('cam', [read('7ABC123', 0.9)], 2000, 2001);
    expect(again?.reads).toHaveLength(1);
  });
});
