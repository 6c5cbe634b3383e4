/**
 * Our own packs (plate-crnn, plate-det): a folder whose manifest.json is parsed by the pack's own
 * schema, then checked by the caller's rule, then every listed file's sha256 verified. Each
 * problem is a ModelPackError naming the pack (the folder's name) and the file.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { z } from 'zod';
import { ModelPackError } from '../errors.ts';
import { sha256File } from './loader.ts';

interface FileList {
  readonly files: readonly { readonly path: string; readonly sha256: string }[];
}

export interface OwnPack<M> {
  readonly name: string;
  readonly manifest: M;
  /** The absolute path of the pack's .onnx file. */
  readonly modelFile: string;
}

/** `check` returns a problem with a manifest the schema accepts but this build cannot use. */
export async function openOwnPack<M extends FileList>(dir: string, schema: z.ZodType<M>, check: (m: M) => string | undefined = () => undefined): Promise<OwnPack<M>> {
  const name = path.basename(dir);
  let manifest: M;
  try {
    manifest = schema.parse(JSON.parse(await readFile(path.join(dir, 'manifest.json'), 'utf8')));
  } catch (err) {
    throw new ModelPackError({ pack: name, file: 'manifest.json', problem: (err as Error).message });
  }
  const problem = check(manifest);
  if (problem !== undefined) throw new ModelPackError({ pack: name, file: 'manifest.json', problem });
  for (const f of manifest.files) {
    const sha = await sha256File(path.join(dir, f.path)).catch((err: Error) => {
      throw new ModelPackError({ pack: name, file: f.path, problem: err.message });
    });
    if (sha !== f.sha256) throw new ModelPackError({ pack: name, file: f.path, problem: `sha256 ${sha} ≠ manifest ${f.sha256}` });
  }
  const model = manifest.files.find((f) => f.path.endsWith('.onnx'));
  if (!model) throw new ModelPackError({ pack: name, problem: 'lists no .onnx file' });
  return { name, manifest, modelFile: path.join(dir, model.path) };
}
