/** Messages between WorkerPlateRecognizer (main thread) and models/worker.ts. */
import type { ModelPackProblem } from './errors.ts';
import type { OnnxRecognizerOptions } from './onnx-recognizer.ts';
import type { RecognitionResult } from './types.ts';

export interface WorkerInit {
  readonly options: OnnxRecognizerOptions;
}

export type ToWorker =
  | { readonly type: 'recognize'; readonly id: number; readonly width: number; readonly height: number; readonly data: Uint8Array }
  | { readonly type: 'close' };

export type FromWorker =
  | { readonly type: 'ready'; readonly modelVersion: string }
  | { readonly type: 'fatal'; readonly name: string; readonly message: string; readonly details?: ModelPackProblem }
  | { readonly type: 'result'; readonly id: number; readonly result: RecognitionResult }
  | { readonly type: 'error'; readonly id: number; readonly name: string; readonly message: string; readonly details?: ModelPackProblem }
  | { readonly type: 'closed' };
