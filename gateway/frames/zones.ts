/**
 * Per-camera detection zones and privacy masks, in fractions of the frame (0–1) so they survive
 * a change of resolution. A privacy mask is painted black before anything else sees the frame:
 * recognition, the stored overview, the live view. The detection zone is the part of the frame
 * recognition looks at; reads outside it are never made.
 */
import type { RgbImage } from '../../models/types.ts';

export interface Region {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

export interface PixelRect {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

export function toPixels(region: Region, image: { width: number; height: number }): PixelRect {
  const x0 = Math.max(0, Math.min(image.width, Math.floor(region.x * image.width)));
  const y0 = Math.max(0, Math.min(image.height, Math.floor(region.y * image.height)));
  const x1 = Math.max(x0, Math.min(image.width, Math.ceil((region.x + region.width) * image.width)));
  const y1 = Math.max(y0, Math.min(image.height, Math.ceil((region.y + region.height) * image.height)));
  return { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
}

/** Blacks out each mask in place. The frame is the gateway's own copy (each frame owns its buffer). */
export function applyPrivacyMasks(image: RgbImage, masks: readonly Region[]): void {
  for (const mask of masks) {
    const r = toPixels(mask, image);
    for (let y = r.y; y < r.y + r.height; y++) {
      image.data.fill(0, (y * image.width + r.x) * 3, (y * image.width + r.x + r.width) * 3);
    }
  }
}

/** The zone's pixels as a new image, and where it sits in the frame (to map boxes back). */
export function cropToZone(image: RgbImage, zone: Region | undefined): { image: RgbImage; offset: { x: number; y: number } } {
  if (!zone) return { image, offset: { x: 0, y: 0 } };
  const r = toPixels(zone, image);
  if (r.x === 0 && r.y === 0 && r.width === image.width && r.height === image.height) return { image, offset: { x: 0, y: 0 } };
  const data = new Uint8Array(r.width * r.height * 3);
  for (let y = 0; y < r.height; y++) {
    const from = ((r.y + y) * image.width + r.x) * 3;
    data.set(image.data.subarray(from, from + r.width * 3), y * r.width * 3);
  }
  return { image: { width: r.width, height: r.height, data }, offset: { x: r.x, y: r.y } };
}
