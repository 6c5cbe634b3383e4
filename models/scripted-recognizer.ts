/**
 * The recogniser's twin: returns reads it was given, so the pipeline, tracking and hot-list code
 * can be tested without models. Validates its input like the real one, so bad frames fail alike.
 */
import { RecognitionAbortedError, RecognizerClosedError } from './errors.ts';
import { DEFAULT_MAX_IMAGE_SIDE, validateImage } from './image.ts';
import type { PlateImage, PlateRead, PlateRecognizer, RecognitionResult, RgbImage } from './types.ts';
import { toRgb } from './yuv.ts';

/** Reads for the n-th call (0-based); a fixed list is returned for every call. */
export type Script = readonly PlateRead[] | ((image: RgbImage, call: number) => readonly PlateRead[]);

export interface ScriptedRecognizerOptions {
  readonly script?: Script;
  readonly modelVersion?: string;
  readonly maxImageSide?: number;
}

export class ScriptedPlateRecognizer implements PlateRecognizer {
  readonly modelVersion: string;
  private calls = 0;
  private closed = false;

  constructor(private readonly options: ScriptedRecognizerOptions = {}) {
    this.modelVersion = options.modelVersion ?? 'scripted-1';
  }

  /** How many times recognize() has been called. */
  get callCount(): number {
    return this.calls;
  }

  async recognize(image: PlateImage, signal?: AbortSignal): Promise<RecognitionResult> {
    if (this.closed) throw new RecognizerClosedError();
    validateImage(image, this.options.maxImageSide ?? DEFAULT_MAX_IMAGE_SIDE);
    if (signal?.aborted) throw new RecognitionAbortedError();
    const script = this.options.script ?? [];
    // Scripts read RGB, as the real recogniser does (a camera frame is I420).
    const reads = typeof script === 'function' ? script(toRgb(image), this.calls) : script;
    this.calls++;
    return { reads: [...reads], timings: { detectMs: 0, recogniseMs: 0, postprocessMs: 0, totalMs: 0 } };
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

/** A PlateRead for scripts: fills the fields a test does not care about. */
export function scriptedRead(text: string, overrides: Partial<PlateRead> = {}): PlateRead {
  const charConfidences = overrides.charConfidences ?? [...text].map(() => 0.99);
  const confidence = overrides.confidence ?? 0.95;
  return {
    text,
    charConfidences,
    confidence,
    box: { x: 0, y: 0, width: 200, height: 100 },
    candidates: [{ text, score: confidence }],
    crop: new Uint8Array(0),
    ...overrides,
  };
}
