/** Creating ONNX Runtime sessions with explicit, small thread counts (the pole unit shares its cores). */
import * as ort from 'onnxruntime-node';
import { ModelLoadError } from '../errors.ts';

export interface SessionOptions {
  /** Intra-op threads per session; default 1. */
  readonly threads?: number;
  /** ONNX Runtime's CPU memory arena: faster, far more resident memory (default on). */
  readonly memArena?: boolean;
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
      // ORT's CPU arena keeps its peak (the largest detector input's activations) for the life of
      // the session; without it buffers go back to malloc, ~8 % slower per frame (us-dev median).
      enableCpuMemArena: options.memArena ?? true,
      // No memory pattern: ORT would plan one block per input shape it has seen and keep each in
      // the arena, and the detector sees several (640 first pass, 416 windows, 960 retry); tensors
      // allocated one by one share the arena instead. Camera bench (issue #4): RSS 70–90 MB
      // lower; the bench clip's 1080p frames read in the same time within noise (in-process,
      // three interleaved runs: mean 115–143 ms per frame with the pattern, 121–138 without).
      enableMemPattern: false,
      // Idle pool threads sleep instead of spinning: a spinning thread takes the core from the
      // JavaScript thread's pre- and post-processing (and from ffmpeg on the pole). us-dev through
      // alpr eval, 2 threads: median 158 ms spinning, 95–110 without, 110–115 on one thread.
      ...(threads > 1 && { extra: { session: { intra_op: { allow_spinning: '0' } } } }),
    });
  } catch (err) {
    throw new ModelLoadError(`cannot load ${file}: ${(err as Error).message}`);
  }
}
