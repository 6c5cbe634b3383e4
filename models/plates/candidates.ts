/**
 * From detected text lines to plate candidates: the registration line of each plate, the pieces it
 * is printed in, the smaller lines stacked on it (state name, slogan) and a geometric
 * plate-likeness. Pure functions over rotated rectangles.
 *
 * Why pieces: many plates split the registration around an emblem or a wide gap ("832 [seal]
 * AXV", "4 [cowboy] 434R"). The detector returns the groups as separate boxes; reading their
 * union would read the emblem as a character, so the groups are read side by side instead.
 */
import type { RotatedRect } from '../geometry.ts';
import {
  DEFAULT_PLATE_RULES,
  extentIn,
  mergeLineWords,
  plateShaped,
  sameLine,
  union,
  type PlateRuleOptions,
  type TextLine,
} from '../plate-rules.ts';

export interface PlateCandidate {
  /** The registration line: the union of its pieces. */
  readonly rect: RotatedRect;
  /** The pieces, left to right; one for an unbroken line. */
  readonly parts: readonly RotatedRect[];
  /**
   * The detector's words in the line (a line is merged from words on one baseline). When the
   * whole reads too long for a plate, it took in text beside the plate (another plate's letters,
   * a frame's lettering), and the widest word is read alone.
   */
  readonly words: readonly RotatedRect[];
  /** Detector score, width-weighted over the pieces. */
  readonly score: number;
  /** 0–1: how plate-like the line's geometry is among its neighbours (see plateLikeness). */
  readonly likeness: number;
  /** Smaller lines stacked above or below it: state name, slogan, county. */
  readonly secondary: readonly RotatedRect[];
}

export interface CandidateOptions {
  /** Pieces of one registration: gap at most this × height… */
  readonly splitGap: number;
  /** …heights within this ratio… */
  readonly splitHeightRatio: number;
  /** …and the whole at most this × height wide (a plate is about 4 character heights wide). */
  readonly splitMaxWidth: number;
  /** A line this much taller nearby makes a line a sticker or a caption. */
  readonly dominance: number;
}

export const DEFAULT_CANDIDATE_OPTIONS: CandidateOptions = {
  splitGap: 2.6,
  splitHeightRatio: 0.85,
  splitMaxWidth: 7,
  dominance: 1.3,
};

interface Group {
  rect: RotatedRect;
  parts: RotatedRect[];
  words: RotatedRect[];
  score: number;
  weight: number;
}

/** Joins pieces of one registration (same height, one baseline, gap up to splitGap × height). */
export function joinSplitGroups(lines: readonly TextLine[], o: CandidateOptions = DEFAULT_CANDIDATE_OPTIONS): Group[] {
  const groups: Group[] = lines.map((l) => ({ rect: l.rect, parts: [l.rect], words: [...(l.words ?? [l.rect])], score: l.score, weight: l.rect.width }));
  for (let merged = true; merged; ) {
    merged = false;
    outer: for (let i = 0; i < groups.length; i++) {
      for (let j = i + 1; j < groups.length; j++) {
        const a = groups[i]!;
        const b = groups[j]!;
        const h = Math.max(a.rect.height, b.rect.height);
        if (!sameLine(a.rect, b.rect, o.splitGap, o.splitHeightRatio)) continue;
        const base = a.rect.width >= b.rect.width ? a : b;
        const other = base === a ? b : a;
        const rect = union(base.rect, other.rect);
        if (rect.width > o.splitMaxWidth * h) continue;
        const parts = [...a.parts, ...b.parts].sort((p, q) => alongAxis(rect, p) - alongAxis(rect, q));
        const weight = a.weight + b.weight;
        groups[i] = { rect, parts, words: [...a.words, ...b.words], score: (a.score * a.weight + b.score * b.weight) / weight, weight };
        groups.splice(j, 1);
        merged = true;
        break outer;
      }
    }
  }
  return groups;
}

function alongAxis(ref: RotatedRect, r: RotatedRect): number {
  return (r.cx - ref.cx) * ref.ux + (r.cy - ref.cy) * ref.uy;
}

/** True when `small` sits directly above or below `big` (overlapping it along the line). */
export function stackedOn(big: RotatedRect, small: RotatedRect): boolean {
  const e = extentIn(big, small);
  const overlapU = Math.min(e.u1, big.width / 2) - Math.max(e.u0, -big.width / 2);
  const centreV = Math.abs((e.v0 + e.v1) / 2);
  return overlapU > 0.3 * (e.u1 - e.u0) && centreV < 2 * big.height;
}

/** True when `other` lies within a plate's reach of `line` (about two plate widths around it). */
function nearby(line: RotatedRect, other: RotatedRect): boolean {
  const h = Math.max(line.height, other.height);
  const e = extentIn(line, other);
  const du = Math.max(0, e.u0 - line.width / 2, -line.width / 2 - e.u1);
  const dv = Math.max(0, e.v0 - line.height / 2, -line.height / 2 - e.v1);
  return du < 4 * h && dv < 2.5 * h;
}

/**
 * Geometric plate-likeness: 1 for a line that is the largest print around it; low for one that has
 * a clearly taller line beside it (a year sticker, a dealer caption, a date stamp next to a plate).
 */
export function plateLikeness(line: RotatedRect, others: readonly RotatedRect[], o: CandidateOptions = DEFAULT_CANDIDATE_OPTIONS): number {
  let like = 1;
  for (const other of others) {
    if (other === line || other.height < o.dominance * line.height) continue;
    if (nearby(line, other)) like = Math.min(like, 0.3);
  }
  return like;
}

/** The plate candidates among detected lines, best geometric likeness first. */
export function plateCandidates(
  found: readonly TextLine[],
  rules: PlateRuleOptions = DEFAULT_PLATE_RULES,
  o: CandidateOptions = DEFAULT_CANDIDATE_OPTIONS,
): PlateCandidate[] {
  const words = mergeLineWords(found, rules.mergeGap);
  const groups = joinSplitGroups(words, o);
  const all = groups.map((g) => g.rect);
  const out: PlateCandidate[] = [];
  for (const g of groups) {
    if (!plateShaped(g.rect, rules)) continue;
    // A line stacked on a clearly taller one is that plate's caption, not a plate.
    if (all.some((big) => big !== g.rect && big.height >= o.dominance * g.rect.height && stackedOn(big, g.rect))) continue;
    const secondary = all.filter((s) => s !== g.rect && g.rect.height >= o.dominance * s.height && stackedOn(g.rect, s));
    const likeness = plateLikeness(g.rect, all.filter((r) => !secondary.includes(r)), o);
    out.push({ rect: g.rect, parts: g.parts, words: g.words, score: g.score, likeness, secondary });
  }
  return out.sort((a, b) => b.likeness - a.likeness);
}
