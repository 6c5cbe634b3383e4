/**
 * The model-pack manifest: what a pack holds, how each model's input is laid out, and where the
 * weights came from. A pack is a folder with `manifest.json` and the files it lists; every file is
 * pinned by sha256 and size, so a changed or truncated file is refused at load, never run.
 *
 * Format version 1. A later version adds a migration from the previous one here (parseManifest
 * migrates, then validates); a manifest newer than this build understands is refused by name.
 */
import path from 'node:path';
import { z } from 'zod';
import { ModelPackError } from '../errors.ts';

export const MANIFEST_VERSION = 1;
export const MANIFEST_FILE = 'manifest.json';

const relPath = z
  .string()
  .min(1)
  .refine((p) => !path.isAbsolute(p) && !p.split(/[\\/]/).includes('..'), 'expected a path inside the pack (relative, no "..")');

const fileSchema = z.strictObject({
  path: relPath,
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'expected 64 lower-case hex digits'),
  bytes: z.number().int().nonnegative(),
});

/** One tensor's dimensions; null where the model accepts any size (batch, a variable width). */
const tensorSchema = z.strictObject({
  name: z.string().min(1).optional(),
  shape: z.array(z.number().int().positive().nullable()).min(1).max(8),
});

const triple = z.tuple([z.number(), z.number(), z.number()]);

/** Pixel → input value: (pixel / 255 − mean[c]) / std[c], planes in `channels` order. */
const normalisationSchema = z.strictObject({
  channels: z.enum(['rgb', 'bgr']),
  mean: triple,
  std: z.tuple([z.number().positive(), z.number().positive(), z.number().positive()]),
});

const detectorSchema = z.strictObject({
  /** DBNet text detector with PP-OCR's output: N×1×H×W text probability. */
  kind: z.literal('ppocr-det'),
  file: relPath,
  input: tensorSchema,
  normalisation: normalisationSchema,
  /** Input sides are rounded to multiples of this. */
  sizeMultiple: z.number().int().positive().default(32),
  /** Default longer side of the detector input (the recogniser's detMaxSide overrides it). */
  maxSide: z.number().int().min(32).max(4096).default(960),
});

const alphabetSchema = z.union([
  /** One class per character, in class order after the blank. */
  z.strictObject({ symbols: z.string().min(1) }),
  /** A file with one symbol per line, in class order after the blank. */
  z.strictObject({ file: relPath }),
]);

const recognizerSchema = z.strictObject({
  /** CTC text recogniser: N×3×H×W in, N×T×C out, class 0 the blank, then the alphabet. */
  kind: z.literal('ctc-recognizer'),
  file: relPath,
  input: tensorSchema,
  normalisation: normalisationSchema,
  alphabet: alphabetSchema,
  /** PP-OCR puts a space class after the alphabet. */
  trailingSpace: z.boolean().default(false),
  output: z.enum(['probabilities', 'log-probabilities']),
  /** What the crop fed to the model covers: the registration's text line, or the whole plate. */
  crop: z.enum(['text-line', 'plate']),
});

const provenanceSchema = z.strictObject({
  /** Where the weights come from: a package, a repository, a training run. */
  source: z.string().min(1),
  license: z.string().min(1),
  createdAt: z.string().min(1).optional(),
  /** For models trained here: enough to reproduce the run. */
  training: z
    .strictObject({
      recipe: z.string().min(1),
      generatorVersion: z.string().min(1),
      seed: z.number().int(),
      minutes: z.number().nonnegative(),
      samples: z.number().int().nonnegative().optional(),
      framework: z.string().min(1).optional(),
      /** Exact rate on the generator's own validation stream (never on benchmark photographs). */
      syntheticExact: z.number().min(0).max(1).optional(),
    })
    .optional(),
  notes: z.string().optional(),
});

export const manifestSchema = z
  .strictObject({
    manifestVersion: z.literal(MANIFEST_VERSION),
    name: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, 'lower-case letters, digits, ".", "_" and "-", at most 63'),
    version: z.string().min(1).max(64),
    description: z.string().max(500).optional(),
    models: z
      .strictObject({ detector: detectorSchema.optional(), recognizer: recognizerSchema.optional() })
      .refine((m) => m.detector !== undefined || m.recognizer !== undefined, 'a pack holds at least one model'),
    files: z.array(fileSchema).min(1),
    provenance: provenanceSchema,
  })
  .superRefine((m, ctx) => {
    const listed = new Set<string>();
    m.files.forEach((f, i) => {
      if (listed.has(f.path)) ctx.addIssue({ code: 'custom', path: ['files', i, 'path'], message: `${f.path} is listed twice` });
      listed.add(f.path);
    });
    const need = (file: string, at: (string | number)[]): void => {
      if (!listed.has(file)) ctx.addIssue({ code: 'custom', path: at, message: `${file} is not listed in files (so its sha256 is not pinned)` });
    };
    if (m.models.detector) need(m.models.detector.file, ['models', 'detector', 'file']);
    const rec = m.models.recognizer;
    if (rec) {
      need(rec.file, ['models', 'recognizer', 'file']);
      if ('file' in rec.alphabet) need(rec.alphabet.file, ['models', 'recognizer', 'alphabet', 'file']);
    }
  });

export type PackManifest = z.infer<typeof manifestSchema>;
export type PackFile = PackManifest['files'][number];
export type DetectorModel = NonNullable<PackManifest['models']['detector']>;
export type RecognizerModel = NonNullable<PackManifest['models']['recognizer']>;
export type TensorSpec = DetectorModel['input'];
export type Normalisation = DetectorModel['normalisation'];
/** A manifest as written (defaults not yet applied). */
export type PackManifestInput = z.input<typeof manifestSchema>;

/**
 * Validates a parsed manifest. `fallbackName` names the pack in errors when the manifest's own
 * name is missing or unusable (the folder name, say).
 */
export function parseManifest(json: unknown, fallbackName: string): PackManifest {
  const named = typeof json === 'object' && json !== null && typeof (json as { name?: unknown }).name === 'string';
  const pack = named ? (json as { name: string }).name : fallbackName;
  const version = typeof json === 'object' && json !== null ? (json as { manifestVersion?: unknown }).manifestVersion : undefined;
  if (typeof version === 'number' && version > MANIFEST_VERSION) {
    throw new ModelPackError({
      pack,
      file: MANIFEST_FILE,
      problem: `manifest version ${version} is newer than this build understands (${MANIFEST_VERSION}); update the software first`,
    });
  }
  const result = manifestSchema.safeParse(json);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(top level)'}: ${i.message}`);
    throw new ModelPackError({ pack, file: MANIFEST_FILE, problem: `invalid manifest: ${problems.join('; ')}` });
  }
  return result.data;
}

/** Height and width the model takes (null where it accepts any), from an N×C×H×W input shape. */
export function inputSize(spec: TensorSpec): { height: number | null; width: number | null } {
  return { height: spec.shape[2] ?? null, width: spec.shape[3] ?? null };
}
