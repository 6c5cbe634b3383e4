/**
 * From a plate candidate and the recogniser's lattice to the plate's text: the crop fed to the
 * recogniser (pieces side by side), small stacked characters masked out of the lattice, and the
 * candidates re-ranked by registration formats. The model call itself stays with the caller.
 */
import { rectCorners, type RotatedRect } from '../geometry.ts';
import { warpQuad } from '../image.ts';
import { alignChars, beamSearch, ctcLogProb, type StepMatrix } from '../ppocr/ctc.ts';
import type { Candidate, RgbImage } from '../types.ts';
import { charInkHeights, keepTallCharacters } from './char-heights.ts';
import { extentIn } from '../plate-rules.ts';
import type { PlateCandidate } from './candidates.ts';
import { DEFAULT_RANK_OPTIONS, rankCandidates, type RankOptions } from './disambiguate.ts';

/** The part of `line` that `piece` covers along it, at the line's full height. */
function pieceOfLine(line: RotatedRect, piece: RotatedRect): RotatedRect {
  const e = extentIn(line, piece);
  const mu = (e.u0 + e.u1) / 2;
  return { ...line, cx: line.cx + mu * line.ux, cy: line.cy + mu * line.uy, width: e.u1 - e.u0 };
}

/**
 * Each end of the line is read with this × its height of margin: the detector's box often stops
 * at the edge of the last glyph (or short of it in a low-resolution pass), and the recogniser
 * reads a clipped first or last character as nothing. Measured 0.1–0.3; 0.15 read best.
 */
export const END_PAD = 0.15;

/**
 * The recogniser's input for a candidate: each piece rectified at `height`, joined by a short
 * spacer that repeats the background at their edges (so an emblem between them is never read).
 */
export function candidateCrop(image: RgbImage, c: PlateCandidate, height: number, maxWidth: number, endPad = END_PAD): RgbImage {
  const rects = c.parts.length > 1 ? c.parts.map((p) => pieceOfLine(c.rect, p)) : [c.rect];
  const padded = rects.map((r, i) => {
    const left = i === 0 ? endPad * r.height : 0;
    const right = i === rects.length - 1 ? endPad * r.height : 0;
    const shift = (right - left) / 2;
    return { ...r, cx: r.cx + shift * r.ux, cy: r.cy + shift * r.uy, width: r.width + left + right };
  });
  const pieces = padded.map((r) =>
    warpQuad(image, rectCorners(r), Math.max(4, Math.round((height * r.width) / Math.max(1, r.height))), height),
  );
  if (pieces.length === 1) return fitWidth(pieces[0]!, maxWidth);
  const gap = Math.round(height * 0.35);
  const width = pieces.reduce((s, p) => s + p.width, 0) + gap * (pieces.length - 1);
  const out = new Uint8Array(width * height * 3);
  let x0 = 0;
  pieces.forEach((p, i) => {
    for (let y = 0; y < height; y++) out.set(p.data.subarray(y * p.width * 3, (y + 1) * p.width * 3), (y * width + x0) * 3);
    x0 += p.width;
    const next = pieces[i + 1];
    if (!next) return;
    for (let y = 0; y < height; y++) {
      for (let k = 0; k < 3; k++) {
        const v = (p.data[(y * p.width + p.width - 1) * 3 + k]! + next.data[y * next.width * 3 + k]!) >> 1;
        for (let x = 0; x < gap; x++) out[(y * width + x0 + x) * 3 + k] = v;
      }
    }
    x0 += gap;
  });
  return fitWidth({ width, height, data: out }, maxWidth);
}

function fitWidth(img: RgbImage, maxWidth: number): RgbImage {
  if (img.width <= maxWidth) return img;
  // Rare (a very long line): squeeze horizontally, as the recogniser's own width cap would.
  const out = new Uint8Array(maxWidth * img.height * 3);
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < maxWidth; x++) {
      const sx = Math.min(img.width - 1, Math.floor(((x + 0.5) * img.width) / maxWidth));
      for (let k = 0; k < 3; k++) out[(y * maxWidth + x) * 3 + k] = img.data[(y * img.width + sx) * 3 + k]!;
    }
  }
  return { width: maxWidth, height: img.height, data: out };
}

/** A copy of the lattice with the given steps forced to blank. */
export function blankSteps(m: StepMatrix, steps: Iterable<number>): StepMatrix {
  const probs = Float32Array.from(m.probs);
  for (const t of steps) {
    probs.fill(0, t * m.classes, (t + 1) * m.classes);
    probs[t * m.classes] = 1;
  }
  return { ...m, probs };
}

/**
 * Masks characters much shorter than the line's main characters (stacked letters, county codes,
 * a separator dot) out of the lattice. Returns the lattice unchanged when nothing is dropped.
 */
export function dropShortCharacters(m: StepMatrix, text: string, crop: RgbImage, stepWidth: number, ratio = 0.66): StepMatrix {
  const { spans } = alignChars(m, text);
  const ranges = spans.map((s) => ({ x0: s.start * stepWidth, x1: (s.end + 1) * stepWidth }));
  // A character's ink may start a little before its first step: widen each range by half a step.
  const widened = ranges.map((r) => ({ x0: r.x0 - stepWidth / 2, x1: r.x1 + stepWidth / 2 }));
  const heights = charInkHeights(crop, widened);
  const keep = new Set(keepTallCharacters(heights, ratio));
  if (keep.size === text.length) return m;
  const drop: number[] = [];
  spans.forEach((s, i) => {
    if (!keep.has(i)) for (let t = s.start; t <= s.end; t++) drop.push(t);
  });
  return blankSteps(m, drop);
}

export interface PlateText {
  readonly text: string;
  readonly charProbs: readonly number[];
  readonly candidates: readonly Candidate[];
  /** The registration format the text fits, when one does. */
  readonly format?: string;
  /** The second opinion's own best text (our CRNN, which reads the whole plate), when there is one. */
  readonly secondText?: string;
}

/**
 * Each candidate's score is its share of the probability of all candidates listed (so the top
 * one scores high even on a long plate, where every string is improbable), capped by the score
 * of the one ranked above it: consumers (the hot-list matcher's minimum candidate score) read it
 * as a share of the vote, and the contract promises candidates best first.
 */
export function candidateScores(ranked: readonly { text: string; logProb: number }[]): Candidate[] {
  const top = Math.max(...ranked.map((r) => r.logProb));
  const total = ranked.reduce((s, r) => s + Math.exp(r.logProb - top), 0);
  let cap = 1;
  return ranked.map((r) => {
    cap = Math.min(cap, Math.exp(r.logProb - top) / total);
    return { text: r.text, score: cap };
  });
}

/**
 * Another recogniser's lattice over the same plate: candidates are scored by the weighted sum of
 * their log-probabilities under both (a product of experts), and its own best strings join the pool.
 */
export interface SecondOpinion {
  readonly lattice: StepMatrix;
  readonly weight: number;
}

/** `text` with the 0s that stand in letter positions of `format` spelled as O. */
export function letterO(text: string, format: string): string {
  return [...text].map((c, i) => (c === '0' && format[i] === '@' ? 'O' : c)).join('');
}

/**
 * Whether a plate text has a digit. The lattices fold O into 0, so a 0 counts only where the
 * text's format wants a digit; in a text that fits no format (a badge: HYUNDAI read HYUN0AI) it
 * is taken for an O.
 */
export function plateHasDigit(p: Pick<PlateText, 'text' | 'format'>): boolean {
  return p.format !== undefined ? /\d/.test(letterO(p.text, p.format)) : /[1-9]/.test(p.text);
}

/** Beam candidates of the lattice, re-ranked by `formats`. */
export function rankedText(
  m: StepMatrix,
  formats: readonly string[],
  beamWidth = 16,
  options: RankOptions = DEFAULT_RANK_OPTIONS,
  second?: SecondOpinion,
): PlateText {
  const beam = beamSearch(m, { topN: options.topN + 3, beamWidth }).filter((c) => c.text.length > 0);
  const texts = beam.map((c) => c.text);
  const secondBeam = second ? beamSearch(second.lattice, { topN: 3, beamWidth }).map((c) => c.text).filter((t) => t.length > 0) : [];
  texts.push(...secondBeam);
  const ranked = rankCandidates(
    texts,
    second ? (t) => ctcLogProb(m, t) + second.weight * ctcLogProb(second.lattice, t) : (t) => ctcLogProb(m, t),
    formats,
    options,
  );
  const best = ranked[0];
  if (!best) return { text: '', charProbs: [], candidates: [] };
  const candidates = candidateScores(ranked);
  const spelledO = best.format !== undefined ? letterO(best.text, best.format) : best.text;
  if (spelledO !== best.text) {
    // The lattice folds O into 0 (one glyph on most plates), so the letter spelling is as likely
    // as the digit one: offer it next, for hot-list entries typed with O.
    candidates.splice(1, 0, { text: spelledO, score: candidates[0]!.score });
    candidates.splice(options.topN);
  }
  return {
    text: best.text,
    charProbs: alignChars(m, best.text).probs,
    candidates,
    ...(best.format !== undefined && { format: best.format }),
    ...(secondBeam[0] !== undefined && { secondText: secondBeam[0] }),
  };
}

/**
 * Where `longer` is `text` with one more character at an end: 'start' or 'end' (the end first
 * when both). With `maxSubstitutions`, the rest of `longer` may differ from `text` in that many
 * characters; a side that needs fewer is preferred ("33333" in "B33333" is at the start, though
 * "B3333" differs from it in one character only).
 */
export function extraAtEnd(text: string, longer: string, maxSubstitutions = 0): 'start' | 'end' | undefined {
  if (text.length === 0 || longer.length !== text.length + 1) return undefined;
  const differences = (a: string, b: string): number => [...a].filter((c, i) => c !== b[i]).length;
  for (let k = 0; k <= maxSubstitutions; k++) {
    if (differences(text, longer.slice(0, -1)) <= k) return 'end';
    if (differences(text, longer.slice(1)) <= k) return 'start';
  }
  return undefined;
}

/**
 * Whether `wider` (the line read again with wide ends) is `narrow` with one more character at
 * `side`, read with probability at least `minProb`.
 */
export function confirmsExtraAtEnd(narrow: PlateText, wider: PlateText, side: 'start' | 'end', minProb: number): boolean {
  if (extraAtEnd(narrow.text, wider.text) !== side) return false;
  const p = side === 'end' ? wider.charProbs[wider.charProbs.length - 1] : wider.charProbs[0];
  return p !== undefined && p >= minProb;
}

/** The candidate with every rectangle grown by `ratio` × its height above and below. */
export function tallerCandidate(c: PlateCandidate, ratio: number): PlateCandidate {
  const grow = (r: RotatedRect): RotatedRect => ({ ...r, height: r.height * (1 + 2 * ratio) });
  return { ...c, rect: grow(c.rect), parts: c.parts.map(grow) };
}

/**
 * Stretches the crop's luminance range (2nd to 98th percentile) to full scale, per image: glare,
 * night and faded plates come out of the rectifier with their strokes in a narrow band of grey.
 */
export function stretchContrast(img: RgbImage): RgbImage {
  const n = img.width * img.height;
  const hist = new Array<number>(256).fill(0);
  for (let i = 0; i < n; i++) hist[Math.round(0.299 * img.data[i * 3]! + 0.587 * img.data[i * 3 + 1]! + 0.114 * img.data[i * 3 + 2]!)]!++;
  const pct = (p: number): number => {
    let acc = 0;
    for (let v = 0; v < 256; v++) if ((acc += hist[v]!) >= p * n) return v;
    return 255;
  };
  const lo = pct(0.02);
  const hi = pct(0.98);
  if (hi - lo < 8) return img; // flat: nothing to stretch
  const out = new Uint8Array(img.data.length);
  const k = 255 / (hi - lo);
  for (let i = 0; i < img.data.length; i++) out[i] = Math.max(0, Math.min(255, Math.round((img.data[i]! - lo) * k)));
  return { ...img, data: out };
}
