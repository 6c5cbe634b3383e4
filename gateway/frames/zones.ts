/**
 * Per-camera detection zones and privacy masks, in fractions of the frame (0–1) so they survive
 * a change of resolution. A privacy mask is painted black before anything else sees the frame:
 * recognition, the stored overview, the live view. The detection zone is the part of the frame
 * recognition looks at; reads outside it are never made. Frames are I420: each region covers the
 * Y plane's pixels and the chroma samples they use.
 */
import type { YuvImage } from '../../models/types.ts';
import { i420Bytes } from '../../models/yuv.ts';

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

/** Where the U and V planes start, and their row length. */
function planes(image: { width: number; height: number }): { u: number; v: number; cw: number } {
  const cw = (image.width + 1) >> 1;
  const u = image.width * image.height;
  return { u, v: u + cw * ((image.height + 1) >> 1), cw };
}

/** Blacks out each mask in place (Y 16, U and V 128). The frame is the gateway's own copy (each frame owns its buffer). */
export function applyPrivacyMasks(image: YuvImage, masks: readonly Region[]): void {
  const { u, v, cw } = planes(image);
  for (const mask of masks) {
    const r = toPixels(mask, image);
    if (r.width === 0 || r.height === 0) continue;
    for (let y = r.y; y < r.y + r.height; y++) image.data.fill(16, y * image.width + r.x, y * image.width + r.x + r.width);
    // Every chroma sample that a masked pixel uses.
    const cx0 = r.x >> 1;
    const cx1 = (r.x + r.width + 1) >> 1;
    for (let cy = r.y >> 1; cy < (r.y + r.height + 1) >> 1; cy++) {
      image.data.fill(128, u + cy * cw + cx0, u + cy * cw + cx1);
      image.data.fill(128, v + cy * cw + cx0, v + cy * cw + cx1);
    }
  }
}

/**
 * The zone's pixels as a new image, and where it sits in the frame (to map boxes back). Its
 * top-left corner moves up and left to even coordinates, so that it starts on a chroma sample.
 */
export function cropToZone(image: YuvImage, zone: Region | undefined): { image: YuvImage; offset: { x: number; y: number } } {
  if (!zone) return { image, offset: { x: 0, y: 0 } };
  const r = toPixels(zone, image);
  const x0 = r.x & ~1;
  const y0 = r.y & ~1;
  const width = Math.max(1, r.x + r.width - x0);
  const height = Math.max(1, r.y + r.height - y0);
  if (x0 === 0 && y0 === 0 && width === image.width && height === image.height) return { image, offset: { x: 0, y: 0 } };
  const data = new Uint8Array(i420Bytes(width, height));
  for (let y = 0; y < height; y++) {
    const from = (y0 + y) * image.width + x0;
    data.set(image.data.subarray(from, from + width), y * width);
  }
  const src = planes(image);
  const dst = planes({ width, height });
  const cWidth = (width + 1) >> 1;
  for (let cy = 0; cy < (height + 1) >> 1; cy++) {
    const from = (y0 / 2 + cy) * src.cw + x0 / 2;
    data.set(image.data.subarray(src.u + from, src.u + from + cWidth), dst.u + cy * dst.cw);
    data.set(image.data.subarray(src.v + from, src.v + from + cWidth), dst.v + cy * dst.cw);
  }
  return { image: { format: 'i420', width, height, data }, offset: { x: x0, y: y0 } };
}
