/**
 * Character heights from the ink in a rectified line crop. Plates print small stacked letters
 * beside the registration ("2678 H/H", "501 B/B", county codes); the recogniser reads them as one
 * more character. Their strokes are about half the height of the registration's, so each read
 * character is measured by the tallest ink component under its lattice span, and characters much
 * shorter than the line's typical character are dropped. Pure.
 */
import type { RgbImage } from '../types.ts';

/** Otsu's threshold of an 8-bit histogram. */
export function otsuThreshold(hist: readonly number[]): number {
  const total = hist.reduce((a, b) => a + b, 0);
  let sumAll = 0;
  hist.forEach((n, i) => (sumAll += n * i));
  let sumB = 0;
  let wB = 0;
  let best = 0;
  let bestVar = -1;
  for (let t = 0; t < 256; t++) {
    wB += hist[t]!;
    if (wB === 0) continue;
    const wF = total - wB;
    if (wF === 0) break;
    sumB += t * hist[t]!;
    const mB = sumB / wB;
    const mF = (sumAll - sumB) / wF;
    const v = wB * wF * (mB - mF) ** 2;
    if (v > bestVar) {
      bestVar = v;
      best = t;
    }
  }
  return best;
}

/** Luminance of each pixel, and Otsu's threshold between ink and paper. */
function luminance(crop: RgbImage): { grey: Uint8Array; threshold: number } {
  const { width, height, data } = crop;
  const grey = new Uint8Array(width * height);
  const hist = new Array<number>(256).fill(0);
  for (let i = 0; i < width * height; i++) {
    const v = Math.round(0.299 * data[i * 3]! + 0.587 * data[i * 3 + 1]! + 0.114 * data[i * 3 + 2]!);
    grey[i] = v;
    hist[v]!++;
  }
  return { grey, threshold: otsuThreshold(hist) };
}

/** Whether the darker class is the rarer one in the crop's middle rows (there, most likely ink). */
function darkerIsRarer(grey: Uint8Array, width: number, height: number, t: number): boolean {
  let dark = 0;
  let count = 0;
  for (let y = Math.floor(height * 0.3); y < Math.ceil(height * 0.7); y++) {
    for (let x = 0; x < width; x++) {
      count++;
      if (grey[y * width + x]! <= t) dark++;
    }
  }
  return dark <= count / 2;
}

function maskOf(grey: Uint8Array, t: number, darkInk: boolean): Uint8Array {
  const mask = new Uint8Array(grey.length);
  for (let i = 0; i < mask.length; i++) mask[i] = (grey[i]! <= t) === darkInk ? 1 : 0;
  return mask;
}

export interface InkComponent {
  readonly x0: number;
  readonly x1: number;
  readonly y0: number;
  readonly y1: number;
}

/** 4-connected components of the mask, as bounding boxes (inclusive). */
export function inkComponents(mask: Uint8Array, width: number, height: number): InkComponent[] {
  const seen = new Uint8Array(mask.length);
  const stack = new Int32Array(mask.length);
  const out: InkComponent[] = [];
  for (let s = 0; s < mask.length; s++) {
    if (!mask[s] || seen[s]) continue;
    let top = 0;
    stack[top++] = s;
    seen[s] = 1;
    let x0 = width;
    let x1 = -1;
    let y0 = height;
    let y1 = -1;
    while (top > 0) {
      const p = stack[--top]!;
      const y = (p / width) | 0;
      const x = p - y * width;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
      const push = (q: number): void => {
        if (mask[q] && !seen[q]) {
          seen[q] = 1;
          stack[top++] = q;
        }
      };
      if (x > 0) push(p - 1);
      if (x < width - 1) push(p + 1);
      if (y > 0) push(p - width);
      if (y < height - 1) push(p + width);
    }
    out.push({ x0, x1, y0, y1 });
  }
  return out;
}

/**
 * Height of the tallest ink component whose centre lies in each pixel range [x0, x1). Components
 * spanning most of the crop's width (a frame edge, a bar) are ignored: they are not characters.
 *
 * Ink is the class that is rarer in the crop's middle rows. That is wrong for bold characters
 * filling a tight crop: there the paper between the strokes is rarer, and the inside of a 4, an
 * M's notch and a 9's loop measured a third of the line's height, so the trim dropped them
 * (camera bench, 4MDV009 read DV00 in most frames). So both classes are measured, and the other
 * one is taken when it looks like a line of glyphs (every character measured, all of about one
 * height) taller than the rule's median. Taller alone is not enough: the paper between characters
 * that touch the crop's top and bottom is as tall as the crop, and missing where they do not.
 */
export function charInkHeights(crop: RgbImage, ranges: readonly { x0: number; x1: number }[]): number[] {
  const { grey, threshold } = luminance(crop);
  const rule = darkerIsRarer(grey, crop.width, crop.height, threshold);
  const byRule = heightsIn(maskOf(grey, threshold, rule), crop, ranges);
  const other = heightsIn(maskOf(grey, threshold, !rule), crop, ranges);
  return alike(other) && medianOf(other) > medianOf(byRule) ? other : byRule;
}

/** Every character measured, and all of about one height (within 25 %): a line of glyphs. */
function alike(heights: readonly number[]): boolean {
  if (heights.length < 3 || heights.some((h) => h === 0)) return false;
  return Math.max(...heights) <= 1.25 * Math.min(...heights);
}

function medianOf(heights: readonly number[]): number {
  const m = heights.filter((h) => h > 0).sort((a, b) => a - b);
  return m.length ? m[m.length >> 1]! : 0;
}

function heightsIn(mask: Uint8Array, crop: RgbImage, ranges: readonly { x0: number; x1: number }[]): number[] {
  const comps = inkComponents(mask, crop.width, crop.height).filter((c) => c.x1 - c.x0 < 0.5 * crop.width);
  return ranges.map((r) => {
    let h = 0;
    for (const c of comps) {
      const cx = (c.x0 + c.x1) / 2;
      if (cx >= r.x0 && cx < r.x1) h = Math.max(h, c.y1 - c.y0 + 1);
    }
    return h;
  });
}

/**
 * Indices of characters to keep: all but the short ones at either end of the line, short meaning
 * below `ratio` × the median height of the measured characters. Only the ends: stacked letters
 * and county codes sit beside the registration, while a short measurement in the middle is far
 * more often a broken stroke or a shadow than a stray character. Unmeasured characters (height 0)
 * end the trim; nothing is trimmed with fewer than three measured characters (no reliable median).
 */
export function keepTallCharacters(heights: readonly number[], ratio = 0.66): number[] {
  const measured = heights.filter((h) => h > 0).sort((a, b) => a - b);
  const all = heights.map((_, i) => i);
  if (measured.length < 3) return all;
  const median = measured[measured.length >> 1]!;
  const short = (i: number): boolean => heights[i]! > 0 && heights[i]! < ratio * median;
  let first = 0;
  while (first < heights.length && short(first)) first++;
  let last = heights.length - 1;
  while (last > first && short(last)) last--;
  // Never trim a line down to almost nothing: that is a mis-measurement, not a plate.
  if (last - first + 1 < 3) return all;
  return all.slice(first, last + 1);
}
