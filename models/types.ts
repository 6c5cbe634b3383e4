/**
 * The recognition contract: what a frame goes in as and what plate reads come out as.
 * Shared by the gateway pipeline, the evaluation CLI and the worker that owns the ONNX sessions.
 */

/** A decoded image, packed RGB, 3 bytes per pixel, row-major, no padding. */
export interface RgbImage {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array; // length === width * height * 3
}

/**
 * A decoded camera frame as cameras deliver it: I420 (planar YUV 4:2:0: the Y plane, then U and V
 * at half the width and height each, rounded up), BT.601 limited range. Half the bytes of RGB.
 * models/yuv.ts converts it.
 */
export interface YuvImage {
  readonly format: 'i420';
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array; // length === i420Bytes(width, height)
}

/** What a recogniser reads: packed RGB, or an I420 camera frame (converted where it is read). */
export type PlateImage = RgbImage | YuvImage;

/** Axis-aligned box in the source image, pixels. */
export interface Box {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/** One alternative reading of a plate with its score (product of per-character probabilities). */
export interface Candidate {
  readonly text: string;
  readonly score: number;
}

/** One plate in one frame. */
export interface PlateRead {
  /** Best reading, upper-case A–Z and 0–9 only. */
  readonly text: string;
  /** Probability of each character of `text`, same length as `text`. */
  readonly charConfidences: readonly number[];
  /** Overall confidence 0–1 (geometric mean of the character probabilities, times the box score). */
  readonly confidence: number;
  readonly box: Box;
  /** Top-N alternatives, best first; candidates[0].text === text. */
  readonly candidates: readonly Candidate[];
  /** JPEG of the rectified plate crop. */
  readonly crop: Uint8Array;
  /** Two-letter state code when recognised from the plate, lower-case (e.g. "ca"). */
  readonly state?: string;
}

/** Per-stage timings of one recognise() call, milliseconds. */
export interface RecognitionTimings {
  readonly detectMs: number;
  readonly recogniseMs: number;
  readonly postprocessMs: number;
  readonly totalMs: number;
}

export interface RecognitionResult {
  readonly reads: readonly PlateRead[];
  readonly timings: RecognitionTimings;
}

/** Anything that turns an image into plate reads. Implementations: ONNX (real), scripted (twin). */
export interface PlateRecognizer {
  /** Identifies the model pack and version, stamped into every detection. */
  readonly modelVersion: string;
  recognize(image: PlateImage, signal?: AbortSignal): Promise<RecognitionResult>;
  close(): Promise<void>;
}
