/**
 * PP-OCRv4 DBNet text detector: image → text-line rectangles with scores, in source coordinates.
 */
import * as ort from 'onnxruntime-node';
import { rectCorners, type Quad, type RotatedRect } from '../geometry.ts';
import { resizeRgb } from '../image.ts';
import type { RgbImage } from '../types.ts';
import { boxesFromProbMap, DEFAULT_DB_OPTIONS, type DbPostprocessOptions } from './db-postprocess.ts';

export interface DetectorOptions extends Partial<DbPostprocessOptions> {
  /** The longer side is scaled down to at most this; default 960. */
  readonly maxSide?: number;
  /**
   * …and small images scaled up so the longer side is at least this; default 512. The detector
   * was trained on text a few dozen pixels tall and finds nothing in a 75×37 plate crop as is.
   */
  readonly minSide?: number;
}

export interface TextBox {
  /** Rotated rectangle in source pixels, unclipped. */
  readonly rect: RotatedRect;
  /** The same rectangle's corners (tl, tr, br, bl). */
  readonly quad: Quad;
  /** Mean text probability inside the (shrunk) region. */
  readonly score: number;
}

// ImageNet statistics, applied in the channel order the model was trained on (OpenCV's BGR).
const MEAN = [0.485, 0.456, 0.406] as const;
const STD = [0.229, 0.224, 0.225] as const;

/** Detector input size: longer side ≤ maxSide, both sides rounded to multiples of 32 (≥ 32). */
export function detectorInputSize(width: number, height: number, maxSide: number, minSide = 0): { width: number; height: number } {
  const longer = Math.max(width, height);
  const scale = longer < minSide ? Math.min(minSide, maxSide) / longer : Math.min(1, maxSide / longer);
  const round32 = (v: number): number => Math.max(32, Math.round((v * scale) / 32) * 32);
  return { width: round32(width), height: round32(height) };
}

/**
 * RGB bytes → normalised BGR planes (NCHW), written to `into` when it is given (its first
 * 3·width·height values; it must hold that many).
 */
export function detectorTensorData(image: RgbImage, into?: Float32Array): Float32Array {
  const { width, height, data } = image;
  const plane = width * height;
  if (into && into.length < 3 * plane) throw new RangeError(`detectorTensorData: buffer of ${into.length} values, ${3 * plane} needed`);
  const out = into ? into.subarray(0, 3 * plane) : new Float32Array(3 * plane);
  for (let c = 0; c < 3; c++) {
    const src = 2 - c; // BGR plane c takes RGB channel 2 - c
    const lut = NORMALISED[c]!;
    const base = c * plane;
    for (let i = 0; i < plane; i++) out[base + i] = lut[data[i * 3 + src]!]!;
  }
  return out;
}

/** Each BGR plane's normalised value of every byte: a lookup instead of a division per value. */
const NORMALISED: readonly Float32Array[] = [0, 1, 2].map((c) => Float32Array.from({ length: 256 }, (_, v) => (v / 255 - MEAN[c]!) / STD[c]!));

export class TextDetector {
  private readonly options: DetectorOptions;
  /**
   * The input tensor's values, reused from one detection to the next (issue #4): a fresh 2.7 MB
   * (640 pass) or 6.3 MB (960 pass) array per detection left the worker holding some 24 MB of
   * them, waiting for its collector, at the camera bench's peak. Absent while a detection uses it.
   */
  private inputBuffer: Float32Array | undefined = new Float32Array(0);

  constructor(
    private readonly session: ort.InferenceSession,
    options: DetectorOptions = {},
  ) {
    this.options = options;
  }

  /** `db` overrides the post-processing options for this call (a more permissive first pass, say). */
  async detect(
    image: RgbImage,
    maxSide = this.options.maxSide ?? 960,
    minSide = this.options.minSide ?? 512,
    db: Partial<DbPostprocessOptions> = {},
  ): Promise<TextBox[]> {
    const size = detectorInputSize(image.width, image.height, maxSide, minSide);
    const resized = await resizeRgb(image, size.width, size.height);
    const needed = 3 * size.width * size.height;
    // Taken for the run (ONNX Runtime reads it until run() resolves); a second detection running
    // meanwhile gets one of its own.
    let buffer = this.inputBuffer ?? new Float32Array(needed);
    this.inputBuffer = undefined;
    if (buffer.length < needed) buffer = new Float32Array(needed);
    let outputs: ort.InferenceSession.OnnxValueMapType;
    try {
      const input = new ort.Tensor('float32', detectorTensorData(resized, buffer), [1, 3, size.height, size.width]);
      outputs = await this.session.run({ [this.session.inputNames[0]!]: input });
    } finally {
      this.inputBuffer = buffer;
    }
    const out = outputs[this.session.outputNames[0]!];
    if (!out) throw new Error('detector: model produced no output');
    const [, , mh, mw] = out.dims as [number, number, number, number];
    const prob = out.data as Float32Array;
    const { maxSide: _max, minSide: _min, ...own } = this.options;
    const rects = boxesFromProbMap(prob, mw, mh, { ...DEFAULT_DB_OPTIONS, ...stripUndefined(own), ...stripUndefined(db) });
    const sx = image.width / mw;
    const sy = image.height / mh;
    return rects.map(({ rect, score }) => {
      const mapped = scaleRect(rect, sx, sy);
      return { rect: mapped, quad: rectCorners(mapped), score };
    });
  }
}

/**
 * Scales a rotated rectangle by (sx, sy). With sx ≠ sy a rotated rectangle becomes a
 * parallelogram; the resize keeps the aspect within a 32-pixel rounding, so this re-derives the
 * axis and extents from the scaled corner vectors, which is exact when sx = sy.
 */
function scaleRect(r: RotatedRect, sx: number, sy: number): RotatedRect {
  const ax = r.ux * sx;
  const ay = r.uy * sy;
  const la = Math.hypot(ax, ay);
  const bx = -r.uy * sx;
  const by = r.ux * sy;
  const lb = Math.hypot(bx, by);
  // Map pixel i covers source [i·s, (i+1)·s), so its centre lands at (i + 0.5)·s.
  return { cx: (r.cx + 0.5) * sx, cy: (r.cy + 0.5) * sy, ux: ax / la, uy: ay / la, width: r.width * la, height: r.height * lb };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
