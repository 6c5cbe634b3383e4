/**
 * Hot-list bench: a million generated realistic entries plus a thousand partial plates, written
 * as the device's list file, then loaded and matched in a child process (bench/hotlist-measure.ts)
 * so that its memory figures are the list's alone.
 *
 * Keys: entries, loadMs, addedRssMb, lookupP99Us, speedupVsLinear, falseHitRate (default policy,
 * one candidate per read), falseHitRate5 (default, four alternatives each), recallDefault, … .
 * The baseline is a linear scan (bounded Levenshtein over every entry, every pattern checked)
 * measured on a sample of the same reads in the same run; its per-read time is extrapolated.
 *
 * Options: --entries N (default 1,000,000), --reads N (default 100,000), --keep (keep the file).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeListFile } from '../gateway/hotlist/list-file.ts';
import { DEFAULT_POLICY } from '../gateway/hotlist/policy.ts';
import { generateEntries, MISREAD_MIX } from './hotlist-data.ts';
import type { MeasureResult } from './hotlist-measure.ts';
import type { Bench, BenchContext } from './run.ts';

const SEED = 20_260_601;
/** Reads and entries are judged at this instant (generation is relative to it). */
const AT = Date.parse('2026-06-01T12:00:00Z');

function option(args: readonly string[], name: string, fallback: number): number {
  const i = args.indexOf(`--${name}`);
  const v = i >= 0 ? Number(args[i + 1]) : fallback;
  if (!Number.isInteger(v) || v <= 0) throw new Error(`--${name}: expected a positive integer`);
  return v;
}

async function measureInChild(file: string, reads: number): Promise<MeasureResult> {
  const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', fileURLToPath(import.meta.url)], {
    env: { ...process.env, HOTLIST_BENCH_FILE: file, HOTLIST_BENCH_READS: String(reads) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  if (code !== 0) throw new Error(`measuring child exited with ${code}`);
  return JSON.parse(out.trim().split('\n').pop()!) as MeasureResult;
}

function report(ctx: BenchContext, r: MeasureResult): void {
  const pct = (x: number): string => `${(100 * x).toFixed(3)}%`.padStart(9);
  ctx.print(`\nload and index: ${r.loadMs} ms (read ${r.readMs}, index ${r.indexMs}); added RSS ${r.addedRssMb} MB (entries ${r.tableMb} MB, k=1 index ${r.indexMb} MB)`);
  ctx.print(`lookup, 5 candidates, k=1 on each, wildcards: p50 ${r.lookupP50Us} µs, p99 ${r.lookupP99Us} µs, mean ${r.lookupMeanUs} µs`);
  ctx.print(`linear scan, same reads: ${(r.linearMeanUs / 1000).toFixed(1)} ms a read, measured on ${r.linearSample} reads and extrapolated (agrees with the index: ${r.linearAgrees})`);
  ctx.print(`speed-up vs linear: ${Math.round(r.linearMeanUs / r.lookupMeanUs).toLocaleString('en-US')}×`);
  ctx.print(`\ntrade-off (${r.planted.toLocaleString('en-US')} planted misreads of listed plates; ${r.reads.toLocaleString('en-US')} random unlisted reads):`);
  ctx.print(`  misread mix: ${MISREAD_MIX.map(([k, w]) => `${k} ${w}%`).join(', ')}`);
  ctx.print('  policy              recall   false hits   …5 cand.  …5 gated  partial  index MB  build ms');
  for (const c of r.curve) {
    ctx.print(`  ${c.name.padEnd(18)}${pct(c.recall)}${pct(c.falseHitRate)}   ${pct(c.falseHitRate5)}${pct(c.falseHitRate5Gated)}${pct(c.partialRecall)}${String(c.indexMb).padStart(9)}${String(c.buildMs).padStart(10)}`);
  }
  ctx.print('  (false hits: the voted text alone; 5 cand.: with four OCR-style alternatives, all matched; gated: alternatives with ≥ 0.15 of the vote, the default)');
  ctx.print('  (look-alikes: any number of substitutions unless ×1; default: see below)');
  const kinds = Object.keys(r.curve[0]!.recallByKind);
  ctx.print(`\nrecall by misread kind:\n  ${'policy'.padEnd(18)}${kinds.map((k) => k.padStart(19)).join('')}`);
  for (const c of r.curve) ctx.print(`  ${c.name.padEnd(18)}${kinds.map((k) => pct(c.recallByKind[k] ?? 0).padStart(19)).join('')}`);
  ctx.print(`\nequivalence table (default policy; what each class adds):`);
  for (const c of r.classes) ctx.print(`  ${[...c.cls].join(' = ').padEnd(14)} recall +${pct(c.recall).trim()}   false hits +${pct(c.falseHitRate).trim()}`);
  ctx.print(`\ndefault look-alikes [fromLength, max]: ${JSON.stringify(DEFAULT_POLICY.lookalikes)}, by list type ${JSON.stringify(DEFAULT_POLICY.lookalikesByType)}`);
  ctx.print(`default edit distance [fromLength, k]: ${JSON.stringify(DEFAULT_POLICY.editDistance)}, by list type ${JSON.stringify(DEFAULT_POLICY.editDistanceByType)}`);
  ctx.print(`default alternatives: matched from ${DEFAULT_POLICY.minCandidateScore} of the vote; edits on the first ${DEFAULT_POLICY.fuzzyCandidates} candidate(s)`);
}

export const run: Bench = async (ctx) => {
  const entries = option(ctx.args, 'entries', 1_000_000);
  const reads = option(ctx.args, 'reads', 100_000);
  const dir = await mkdtemp(join(tmpdir(), 'hotlist-bench-'));
  const file = join(dir, 'bench.hotlist');
  try {
    ctx.print(`generating ${entries.toLocaleString('en-US')} entries + 1,000 partial plates (sealed blobs are random stand-ins of a real blob's size; the device never opens them)…`);
    let t = performance.now();
    const header = await writeListFile(file, { listId: 'bench', generatedAt: AT - 3600_000, source: 'bench (generated)' }, generateEntries(entries, 1000, SEED, AT));
    ctx.print(`  written in ${((performance.now() - t) / 1000).toFixed(1)} s: ${(header.fileBytes / 2 ** 20).toFixed(0)} MB file, of which ${(header.publicBytes / 2 ** 20).toFixed(0)} MB public section`);
    t = performance.now();
    const r = await measureInChild(file, reads);
    report(ctx, r);
    const defaults = r.curve.find((c) => c.name === 'default')!;
    ctx.print(`\nmeasured in ${((performance.now() - t) / 1000).toFixed(0)} s`);
    return {
      entries: r.entries,
      wildcards: r.wildcards,
      loadMs: r.loadMs,
      addedRssMb: r.addedRssMb,
      lookupP50Us: r.lookupP50Us,
      lookupP99Us: r.lookupP99Us,
      linearMeanUs: r.linearMeanUs,
      linearExtrapolated: true,
      speedupVsLinear: Math.round(r.linearMeanUs / r.lookupMeanUs),
      falseHitRate: defaults.falseHitRate,
      falseHitRate5: defaults.falseHitRate5,
      falseHitRate5Gated: defaults.falseHitRate5Gated,
      recallDefault: defaults.recall,
      recallK1: r.curve.find((c) => c.name === 'look-alikes, k=1')!.recall,
      falseHitRateK1: r.curve.find((c) => c.name === 'look-alikes, k=1')!.falseHitRate,
    };
  } finally {
    if (!ctx.args.includes('--keep')) await rm(dir, { recursive: true, force: true });
    else ctx.print(`kept ${file}`);
  }
};

if (process.env.HOTLIST_BENCH_FILE) {
  const { measure } = await import('./hotlist-measure.ts');
  const result = await measure(process.env.HOTLIST_BENCH_FILE, Number(process.env.HOTLIST_BENCH_READS ?? 100_000), SEED + 7, AT);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
