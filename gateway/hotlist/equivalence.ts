/**
 * OCR-equivalence: characters a plate reader confuses with each other (O/0/D/Q, I/1, B/8, …).
 * Every character maps to a small integer code; look-alikes share one code, so "same plate up to
 * look-alikes" becomes "same code string". Codes start at 1 so that a code string read as digits
 * in base (codes + 1) is a unique number for every length: the index keys plates by that number
 * instead of by strings (no allocation per probe).
 */

export class EquivalenceError extends Error {
  override readonly name = 'EquivalenceError';
}

/**
 * Default classes. They are the confusions our recogniser makes most (see `alpr eval --report`):
 * round shapes, a vertical bar, and the letter/digit pairs that differ by one stroke. Wider
 * classes (U/V, T/7, A/4) raise recall a little and false hits more; the hot-list bench prints
 * each class's share of both.
 */
export const DEFAULT_EQUIVALENCE: readonly string[] = ['O0DQ', 'I1', 'B8', 'S5', 'Z2', 'G6'];

export const PLATE_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/** Longest plate (or wildcard pattern) the index accepts; keeps code numbers below 2^53. */
export const MAX_PLATE_LENGTH = 10;

export class EquivalenceTable {
  /** Character code (charCodeAt) → equivalence code 1…size, 0 for characters outside the alphabet. */
  readonly codeOf: Uint8Array;
  /** Number of distinct codes; keys are numbers in base `size + 1`. */
  readonly size: number;
  readonly base: number;
  /** base^i for i = 0…MAX_PLATE_LENGTH + 1. */
  readonly pow: Float64Array;

  constructor(readonly classes: readonly string[] = DEFAULT_EQUIVALENCE) {
    const codeOf = new Uint8Array(128);
    let next = 1;
    const seen = new Map<string, string>();
    for (const cls of classes) {
      if (cls.length < 2) throw new EquivalenceError(`equivalence class ${JSON.stringify(cls)}: needs at least two characters`);
      for (const c of cls) {
        if (!PLATE_ALPHABET.includes(c)) throw new EquivalenceError(`equivalence class ${JSON.stringify(cls)}: ${JSON.stringify(c)} is not A–Z or 0–9`);
        const other = seen.get(c);
        if (other !== undefined) throw new EquivalenceError(`${JSON.stringify(c)} is in two equivalence classes (${other} and ${cls})`);
        seen.set(c, cls);
        codeOf[c.charCodeAt(0)] = next;
      }
      next++;
    }
    for (const c of PLATE_ALPHABET) if (codeOf[c.charCodeAt(0)] === 0) codeOf[c.charCodeAt(0)] = next++;
    this.codeOf = codeOf;
    this.size = next - 1;
    this.base = next;
    this.pow = new Float64Array(MAX_PLATE_LENGTH + 2);
    this.pow[0] = 1;
    for (let i = 1; i < this.pow.length; i++) this.pow[i] = this.pow[i - 1]! * this.base;
  }

  /** True when a and b are different characters of one class. */
  areLookalikes(a: string, b: string): boolean {
    return a !== b && this.code(a) !== 0 && this.code(a) === this.code(b);
  }

  code(c: string): number {
    const n = c.charCodeAt(0);
    return n < 128 ? this.codeOf[n]! : 0;
  }

  /** Codes of a normalised plate into `out` (reused by callers on hot paths); returns the length, or -1 for a character outside the alphabet. */
  encode(plate: string, out: Uint8Array): number {
    if (plate.length > out.length) return -1;
    for (let i = 0; i < plate.length; i++) {
      const n = plate.charCodeAt(i);
      const c = n < 128 ? this.codeOf[n]! : 0;
      if (c === 0) return -1;
      out[i] = c;
    }
    return plate.length;
  }

  /** The number of a code string: Σ codes[i]·base^i. Unique per string of any length ≤ MAX_PLATE_LENGTH. */
  key(codes: Uint8Array, from: number, to: number): number {
    let k = 0;
    for (let i = to - 1; i >= from; i--) k = k * this.base + codes[i]!;
    return k;
  }

  /** The table as text, one class per line: for the bench and the docs. */
  describe(): string[] {
    return this.classes.map((c) => [...c].join(' = '));
  }
}

/**
 * Mixes a key (< 2^53) into 32 bits. Splitting at 2^32 is exact in floating point; the
 * finaliser is murmur3's.
 */
export function hashKey(key: number): number {
  const hi = Math.floor(key / 4294967296);
  const lo = key - hi * 4294967296;
  return fmix32(lo ^ Math.imul(hi, 0x9e3779b1));
}

function fmix32(x: number): number {
  let h = x | 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
