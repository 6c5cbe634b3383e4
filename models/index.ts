/**
 * The recognition stage's front door: picks the real or the scripted recogniser from config and
 * imports only what that one needs (the ONNX runtime is not loaded for the scripted twin). The
 * ONNX recogniser's models come from a model pack, chosen by name with `pack` (models/packs/).
 */
import type { OnnxRecognizerOptions } from './onnx-recognizer.ts';
import { ScriptedPlateRecognizer, type Script } from './scripted-recognizer.ts';
import type { PlateRecognizer } from './types.ts';

export interface CreateRecognizerOptions extends OnnxRecognizerOptions {
  readonly kind: 'onnx' | 'scripted';
  /** Run the ONNX recogniser in a worker thread (default true: inference never blocks the event loop). */
  readonly inWorker?: boolean;
  /** Worker only: restart a worker whose request takes longer than this; 0 disables. */
  readonly timeoutMs?: number;
  /** Scripted only: the reads to return. */
  readonly script?: Script;
  /** Scripted only. */
  readonly modelVersion?: string;
}

export async function createRecognizer(options: CreateRecognizerOptions): Promise<PlateRecognizer> {
  const { kind, inWorker, script, modelVersion, timeoutMs, ...onnx } = options;
  switch (kind) {
    case 'scripted':
      return new ScriptedPlateRecognizer({
        ...(script !== undefined && { script }),
        ...(modelVersion !== undefined && { modelVersion }),
        ...(onnx.maxImageSide !== undefined && { maxImageSide: onnx.maxImageSide }),
      });
    case 'onnx': {
      if (inWorker ?? true) {
        const { WorkerPlateRecognizer } = await import('./worker-recognizer.ts');
        return WorkerPlateRecognizer.create({ ...onnx, ...(timeoutMs !== undefined && { timeoutMs }) });
      }
      const { OnnxPlateRecognizer } = await import('./onnx-recognizer.ts');
      return OnnxPlateRecognizer.create(onnx);
    }
  }
}

export type { Box, Candidate, PlateRead, PlateRecognizer, RecognitionResult, RecognitionTimings, RgbImage } from './types.ts';
export {
  InvalidImageError,
  ModelLoadError,
  ModelPackError,
  RecognitionAbortedError,
  RecognizerClosedError,
  RecognizerWorkerError,
} from './errors.ts';
export type { ModelPackProblem } from './errors.ts';
export type { OnnxRecognizerOptions } from './onnx-recognizer.ts';
export { DEFAULT_PACK } from './packs/builtin.ts';
export { PackRegistry } from './packs/registry.ts';
export { SwitchablePlateRecognizer, tryReplacement, type SwitchOutcome } from './packs/switcher.ts';
export type { WorkerRecognizerOptions } from './worker-recognizer.ts';
export { ScriptedPlateRecognizer, type Script };
export { scriptedRead } from './scripted-recognizer.ts';
