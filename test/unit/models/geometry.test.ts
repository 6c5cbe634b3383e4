import { describe, expect, it } from 'vitest';
import {
  applyHomography,
  homography,
  minAreaRect,
  rectCorners,
  unclipRect,
  type Point,
  type Quad,
  type RotatedRect,
} from '../../../models/geometry.ts';
import { warpQuad } from '../../../models/image.ts';
import { boxesFromProbMap } from '../../../models/ppocr/db-postprocess.ts';
import { detectorInputSize } from '../../../models/ppocr/detector.ts';
import {
  DEFAULT_PLATE_RULES,
  dropStackedText,
  mergeLineWords,
  plateShaped,
  plateText,
} from '../../../models/plate-rules.ts';

const deg = (r: RotatedRect): number => (Math.atan2(r.uy, r.ux) * 180) / Math.PI;

function rect(cx: number, cy: number, width: number, height: number, angleDeg = 0): RotatedRect {
  const a = (angleDeg * Math.PI) / 180;
  return { cx, cy, ux: Math.cos(a), uy: Math.sin(a), width, height };
}

/** A probability map with `value` inside each rectangle and 0 elsewhere. */
function probMap(width: number, height: number, regions: readonly [RotatedRect, number][]): Float32Array {
  const m = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (const [r, value] of regions) {
        const dx = x - r.cx;
        const dy = y - r.cy;
        if (Math.abs(dx * r.ux + dy * r.uy) <= r.width / 2 && Math.abs(-dx * r.uy + dy * r.ux) <= r.height / 2) {
          m[y * width + x] = value;
        }
      }
    }
  }
  return m;
}

describe('minimum-area rectangle', () => {
  it('recovers a rotated rectangle from its corners and interior points', () => {
    const r = rect(50, 40, 100, 30, 20);
    const pts: Point[] = [...rectCorners(r), { x: 50, y: 40 }, { x: 60, y: 45 }];
    const found = minAreaRect(pts);
    expect(found.width).toBeCloseTo(100, 6);
    expect(found.height).toBeCloseTo(30, 6);
    expect(deg(found)).toBeCloseTo(20, 6);
    expect(found.cx).toBeCloseTo(50, 6);
    expect(found.cy).toBeCloseTo(40, 6);
  });

  it('keeps the axis nearer horizontal as the width, so a tall glyph is not read sideways', () => {
    const found = minAreaRect(rectCorners(rect(0, 0, 10, 40, 5)));
    expect(deg(found)).toBeCloseTo(5, 6);
    expect(found.width).toBeCloseTo(10, 6);
    expect(found.height).toBeCloseTo(40, 6);
  });

  it('unclips each side by area × ratio / perimeter', () => {
    const grown = unclipRect(rect(0, 0, 100, 20), 1.5);
    const d = (100 * 20 * 1.5) / 240;
    expect(grown.width).toBeCloseTo(100 + 2 * d, 9);
    expect(grown.height).toBeCloseTo(20 + 2 * d, 9);
  });
});

describe('homography', () => {
  it('maps the four corners exactly and round-trips through its inverse', () => {
    const a: Quad = [
      { x: 0, y: 0 },
      { x: 100, y: 0 },
      { x: 100, y: 50 },
      { x: 0, y: 50 },
    ];
    const b: Quad = [
      { x: 12, y: 7 },
      { x: 140, y: 20 },
      { x: 133, y: 90 },
      { x: 5, y: 70 },
    ];
    const h = homography(a, b);
    a.forEach((p, i) => {
      const q = applyHomography(h, p.x, p.y);
      expect(q.x).toBeCloseTo(b[i]!.x, 6);
      expect(q.y).toBeCloseTo(b[i]!.y, 6);
    });
    const mid = applyHomography(h, 30, 20);
    const back = applyHomography(homography(b, a), mid.x, mid.y);
    expect(back.x).toBeCloseTo(30, 6);
    expect(back.y).toBeCloseTo(20, 6);
  });

  it('rectifies a quadrilateral: an axis-aligned crop reproduces the source pixels', () => {
    const data = new Uint8Array(4 * 2 * 3).map((_, i) => i * 10);
    const img = { width: 4, height: 2, data };
    const crop = warpQuad(
      img,
      [
        { x: 1, y: 0 },
        { x: 3, y: 0 },
        { x: 3, y: 2 },
        { x: 1, y: 2 },
      ],
      2,
      2,
    );
    expect([...crop.data]).toEqual([...data.slice(3, 9), ...data.slice(15, 21)]);
  });
});

describe('DBNet post-processing', () => {
  it('turns one rotated text region into one unclipped box with its mean probability', () => {
    const truth = rect(100, 50, 120, 20, 10);
    const boxes = boxesFromProbMap(probMap(200, 100, [[truth, 0.9]]), 200, 100);
    expect(boxes).toHaveLength(1);
    const [b] = boxes;
    expect(b!.score).toBeCloseTo(0.9, 1);
    expect(deg(b!.rect)).toBeCloseTo(10, 0);
    expect(b!.rect.cx).toBeCloseTo(100, 0);
    expect(b!.rect.cy).toBeCloseTo(50, 0);
    // Found on pixel centres (about one pixel less than the region), then unclipped.
    const d = (119 * 19 * 1.5) / (2 * (119 + 19));
    expect(b!.rect.width).toBeGreaterThan(119 + 2 * d - 3);
    expect(b!.rect.width).toBeLessThan(119 + 2 * d + 3);
    expect(b!.rect.height).toBeGreaterThan(19 + 2 * d - 3);
    expect(b!.rect.height).toBeLessThan(19 + 2 * d + 3);
  });

  it('drops weak regions (below boxThresh) and specks (short side under minSize)', () => {
    const map = probMap(200, 100, [
      [rect(60, 30, 60, 12), 0.9],
      [rect(150, 30, 60, 12), 0.4],
      [rect(100, 80, 2, 2), 0.95],
    ]);
    const boxes = boxesFromProbMap(map, 200, 100);
    expect(boxes.map((b) => Math.round(b.rect.cx))).toEqual([60]);
  });

  it('detector input keeps the longer side within the limit and both sides multiples of 32', () => {
    expect(detectorInputSize(1280, 720, 960)).toEqual({ width: 960, height: 544 });
    expect(detectorInputSize(312, 156, 960)).toEqual({ width: 320, height: 160 });
    expect(detectorInputSize(10, 5, 960)).toEqual({ width: 32, height: 32 });
  });
});

describe('plate rules', () => {
  const line = (r: RotatedRect): { rect: RotatedRect; score: number } => ({ rect: r, score: 0.9 });

  it('merges the words of one line ("ABC 1234") but not stacked lines', () => {
    const merged = mergeLineWords([line(rect(60, 80, 100, 40)), line(rect(190, 80, 130, 42)), line(rect(130, 30, 90, 16))]);
    expect(merged).toHaveLength(2);
    const wide = merged.find((l) => l.rect.height > 30)!;
    expect(wide.rect.width).toBeCloseTo(245, 0);
    expect(wide.rect.cx).toBeCloseTo(132.5, 0);
  });

  it('keeps words apart when the gap is wide', () => {
    expect(mergeLineWords([line(rect(60, 80, 100, 40)), line(rect(400, 80, 100, 40))])).toHaveLength(2);
  });

  it('drops a state name or slogan printed above or below a taller registration', () => {
    const reg = line(rect(150, 80, 230, 44));
    const state = line(rect(150, 35, 90, 18));
    const slogan = line(rect(150, 125, 80, 16));
    const elsewhere = line(rect(600, 35, 90, 18));
    expect(dropStackedText([reg, state, slogan, elsewhere])).toEqual([reg, elsewhere]);
  });

  it('accepts plate-shaped lines only', () => {
    expect(plateShaped(rect(0, 0, 200, 44))).toBe(true);
    expect(plateShaped(rect(0, 0, 80, 8))).toBe(false); // too small to read
    expect(plateShaped(rect(0, 0, 600, 30))).toBe(false); // a banner
    expect(plateShaped(rect(0, 0, 30, 60))).toBe(false); // taller than wide
  });

  it('accepts 2–8 characters with enough confidence, all-letter vanity plates included', () => {
    expect(plateText('7ABC123', 0.9)).toBe(true);
    expect(plateText('CALIFORNIA', 0.9)).toBe(false);
    expect(plateText('A1', 0.9)).toBe(true);
    expect(plateText('7', 0.9)).toBe(false);
    expect(plateText('7ABC123', 0.1)).toBe(false);
    expect(plateText('ILUVCATS', 0.9)).toBe(true);
    expect(plateText('ANYTEXT', 0.9)).toBe(true);
    expect(plateText('ILUVCATS', 0.9, { ...DEFAULT_PLATE_RULES, requireDigit: true })).toBe(false);
  });
});
