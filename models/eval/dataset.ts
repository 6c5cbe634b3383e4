/**
 * Evaluation datasets on disk, in the two formats of the benchmark README:
 *
 *  - scenes: images with one `.txt` each, lines `<image>\t<x>\t<y>\t<w>\t<h>\t<plate>`;
 *  - crops: `groundtruth.csv` with lines `<image>,<state>,<plate>` (state lower-case).
 *
 * Loading reads only the ground truth and the folder listing; images are decoded one at a time
 * by the runner. Ground-truth lines that cannot be parsed are kept as `skipped` with the reason.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Box } from '../types.ts';
import { normalisePlate } from '../../gateway/hotlist/csv.ts';

export type DatasetFormat = 'scenes' | 'crops';

export interface Truth {
  /** Normalised (upper-case, no spaces or dashes). */
  readonly plate: string;
  /** Scenes: where the plate is, in the image's pixels. */
  readonly box?: Box;
  /** Crops: two-letter state code, lower-case. */
  readonly state?: string;
}

export interface Sample {
  /** The image file name as the ground truth gives it, relative to the dataset folder. */
  readonly file: string;
  readonly path: string;
  readonly truths: readonly Truth[];
}

export interface Dataset {
  readonly dir: string;
  /** The folder's base name, e.g. "us-dev". */
  readonly name: string;
  readonly format: DatasetFormat;
  /** Sorted by file name. */
  readonly samples: readonly Sample[];
  /** Ground-truth lines that could not be used, with why. */
  readonly skipped: readonly string[];
  /** Scenes: images in the folder that no `.txt` labels. */
  readonly unlabelled: readonly string[];
}

/** The folder cannot be evaluated: missing, or in neither format. */
export class DatasetError extends Error {
  override readonly name = 'DatasetError';
}

const IMAGE = /\.(jpe?g|png)$/i;
export const CROPS_FILE = 'groundtruth.csv';

export async function loadDataset(dir: string): Promise<Dataset> {
  const abs = path.resolve(dir);
  let entries: string[];
  try {
    if (!(await stat(abs)).isDirectory()) throw new DatasetError(`${dir} is not a folder`);
    entries = (await readdir(abs)).sort();
  } catch (err) {
    if (err instanceof DatasetError) throw err;
    throw new DatasetError(`cannot open dataset folder ${dir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const name = path.basename(abs);
  if (entries.includes(CROPS_FILE)) {
    const { samples, skipped } = parseCropsCsv(await readFile(path.join(abs, CROPS_FILE), 'utf8'), abs);
    if (samples.length === 0) throw new DatasetError(`${path.join(dir, CROPS_FILE)} holds no usable line${skipped.length ? ` (${skipped[0]})` : ''}`);
    return { dir: abs, name, format: 'crops', samples, skipped, unlabelled: [] };
  }
  const txts = entries.filter((e) => e.toLowerCase().endsWith('.txt'));
  if (txts.length === 0) {
    throw new DatasetError(
      `${dir}: no ground truth found — expected ${CROPS_FILE} (plate crops) or one .txt per image (scenes); see the benchmark README`,
    );
  }
  const byImage = new Map<string, Truth[]>();
  const skipped: string[] = [];
  for (const txt of txts) {
    const parsed = parseSceneTxt(await readFile(path.join(abs, txt), 'utf8'), txt);
    skipped.push(...parsed.skipped);
    for (const { file, truth } of parsed.truths) {
      const list = byImage.get(file);
      if (list) list.push(truth);
      else byImage.set(file, [truth]);
    }
  }
  if (byImage.size === 0) throw new DatasetError(`${dir}: none of the ${txts.length} .txt files holds a usable line (${skipped[0] ?? 'empty'})`);
  const samples = [...byImage.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([file, truths]) => ({ file, path: path.join(abs, file), truths }));
  const unlabelled = entries.filter((e) => IMAGE.test(e) && !byImage.has(e));
  return { dir: abs, name, format: 'scenes', samples, skipped, unlabelled };
}

/** One scene `.txt`: tab-separated `image x y w h plate` per line. */
export function parseSceneTxt(text: string, source: string): { truths: { file: string; truth: Truth }[]; skipped: string[] } {
  const truths: { file: string; truth: Truth }[] = [];
  const skipped: string[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === '') return;
    const where = `${source}:${i + 1}`;
    const f = line.split('\t');
    if (f.length !== 6) return void skipped.push(`${where}: expected 6 tab-separated fields, got ${f.length}`);
    const [file, ...rest] = f as [string, string, string, string, string, string];
    const nums = rest.slice(0, 4).map((v) => Number(v.trim()));
    const plate = normalisePlate(rest[4]!.trim());
    if (!IMAGE.test(file.trim())) return void skipped.push(`${where}: ${JSON.stringify(file)} is not a .jpg/.png file name`);
    if (nums.some((n) => !Number.isFinite(n) || n < 0) || nums[2] === 0 || nums[3] === 0) {
      return void skipped.push(`${where}: box ${rest.slice(0, 4).join(' ')} is not four non-negative numbers with a non-zero size`);
    }
    if (!/^[A-Z0-9]+$/.test(plate)) return void skipped.push(`${where}: plate ${JSON.stringify(rest[4])} is not letters and digits`);
    const [x, y, width, height] = nums as [number, number, number, number];
    truths.push({ file: file.trim(), truth: { plate, box: { x, y, width, height } } });
  });
  return { truths, skipped };
}

/** `groundtruth.csv`: `image,state,plate` per line; a header line is recognised and skipped. */
export function parseCropsCsv(text: string, dir: string): { samples: Sample[]; skipped: string[] } {
  const samples: Sample[] = [];
  const skipped: string[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === '') return;
    const where = `${CROPS_FILE}:${i + 1}`;
    const f = line.split(',').map((v) => v.trim());
    if (f.length !== 3) return void skipped.push(`${where}: expected 3 comma-separated fields, got ${f.length}`);
    const [file, state, text] = f as [string, string, string];
    if (i === 0 && !IMAGE.test(file)) return; // a header such as "file,state,text"
    if (!IMAGE.test(file)) return void skipped.push(`${where}: ${JSON.stringify(file)} is not a .jpg/.png file name`);
    const plate = normalisePlate(text);
    if (!/^[A-Z0-9]+$/.test(plate)) return void skipped.push(`${where}: plate ${JSON.stringify(text)} is not letters and digits`);
    samples.push({
      file,
      path: path.join(dir, file),
      truths: [{ plate, ...(state !== '' && { state: state.toLowerCase() }) }],
    });
  });
  samples.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  return { samples, skipped };
}
