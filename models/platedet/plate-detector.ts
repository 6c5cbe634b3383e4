/**
 * Our own plate detector (models/training/train_det.py, trained on synthetic street scenes only):
 * a small fully convolutional network whose one output is, per cell of a 1/4-scale map, the
 * probability that the cell lies on a licence plate. It finds whole plates where the text
 * detector, at the same input size, sees no text (a plate 40 px wide in a 640 px frame, a night
 * plate). The map is post-processed like DBNet's (binarise, components, minimum-area rectangles,
 * box score) without the unclip: the network marks the whole plate, not a shrunk core.
 */
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { z } from 'zod';
import { ModelPackError } from '../errors.ts';
import { quadBounds, rectCorners } from '../geometry.ts';
import { resizeRgb } from '../image.ts';
import { openOwnPack } from '../packs/own-pack.ts';
import { boxesFromProbMap } from '../ppocr/db-postprocess.ts';
import { detectorInputSize } from '../ppocr/detector.ts';
import { createSession } from '../ppocr/session.ts';
import type { Box, RgbImage } from '../types.ts';

const manifestSchema = z.object({
  name: z.string(),
  version: z.string(),
  kind: z.literal('plate-detector'),
  files: z.array(z.object({ path: z.string(), sha256: z.string().regex(/^[0-9a-f]{64}$/), bytes: z.number().int() })).min(1),
  input: z.object({
    name: z.string(),
    channels: z.literal(3),
    layout: z.literal('NCHW'),
    colour: z.enum(['RGB', 'BGR']),
    multipleOf: z.number().int().positive(),
    normalise: z.object({
      mean: z.tuple([z.number(), z.number(), z.number()]),
      std: z.tuple([z.number().positive(), z.number().positive(), z.number().positive()]),
      scale: z.number().positive(),
    }),
  }),
  output: z.object({ name: z.string(), stride: z.number().int().positive() }),
});
export type PlateDetManifest = z.infer<typeof manifestSchema>;

/** A plate the detector found: its axis-aligned bounds in source pixels and its box score. */
export interface DetectedPlate {
  readonly box: Box;
  readonly score: number;
}

export interface PlateDetectOptions {
  /** A map cell counts as plate above this probability, and a plate's mean must reach it; default 0.5. */
  readonly thresh?: number;
  /** Plates smaller than this many map cells on their short side are dropped; default 1. */
  readonly minSize?: number;
}

export class PlateDetector {
  /** Each input plane's normalised value of every byte. */
  private readonly luts: readonly Float32Array[];

  private constructor(
    readonly id: string,
    private readonly session: ort.InferenceSession,
    private readonly m: PlateDetManifest,
  ) {
    const nz = m.input.normalise;
    this.luts = [0, 1, 2].map((c) => Float32Array.from({ length: 256 }, (_, v) => (v * nz.scale - nz.mean[c]!) / nz.std[c]!));
  }

  /** Opens the pack in `dir`: manifest checked, file hashes verified, session created. */
  static async open(dir: string, threads = 1, memArena = true): Promise<PlateDetector> {
    const { name, manifest, modelFile } = await openOwnPack(dir, manifestSchema, (m) =>
      m.input.multipleOf !== 32 ? `input.multipleOf ${m.input.multipleOf}: only 32 is supported` : undefined,
    );
    const session = await createSession(modelFile, { threads, memArena });
    if (!session.inputNames.includes(manifest.input.name) || !session.outputNames.includes(manifest.output.name)) {
      await session.release();
      throw new ModelPackError({
        pack: name,
        file: path.basename(modelFile),
        problem: `model has inputs [${session.inputNames.join(', ')}] and outputs [${session.outputNames.join(', ')}]; the manifest names ${manifest.input.name} → ${manifest.output.name}`,
      });
    }
    return new PlateDetector(`${manifest.name}@${manifest.version}`, session, manifest);
  }

  /** Plates in `image`, detected with its longer side scaled to `maxSide`; highest score first. */
  async detect(image: RgbImage, maxSide: number, options: PlateDetectOptions = {}): Promise<DetectedPlate[]> {
    const size = detectorInputSize(image.width, image.height, maxSide);
    const resized = await resizeRgb(image, size.width, size.height);
    const { colour } = this.m.input;
    const plane = size.width * size.height;
    const data = new Float32Array(3 * plane);
    for (let c = 0; c < 3; c++) {
      const src = colour === 'RGB' ? c : 2 - c;
      const lut = this.luts[c]!;
      for (let i = 0; i < plane; i++) data[c * plane + i] = lut[resized.data[i * 3 + src]!]!;
    }
    const input = new ort.Tensor('float32', data, [1, 3, size.height, size.width]);
    const out = (await this.session.run({ [this.m.input.name]: input }))[this.m.output.name];
    if (!out) throw new Error(`${this.id}: model produced no ${this.m.output.name}`);
    const [, , mh, mw] = out.dims as [number, number, number, number];
    const thresh = options.thresh ?? 0.5;
    const rects = boxesFromProbMap(out.data as Float32Array, mw, mh, { thresh, boxThresh: thresh, unclipRatio: 0, minSize: options.minSize ?? 1 });
    const sx = image.width / mw;
    const sy = image.height / mh;
    return rects
      .map(({ rect, score }) => {
        const b = quadBounds(rectCorners(rect));
        // Map cell i covers source [i·s, (i+1)·s): its corners' bounds grow by half a cell.
        const x = Math.max(0, b.x * sx);
        const y = Math.max(0, b.y * sy);
        const box = { x, y, width: Math.min(image.width - x, (b.width + 1) * sx), height: Math.min(image.height - y, (b.height + 1) * sy) };
        return { box, score };
      })
      .sort((a, b) => b.score - a.score);
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}
