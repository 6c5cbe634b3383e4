/**
 * State recognition from the text printed around the registration: the free-text reading of a
 * caption line is fuzzy-matched against state names (strong evidence) and slogans (weaker). A
 * caption that matches nothing well gives no state: a wrong state is worse than none.
 */
import { US_STATE_NAMES, US_STATE_SLOGANS } from './us-states.ts';

/** Upper-case A–Z and 0–9, words separated by single spaces. */
export function normaliseCaption(text: string): string {
  return text
    .toUpperCase()
    .replace(/[^A-Z0-9]+/g, ' ')
    .trim();
}

/** Levenshtein distance. */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}

/**
 * Similarity 0–1 of `phrase` to the best-matching stretch of `caption` (the caption may carry
 * extra words: "SCENIC IDAHO", "EXPLORE MINNESOTA"), spaces ignored: 1 − d/|phrase| where d is the
 * semi-global edit distance (the stretch may start and end anywhere in the caption).
 */
export function phraseSimilarity(caption: string, phrase: string): number {
  const c = caption.replace(/ /g, '');
  const p = phrase.replace(/ /g, '');
  if (p.length === 0 || c.length === 0) return 0;
  // Rows over the phrase, columns over the caption; row 0 is free (start anywhere).
  let prev = new Int32Array(c.length + 1);
  let cur = new Int32Array(c.length + 1);
  for (let i = 1; i <= p.length; i++) {
    cur[0] = i;
    for (let j = 1; j <= c.length; j++) {
      const sub = prev[j - 1]! + (p.charCodeAt(i - 1) === c.charCodeAt(j - 1) ? 0 : 1);
      cur[j] = Math.min(sub, prev[j]! + 1, cur[j - 1]! + 1);
    }
    [prev, cur] = [cur, prev];
  }
  let d = p.length;
  for (let j = 0; j <= c.length; j++) d = Math.min(d, prev[j]!); // end anywhere
  return 1 - d / p.length;
}

export interface StateEvidence {
  readonly state: string;
  /** 0–1. */
  readonly score: number;
  readonly matched: string;
}

/** Names need this similarity, slogans a little more (they are longer and shared less). */
const NAME_THRESHOLD = 0.75;
const SLOGAN_THRESHOLD = 0.8;
const SLOGAN_WEIGHT = 0.85;

/** The state a set of caption readings points to, or undefined when none matches well enough. */
export function stateFromCaptions(captions: readonly string[]): StateEvidence | undefined {
  let best: StateEvidence | undefined;
  const offer = (e: StateEvidence): void => {
    // On a tie the longer phrase wins: "WEST VIRGINIA" holds "VIRGINIA", "ARKANSAS" holds "KANSAS".
    if (!best || e.score > best.score || (e.score === best.score && e.matched.length > best.matched.length)) best = e;
  };
  for (const raw of captions) {
    const caption = normaliseCaption(raw);
    if (caption.replace(/ /g, '').length < 4) continue;
    for (const [state, name] of Object.entries(US_STATE_NAMES)) {
      const sim = phraseSimilarity(caption, name);
      // Short names ("OHIO", "IOWA", "UTAH") need an exact hit: one edit turns them into other words.
      const need = name.length <= 5 ? 1 : NAME_THRESHOLD;
      if (sim >= need) offer({ state, score: sim, matched: name });
    }
    for (const [state, slogans] of Object.entries(US_STATE_SLOGANS)) {
      for (const slogan of slogans) {
        const sim = phraseSimilarity(caption, slogan);
        if (sim >= SLOGAN_THRESHOLD) offer({ state, score: sim * SLOGAN_WEIGHT, matched: slogan });
      }
    }
  }
  return best;
}
