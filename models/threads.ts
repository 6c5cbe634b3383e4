/**
 * How many intra-op threads each ONNX session gets. Kept apart from the sessions so that callers
 * which only report the figure (alpr eval) do not load the runtime.
 */
import { availableParallelism } from 'node:os';

/** The detector's threads unless configured: two where the unit has them (Pi 4 and Jetson have 4+). */
export const DEFAULT_DETECTOR_THREADS = 2;

export interface ThreadOptions {
  /** Intra-op threads of the plate recognisers' sessions (small crops); default 1. */
  readonly threads?: number;
  /**
   * Intra-op threads of the text detector's session, where most of a frame's time goes (its
   * convolutions over the whole frame split well over cores); default the larger of `threads` and
   * DEFAULT_DETECTOR_THREADS, capped by the cores the process has. Measured in-process on the
   * 2-core box, one detector run: 640×352 27.9 → 18.6 ms, 960×544 71.4 → 45.1 ms on 2 threads.
   */
  readonly detectorThreads?: number;
}

/** The detector's thread count for `options` on a machine with `cores` cores. */
export function detectorThreads(options: ThreadOptions, cores = availableParallelism()): number {
  return options.detectorThreads ?? Math.max(options.threads ?? 1, Math.min(DEFAULT_DETECTOR_THREADS, cores));
}
