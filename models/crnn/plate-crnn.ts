/**
 * Our own plate recogniser (models/training): a small CRNN over the whole rectified plate at a
 * fixed input size, CTC over blank + the plate alphabet. Driven by the manifest the training
 * recipe exports (input size, normalisation, alphabet, output layout), which is checked here and
 * refused with a named error when it describes something this code does not feed or decode.
 */
import * as ort from 'onnxruntime-node';
import { z } from 'zod';
import type { Quad } from '../geometry.ts';
import { warpQuad } from '../image.ts';
import { openOwnPack } from '../packs/own-pack.ts';
import { foldSymbol, PLATE_SYMBOLS, type StepMatrix } from '../ppocr/ctc.ts';
import { createSession } from '../ppocr/session.ts';
import type { RgbImage } from '../types.ts';

const manifestSchema = z.object({
  name: z.string(),
  version: z.string(),
  files: z.array(z.object({ path: z.string(), sha256: z.string().regex(/^[0-9a-f]{64}$/), bytes: z.number().int() })).min(1),
  input: z.object({
    name: z.string(),
    height: z.number().int().positive(),
    width: z.number().int().positive(),
    channels: z.literal(3),
    layout: z.literal('NCHW'),
    colour: z.enum(['RGB', 'BGR']),
    normalise: z.object({
      mean: z.tuple([z.number(), z.number(), z.number()]),
      std: z.tuple([z.number().positive(), z.number().positive(), z.number().positive()]),
      scale: z.number().positive(),
    }),
  }),
  alphabet: z.string().min(1),
  blankIndex: z.literal(0),
  output: z.object({
    name: z.string(),
    layout: z.enum(['NTC', 'TNC']),
    classes: z.number().int(),
    softmax: z.string(),
  }),
});
export type CrnnManifest = z.infer<typeof manifestSchema>;

export class PlateCrnn {
  private constructor(
    readonly id: string,
    private readonly session: ort.InferenceSession,
    private readonly m: CrnnManifest,
  ) {}

  /** Opens the pack in `dir`: manifest checked, file hashes verified, session created. */
  static async open(dir: string, threads = 1, memArena = true): Promise<PlateCrnn> {
    // Decoding below assumes the plate alphabet in our class order.
    const { manifest, modelFile } = await openOwnPack(dir, manifestSchema, (m) =>
      m.alphabet !== PLATE_SYMBOLS || m.output.classes !== PLATE_SYMBOLS.length + 1 ? `alphabet ${m.alphabet} is not the plate alphabet ${PLATE_SYMBOLS}` : undefined,
    );
    const session = await createSession(modelFile, { threads, memArena });
    return new PlateCrnn(`${manifest.name}@${manifest.version}`, session, manifest);
  }

  /** Per-step distributions (O folded into 0) for each plate quad of `image`. */
  async lattices(image: RgbImage, quads: readonly Quad[]): Promise<StepMatrix[]> {
    if (quads.length === 0) return [];
    const { height: H, width: W, normalise: nz, colour } = this.m.input;
    const plane = H * W;
    const data = new Float32Array(quads.length * 3 * plane);
    quads.forEach((q, b) => {
      const crop = warpQuad(image, q, W, H);
      for (let c = 0; c < 3; c++) {
        const src = colour === 'RGB' ? c : 2 - c;
        const base = (b * 3 + c) * plane;
        for (let i = 0; i < plane; i++) data[base + i] = (crop.data[i * 3 + src]! * nz.scale - nz.mean[c]!) / nz.std[c]!;
      }
    });
    const out = (await this.session.run({ [this.m.input.name]: new ort.Tensor('float32', data, [quads.length, 3, H, W]) }))[this.m.output.name];
    if (!out) throw new Error(`${this.id}: model produced no ${this.m.output.name}`);
    const values = out.data as Float32Array;
    const C = this.m.output.classes;
    const [d0, d1] = out.dims as [number, number, number];
    const ntc = this.m.output.layout === 'NTC';
    const T = ntc ? d1 : d0;
    const logs = this.m.output.softmax.startsWith('log');
    return quads.map((_, b) => {
      const probs = new Float32Array(T * C);
      for (let t = 0; t < T; t++) {
        const row = ntc ? (b * T + t) * C : (t * quads.length + b) * C;
        for (let k = 0; k < C; k++) probs[t * C + k] = logs ? Math.exp(values[row + k]!) : values[row + k]!;
      }
      const m: StepMatrix = { steps: T, classes: C, probs };
      foldSymbol(m, 'O', '0');
      return m;
    });
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}
