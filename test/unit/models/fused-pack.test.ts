/**
 * The default pack, ppocr-v4-fused, is the reference pack's weights in a rewritten graph
 * (models/ppocr/tools/fuse_ppocr.py). It must compute what the reference computes: both models are
 * run side by side on a rendered plate, and their outputs compared element by element. Where
 * Debian's python3-onnx is installed, the committed files are also made again from the
 * reference's and must come out byte for byte.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resizeRgb } from '../../../models/image.ts';
import { BUILTIN_PACKS, DEFAULT_PACK, fusedPackDir, ocrModelsAssetDir, PPOCR_PACK } from '../../../models/packs/builtin.ts';
import { sha256File } from '../../../models/packs/loader.ts';
import { detectorInputSize, detectorTensorData } from '../../../models/ppocr/detector.ts';
import { loadDictionary } from '../../../models/ppocr/assets.ts';
import { createSession } from '../../../models/ppocr/session.ts';
import type { RgbImage } from '../../../models/types.ts';
import { tempDir } from './eval-fixtures.ts';
import { plateImage } from './recognizer-contract.ts';

const manifest = (name: string) => BUILTIN_PACKS.find((b) => b.manifest.name === name)!.manifest;
const REF = manifest(PPOCR_PACK);
const FUSED = manifest(DEFAULT_PACK);
type FileKind = 'detector' | 'recognizer' | 'alphabet';
function fileOf(m: typeof REF, kind: FileKind): string {
  const rec = m.models.recognizer!;
  if (kind !== 'alphabet') return m.models[kind]!.file;
  if (!('file' in rec.alphabet)) throw new Error('expected an alphabet file');
  return rec.alphabet.file;
}
const refFile = (kind: FileKind) => path.join(ocrModelsAssetDir(), fileOf(REF, kind));
const fusedFile = (kind: FileKind) => path.join(fusedPackDir(), fileOf(FUSED, kind));

async function run(session: ort.InferenceSession, data: Float32Array, dims: number[]): Promise<Float32Array> {
  const out = await session.run({ [session.inputNames[0]!]: new ort.Tensor('float32', data, dims) });
  return out[session.outputNames[0]!]!.data as Float32Array;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(b.length).toBe(a.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

/** The recogniser's input for one crop at model height: BGR planes, (pixel / 127.5) − 1. */
function recTensor(crop: RgbImage): Float32Array {
  const plane = crop.width * crop.height;
  const data = new Float32Array(3 * plane);
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < plane; i++) data[c * plane + i] = crop.data[i * 3 + (2 - c)]! / 127.5 - 1;
  }
  return data;
}

let plate: RgbImage;
beforeAll(async () => {
  plate = await plateImage();
});

describe('the fused PP-OCRv4 pack', () => {
  it('its detector computes the reference detector’s probability map', async () => {
    const [ref, fused] = await Promise.all([createSession(refFile('detector')), createSession(fusedFile('detector'))]);
    try {
      const size = detectorInputSize(plate.width, plate.height, 640, 256);
      const data = detectorTensorData(await resizeRgb(plate, size.width, size.height));
      const dims = [1, 3, size.height, size.width];
      const [a, b] = [await run(ref, data, dims), await run(fused, data, dims)];
      expect(a.length).toBe(size.width * size.height);
      expect(Math.max(...a)).toBeGreaterThan(0.9); // the plate's text is there to be found
      expect(maxAbsDiff(a, b)).toBeLessThan(1e-4);
    } finally {
      await Promise.all([ref.release(), fused.release()]);
    }
  });

  it('its recogniser computes the reference recogniser’s probabilities over the classes it keeps', async () => {
    const [ref, fused] = await Promise.all([createSession(refFile('recognizer')), createSession(fusedFile('recognizer'))]);
    try {
      const width = Math.round((48 * plate.width) / plate.height / 8) * 8;
      const crop = await resizeRgb(plate, width, 48);
      const data = recTensor(crop);
      const dims = [1, 3, 48, width];
      const [a, b] = [await run(ref, data, dims), await run(fused, data, dims)];
      // Class k of the fused model is the reference's class kept[k]: blank, the symbols of its
      // shorter dictionary, the trailing space.
      const refKeys = loadDictionary(refFile('alphabet'));
      const fusedKeys = loadDictionary(fusedFile('alphabet'));
      expect(fusedKeys).toContain('A');
      expect(fusedKeys).toContain('７'); // full-width forms stay: they read as plate characters
      expect(fusedKeys).not.toContain('京');
      const kept = [0, ...fusedKeys.map((s) => refKeys.indexOf(s) + 1), refKeys.length + 1];
      expect(fusedKeys.filter((s) => !refKeys.includes(s))).toEqual([]);
      const steps = width / 8;
      expect(a.length).toBe(steps * (refKeys.length + 2));
      expect(b.length).toBe(steps * kept.length);
      // The reference's probabilities over the kept classes, normalised over them.
      const expected = new Float32Array(b.length);
      for (let t = 0; t < steps; t++) {
        let sum = 0;
        for (const k of kept) sum += a[t * (refKeys.length + 2) + k]!;
        kept.forEach((k, j) => {
          expected[t * kept.length + j] = a[t * (refKeys.length + 2) + k]! / sum;
        });
      }
      expect(maxAbsDiff(expected, b)).toBeLessThan(1e-4);
      // and the plate is there to be read: some step is sure of a character other than blank
      expect(Math.max(...b.filter((_, i) => i % kept.length !== 0))).toBeGreaterThan(0.9);
    } finally {
      await Promise.all([ref.release(), fused.release()]);
    }
  });

  const hasOnnx = spawnSync('/usr/bin/python3', ['-c', 'import onnx'], { stdio: 'ignore' }).status === 0;
  describe.skipIf(!hasOnnx)('made again from the reference (needs Debian python3-onnx)', () => {
    let tmp: Awaited<ReturnType<typeof tempDir>>;
    beforeAll(async () => {
      tmp = await tempDir('alpr-fuse-');
    });
    afterAll(() => tmp.remove());

    const pinned = (kind: FileKind) => FUSED.files.find((f) => f.path === fileOf(FUSED, kind))!.sha256;
    const script = new URL('../../../models/ppocr/tools/fuse_ppocr.py', import.meta.url).pathname;

    it('fuse_ppocr.py writes the committed detector byte for byte', async () => {
      const out = path.join(tmp.dir, 'det.onnx');
      const log = execFileSync('/usr/bin/python3', [script, refFile('detector'), out], { encoding: 'utf8' });
      expect(log).toMatch(/hard-swish: \d+/);
      expect(await sha256File(out)).toBe(pinned('detector'));
    }, 60_000);

    it('fuse_ppocr.py writes the committed recogniser and its dictionary byte for byte', async () => {
      const [out, keys] = [path.join(tmp.dir, 'rec.onnx'), path.join(tmp.dir, 'keys.txt')];
      const log = execFileSync('/usr/bin/python3', [script, refFile('recognizer'), out, refFile('alphabet'), keys], { encoding: 'utf8' });
      expect(log).toMatch(/classes kept: 182/);
      expect(await sha256File(out)).toBe(pinned('recognizer'));
      expect(await sha256File(keys)).toBe(pinned('alphabet'));
    }, 60_000);
  });
});
