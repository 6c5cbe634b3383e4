/**
 * PP-OCRv4 CTC text recogniser: quadrilaterals of an image → plate-alphabet readings with
 * per-character probabilities and top-N alternatives.
 */
import * as ort from 'onnxruntime-node';
import { quadSize, type Quad } from '../geometry.ts';
import { warpQuad } from '../image.ts';
import type { RgbImage } from '../types.ts';
import {
  alignedCharProbs,
  beamSearch,
  buildClassMap,
  foldSymbol,
  greedyDecodeFull,
  restrictSteps,
  type ClassMap,
  type ScoredText,
  type StepMatrix,
} from './ctc.ts';

export const REC_HEIGHT = 48;
/** The width the model was trained at; narrower batches are padded up to it. */
const REC_MIN_WIDTH = 320;
/** No crop is stretched past 12:1 (a plate's character line is about 4:1). */
export const REC_MAX_WIDTH = REC_HEIGHT * 12;

export interface RecognizerOptions {
  /** Crops per inference call; default 8. */
  readonly batchSize?: number;
  /** Candidates per reading; default 5. */
  readonly topN?: number;
  /** CTC beam width; default 16. */
  readonly beamWidth?: number;
  /** Symbol pairs folded before decoding (from → to); default O → 0 (see foldSymbol). */
  readonly fold?: Readonly<Record<string, string>>;
}

export interface TextReading {
  /** Best string (A–Z, 0–9), possibly empty. */
  readonly text: string;
  readonly charProbs: readonly number[];
  /** Best first; candidates[0].text === text whenever text is non-empty. */
  readonly candidates: readonly ScoredText[];
  /** The per-step distributions over the plate alphabet, after folding: for re-ranking and geometry. */
  readonly lattice: StepMatrix;
  /** Width of the crop fed to the model, pixels at model height (steps map onto it linearly). */
  readonly cropWidth: number;
  /** Crop pixels per lattice step (the model downsamples the width by a fixed factor). */
  readonly stepWidth: number;
}

/** The model's raw reading of one crop, before any decoding. */
interface RawOutput {
  readonly data: Float32Array;
  readonly offset: number;
  readonly steps: number;
  readonly classes: number;
  readonly cropWidth: number;
  readonly stepWidth: number;
}

/** The crop's width at recogniser height, keeping its aspect. */
export function recWidthFor(quad: Quad): number {
  const { width, height } = quadSize(quad);
  const w = Math.round((REC_HEIGHT * width) / Math.max(1, height));
  return Math.min(REC_MAX_WIDTH, Math.max(REC_HEIGHT / 2, w));
}

export class TextRecognizer {
  private classMap: ClassMap | undefined;

  constructor(
    private readonly session: ort.InferenceSession,
    private readonly dictionary: readonly string[],
    private readonly options: RecognizerOptions = {},
  ) {}

  /** Plate-alphabet readings of the quadrilaterals of `image`. */
  async recognize(image: RgbImage, quads: readonly Quad[]): Promise<TextReading[]> {
    return this.recognizeCrops(quads.map((q) => warpQuad(image, q, recWidthFor(q), REC_HEIGHT)));
  }

  /** Plate-alphabet readings of crops already at model height. */
  async recognizeCrops(crops: readonly RgbImage[]): Promise<TextReading[]> {
    const raw = await this.run(crops);
    return raw.map((r) => this.decode(r));
  }

  /** Free text over the model's whole dictionary (state names, slogans), best path. */
  async readText(image: RgbImage, quads: readonly Quad[], maxWidth = REC_MAX_WIDTH): Promise<string[]> {
    const raw = await this.run(quads.map((q) => warpQuad(image, q, Math.min(maxWidth, recWidthFor(q)), REC_HEIGHT)));
    return raw.map((r) => greedyDecodeFull(r.data, r.offset, r.steps, r.classes, this.dictionary));
  }

  private decode(r: RawOutput): TextReading {
    this.classMap ??= buildClassMap(this.dictionary, r.classes);
    const m = restrictSteps(r.data, r.offset, r.steps, this.classMap);
    for (const [from, to] of Object.entries(this.options.fold ?? { O: '0' })) foldSymbol(m, from, to);
    const candidates = beamSearch(m, {
      topN: this.options.topN ?? 5,
      beamWidth: this.options.beamWidth ?? 16,
    }).filter((c) => c.text.length > 0);
    const text = candidates[0]?.text ?? '';
    return { text, charProbs: alignedCharProbs(m, text), candidates, lattice: m, cropWidth: r.cropWidth, stepWidth: r.stepWidth };
  }

  private async run(crops: readonly RgbImage[]): Promise<RawOutput[]> {
    // Similar widths share a batch so little of each tensor is padding.
    const order = crops.map((_, i) => i).sort((a, b) => crops[a]!.width - crops[b]!.width);
    const out: RawOutput[] = new Array<RawOutput>(crops.length);
    const batchSize = this.options.batchSize ?? 8;
    for (let i = 0; i < order.length; i += batchSize) {
      const idx = order.slice(i, i + batchSize);
      const raws = await this.runBatch(idx.map((j) => crops[j]!));
      idx.forEach((j, k) => {
        out[j] = raws[k]!;
      });
    }
    return out;
  }

  private async runBatch(crops: readonly RgbImage[]): Promise<RawOutput[]> {
    const padW = Math.max(REC_MIN_WIDTH, ...crops.map((c) => Math.ceil(c.width / 8) * 8));
    const n = crops.length;
    const plane = REC_HEIGHT * padW;
    const data = new Float32Array(n * 3 * plane); // zero = mid-grey after normalisation
    crops.forEach((crop, b) => {
      for (let c = 0; c < 3; c++) {
        const src = 2 - c; // BGR planes, as the model was trained (OpenCV order)
        const base = (b * 3 + c) * plane;
        for (let y = 0; y < REC_HEIGHT; y++) {
          for (let x = 0; x < crop.width; x++) {
            data[base + y * padW + x] = crop.data[(y * crop.width + x) * 3 + src]! / 127.5 - 1;
          }
        }
      }
    });
    const input = new ort.Tensor('float32', data, [n, 3, REC_HEIGHT, padW]);
    const outputs = await this.session.run({ [this.session.inputNames[0]!]: input });
    const out = outputs[this.session.outputNames[0]!];
    if (!out) throw new Error('recogniser: model produced no output');
    const [, steps, classes] = out.dims as [number, number, number];
    const probs = out.data as Float32Array;
    // Steps cover the padded width; a crop's own steps are a prefix of them.
    return crops.map((crop, b) => ({ data: probs, offset: b * steps * classes, steps, classes, cropWidth: crop.width, stepWidth: padW / steps }));
  }
}
