/**
 * Generated data for the hot-list bench, seeded: realistic listed plates (the evaluation's US
 * serial formats), states weighted by registrations, a list-type mix like an NCIC-fed list,
 * partial plates as investigators enter them, and reads with OCR-style alternatives and misreads.
 */
import { randomPlate, seededRandom } from '../models/eval/random-plates.ts';
import type { HotlistEntry, HotlistType } from '../gateway/types.ts';
import { DEFAULT_PRIORITY } from '../gateway/hotlist/rows.ts';
import type { EquivalenceTable } from '../gateway/hotlist/equivalence.ts';

export type Random = () => number;

/** Rough shares of US registrations; the rest spread over the other states. */
const STATES: readonly (readonly [string, number])[] = [
  ['ca', 12], ['tx', 9], ['fl', 7], ['ny', 5], ['pa', 4], ['il', 4], ['oh', 4], ['ga', 3], ['nc', 3], ['mi', 3],
  ['nj', 3], ['va', 3], ['wa', 2], ['az', 2], ['ma', 2], ['tn', 2], ['in', 2], ['mo', 2], ['md', 2], ['wi', 2],
];
const OTHER_STATES = ['al', 'ak', 'ar', 'co', 'ct', 'de', 'hi', 'id', 'ia', 'ks', 'ky', 'la', 'me', 'mn', 'ms', 'mt', 'ne', 'nv', 'nh', 'nm', 'nd', 'ok', 'or', 'ri', 'sc', 'sd', 'ut', 'vt', 'wv', 'wy'];
const TYPES: readonly (readonly [HotlistType, number])[] = [
  // AMBER and Silver alerts are a few dozen nationwide at any time, not thousands.
  ['stolen-vehicle', 55], ['stolen-plate', 22], ['suspended', 15], ['wanted', 5], ['missing', 1.5], ['bolo', 1], ['amber', 0.002], ['silver', 0.003],
];
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

function weighted<T>(random: Random, table: readonly (readonly [T, number])[]): T {
  const total = table.reduce((s, [, w]) => s + w, 0);
  let pick = random() * total;
  for (const [v, w] of table) if ((pick -= w) < 0) return v;
  return table[table.length - 1]![0];
}

export function randomState(random: Random): string {
  return random() < 0.2 ? OTHER_STATES[Math.floor(random() * OTHER_STATES.length)]! : weighted(random, STATES);
}

/** A JWE-shaped stand-in of a sealed blob's size (~600 bytes); the device never opens it. */
function fakeSealedPool(random: Random, n: number): string[] {
  const b64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const part = (len: number): string => Array.from({ length: len }, () => b64[Math.floor(random() * 64)]).join('');
  return Array.from({ length: n }, () => `${part(270)}.${part(54)}.${part(16)}.${part(230)}.${part(22)}`);
}

/** `count` listed plates plus `wildcards` partial plates, as import would produce them. */
export function generateEntries(count: number, wildcards: number, seed: number, now: number): HotlistEntry[] {
  const random = seededRandom(seed);
  const sealed = fakeSealedPool(random, 512);
  const seen = new Set<string>();
  const out: HotlistEntry[] = [];
  while (out.length < count) {
    const plate = randomPlate(random);
    const state = randomState(random);
    const listType = weighted(random, TYPES);
    const key = `${plate}|${state}|${listType}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const r = random();
    out.push({
      id: `${listType}:${plate}:${state}`,
      plate,
      state,
      listType,
      priority: DEFAULT_PRIORITY[listType],
      ...(r < 0.3 ? { effective: now - Math.floor(random() * 400) * 86_400_000 } : {}),
      ...(r < 0.2 ? { expires: now + Math.floor(1 + random() * 400) * 86_400_000 } : {}),
      ...(random() < 0.01 ? { covert: true } : {}),
      sealed: sealed[out.length % sealed.length]!,
    });
  }
  for (let w = 0; w < wildcards; w++) {
    const plate = partialOf(randomPlate(random), random);
    out.push({
      id: `partial:${w}`,
      plate,
      ...(random() < 0.7 ? { state: randomState(random) } : {}),
      listType: 'partial',
      priority: DEFAULT_PRIORITY.partial,
      sealed: sealed[w % sealed.length]!,
    });
  }
  return out;
}

/** What a witness remembers: one or two characters unknown, or only the start or the end. */
function partialOf(plate: string, random: Random): string {
  const r = random();
  const at = (): number => Math.floor(random() * plate.length);
  if (r < 0.5) {
    const i = at();
    return `${plate.slice(0, i)}?${plate.slice(i + 1)}`;
  }
  if (r < 0.7) {
    const chars = [...plate];
    const i = at();
    let j = at();
    while (j === i) j = at();
    chars[i] = '?';
    chars[j] = '?';
    return chars.join('');
  }
  if (r < 0.85) return `${plate.slice(0, 5)}*`;
  return `*${plate.slice(-5)}`;
}

/** A character OCR might read instead of `c`: a look-alike when it has one (mostly), else anything. */
export function confuse(c: string, eq: EquivalenceTable, random: Random, lookalike: boolean): string {
  const alikes = [...ALNUM].filter((o) => eq.areLookalikes(c, o));
  if (lookalike && alikes.length) return alikes[Math.floor(random() * alikes.length)]!;
  let o = c;
  while (o === c || eq.areLookalikes(c, o)) o = ALNUM[Math.floor(random() * ALNUM.length)]!;
  return o;
}

export type MisreadKind = 'lookalike' | 'two lookalikes' | 'other substitution' | 'dropped' | 'extra' | 'lookalike + other';

export const MISREAD_MIX: readonly (readonly [MisreadKind, number])[] = [
  ['lookalike', 40], ['two lookalikes', 15], ['other substitution', 20], ['dropped', 10], ['extra', 10], ['lookalike + other', 5],
];

/** A planted misread of a listed plate (what the recall half of the curve is measured on). */
export function misread(plate: string, kind: MisreadKind, eq: EquivalenceTable, random: Random): string {
  const chars = [...plate];
  const pos = (): number => Math.floor(random() * chars.length);
  const withAlike = (): number[] => chars.map((c, i) => ([...ALNUM].some((o) => eq.areLookalikes(c, o)) ? i : -1)).filter((i) => i >= 0);
  const subAlike = (): void => {
    const cands = withAlike();
    const i = cands.length ? cands[Math.floor(random() * cands.length)]! : pos();
    chars[i] = confuse(chars[i]!, eq, random, true);
  };
  switch (kind) {
    case 'lookalike':
      subAlike();
      break;
    case 'two lookalikes':
      subAlike();
      subAlike();
      break;
    case 'other substitution': {
      const i = pos();
      chars[i] = confuse(chars[i]!, eq, random, false);
      break;
    }
    case 'dropped':
      chars.splice(pos(), 1);
      break;
    case 'extra':
      chars.splice(Math.floor(random() * (chars.length + 1)), 0, ALNUM[Math.floor(random() * ALNUM.length)]!);
      break;
    case 'lookalike + other': {
      subAlike();
      const i = pos();
      chars[i] = confuse(chars[i]!, eq, random, false);
      break;
    }
  }
  return chars.join('');
}

export function misreadKind(random: Random): MisreadKind {
  return weighted(random, MISREAD_MIX);
}

export interface BenchRead {
  readonly plate: string;
  /** Voted text first; vote shares like gateway/tracking.ts voteText gives. */
  readonly candidates: readonly { text: string; score: number }[];
}

/**
 * A read of `truth` with four alternatives as a beam and a vote leave them: look-alike swaps,
 * a same-position confusion, a dropped character; shares decreasing after a dominant top.
 */
export function withAlternatives(truth: string, eq: EquivalenceTable, random: Random): BenchRead {
  const alts = new Set<string>([truth]);
  let guard = 0;
  while (alts.size < 5 && guard++ < 50) {
    const r = random();
    const kind: MisreadKind = r < 0.5 ? 'lookalike' : r < 0.85 ? 'other substitution' : 'dropped';
    alts.add(misread(truth, kind, eq, random));
  }
  const top = 0.55 + random() * 0.43;
  const rest = 1 - top;
  const shares = [0.5, 0.25, 0.15, 0.1];
  const candidates = [...alts].map((text, i) => ({ text, score: i === 0 ? top : rest * shares[i - 1]! }));
  return { plate: truth, candidates };
}

export { seededRandom, randomPlate };
