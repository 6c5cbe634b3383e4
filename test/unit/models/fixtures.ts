/** Synthetic images for the recogniser tests: scenes, rotated and perspective-warped plates. */
import { applyHomography, homography, type Quad } from '../../../models/geometry.ts';
import { warpQuad } from '../../../models/image.ts';
import { PLATE_ASPECT, plateSvgGroup, rasterizeSvg, renderPlate, type PlateSpec } from '../../../models/synth/plate.ts';
import type { Box, RgbImage } from '../../../models/types.ts';

export interface Scene {
  readonly image: RgbImage;
  /** Where the plate really is. */
  readonly plate: Box;
}

/** A 1280×720 frame: grey road, a dark "car", the plate on its bumper at (x, y). */
export async function renderScene(spec: PlateSpec, x: number, y: number, rotateDeg = 0): Promise<Scene> {
  const w = spec.width ?? 200;
  const h = w / PLATE_ASPECT;
  const cx = x + w / 2;
  const cy = y + h / 2;
  const svg = [
    '<svg xmlns="http://www.w3.org/2000/svg" width="1280" height="720">',
    '<rect width="100%" height="100%" fill="#7d7f80"/>',
    `<rect x="${x - 170}" y="${y - 260}" width="${w + 340}" height="${h + 330}" rx="30" fill="#27374f"/>`,
    `<rect x="${x - 120}" y="${y - 220}" width="${w + 240}" height="120" fill="#9fb3c8"/>`,
    `<circle cx="${x - 100}" cy="${y - 40}" r="22" fill="#e8e0a0"/>`,
    `<circle cx="${x + w + 100}" cy="${y - 40}" r="22" fill="#e8e0a0"/>`,
    `<g transform="rotate(${rotateDeg} ${cx} ${cy})">${plateSvgGroup(spec, x, y)}</g>`,
    '</svg>',
  ].join('');
  return { image: await rasterizeSvg(svg), plate: { x, y, width: w, height: h } };
}

/** Nothing plate-like: a grey frame with shapes, a shadow and a striped sign without characters. */
export async function renderEmptyScene(): Promise<RgbImage> {
  const stripes = Array.from({ length: 8 }, (_, i) => `<rect x="${900 + i * 24}" y="120" width="12" height="90" fill="#202020"/>`).join('');
  return rasterizeSvg(
    `<svg xmlns="http://www.w3.org/2000/svg" width="1280" height="720"><rect width="100%" height="100%" fill="#7d7f80"/>` +
      `<rect x="200" y="300" width="500" height="260" rx="30" fill="#27374f"/><circle cx="640" cy="200" r="60" fill="#c0c040"/>` +
      `<ellipse cx="450" cy="600" rx="300" ry="30" fill="#505050"/>${stripes}</svg>`,
  );
}

/**
 * The plate seen in perspective: rendered upright, then mapped so its corners land on `corners`
 * (in a canvas of width × height). Outside the rendered plate the grey margin is repeated.
 */
export async function renderPerspectivePlate(spec: PlateSpec, corners: Quad, width: number, height: number): Promise<RgbImage> {
  const margin = 0.3;
  const upright = await renderPlate(spec, margin);
  const pw = spec.width ?? 240;
  const ph = pw / PLATE_ASPECT;
  const mx = Math.round(pw * margin);
  const my = Math.round(ph * margin);
  const plateCorners: Quad = [
    { x: mx, y: my },
    { x: mx + pw, y: my },
    { x: mx + pw, y: my + ph },
    { x: mx, y: my + ph },
  ];
  const canvasToPlate = homography(corners, plateCorners);
  const canvas: Quad = [
    applyHomography(canvasToPlate, 0, 0),
    applyHomography(canvasToPlate, width, 0),
    applyHomography(canvasToPlate, width, height),
    applyHomography(canvasToPlate, 0, height),
  ];
  return warpQuad(upright, canvas, width, height);
}

export function intersectionOverUnion(a: Box, b: Box): number {
  const ix = Math.max(0, Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x));
  const iy = Math.max(0, Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y));
  const inter = ix * iy;
  return inter / (a.width * a.height + b.width * b.height - inter);
}
