/**
 * `alpr eval <folder> [--json] [--report file.html] [--pack name] [--limit N]`: measures plate
 * recognition on a benchmark folder (scenes or crops, see dataset.ts) with the metrics of the
 * benchmark README. Progress goes to stderr; the result to stdout (with --json: one JSON object
 * on the last line).
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_PACK } from '../packs/builtin.ts';
import { detectorThreads } from '../threads.ts';
import type { PlateRecognizer } from '../types.ts';
import type { CliIo } from './cli-io.ts';
import { DatasetError, loadDataset, type Dataset } from './dataset.ts';
import { computeMetrics, type EvalMetrics, type ImageOutcome } from './metrics.ts';
import { createProgress } from './progress.ts';
import { renderReport, ReportCollector } from './report-html.ts';
import { DEFAULT_HOTLIST_SEED, DEFAULT_HOTLIST_SIZE, evaluationHotlist, runEvaluation } from './runner.ts';

export const EVAL_USAGE = `usage: alpr eval <folder> [options]

Measures plate recognition on a benchmark folder: scenes (an image and a .txt per plate) or
crops (groundtruth.csv). See ../shared/benchmarks/README.md for both formats.

options:
  --json               print one JSON object (last line of stdout) instead of a summary
  --report <file>      also write a self-contained HTML report (misreads, confusions)
  --pack <name>        model pack (default ${DEFAULT_PACK})
  --pack-dir <dir>     also look for packs here (repeatable)
  --crnn <dir>         the plate CRNN pack combined with the pack's recogniser (default models/packs/plate-crnn)
  --crnn-weight <w>    weight of the CRNN's log-probabilities (default 0.5, as the gateway)
  --plate-det <dir>    the plate detector's pack (default models/packs/plate-det); "off" reads without it
  --limit <n>          only the first n images, in file-name order
  --threads <n>        ONNX Runtime threads of the recognisers' sessions (default 1, as the gateway)
  --detector-threads <n>  …of the text detector's session (default as the gateway: 2 on 2 cores or more)
  --hotlist-size <n>   random plates added to the hot list (default ${DEFAULT_HOTLIST_SIZE})
  --seed <n>           seed of the random hot-list plates (default ${DEFAULT_HOTLIST_SEED})
  -h, --help           this text`;

export interface RecognizerRequest {
  readonly pack?: string;
  readonly packDirs: readonly string[];
  readonly threads: number;
  readonly detectorThreads?: number;
  readonly crnnPackDir?: string;
  readonly crnnWeight?: number;
  /** A plate-det pack folder, or false for none. */
  readonly plateDetPackDir?: string | false;
}

export interface EvalDeps {
  /** Builds the recogniser under test; default the ONNX recogniser on this thread (no worker hop in the timings). */
  readonly createRecognizer?: (request: RecognizerRequest) => Promise<PlateRecognizer>;
  readonly now?: () => number;
  /** Clock for the report's date. */
  readonly date?: () => Date;
}

/** The result as printed with --json. */
export interface EvalResult extends EvalMetrics {
  readonly dataset: string;
  readonly datasetDir: string;
  readonly format: Dataset['format'];
  readonly pack: string;
  readonly modelVersion: string;
  readonly hotlistSize: number;
  readonly threads: number;
  /** The detector session's threads (as detectorThreads() resolves the request). */
  readonly detectorThreads: number;
  readonly skippedLines: number;
  readonly report?: string;
}

class UsageError extends Error {}

function positiveInt(name: string, raw: string | undefined, fallback: number, min = 1): number {
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min) throw new UsageError(`--${name}: expected an integer ≥ ${min}, got ${JSON.stringify(raw)}`);
  return Number(raw);
}

function parse(argv: readonly string[]) {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        json: { type: 'boolean', default: false },
        report: { type: 'string' },
        pack: { type: 'string' },
        'pack-dir': { type: 'string', multiple: true },
        crnn: { type: 'string' },
        'crnn-weight': { type: 'string' },
        'plate-det': { type: 'string' },
        limit: { type: 'string' },
        threads: { type: 'string' },
        'detector-threads': { type: 'string' },
        'hotlist-size': { type: 'string' },
        seed: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) return { help: true as const };
  if (positionals.length !== 1) throw new UsageError(positionals.length ? `expected one folder, got ${positionals.length}` : 'which folder? expected alpr eval <folder>');
  return {
    help: false as const,
    folder: positionals[0]!,
    json: values.json,
    report: values.report,
    pack: values.pack,
    packDirs: values['pack-dir'] ?? [],
    crnn: values.crnn,
    crnnWeight: crnnWeight(values['crnn-weight']),
    plateDet: values['plate-det'],
    limit: values.limit !== undefined ? positiveInt('limit', values.limit, 0) : undefined,
    threads: positiveInt('threads', values.threads, 1),
    detectorThreads: values['detector-threads'] !== undefined ? positiveInt('detector-threads', values['detector-threads'], 1) : undefined,
    hotlistSize: positiveInt('hotlist-size', values['hotlist-size'], DEFAULT_HOTLIST_SIZE, 0),
    seed: positiveInt('seed', values.seed, DEFAULT_HOTLIST_SEED, 0),
  };
}

function crnnWeight(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const w = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(w) || w <= 0) throw new UsageError(`--crnn-weight: expected a number > 0, got ${JSON.stringify(raw)}`);
  return w;
}

async function defaultRecognizer(request: RecognizerRequest): Promise<PlateRecognizer> {
  const { createRecognizer } = await import('../index.ts');
  return createRecognizer({
    kind: 'onnx',
    inWorker: false,
    threads: request.threads,
    ...(request.detectorThreads !== undefined && { detectorThreads: request.detectorThreads }),
    packDirs: request.packDirs,
    ...(request.pack !== undefined && { pack: request.pack }),
    ...(request.crnnPackDir !== undefined && { crnnPackDir: request.crnnPackDir }),
    ...(request.crnnWeight !== undefined && { crnnWeight: request.crnnWeight }),
    ...(request.plateDetPackDir !== undefined && { plateDetPackDir: request.plateDetPackDir }),
  });
}

export async function evalCommand(argv: readonly string[], io: CliIo, deps: EvalDeps = {}): Promise<number> {
  let args;
  try {
    args = parse(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    io.stderr.write(`alpr eval: ${err.message}\n\n${EVAL_USAGE}\n`);
    return 2;
  }
  if (args.help) {
    io.stdout.write(`${EVAL_USAGE}\n`);
    return 0;
  }
  let dataset: Dataset;
  try {
    dataset = await loadDataset(path.resolve(io.cwd, args.folder));
  } catch (err) {
    if (!(err instanceof DatasetError)) throw err;
    io.stderr.write(`alpr eval: ${err.message}\n`);
    return 1;
  }
  for (const line of dataset.skipped) io.stderr.write(`alpr eval: skipped ${line}\n`);

  let recognizer: PlateRecognizer;
  try {
    recognizer = await (deps.createRecognizer ?? defaultRecognizer)({
      packDirs: args.packDirs.map((d) => path.resolve(io.cwd, d)),
      threads: args.threads,
      ...(args.detectorThreads !== undefined && { detectorThreads: args.detectorThreads }),
      ...(args.pack !== undefined && { pack: args.pack }),
      ...(args.crnn !== undefined && { crnnPackDir: path.resolve(io.cwd, args.crnn) }),
      ...(args.crnnWeight !== undefined && { crnnWeight: args.crnnWeight }),
      ...(args.plateDet !== undefined && { plateDetPackDir: args.plateDet === 'off' ? false : path.resolve(io.cwd, args.plateDet) }),
    });
  } catch (err) {
    io.stderr.write(`alpr eval: cannot load the recogniser: ${(err as Error).message}\n`);
    return 1;
  }
  const collector = args.report !== undefined ? new ReportCollector() : undefined;
  let outcomes: ImageOutcome[];
  let hotlistSize: number;
  try {
    const hotlist = evaluationHotlist(dataset, args.hotlistSize, args.seed);
    hotlistSize = hotlist.size;
    const total = args.limit !== undefined ? Math.min(args.limit, dataset.samples.length) : dataset.samples.length;
    outcomes = await runEvaluation({
      dataset,
      recognizer,
      hotlist,
      ...(args.limit !== undefined && { limit: args.limit }),
      ...(deps.now && { now: deps.now }),
      ...(collector && { inspect: collector.inspect }),
      progress: createProgress(io.stderr, total, `eval ${dataset.name}`),
    });
  } finally {
    await recognizer.close();
  }
  const metrics = computeMetrics(outcomes);
  const result: EvalResult = {
    dataset: dataset.name,
    datasetDir: dataset.dir,
    format: dataset.format,
    pack: args.pack ?? DEFAULT_PACK,
    modelVersion: recognizer.modelVersion,
    ...metrics,
    hotlistSize,
    threads: args.threads,
    detectorThreads: detectorThreads(args),
    skippedLines: dataset.skipped.length,
  };
  let reportPath: string | undefined;
  if (collector && args.report !== undefined) {
    reportPath = path.resolve(io.cwd, args.report);
    const html = renderReport(
      { dataset: dataset.name, format: dataset.format, pack: result.pack, modelVersion: result.modelVersion, createdAt: (deps.date?.() ?? new Date()).toISOString(), hotlistSize },
      metrics,
      collector,
    );
    await writeAtomically(reportPath, html);
  }
  for (const o of outcomes) if (o.error !== undefined) io.stderr.write(`alpr eval: ${o.file}: ${o.error}\n`);
  if (args.json) io.stdout.write(`${JSON.stringify({ ...result, ...(reportPath && { report: reportPath }) })}\n`);
  else io.stdout.write(formatSummary(result, dataset, reportPath));
  return metrics.images === 0 ? 1 : 0;
}

async function writeAtomically(file: string, text: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, text);
  await rename(tmp, file);
}

const pct = (v: number | null): string => (v === null ? '—' : `${(100 * v).toFixed(1)}%`);

export function formatSummary(r: EvalResult, dataset: Dataset, reportPath?: string): string {
  const lines = [
    `${r.dataset} (${r.format}, ${r.images} images${r.errors ? `, ${r.errors} errors` : ''}) — pack ${r.pack} (${r.modelVersion})`,
    `  exact read rate   ${pct(r.exactRate)}`,
    `  top-3 read rate   ${pct(r.top3Rate)}`,
    `  no-plate rate     ${pct(r.noPlateRate)}`,
    `  hit recall        ${pct(r.hitRecall)}   (hot list of ${r.hotlistSize.toLocaleString('en-US')}; the gateway's matcher, default policy)`,
    `  false-hit rate    ${pct(r.falseHitRate)}   (images with a hit on another entry)`,
    `  state rate        ${r.stateRate === null ? '—  (no states in this dataset)' : pct(r.stateRate)}`,
    `  recognise ms      median ${r.medianMs}, p95 ${r.p95Ms}   (decode median ${r.decodeMs}, not included; threads: detector ${r.detectorThreads}, recognisers ${r.threads})`,
  ];
  if (dataset.unlabelled.length) lines.push(`  ${dataset.unlabelled.length} images without ground truth were not evaluated`);
  if (reportPath) lines.push(`  report: ${reportPath}`);
  return `${lines.join('\n')}\n`;
}
