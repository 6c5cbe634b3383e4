/**
 * Which detected text is a plate, and where the plate is. The PP-OCR detector finds text lines,
 * not plates: on a US plate it finds the registration (large), the state name above it and a
 * slogan below it (small), and in a scene any other text. These rules turn text lines into plate
 * candidates. Pure functions over rotated rectangles and strings.
 *
 * The rules, in order:
 *  1. Merge words of one line: boxes with similar height and angle, on one baseline, separated by
 *     less than `mergeGap` × height ("ABC 1234", "ABC-1234" come out of the detector as two boxes).
 *  2. Geometry: height ≥ `minTextHeight` px and width/height within [`minAspect`, `maxAspect`].
 *  3. Stacking: a line with a taller line right above or below it, overlapping it horizontally, is
 *     a state name or slogan of that plate and is dropped (registrations are the tallest print).
 *  4. Content, after recognition: 2–8 characters and confidence ≥ `minConfidence`. No character
 *     class is required: vanity plates may be all letters (or all digits); state names, slogans and
 *     stickers are told apart by geometry instead (rule 3 and models/plates/candidates.ts).
 */
import { isStateCaption } from './plates/captions.ts';
import { padRect, type RotatedRect } from './geometry.ts';

export interface PlateRuleOptions {
  readonly mergeGap: number;
  readonly minTextHeight: number;
  readonly minAspect: number;
  readonly maxAspect: number;
  readonly minChars: number;
  readonly maxChars: number;
  readonly requireDigit: boolean;
  readonly minConfidence: number;
}

export const DEFAULT_PLATE_RULES: PlateRuleOptions = {
  mergeGap: 1.2,
  minTextHeight: 10,
  minAspect: 1.0,
  maxAspect: 12,
  minChars: 2,
  maxChars: 8,
  requireDigit: false,
  minConfidence: 0.2,
};

interface Frame {
  readonly u0: number;
  readonly u1: number;
  readonly v0: number;
  readonly v1: number;
}

/** Extent of `r` measured along the axes of `ref`, relative to ref's centre. */
export function extentIn(ref: RotatedRect, r: RotatedRect): Frame {
  const dx = r.cx - ref.cx;
  const dy = r.cy - ref.cy;
  const cu = dx * ref.ux + dy * ref.uy;
  const cv = -dx * ref.uy + dy * ref.ux;
  const dot = Math.abs(r.ux * ref.ux + r.uy * ref.uy);
  const crossA = Math.sqrt(Math.max(0, 1 - dot * dot));
  const hu = (r.width / 2) * dot + (r.height / 2) * crossA;
  const hv = (r.width / 2) * crossA + (r.height / 2) * dot;
  return { u0: cu - hu, u1: cu + hu, v0: cv - hv, v1: cv + hv };
}

export function sameLine(a: RotatedRect, b: RotatedRect, gap: number, minHeightRatio = 0.7): boolean {
  const h = Math.max(a.height, b.height);
  if (Math.min(a.height, b.height) / h < minHeightRatio) return false;
  if (Math.abs(a.ux * b.ux + a.uy * b.uy) < Math.cos((10 * Math.PI) / 180)) return false;
  const e = extentIn(a, b);
  const centreV = (e.v0 + e.v1) / 2;
  if (Math.abs(centreV) > 0.3 * h) return false;
  const distance = e.u0 > a.width / 2 ? e.u0 - a.width / 2 : -a.width / 2 - e.u1;
  return distance < gap * h;
}

/** The smallest rectangle, in `a`'s orientation, that holds both. */
export function union(a: RotatedRect, b: RotatedRect): RotatedRect {
  const e = extentIn(a, b);
  const u0 = Math.min(-a.width / 2, e.u0);
  const u1 = Math.max(a.width / 2, e.u1);
  const v0 = Math.min(-a.height / 2, e.v0);
  const v1 = Math.max(a.height / 2, e.v1);
  const mu = (u0 + u1) / 2;
  const mv = (v0 + v1) / 2;
  return {
    cx: a.cx + mu * a.ux - mv * a.uy,
    cy: a.cy + mu * a.uy + mv * a.ux,
    ux: a.ux,
    uy: a.uy,
    width: u1 - u0,
    height: v1 - v0,
  };
}

export interface TextLine {
  readonly rect: RotatedRect;
  readonly score: number;
  /** The words merged into this line (rule 1), when there were several. */
  readonly words?: readonly RotatedRect[];
}

/** Rule 1: merges the words of one line until nothing more merges. Scores average by width. */
export function mergeLineWords(lines: readonly TextLine[], gap = DEFAULT_PLATE_RULES.mergeGap): TextLine[] {
  const out = [...lines];
  for (let merged = true; merged; ) {
    merged = false;
    outer: for (let i = 0; i < out.length; i++) {
      for (let j = i + 1; j < out.length; j++) {
        const a = out[i]!;
        const b = out[j]!;
        if (sameLine(a.rect, b.rect, gap)) {
          const wa = a.rect.width;
          const wb = b.rect.width;
          const base = a.rect.width >= b.rect.width ? a : b;
          const other = base === a ? b : a;
          out[i] = { rect: union(base.rect, other.rect), score: (a.score * wa + b.score * wb) / (wa + wb), words: [...(a.words ?? [a.rect]), ...(b.words ?? [b.rect])] };
          out.splice(j, 1);
          merged = true;
          break outer;
        }
      }
    }
  }
  return out;
}

/** Rule 2. */
export function plateShaped(r: RotatedRect, o: PlateRuleOptions = DEFAULT_PLATE_RULES): boolean {
  const aspect = r.width / Math.max(r.height, 1e-6);
  return r.height >= o.minTextHeight && aspect >= o.minAspect && aspect <= o.maxAspect;
}

/** Rule 3: drops lines that sit directly above or below a clearly taller line. */
export function dropStackedText(lines: readonly TextLine[]): TextLine[] {
  return lines.filter((small) =>
    !lines.some((big) => {
      if (big === small || big.rect.height < 1.3 * small.rect.height) return false;
      const e = extentIn(big.rect, small.rect);
      const overlapU = Math.min(e.u1, big.rect.width / 2) - Math.max(e.u0, -big.rect.width / 2);
      const centreV = Math.abs((e.v0 + e.v1) / 2);
      return overlapU > 0.3 * (e.u1 - e.u0) && centreV < 2 * big.rect.height;
    }),
  );
}

/** Rule 4. */
export function plateText(text: string, confidence: number, o: PlateRuleOptions = DEFAULT_PLATE_RULES): boolean {
  return (
    text.length >= o.minChars &&
    text.length <= o.maxChars &&
    (!o.requireDigit || /[0-9]/.test(text)) &&
    !isStateCaption(text) &&
    confidence >= o.minConfidence
  );
}

/**
 * The plate around a registration line. On US plates the characters take about half the plate's
 * height and most of its width; the detector's (unclipped) line box runs a little past the glyphs.
 * This is an estimate for the box and the evidence crop, not a measurement.
 */
export function plateRectFromLine(line: RotatedRect): RotatedRect {
  return padRect(line, 0.4 * line.height, 0.6 * line.height);
}
