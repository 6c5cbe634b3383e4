/**
 * Runs a recogniser over a dataset, one image at a time on the calling process: decode, recognise,
 * score. A file that cannot be decoded or recognised becomes an error row, never a crash.
 */
import { decodeImageFile } from './decode.ts';
import type { Dataset, Sample } from './dataset.ts';
import { HotlistMatcher } from '../../gateway/hotlist/matcher.ts';
import { tableFromEntries } from '../../gateway/hotlist/table.ts';
import type { ImageOutcome } from './metrics.ts';
import type { Progress } from './progress.ts';
import { randomPlates } from './random-plates.ts';
import { scoreImage, summariseRead } from './score.ts';
import type { PlateRead, PlateRecognizer, RgbImage } from '../types.ts';

export const DEFAULT_HOTLIST_SIZE = 100_000;
export const DEFAULT_HOTLIST_SEED = 20_240_601;

/**
 * A hot list of `plates` under the gateway's own matcher and default policy, so hit recall and
 * false hits are what the device would produce. Plates a list could not hold are left out.
 */
export function hotlistOf(plates: Iterable<string>): HotlistMatcher {
  const listable = [...new Set(plates)].filter((p) => /^[A-Z0-9]{2,10}$/.test(p));
  const table = tableFromEntries(listable.map((plate) => ({ id: plate, plate, listType: 'stolen-vehicle', priority: 70 })));
  return new HotlistMatcher({ info: { listId: 'eval', version: 'eval', generatedAt: 0, source: 'evaluation' }, table });
}

/** The dataset's own plates plus `size` random realistic ones. */
export function evaluationHotlist(dataset: Dataset, size = DEFAULT_HOTLIST_SIZE, seed = DEFAULT_HOTLIST_SEED): HotlistMatcher {
  const own = new Set(dataset.samples.flatMap((s) => s.truths.map((t) => t.plate)));
  return hotlistOf([...own, ...randomPlates(size, seed, own)]);
}

/** Called after each image with what the report may want to show; errors rows get no image. */
export type ImageInspector = (sample: Sample, outcome: ImageOutcome, image: RgbImage | undefined, reads: readonly PlateRead[]) => Promise<void>;

export interface RunOptions {
  readonly dataset: Dataset;
  readonly recognizer: PlateRecognizer;
  readonly hotlist: HotlistMatcher;
  /** Only the first N samples (in file-name order). */
  readonly limit?: number;
  /** Recognise the first image once, untimed, before measuring (ONNX Runtime's first run is slow). Default true. */
  readonly warmup?: boolean;
  readonly decode?: (file: string) => Promise<RgbImage>;
  readonly now?: () => number;
  readonly inspect?: ImageInspector;
  readonly progress?: Progress;
  readonly signal?: AbortSignal;
}

export async function runEvaluation(options: RunOptions): Promise<ImageOutcome[]> {
  const { dataset, recognizer } = options;
  const decode = options.decode ?? decodeImageFile;
  const now = options.now ?? (() => performance.now());
  const samples = options.limit !== undefined ? dataset.samples.slice(0, options.limit) : dataset.samples;
  if ((options.warmup ?? true) && samples[0]) {
    try {
      await recognizer.recognize(await decode(samples[0].path), options.signal);
    } catch {
      // The timed pass meets the same failure and records it as that image's error row.
    }
  }
  const outcomes: ImageOutcome[] = [];
  let exact = 0;
  for (const sample of samples) {
    options.signal?.throwIfAborted();
    const { outcome, image, reads } = await evaluateSample(sample, options, decode, now);
    outcomes.push(outcome);
    if (outcome.score?.truths.every((t) => t.exact)) exact++;
    await options.inspect?.(sample, outcome, image, reads);
    options.progress?.update(outcomes.length, `exact ${exact}/${outcomes.length}`);
  }
  options.progress?.finish();
  return outcomes;
}

async function evaluateSample(
  sample: Sample,
  options: RunOptions,
  decode: (file: string) => Promise<RgbImage>,
  now: () => number,
): Promise<{ outcome: ImageOutcome; image?: RgbImage; reads: readonly PlateRead[] }> {
  const t0 = now();
  let image: RgbImage;
  try {
    image = await decode(sample.path);
  } catch (err) {
    return { outcome: { file: sample.file, error: `cannot decode: ${(err as Error).message}`, reads: [] }, reads: [] };
  }
  const t1 = now();
  try {
    const result = await options.recognizer.recognize(image, options.signal);
    const t2 = now();
    const summaries = result.reads.map(summariseRead);
    const outcome: ImageOutcome = {
      file: sample.file,
      reads: summaries,
      score: scoreImage(sample.truths, summaries, options.hotlist),
      recogniseMs: t2 - t1,
      decodeMs: t1 - t0,
      detectMs: result.timings.detectMs,
      ocrMs: result.timings.recogniseMs,
    };
    return { outcome, image, reads: result.reads };
  } catch (err) {
    options.signal?.throwIfAborted();
    const e = err as Error;
    return { outcome: { file: sample.file, error: `cannot recognise: ${e.name}: ${e.message}`, reads: [] }, image, reads: [] };
  }
}
