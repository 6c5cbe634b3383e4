/** Creating ONNX Runtime sessions with explicit, small thread counts (the pole unit shares its cores). */
import * as ort from 'onnxruntime-node';
import { ModelLoadError } from '../errors.ts';

export interface SessionOptions {
  /** Intra-op threads per session; default 1. */
  readonly threads?: number;
}

export async function createSession(file: string, options: SessionOptions = {}): Promise<ort.InferenceSession> {
  const threads = options.threads ?? 1;
  if (!Number.isInteger(threads) || threads < 1 || threads > 64) {
    throw new RangeError(`threads: expected an integer 1–64, got ${String(threads)}`);
  }
  try {
    return await ort.InferenceSession.create(file, {
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
    });
  } catch (err) {
    throw new ModelLoadError(`cannot load ${file}: ${(err as Error).message}`);
  }
}
