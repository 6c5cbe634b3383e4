/** Tiny generated evaluation datasets in both benchmark formats, written to a temp folder. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { PLATE_ASPECT, plateSvgGroup, rasterizeSvg, renderPlate, type PlateSpec } from '../../../models/synth/plate.ts';
import type { Box, RgbImage } from '../../../models/types.ts';

export async function tempDir(prefix: string): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

async function writeImage(file: string, image: RgbImage): Promise<void> {
  const raw = sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } });
  await (file.endsWith('.png') ? raw.png() : raw.jpeg({ quality: 92 })).toFile(file);
}

export interface GeneratedScene {
  readonly file: string;
  readonly text: string;
  readonly box: Box;
  /** The scene's width: unique per scene, so a scripted recogniser can tell them apart. */
  readonly width: number;
}

/** A plate on a dark "car" in a grey frame of `width`×360, the plate at (x, y), 160 px wide. */
export async function renderSceneImage(spec: PlateSpec, width: number, x: number, y: number): Promise<{ image: RgbImage; box: Box }> {
  const w = spec.width ?? 160;
  const h = w / PLATE_ASPECT;
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="360"><rect width="100%" height="100%" fill="#7d7f80"/>` +
    `<rect x="${x - 60}" y="${y - 90}" width="${w + 120}" height="${h + 130}" rx="20" fill="#27374f"/>` +
    `${plateSvgGroup({ ...spec, width: w }, x, y)}</svg>`;
  return { image: await rasterizeSvg(svg), box: { x, y, width: w, height: h } };
}

/**
 * Scenes: each image with its own .txt (`file\tx\ty\tw\th\tplate`), JPEG and PNG mixed, plus an
 * unlabelled image that must be ignored.
 */
export async function writeScenesDataset(dir: string, plates: readonly string[]): Promise<GeneratedScene[]> {
  const scenes: GeneratedScene[] = [];
  for (const [i, text] of plates.entries()) {
    const width = 480 + 16 * i;
    const file = `scene-${String(i).padStart(2, '0')}.${i % 2 ? 'png' : 'jpg'}`;
    const { image, box } = await renderSceneImage({ text, stateName: 'Ohio' }, width, 120 + 10 * i, 150);
    await writeImage(path.join(dir, file), image);
    await writeFile(path.join(dir, file.replace(/\.\w+$/, '.txt')), `${file}\t${box.x}\t${box.y}\t${box.width}\t${box.height}\t${text}\n`);
    scenes.push({ file, text, box, width });
  }
  await writeImage(path.join(dir, 'unlabelled.jpg'), (await renderSceneImage({ text: 'ZZZ999' }, 400, 100, 100)).image);
  return scenes;
}

export interface GeneratedCrop {
  readonly file: string;
  readonly text: string;
  readonly state: string;
  readonly width: number;
}

/** Crops: PNG plates with groundtruth.csv (`file,state,text`); widths unique per crop. */
export async function writeCropsDataset(dir: string, plates: readonly (readonly [string, string])[]): Promise<GeneratedCrop[]> {
  const crops: GeneratedCrop[] = [];
  const lines: string[] = [];
  for (const [i, [state, text]] of plates.entries()) {
    const file = `${state}${i}.png`;
    const image = await renderPlate({ text, stateName: 'Texas', width: 200 + 8 * i }, 0.1);
    await writeImage(path.join(dir, file), image);
    lines.push(`${file},${state},${text}`);
    crops.push({ file, text, state, width: image.width });
  }
  await writeFile(path.join(dir, 'groundtruth.csv'), `${lines.join('\n')}\n`);
  return crops;
}

/** A JPEG cut off half-way: sharp refuses it. */
export async function writeTruncatedJpeg(file: string): Promise<void> {
  const full = await sharp({ create: { width: 64, height: 32, channels: 3, background: '#888' } }).jpeg().toBuffer();
  await writeFile(file, full.subarray(0, Math.floor(full.length / 2)));
}
