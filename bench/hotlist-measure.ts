/**
 * The hot-list bench's measuring half, run in a child process of its own so that resident
 * memory before and after loading the list is the list's alone (the parent holds the generated
 * entries). Prints one JSON object (MeasureResult) on stdout; progress on stderr.
 */
import { readListFile } from '../gateway/hotlist/list-reader.ts';
import { HotlistMatcher } from '../gateway/hotlist/matcher.ts';
import { DEFAULT_POLICY, uniformEdits, type MatchPolicy } from '../gateway/hotlist/policy.ts';
import { MAX_PLATE_LENGTH } from '../gateway/hotlist/equivalence.ts';
import type { EntryTable } from '../gateway/hotlist/table.ts';
import { MISREAD_MIX, misread, misreadKind, randomPlate, seededRandom, withAlternatives, type BenchRead, type MisreadKind } from './hotlist-data.ts';

export interface CurveRow {
  readonly name: string;
  readonly buildMs: number;
  readonly indexMb: number;
  readonly recall: number;
  readonly recallByKind: Record<string, number>;
  readonly partialRecall: number;
  /** Reads of one candidate (the voted text) that hit any entry. */
  readonly falseHitRate: number;
  /** Reads with four alternatives, every alternative matched (minCandidateScore 0). */
  readonly falseHitRate5: number;
  /** …alternatives matched only with at least 0.15 of the vote. */
  readonly falseHitRate5Gated: number;
}

export interface MeasureResult {
  readonly entries: number;
  readonly wildcards: number;
  readonly loadMs: number;
  readonly readMs: number;
  readonly indexMs: number;
  readonly addedRssMb: number;
  readonly indexMb: number;
  readonly tableMb: number;
  readonly lookupP50Us: number;
  readonly lookupP99Us: number;
  readonly lookupMeanUs: number;
  readonly linearSample: number;
  readonly linearMeanUs: number;
  readonly linearAgrees: boolean;
  readonly curve: readonly CurveRow[];
  readonly classes: readonly { cls: string; falseHitRate: number; recall: number }[];
  readonly reads: number;
  readonly planted: number;
}

const gc = (): void => (globalThis as { gc?: () => void }).gc?.();
const rssMb = (): number => process.memoryUsage().rss / 2 ** 20;
const log = (line: string): boolean => process.stderr.write(`  ${line}\n`);
const GATED = 0.15;

function quantile(xs: Float64Array, q: number): number {
  const s = Float64Array.from(xs).sort();
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
}

/** The baseline: every entry's Levenshtein distance (bounded, look-alike codes), every pattern. */
function linearScan(m: HotlistMatcher, codes: Uint8Array, lens: Uint8Array, read: Uint8Array, len: number, k: number, at: number, out: Set<number>): void {
  const t = m.list.table;
  const row0 = new Int32Array(MAX_PLATE_LENGTH + 2);
  const row1 = new Int32Array(MAX_PLATE_LENGTH + 2);
  for (let i = 0; i < t.size; i++) {
    const el = lens[i]!;
    if (el === 0 || Math.abs(el - len) > k) continue;
    let prev = row0;
    let cur = row1;
    for (let j = 0; j <= el; j++) prev[j] = j;
    let over = false;
    for (let a = 1; a <= len && !over; a++) {
      cur[0] = a;
      let rowMin = a;
      for (let j = 1; j <= el; j++) {
        const v = Math.min(prev[j - 1]! + (read[a - 1] === codes[i * MAX_PLATE_LENGTH + j - 1] ? 0 : 1), prev[j]! + 1, cur[j - 1]! + 1);
        cur[j] = v;
        if (v < rowMin) rowMin = v;
      }
      over = rowMin > k;
      [prev, cur] = [cur, prev];
    }
    if (!over && prev[el]! <= k && t.live(i, at)) out.add(i);
  }
  m.wildcards.scan(read, len, (entry) => {
    if (t.live(entry, at)) out.add(entry);
  });
}

function plantedMisreads(table: EntryTable, m: HotlistMatcher, n: number, seed: number): { entry: number; read: string; kind: MisreadKind }[] {
  const random = seededRandom(seed);
  const out = [];
  while (out.length < n) {
    const entry = Math.floor(random() * table.size);
    if (table.isWildcard(entry)) continue;
    const kind = misreadKind(random);
    out.push({ entry, read: misread(table.plate(entry), kind, m.eq, random), kind });
  }
  return out;
}

/** A plate each partial plate should hit: its wildcards filled in. */
function filledPartials(table: EntryTable, seed: number): { entry: number; read: string }[] {
  const random = seededRandom(seed);
  const out = [];
  for (let i = 0; i < table.size; i++) {
    if (!table.isWildcard(i)) continue;
    const fill = (): string => 'ABCDEFGHJKLMNPRSTUVWXYZ0123456789'[Math.floor(random() * 33)]!;
    out.push({ entry: i, read: table.plate(i).replace(/\?/g, fill).replace('*', () => fill() + fill()) });
  }
  return out;
}

function curveRow(name: string, list: HotlistMatcher['list'], policy: Partial<MatchPolicy>, reads: readonly BenchRead[], planted: ReturnType<typeof plantedMisreads>, partials: ReturnType<typeof filledPartials>, at: number): CurveRow {
  const t0 = performance.now();
  const m = new HotlistMatcher(list, { ...policy, minCandidateScore: 0 });
  const gated = new HotlistMatcher(list, { ...policy, minCandidateScore: GATED });
  const buildMs = (performance.now() - t0) / 2;
  let f1 = 0;
  let f5 = 0;
  let f5g = 0;
  for (const r of reads) {
    if (m.hitEntries({ plate: r.plate, at }).length) f1++;
    if (m.hitEntries({ plate: r.plate, candidates: r.candidates, at }).length) f5++;
    if (gated.hitEntries({ plate: r.plate, candidates: r.candidates, at }).length) f5g++;
  }
  const byKind: Record<string, [number, number]> = {};
  let found = 0;
  for (const p of planted) {
    const hit = m.hitEntries({ plate: p.read, at }).includes(p.entry);
    if (hit) found++;
    const k = (byKind[p.kind] ??= [0, 0]);
    k[0] += hit ? 1 : 0;
    k[1]++;
  }
  const partialFound = partials.filter((p) => m.hitEntries({ plate: p.read, at }).includes(p.entry)).length;
  const row: CurveRow = {
    name,
    buildMs: Math.round(buildMs),
    indexMb: round(m.memory().index.bytes / 2 ** 20, 1),
    recall: round(found / planted.length, 4),
    recallByKind: Object.fromEntries(Object.entries(byKind).map(([k, [a, b]]) => [k, round(a / b, 3)])),
    partialRecall: round(partialFound / Math.max(1, partials.length), 4),
    falseHitRate: round(f1 / reads.length, 5),
    falseHitRate5: round(f5 / reads.length, 5),
    falseHitRate5Gated: round(f5g / reads.length, 5),
  };
  log(`${name}: recall ${pct(row.recall)}, false hits ${pct(row.falseHitRate)} (5 candidates ${pct(row.falseHitRate5)}, gated ${pct(row.falseHitRate5Gated)})`);
  return row;
}

const round = (x: number, d: number): number => Math.round(x * 10 ** d) / 10 ** d;
const pct = (x: number): string => `${(100 * x).toFixed(3)}%`;

export async function measure(file: string, readCount: number, seed: number, at: number): Promise<MeasureResult> {
  gc();
  const rss0 = rssMb();
  const t0 = performance.now();
  const list = await readListFile(file);
  const t1 = performance.now();
  const k1 = new HotlistMatcher(list, { ...uniformEdits(1), fuzzyCandidates: 5, minCandidateScore: 0 });
  const t2 = performance.now();
  gc();
  const addedRssMb = rssMb() - rss0;
  log(`loaded ${list.table.size} entries in ${(t2 - t0).toFixed(0)} ms (read ${(t1 - t0).toFixed(0)}, index ${(t2 - t1).toFixed(0)}), +${addedRssMb.toFixed(1)} MB RSS`);

  // Random realistic reads that are not on the list (an exact hit means listed: draw again).
  const random = seededRandom(seed);
  const exact = new HotlistMatcher(list, { equivalence: [], ...uniformEdits(0) });
  const reads: BenchRead[] = [];
  while (reads.length < readCount) {
    const plate = randomPlate(random);
    const listed = exact.matchAll({ plate, at }).some((m) => m.kind === 'exact' && m.entry.plate === plate);
    if (!listed) reads.push(withAlternatives(plate, k1.eq, random));
  }

  // Lookup latency: 5 candidates, k = 1 on every candidate, wildcards.
  const timed = reads.slice(0, 20_000);
  for (const r of timed.slice(0, 2000)) k1.match({ plate: r.plate, candidates: r.candidates, at });
  const times = new Float64Array(timed.length);
  timed.forEach((r, i) => {
    const s = process.hrtime.bigint();
    k1.match({ plate: r.plate, candidates: r.candidates, at });
    times[i] = Number(process.hrtime.bigint() - s) / 1000;
  });
  const lookupMeanUs = times.reduce((a, b) => a + b, 0) / times.length;
  log(`lookup over 5 candidates, k=1: p50 ${quantile(times, 0.5).toFixed(1)} µs, p99 ${quantile(times, 0.99).toFixed(1)} µs`);

  // Linear baseline on a sample of the same reads, checked against the index's answers.
  const codes = new Uint8Array(list.table.size * MAX_PLATE_LENGTH);
  const lens = new Uint8Array(list.table.size);
  for (let i = 0; i < list.table.size; i++) {
    if (!list.table.isWildcard(i)) lens[i] = k1.index.codesOf(i, codes.subarray(i * MAX_PLATE_LENGTH));
  }
  const sample = reads.slice(0, 12);
  const read = new Uint8Array(MAX_PLATE_LENGTH);
  let linearUs = 0;
  let agrees = true;
  for (const r of sample) {
    const found = new Set<number>();
    const s = process.hrtime.bigint();
    for (const c of r.candidates) linearScan(k1, codes, lens, read, k1.eq.encode(c.text, read), 1, at, found);
    linearUs += Number(process.hrtime.bigint() - s) / 1000;
    const indexed = new Set(k1.hitEntries({ plate: r.plate, candidates: r.candidates, at }));
    if (indexed.size !== found.size || [...found].some((e) => !indexed.has(e))) agrees = false;
  }
  log(`linear scan: ${(linearUs / sample.length / 1000).toFixed(1)} ms a read (sample of ${sample.length}); same hits as the index: ${agrees}`);

  const planted = plantedMisreads(list.table, k1, 10_000, seed + 1);
  const partials = filledPartials(list.table, seed + 2);
  const curve = [
    curveRow('exact only', list, { equivalence: [], ...uniformEdits(0) }, reads, planted, partials, at),
    curveRow('look-alikes ×1, k=0', list, uniformEdits(0, 1), reads, planted, partials, at),
    curveRow('look-alikes, k=0', list, uniformEdits(0), reads, planted, partials, at),
    curveRow('look-alikes, k=1', list, uniformEdits(1), reads, planted, partials, at),
    curveRow('look-alikes, k=2', list, uniformEdits(2), reads, planted, partials, at),
    curveRow('default', list, {}, reads, planted, partials, at),
  ];
  const defaults = curve[curve.length - 1]!;
  const classes = DEFAULT_POLICY.equivalence.map((cls) => {
    const m = new HotlistMatcher(list, { equivalence: DEFAULT_POLICY.equivalence.filter((c) => c !== cls) });
    let f = 0;
    for (const r of reads) if (m.hitEntries({ plate: r.plate, at }).length) f++;
    const found = planted.filter((p) => m.hitEntries({ plate: p.read, at }).includes(p.entry)).length;
    // What the class adds: the default's figures minus those without it.
    return { cls, falseHitRate: round(defaults.falseHitRate - f / reads.length, 5), recall: round(defaults.recall - found / planted.length, 4) };
  });
  return {
    entries: list.table.size,
    wildcards: k1.wildcards.size,
    loadMs: Math.round(t2 - t0),
    readMs: Math.round(t1 - t0),
    indexMs: Math.round(t2 - t1),
    addedRssMb: round(addedRssMb, 1),
    indexMb: round(k1.memory().index.bytes / 2 ** 20, 1),
    tableMb: round(k1.memory().table / 2 ** 20, 1),
    lookupP50Us: round(quantile(times, 0.5), 1),
    lookupP99Us: round(quantile(times, 0.99), 1),
    lookupMeanUs: round(lookupMeanUs, 2),
    linearSample: sample.length,
    linearMeanUs: Math.round(linearUs / sample.length),
    linearAgrees: agrees,
    curve,
    classes,
    reads: reads.length,
    planted: planted.length,
  };
}

export { MISREAD_MIX };
