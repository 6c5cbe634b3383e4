/**
 * From a pack name to verified model files the ONNX recogniser can load: resolve the pack in the
 * registry, verify its files, borrow the default pack's detector when the pack brings only a
 * recogniser, and refuse models whose declared input this build's engine does not implement.
 */
import path from 'node:path';
import { ModelPackError } from '../errors.ts';
import { loadDictionary } from '../ppocr/assets.ts';
import { BUILTIN_PACKS, DEFAULT_PACK, PPOCR_PACK } from './builtin.ts';
import { checkModelInput, checkRecognizerOutput, verifyPack, type SessionShape, type VerifiedPack } from './loader.ts';
import { parseManifest, type DetectorModel, type Normalisation, type RecognizerModel } from './manifest.ts';
import { defaultPackDirs, PackRegistry } from './registry.ts';

/** What OnnxPlateRecognizer needs to build its sessions. */
export interface PackModels {
  /** Stamped into modelVersion: "<pack>@<version>", plus the detector's pack when borrowed. */
  readonly id: string;
  readonly detectorFile: string;
  readonly recognizerFile: string;
  /** The recogniser's symbols in class order after the blank. */
  readonly alphabet: readonly string[];
  /** The detector's default input side. */
  readonly detMaxSide: number;
  /** Checks loaded sessions against the manifest(s); throws ModelPackError. */
  checkSessions(detector: SessionShape, recognizer: SessionShape): void;
}

export interface OpenPackOptions {
  /** Default DEFAULT_PACK ("ppocr-v4-fused"). */
  readonly pack?: string;
  /** Folders searched for packs in addition to those committed under models/packs/. */
  readonly packDirs?: readonly string[];
  /** A registry already discovered (tests, or a caller that lists packs first). */
  readonly registry?: PackRegistry;
}

export async function openPack(options: OpenPackOptions = {}): Promise<PackModels> {
  const registry = options.registry ?? (await PackRegistry.discover({ dirs: [...defaultPackDirs(), ...(options.packDirs ?? [])] }));
  const name = options.pack ?? DEFAULT_PACK;
  const main = await verifyPack(registry.resolve(name));
  const recModel = main.manifest.models.recognizer;
  if (!recModel) throw new ModelPackError({ pack: name, problem: 'holds no recogniser; select a pack with models.recognizer' });
  // A recogniser-only pack reads the crops the default pack's detector finds.
  const detPack = main.manifest.models.detector ? main : await verifyPack(registry.resolve(DEFAULT_PACK));
  const detModel = detPack.manifest.models.detector;
  if (!detModel) throw new ModelPackError({ pack: detPack.manifest.name, problem: 'holds no detector to borrow' });
  return packModels(main, recModel, detPack, detModel);
}

/**
 * A folder laid out like the reference pack, `ppocr-v4` (the older `assetDir` option): same files
 * and checks of model inputs, but no manifest of its own and so no pinned hashes. For development only.
 */
export function openAssetFolder(dir: string): PackModels {
  const builtin = BUILTIN_PACKS.find((b) => b.manifest.name === PPOCR_PACK)!;
  const manifest = parseManifest(builtin.manifest, PPOCR_PACK);
  const pack: VerifiedPack = {
    manifest,
    dir,
    id: `${PPOCR_PACK}@unverified:${dir}`,
    file: (relative) => path.join(dir, relative),
  };
  return packModels(pack, manifest.models.recognizer!, pack, manifest.models.detector!);
}

function packModels(rec: VerifiedPack, recModel: RecognizerModel, det: VerifiedPack, detModel: DetectorModel): PackModels {
  assertEngineSupports(det, detModel, rec, recModel);
  const alphabet = 'file' in recModel.alphabet ? loadDictionary(rec.file(recModel.alphabet.file)) : [...recModel.alphabet.symbols];
  return {
    id: det === rec ? rec.id : `${rec.id}+det:${det.id}`,
    detectorFile: det.file(detModel.file),
    recognizerFile: rec.file(recModel.file),
    alphabet,
    detMaxSide: detModel.maxSide,
    checkSessions: (detSession, recSession) => {
      checkModelInput(det, detModel.file, detModel.input, detSession);
      checkModelInput(rec, recModel.file, recModel.input, recSession);
      checkRecognizerOutput(rec, recModel, alphabet.length, recSession);
    },
  };
}

// What models/ppocr/detector.ts and recognizer.ts implement today. A pack that declares anything
// else is refused here rather than fed pixels prepared for another model.
const ENGINE_DET_NORM: Normalisation = { channels: 'bgr', mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };
const ENGINE_REC_NORM: Normalisation = { channels: 'bgr', mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] };
const ENGINE_REC_HEIGHT = 48;

function sameNorm(a: Normalisation, b: Normalisation): boolean {
  const close = (x: readonly number[], y: readonly number[]): boolean => x.every((v, i) => Math.abs(v - y[i]!) < 1e-6);
  return a.channels === b.channels && close(a.mean, b.mean) && close(a.std, b.std);
}

function assertEngineSupports(det: VerifiedPack, detModel: DetectorModel, rec: VerifiedPack, recModel: RecognizerModel): void {
  const unsupported = (pack: VerifiedPack, file: string, what: string): never => {
    throw new ModelPackError({ pack: pack.manifest.name, file, problem: `${what} is not supported by this build's recognition engine` });
  };
  if (!sameNorm(detModel.normalisation, ENGINE_DET_NORM)) unsupported(det, detModel.file, `detector normalisation ${JSON.stringify(detModel.normalisation)}`);
  if (detModel.sizeMultiple !== 32) unsupported(det, detModel.file, `detector size multiple ${detModel.sizeMultiple}`);
  const problems: string[] = [];
  if (recModel.crop !== 'text-line') problems.push(`crop "${recModel.crop}"`);
  if (recModel.output !== 'probabilities') problems.push(`output "${recModel.output}"`);
  if (!recModel.trailingSpace) problems.push('an alphabet without the trailing space class');
  if (!sameNorm(recModel.normalisation, ENGINE_REC_NORM)) problems.push(`normalisation ${JSON.stringify(recModel.normalisation)}`);
  if (recModel.input.shape[2] !== ENGINE_REC_HEIGHT || recModel.input.shape[3] !== null) {
    problems.push(`input height×width ${String(recModel.input.shape[2])}×${String(recModel.input.shape[3] ?? '?')} (the engine feeds 48×variable)`);
  }
  if (problems.length) unsupported(rec, recModel.file, `recogniser with ${problems.join(', ')}`);
}
