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
import { createSession } from '../../../models/ppocr/session.ts';
import type { RgbImage } from '../../../models/types.ts';
import { tempDir } from './eval-fixtures.ts';
import { plateImage } from './recognizer-contract.ts';

const manifest = (name: string) => BUILTIN_PACKS.find((b) => b.manifest.name === name)!.manifest;
const REF = manifest(PPOCR_PACK);
const FUSED = manifest(DEFAULT_PACK);
const refFile = (kind: 'detector' | 'recognizer') => path.join(ocrModelsAssetDir(), REF.models[kind]!.file);
const fusedFile = (kind: 'detector' | 'recognizer') => path.join(fusedPackDir(), FUSED.models[kind]!.file);

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

  it('its recogniser computes the reference recogniser’s class probabilities', async () => {
    const [ref, fused] = await Promise.all([createSession(refFile('recognizer')), createSession(fusedFile('recognizer'))]);
    try {
      const width = Math.round((48 * plate.width) / plate.height / 8) * 8;
      const crop = await resizeRgb(plate, width, 48);
      const data = recTensor(crop);
      const dims = [1, 3, 48, width];
      const [a, b] = [await run(ref, data, dims), await run(fused, data, dims)];
      expect(a.length).toBe((width / 8) * 6625);
      expect(maxAbsDiff(a, b)).toBeLessThan(1e-4);
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

    it.each(['detector', 'recognizer'] as const)('fuse_ppocr.py writes the committed %s byte for byte', async (kind) => {
      const out = path.join(tmp.dir, `${kind}.onnx`);
      const script = new URL('../../../models/ppocr/tools/fuse_ppocr.py', import.meta.url).pathname;
      const log = execFileSync('/usr/bin/python3', [script, refFile(kind), out], { encoding: 'utf8' });
      expect(log).toMatch(/hard-swish: \d+/);
      const pinned = FUSED.files.find((f) => f.path === FUSED.models[kind]!.file)!;
      expect(await sha256File(out)).toBe(pinned.sha256);
    }, 60_000);
  });
});
