/**
 * CTC decoding restricted to the plate alphabet.
 *
 * The PP-OCR recogniser scores 6,625 classes per time step: 0 is the CTC blank, 1…6623 the
 * dictionary, 6624 a space. Plates only hold A–Z and 0–9, so every step is first folded onto that
 * alphabet: lower-case and full-width forms add into their upper-case ASCII symbol, separators
 * (space, dash, dot) add into blank, everything else is dropped and the rest renormalised — the
 * same as masking the logits before the softmax. Decoding then works on T × (1 + 36) matrices.
 */

/** The plate alphabet, in restricted-class order (class k + 1 is PLATE_SYMBOLS[k]). */
export const PLATE_SYMBOLS = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const SEPARATORS = new Set([' ', '-', '.', '·', '•', '–', '—', '_', '\u3000']);

/** For each model class: -1 dropped, 0 blank, k ≥ 1 the plate symbol PLATE_SYMBOLS[k - 1]. */
export type ClassMap = Int16Array;

/** Builds the class map for a model with `numClasses` outputs over `dictionary`. */
export function buildClassMap(dictionary: readonly string[], numClasses: number): ClassMap {
  if (numClasses !== dictionary.length + 2) {
    throw new RangeError(
      `recogniser has ${numClasses} classes; dictionary of ${dictionary.length} implies ${dictionary.length + 2} (blank + symbols + space)`,
    );
  }
  const map = new Int16Array(numClasses).fill(-1);
  map[0] = 0;
  map[numClasses - 1] = 0; // the trailing space class
  dictionary.forEach((sym, i) => {
    map[i + 1] = symbolClass(sym);
  });
  return map;
}

function symbolClass(sym: string): number {
  if (SEPARATORS.has(sym)) return 0;
  let s = sym;
  // Full-width ASCII (U+FF01…U+FF5E) → ASCII.
  if (s.length === 1 && s.charCodeAt(0) >= 0xff01 && s.charCodeAt(0) <= 0xff5e) {
    s = String.fromCharCode(s.charCodeAt(0) - 0xfee0);
  }
  const k = PLATE_SYMBOLS.indexOf(s.toUpperCase());
  return s.length === 1 && k >= 0 ? k + 1 : -1;
}

/** A T × C matrix of per-step probabilities, row-major (C = 1 + alphabet size, class 0 blank). */
export interface StepMatrix {
  readonly steps: number;
  readonly classes: number;
  readonly probs: Float32Array;
}

/** Folds model output rows [offset, offset + steps·numClasses) onto the plate alphabet. */
export function restrictSteps(
  output: Float32Array,
  offset: number,
  steps: number,
  map: ClassMap,
  alphabetSize = PLATE_SYMBOLS.length,
): StepMatrix {
  const C = alphabetSize + 1;
  const n = map.length;
  const probs = new Float32Array(steps * C);
  for (let t = 0; t < steps; t++) {
    const row = offset + t * n;
    const o = t * C;
    for (let c = 0; c < n; c++) {
      const k = map[c]!;
      if (k >= 0) probs[o + k] = probs[o + k]! + output[row + c]!;
    }
    let sum = 0;
    for (let k = 0; k < C; k++) sum += probs[o + k]!;
    if (sum > 0) for (let k = 0; k < C; k++) probs[o + k] = probs[o + k]! / sum;
    else probs[o] = 1; // nothing plate-like at this step: call it blank
  }
  return { steps, classes: C, probs };
}

export interface Decoded {
  readonly text: string;
  /** Per character of `text`. */
  readonly charProbs: readonly number[];
}

/** Best-path decoding: argmax per step, collapse repeats, drop blanks. A character's probability is its run's peak. */
export function greedyDecode(m: StepMatrix, symbols = PLATE_SYMBOLS): Decoded {
  let text = '';
  const charProbs: number[] = [];
  let prev = 0;
  for (let t = 0; t < m.steps; t++) {
    let best = 0;
    let bestP = -1;
    for (let k = 0; k < m.classes; k++) {
      const p = m.probs[t * m.classes + k]!;
      if (p > bestP) {
        bestP = p;
        best = k;
      }
    }
    if (best !== 0 && best === prev) {
      charProbs[charProbs.length - 1] = Math.max(charProbs[charProbs.length - 1]!, bestP);
    } else if (best !== 0) {
      text += symbols[best - 1]!;
      charProbs.push(bestP);
    }
    prev = best;
  }
  return { text, charProbs };
}

export interface BeamOptions {
  /** Prefixes kept per step; default 16. */
  readonly beamWidth?: number;
  /** Candidates returned; default 5. */
  readonly topN?: number;
  /** Symbols below this step probability are not extended; default 1e-3. */
  readonly prune?: number;
}

export interface ScoredText {
  readonly text: string;
  /** CTC probability of the string: the sum over every alignment of the per-step product. */
  readonly score: number;
}

interface Beam {
  labels: number[];
  pb: number; // ends in blank
  pnb: number; // ends in a symbol
}

/** CTC prefix beam search: the `topN` most probable strings under the lattice, best first. */
export function beamSearch(m: StepMatrix, options: BeamOptions = {}, symbols = PLATE_SYMBOLS): ScoredText[] {
  const width = options.beamWidth ?? 16;
  const topN = options.topN ?? 5;
  const prune = options.prune ?? 1e-3;
  let beams = new Map<string, Beam>([['', { labels: [], pb: 1, pnb: 0 }]]);
  for (let t = 0; t < m.steps; t++) {
    const row = t * m.classes;
    const blank = m.probs[row]!;
    const next = new Map<string, Beam>();
    const at = (key: string, labels: number[]): Beam => {
      let b = next.get(key);
      if (!b) {
        b = { labels, pb: 0, pnb: 0 };
        next.set(key, b);
      }
      return b;
    };
    for (const [key, b] of beams) {
      const total = b.pb + b.pnb;
      at(key, b.labels).pb += total * blank;
      const last = b.labels.length > 0 ? b.labels[b.labels.length - 1]! : 0;
      for (let k = 1; k < m.classes; k++) {
        const p = m.probs[row + k]!;
        if (p < prune) continue;
        const extended = at(key + symbols[k - 1]!, [...b.labels, k]);
        if (k === last) {
          // A repeat only starts a new character after a blank; otherwise it continues the old one.
          extended.pnb += b.pb * p;
          at(key, b.labels).pnb += b.pnb * p;
        } else {
          extended.pnb += total * p;
        }
      }
    }
    beams = new Map(
      [...next]
        .filter(([, b]) => b.pb + b.pnb > 0)
        .sort((a, b) => b[1].pb + b[1].pnb - (a[1].pb + a[1].pnb))
        .slice(0, width),
    );
  }
  return [...beams]
    .map(([text, b]) => ({ text, score: b.pb + b.pnb }))
    .sort((a, b) => b.score - a.score)
    .slice(0, topN);
}

/**
 * Per-character probabilities of `text` under the lattice: the Viterbi alignment of the string,
 * and for each character the peak probability over the steps it occupies. Zeros when the string
 * cannot be aligned (longer than the lattice allows).
 */
export function alignedCharProbs(m: StepMatrix, text: string, symbols = PLATE_SYMBOLS): number[] {
  return alignChars(m, text, symbols).probs;
}

/** A character's place in the lattice: the first and last step (inclusive) of its Viterbi run. */
export interface CharSpan {
  readonly start: number;
  readonly end: number;
}

/** alignedCharProbs plus each character's span of steps (empty spans when it cannot be aligned). */
export function alignChars(m: StepMatrix, text: string, symbols = PLATE_SYMBOLS): { probs: number[]; spans: CharSpan[] } {
  const labels = [...text].map((ch) => symbols.indexOf(ch) + 1);
  const L = labels.length;
  if (L === 0) return { probs: [], spans: [] };
  const S = 2 * L + 1;
  const lab = (s: number): number => (s % 2 === 0 ? 0 : labels[(s - 1) / 2]!);
  const logp = (t: number, k: number): number => Math.log(Math.max(m.probs[t * m.classes + k]!, 1e-30));
  const NEG = -Infinity;
  let score = new Float64Array(S).fill(NEG);
  const back = new Int8Array(m.steps * S);
  score[0] = logp(0, 0);
  if (S > 1) score[1] = logp(0, lab(1));
  for (let t = 1; t < m.steps; t++) {
    const next = new Float64Array(S).fill(NEG);
    for (let s = 0; s < S; s++) {
      let best = score[s]!;
      let from = 0;
      if (s >= 1 && score[s - 1]! > best) {
        best = score[s - 1]!;
        from = 1;
      }
      if (s >= 2 && lab(s) !== 0 && lab(s) !== lab(s - 2) && score[s - 2]! > best) {
        best = score[s - 2]!;
        from = 2;
      }
      if (best === NEG) continue;
      next[s] = best + logp(t, lab(s));
      back[t * S + s] = from;
    }
    score = next;
  }
  let s = S >= 2 && score[S - 2]! > score[S - 1]! ? S - 2 : S - 1;
  if (score[s] === NEG) return { probs: labels.map(() => 0), spans: labels.map(() => ({ start: 0, end: -1 })) };
  const probs = labels.map(() => 0);
  const starts = labels.map(() => m.steps);
  const ends = labels.map(() => -1);
  for (let t = m.steps - 1; t >= 0; t--) {
    if (s % 2 === 1) {
      const i = (s - 1) / 2;
      probs[i] = Math.max(probs[i]!, m.probs[t * m.classes + labels[i]!]!);
      starts[i] = Math.min(starts[i]!, t);
      ends[i] = Math.max(ends[i]!, t);
    }
    s -= t > 0 ? back[t * S + s]! : 0;
  }
  return { probs, spans: starts.map((start, i) => ({ start, end: ends[i]! })) };
}

/**
 * Natural log of the CTC probability of `text` under the lattice (forward algorithm over every
 * alignment, in log space). −Infinity when the string cannot be aligned. Re-ranking needs this for
 * strings the beam did not keep (look-alike substitutions), on the same scale as beam scores.
 */
export function ctcLogProb(m: StepMatrix, text: string, symbols = PLATE_SYMBOLS): number {
  const labels = [...text].map((ch) => symbols.indexOf(ch) + 1);
  if (labels.some((l) => l <= 0)) return -Infinity;
  const S = 2 * labels.length + 1;
  const lab = (s: number): number => (s % 2 === 0 ? 0 : labels[(s - 1) / 2]!);
  const lp = (t: number, k: number): number => Math.log(Math.max(m.probs[t * m.classes + k]!, 1e-30));
  const add = (a: number, b: number): number => {
    if (a === -Infinity) return b;
    if (b === -Infinity) return a;
    const hi = Math.max(a, b);
    return hi + Math.log(Math.exp(a - hi) + Math.exp(b - hi));
  };
  if (m.steps === 0) return labels.length === 0 ? 0 : -Infinity;
  let alpha = new Float64Array(S).fill(-Infinity);
  alpha[0] = lp(0, 0);
  if (S > 1) alpha[1] = lp(0, lab(1));
  for (let t = 1; t < m.steps; t++) {
    const next = new Float64Array(S).fill(-Infinity);
    for (let s = 0; s < S; s++) {
      let a = alpha[s]!;
      if (s >= 1) a = add(a, alpha[s - 1]!);
      if (s >= 2 && lab(s) !== 0 && lab(s) !== lab(s - 2)) a = add(a, alpha[s - 2]!);
      if (a !== -Infinity) next[s] = a + lp(t, lab(s));
    }
    alpha = next;
  }
  return S >= 2 ? add(alpha[S - 1]!, alpha[S - 2]!) : alpha[S - 1]!;
}

/**
 * Best-path decoding over the model's full dictionary (no folding onto the plate alphabet), for
 * the printed state name and slogan lines. `row(t, c)` reads the model output.
 */
export function greedyDecodeFull(output: Float32Array, offset: number, steps: number, classes: number, dictionary: readonly string[]): string {
  let text = '';
  let prev = 0;
  for (let t = 0; t < steps; t++) {
    const row = offset + t * classes;
    let best = 0;
    for (let c = 1; c < classes; c++) if (output[row + c]! > output[row + best]!) best = c;
    if (best !== 0 && best !== prev) text += best <= dictionary.length ? dictionary[best - 1]! : ' ';
    prev = best;
  }
  return text;
}

/**
 * Moves the probability of symbol `from` into `to` at every step (in place). Used to report O as 0:
 * most US issuers print them with one glyph, and a reader that splits the mass between the two
 * ranks neither first.
 */
export function foldSymbol(m: StepMatrix, from: string, to: string, symbols = PLATE_SYMBOLS): void {
  const a = symbols.indexOf(from) + 1;
  const b = symbols.indexOf(to) + 1;
  if (a <= 0 || b <= 0) throw new RangeError(`foldSymbol: ${from} or ${to} is not in the alphabet`);
  for (let t = 0; t < m.steps; t++) {
    const row = t * m.classes;
    m.probs[row + b] = m.probs[row + b]! + m.probs[row + a]!;
    m.probs[row + a] = 0;
  }
}
