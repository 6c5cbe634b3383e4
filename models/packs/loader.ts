/**
 * Verifying a pack before anything runs it: every listed file present, of the pinned size and
 * sha256; once a model is loaded, its tensors checked against what the manifest declares. Each
 * failure is a ModelPackError naming the pack, the file and what was wrong.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { ModelPackError } from '../errors.ts';
import type { PackManifest, RecognizerModel, TensorSpec } from './manifest.ts';
import type { PackSource } from './registry.ts';

/** A pack whose files were all found intact. */
export interface VerifiedPack {
  readonly manifest: PackManifest;
  readonly dir: string;
  /** "<name>@<version>" */
  readonly id: string;
  /** Absolute path of a file listed in the manifest. */
  file(relative: string): string;
}

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Checks presence, size and sha256 of every file the manifest lists. */
export async function verifyPack(source: PackSource): Promise<VerifiedPack> {
  const { manifest, dir } = source;
  const fail = (file: string, problem: string): never => {
    throw new ModelPackError({ pack: manifest.name, file, problem });
  };
  for (const f of manifest.files) {
    const abs = path.join(dir, f.path);
    let size: number;
    try {
      const st = await stat(abs);
      if (!st.isFile()) fail(f.path, `${abs} is not a file`);
      size = st.size;
    } catch (err) {
      if (err instanceof ModelPackError) throw err;
      return fail(f.path, `missing (looked for ${abs}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
    if (size !== f.bytes) fail(f.path, `is ${size} bytes, the manifest pins ${f.bytes} (changed or truncated)`);
    const actual = await sha256File(abs);
    if (actual !== f.sha256) fail(f.path, `sha256 is ${actual}, the manifest pins ${f.sha256} (the file changed or is corrupt)`);
  }
  return {
    manifest,
    dir,
    id: `${manifest.name}@${manifest.version}`,
    file: (relative) => path.join(dir, relative),
  };
}

/** What a loaded ONNX session says about one of its inputs or outputs (onnxruntime's ValueMetadata). */
export interface TensorMetadata {
  readonly name: string;
  readonly isTensor: boolean;
  readonly type?: string;
  /** Numbers for fixed dimensions, strings for symbolic ones; empty when unknown. */
  readonly shape?: ReadonlyArray<number | string>;
}

/** The parts of an ONNX session the checks read (an ort.InferenceSession has them all). */
export interface SessionShape {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly inputMetadata?: readonly TensorMetadata[];
  readonly outputMetadata?: readonly TensorMetadata[];
}

/**
 * Compares a declared shape with the model's. A dimension the manifest fixes must be fixed to the
 * same value or symbolic in the model; one the manifest leaves open (null) must be open in the
 * model too — otherwise the engine would feed sizes the model rejects. Returns the problem, if any.
 */
export function shapeMismatch(declared: TensorSpec['shape'], actual: ReadonlyArray<number | string>): string | undefined {
  const show = (s: ReadonlyArray<number | string | null>): string => `[${s.map((d) => (d === null || typeof d === 'string' ? '?' : d)).join(', ')}]`;
  if (declared.length !== actual.length) return `model input is ${show(actual)}, the manifest declares ${show(declared)}`;
  for (let i = 0; i < declared.length; i++) {
    const want = declared[i]!;
    const got = actual[i]!;
    if (typeof got === 'string' || got < 0) {
      continue; // symbolic in the model: accepts whatever the manifest fixes
    }
    if (want === null || want !== got) return `model input is ${show(actual)}, the manifest declares ${show(declared)} (dimension ${i})`;
  }
  return undefined;
}

/** Checks a loaded model's input against the manifest's declaration. */
export function checkModelInput(pack: VerifiedPack, file: string, spec: TensorSpec, session: SessionShape): void {
  const fail = (problem: string): never => {
    throw new ModelPackError({ pack: pack.manifest.name, file, problem });
  };
  if (session.inputNames.length !== 1) fail(`the model has ${session.inputNames.length} inputs (${session.inputNames.join(', ')}); the engine feeds exactly one`);
  const name = session.inputNames[0]!;
  if (spec.name !== undefined && spec.name !== name) fail(`the model's input is called "${name}", the manifest declares "${spec.name}"`);
  const meta = session.inputMetadata?.find((m) => m.name === name);
  if (!meta) return; // an older runtime without metadata: the first run fails loudly instead
  if (!meta.isTensor) fail(`input "${name}" is not a tensor`);
  if (meta.type !== undefined && meta.type !== 'float32') fail(`input "${name}" is ${meta.type}, the engine feeds float32`);
  if (meta.shape && meta.shape.length > 0) {
    const problem = shapeMismatch(spec.shape, meta.shape);
    if (problem) fail(problem);
  }
}

/** Number of output classes a CTC recogniser must have: blank + alphabet (+ trailing space). */
export function expectedClasses(model: RecognizerModel, alphabetSize: number): number {
  return 1 + alphabetSize + (model.trailingSpace ? 1 : 0);
}

/** Checks a CTC recogniser's output (N×T×C) has the classes its alphabet implies. */
export function checkRecognizerOutput(pack: VerifiedPack, model: RecognizerModel, alphabetSize: number, session: SessionShape): void {
  const fail = (problem: string): never => {
    throw new ModelPackError({ pack: pack.manifest.name, file: model.file, problem });
  };
  const meta = session.outputMetadata?.find((m) => m.name === session.outputNames[0]);
  if (!meta?.shape || meta.shape.length === 0) return;
  if (meta.shape.length !== 3) fail(`the model's output has ${meta.shape.length} dimensions, a CTC recogniser gives N×T×C`);
  const classes = meta.shape[2];
  const want = expectedClasses(model, alphabetSize);
  if (typeof classes === 'number' && classes >= 0 && classes !== want) {
    fail(`the model scores ${classes} classes; blank + ${alphabetSize} symbols${model.trailingSpace ? ' + space' : ''} = ${want}`);
  }
}
