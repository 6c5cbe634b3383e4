/** Messages between WorkerPlateRecognizer (main thread) and models/worker.ts. */
import type { ModelPackProblem } from './errors.ts';
import type { OnnxRecognizerOptions } from './onnx-recognizer.ts';
import type { RecognitionResult } from './types.ts';

export interface WorkerInit {
  readonly options: OnnxRecognizerOptions;
}

export type ToWorker =
  | { readonly type: 'recognize'; readonly id: number; readonly width: number; readonly height: number; readonly data: Uint8Array; readonly format?: 'i420' }
  | { readonly type: 'close' };

/** `input`: the request's pixel buffer, transferred back when it came as a whole buffer (for reuse). */
export type FromWorker =
  | { readonly type: 'ready'; readonly modelVersion: string }
  | { readonly type: 'fatal'; readonly name: string; readonly message: string; readonly details?: ModelPackProblem }
  | { readonly type: 'result'; readonly id: number; readonly result: RecognitionResult; readonly input?: Uint8Array }
  | { readonly type: 'error'; readonly id: number; readonly name: string; readonly message: string; readonly details?: ModelPackProblem; readonly input?: Uint8Array }
  | { readonly type: 'closed' };
