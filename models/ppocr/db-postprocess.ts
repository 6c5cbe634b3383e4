/**
 * DBNet post-processing: probability map → scored, unclipped rotated rectangles.
 * binarise → 8-connected components → minimum-area rectangle per component → box score
 * (mean probability inside the rectangle) → unclip. Pure; works in map coordinates.
 */
import { minAreaRect, unclipRect, type Point, type RotatedRect } from '../geometry.ts';

export interface DbPostprocessOptions {
  /** Probability above which a pixel counts as text. */
  readonly thresh: number;
  /** Minimum mean probability inside a box. */
  readonly boxThresh: number;
  /** Unclip offset ratio (offset = area·ratio/perimeter). */
  readonly unclipRatio: number;
  /** Boxes whose short side is below this many map pixels are dropped (before unclip). */
  readonly minSize: number;
  /** At most this many components are examined, largest first. */
  readonly maxCandidates: number;
}

export const DEFAULT_DB_OPTIONS: DbPostprocessOptions = {
  thresh: 0.3,
  boxThresh: 0.6,
  unclipRatio: 1.5,
  minSize: 3,
  maxCandidates: 1000,
};

export interface ScoredRect {
  readonly rect: RotatedRect;
  readonly score: number;
}

interface Component {
  readonly pixels: number;
  /** Leftmost and rightmost pixel centre of each row the component touches: enough for its hull. */
  readonly outline: Point[];
}

/** 8-connected components of `prob > thresh`. */
export function connectedComponents(prob: Float32Array, width: number, height: number, thresh: number): Component[] {
  const n = width * height;
  const seen = new Uint8Array(n);
  const stack = new Int32Array(n);
  const rowMin = new Int32Array(height).fill(width);
  const rowMax = new Int32Array(height).fill(-1);
  const out: Component[] = [];
  for (let start = 0; start < n; start++) {
    if (seen[start] || !(prob[start]! > thresh)) continue;
    let top = 0;
    stack[top++] = start;
    seen[start] = 1;
    let pixels = 0;
    let minY = height;
    let maxY = -1;
    while (top > 0) {
      const p = stack[--top]!;
      const y = (p / width) | 0;
      const x = p - y * width;
      pixels++;
      if (x < rowMin[y]!) rowMin[y] = x;
      if (x > rowMax[y]!) rowMax[y] = x;
      if (y < minY) minY = y;
      if (y > maxY) maxY = y;
      for (let dy = -1; dy <= 1; dy++) {
        const ny = y + dy;
        if (ny < 0 || ny >= height) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const nx = x + dx;
          if (nx < 0 || nx >= width || (dx === 0 && dy === 0)) continue;
          const q = ny * width + nx;
          if (!seen[q] && prob[q]! > thresh) {
            seen[q] = 1;
            stack[top++] = q;
          }
        }
      }
    }
    const outline: Point[] = [];
    for (let y = minY; y <= maxY; y++) {
      if (rowMax[y]! >= 0) {
        outline.push({ x: rowMin[y]!, y });
        if (rowMax[y] !== rowMin[y]) outline.push({ x: rowMax[y]!, y });
      }
      rowMin[y] = width;
      rowMax[y] = -1;
    }
    out.push({ pixels, outline });
  }
  return out;
}

/** Mean of `prob` over the pixel centres inside `r`. */
export function meanInside(prob: Float32Array, width: number, height: number, r: RotatedRect): number {
  const hw = r.width / 2 + 0.5;
  const hh = r.height / 2 + 0.5;
  const ext = Math.abs(hw * r.ux) + Math.abs(hh * r.uy);
  const eyt = Math.abs(hw * r.uy) + Math.abs(hh * r.ux);
  const x0 = Math.max(0, Math.floor(r.cx - ext));
  const x1 = Math.min(width - 1, Math.ceil(r.cx + ext));
  const y0 = Math.max(0, Math.floor(r.cy - eyt));
  const y1 = Math.min(height - 1, Math.ceil(r.cy + eyt));
  let sum = 0;
  let count = 0;
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      const dx = x - r.cx;
      const dy = y - r.cy;
      if (Math.abs(dx * r.ux + dy * r.uy) <= hw && Math.abs(-dx * r.uy + dy * r.ux) <= hh) {
        sum += prob[y * width + x]!;
        count++;
      }
    }
  }
  return count > 0 ? sum / count : 0;
}

/** Text regions of a DBNet probability map, in map pixel coordinates. */
export function boxesFromProbMap(
  prob: Float32Array,
  width: number,
  height: number,
  options: Partial<DbPostprocessOptions> = {},
): ScoredRect[] {
  const o = { ...DEFAULT_DB_OPTIONS, ...options };
  const comps = connectedComponents(prob, width, height, o.thresh)
    .sort((a, b) => b.pixels - a.pixels)
    .slice(0, o.maxCandidates);
  const out: ScoredRect[] = [];
  for (const c of comps) {
    const rect = minAreaRect(c.outline);
    if (Math.min(rect.width, rect.height) < o.minSize) continue;
    const score = meanInside(prob, width, height, rect);
    if (score < o.boxThresh) continue;
    const grown = unclipRect(rect, o.unclipRatio);
    if (Math.min(grown.width, grown.height) < o.minSize + 2) continue;
    out.push({ rect: grown, score });
  }
  return out;
}
