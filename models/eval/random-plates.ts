/**
 * Random but realistic US registrations, to pad the evaluation's hot list to a deployment's size
 * (hit recall and false hits are measured against 100,000 of them). Seeded: the same seed gives
 * the same list, so two runs are comparable.
 *
 * Formats are the common US serial layouts (L letter, D digit), weighted roughly by how many
 * vehicles carry them; letters skip I, O and Q, which most states do not issue in serials.
 */

const FORMATS: readonly (readonly [string, number])[] = [
  ['LLLDDDD', 30], // TX, NY, PA, GA, OH, MI, NC, VA, IL, …
  ['DLLLDDD', 22], // CA
  ['LLLDDD', 10],
  ['DDDLLL', 8],
  ['LLDDDDD', 6],
  ['DLLDDD', 5],
  ['LDDLLL', 4],
  ['DDLLDD', 4],
  ['DDDDDD', 3],
  ['LLDLDDD', 3],
  ['DDDLDDD', 3],
  ['LLLLDDD', 2],
];
const LETTERS = 'ABCDEFGHJKLMNPRSTUVWXYZ';
const DIGITS = '0123456789';

/** mulberry32: a small, fast, well-mixed 32-bit PRNG; returns floats in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomPlate(random: () => number): string {
  const total = FORMATS.reduce((s, [, w]) => s + w, 0);
  let pick = random() * total;
  let format = FORMATS[0]![0];
  for (const [f, w] of FORMATS) {
    pick -= w;
    if (pick < 0) {
      format = f;
      break;
    }
  }
  let out = '';
  for (const c of format) {
    const set = c === 'L' ? LETTERS : DIGITS;
    out += set[Math.floor(random() * set.length)];
  }
  return out;
}

/** `count` distinct random plates, none of them in `exclude`. */
export function randomPlates(count: number, seed: number, exclude: ReadonlySet<string> = new Set()): string[] {
  const random = seededRandom(seed);
  const out = new Set<string>();
  while (out.size < count) {
    const p = randomPlate(random);
    if (!exclude.has(p)) out.add(p);
  }
  return [...out];
}
