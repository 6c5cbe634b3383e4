/**
 * I420 (planar YUV 4:2:0), the format cameras deliver frames in, and its conversion to the packed
 * RGB the recogniser reads (issue #4: an I420 frame is half the bytes of its RGB, so the gateway
 * holds frames as I420 and converts only what the recogniser and the overview image read).
 *
 * BT.601, limited range (Y 16–235, U/V 16–240), 8-bit fixed point; each chroma sample covers its
 * 2×2 block. On the sample clip's 1080p frames this is within 2 levels of ffmpeg's own rgb24
 * output (mean 0.8), so the recogniser reads what it read when ffmpeg made the RGB.
 */
import type { RgbImage, YuvImage } from './types.ts';

/** Chroma plane size: half each way, rounded up. */
function chromaSize(width: number, height: number): { cw: number; ch: number } {
  return { cw: (width + 1) >> 1, ch: (height + 1) >> 1 };
}

/** Bytes of a width×height I420 image: the Y plane, then U, then V. */
export function i420Bytes(width: number, height: number): number {
  const { cw, ch } = chromaSize(width, height);
  return width * height + 2 * cw * ch;
}

export function isYuv(image: RgbImage | YuvImage): image is YuvImage {
  return 'format' in image && image.format === 'i420';
}

/** The image as packed RGB: an RgbImage as it is, an I420 one converted (into `out` when given, of width × height × 3 bytes). */
export function toRgb(image: RgbImage | YuvImage, out?: Uint8Array): RgbImage {
  return isYuv(image) ? i420ToRgb(image, out) : image;
}

export function i420ToRgb(image: YuvImage, out: Uint8Array = new Uint8Array(image.width * image.height * 3)): RgbImage {
  const { width, height, data } = image;
  const { cw, ch } = chromaSize(width, height);
  const uBase = width * height;
  const vBase = uBase + cw * ch;
  // Clamped stores: out-of-range sums saturate to 0 or 255 without a branch.
  const o = new Uint8ClampedArray(out.buffer, out.byteOffset, width * height * 3);
  // One chroma sample at a time, for the (up to) two pixels of this row it covers.
  for (let y = 0; y < height; y++) {
    const yRow = y * width;
    const cRow = (y >> 1) * cw;
    let p = yRow * 3;
    for (let cx = 0; cx < cw; cx++) {
      const d = data[uBase + cRow + cx]! - 128;
      const e = data[vBase + cRow + cx]! - 128;
      const r = 409 * e;
      const g = -100 * d - 208 * e;
      const b = 516 * d;
      const x = cx << 1;
      let l = 298 * (data[yRow + x]! - 16);
      o[p] = (l + r) >> 8;
      o[p + 1] = (l + g) >> 8;
      o[p + 2] = (l + b) >> 8;
      if (x + 1 < width) {
        l = 298 * (data[yRow + x + 1]! - 16);
        o[p + 3] = (l + r) >> 8;
        o[p + 4] = (l + g) >> 8;
        o[p + 5] = (l + b) >> 8;
      }
      p += 6;
    }
  }
  return { width, height, data: out };
}

/** Packed RGB → I420 (chroma the mean of each 2×2 block): the simulated camera's frames. */
export function rgbToI420(image: RgbImage): YuvImage {
  const { width, height, data } = image;
  const { cw, ch } = chromaSize(width, height);
  const out = new Uint8Array(i420Bytes(width, height));
  const uBase = width * height;
  const vBase = uBase + cw * ch;
  for (let i = 0; i < width * height; i++) {
    const r = data[i * 3]!;
    const g = data[i * 3 + 1]!;
    const b = data[i * 3 + 2]!;
    out[i] = ((66 * r + 129 * g + 25 * b + 128) >> 8) + 16;
  }
  for (let cy = 0; cy < ch; cy++) {
    for (let cx = 0; cx < cw; cx++) {
      let r = 0;
      let g = 0;
      let b = 0;
      let n = 0;
      for (let y = cy * 2; y < Math.min(height, cy * 2 + 2); y++) {
        for (let x = cx * 2; x < Math.min(width, cx * 2 + 2); x++) {
          const i = (y * width + x) * 3;
          r += data[i]!;
          g += data[i + 1]!;
          b += data[i + 2]!;
          n++;
        }
      }
      r /= n;
      g /= n;
      b /= n;
      out[uBase + cy * cw + cx] = Math.round((-38 * r - 74 * g + 112 * b) / 256) + 128;
      out[vBase + cy * cw + cx] = Math.round((112 * r - 94 * g - 18 * b) / 256) + 128;
    }
  }
  return { format: 'i420', width, height, data: out };
}
