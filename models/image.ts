/**
 * Image plumbing for the recognition stage: input validation, resizing, perspective rectification
 * of a quadrilateral and JPEG encoding. Pixels are packed RGB (see RgbImage).
 */
import sharp from 'sharp';
import { InvalidImageError } from './errors.ts';
import { homography, type Quad } from './geometry.ts';
import type { PlateImage, RgbImage } from './types.ts';
import { i420Bytes, isYuv } from './yuv.ts';

// Every image here is encoded once from raw pixels: libvips's operation cache (50 MB by default)
// would only hold memory a pole unit needs elsewhere.
sharp.cache(false);

/** Largest side accepted by default: 8K frames pass, a 16k×16k mistake does not. */
export const DEFAULT_MAX_IMAGE_SIDE = 8192;

/** Throws InvalidImageError unless `image` is a well-formed packed-RGB (or I420) image within limits. */
export function validateImage(image: PlateImage, maxSide = DEFAULT_MAX_IMAGE_SIDE): void {
  if (image === null || typeof image !== 'object') throw new InvalidImageError('image: expected an object');
  const { width, height, data } = image;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new InvalidImageError(`image: width and height must be positive integers, got ${String(width)}×${String(height)}`);
  }
  if (width > maxSide || height > maxSide) {
    throw new InvalidImageError(`image: ${width}×${height} exceeds the ${maxSide}-pixel side limit`);
  }
  if (!(data instanceof Uint8Array)) throw new InvalidImageError('image: data must be a Uint8Array');
  const [kind, bytes] = isYuv(image) ? ['an I420', i420Bytes(width, height)] : ['a packed-RGB', width * height * 3];
  if (data.length !== bytes) {
    throw new InvalidImageError(`image: data holds ${data.length} bytes, ${kind} ${width}×${height} image needs ${bytes}`);
  }
}

/** High-quality resize (sharp, Lanczos) to exactly width×height. */
export async function resizeRgb(image: RgbImage, width: number, height: number): Promise<RgbImage> {
  if (image.width === width && image.height === height) return image;
  const data = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
    .resize(width, height, { fit: 'fill' })
    .raw()
    .toBuffer();
  return { width, height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
}

/**
 * Samples the quadrilateral `quad` of `image` onto an upright width×height image (bilinear;
 * outside the source reads as edge pixels). When the output is much smaller than the quad each
 * output pixel averages a small grid of samples so thin strokes do not alias away.
 */
export function warpQuad(image: RgbImage, quad: Quad, width: number, height: number): RgbImage {
  const out = new Uint8Array(width * height * 3);
  const dst: Quad = [
    { x: 0, y: 0 },
    { x: width, y: 0 },
    { x: width, y: height },
    { x: 0, y: height },
  ];
  const h = homography(dst, quad);
  const srcW = Math.hypot(quad[1].x - quad[0].x, quad[1].y - quad[0].y);
  const srcH = Math.hypot(quad[3].x - quad[0].x, quad[3].y - quad[0].y);
  const ss = Math.max(1, Math.min(4, Math.ceil(Math.max(srcW / width, srcH / height))));
  const { width: W, height: H, data: src } = image;
  for (let oy = 0; oy < height; oy++) {
    for (let ox = 0; ox < width; ox++) {
      let r = 0;
      let g = 0;
      let b = 0;
      for (let sy = 0; sy < ss; sy++) {
        for (let sx = 0; sx < ss; sx++) {
          const dx = ox + (sx + 0.5) / ss;
          const dy = oy + (sy + 0.5) / ss;
          const w = h[6]! * dx + h[7]! * dy + h[8]!;
          // Pixel centres sit at +0.5; convert the continuous position into index space.
          let x = (h[0]! * dx + h[1]! * dy + h[2]!) / w - 0.5;
          let y = (h[3]! * dx + h[4]! * dy + h[5]!) / w - 0.5;
          x = x < 0 ? 0 : x > W - 1 ? W - 1 : x;
          y = y < 0 ? 0 : y > H - 1 ? H - 1 : y;
          const x0 = Math.floor(x);
          const y0 = Math.floor(y);
          const x1 = x0 + 1 < W ? x0 + 1 : x0;
          const y1 = y0 + 1 < H ? y0 + 1 : y0;
          const fx = x - x0;
          const fy = y - y0;
          const i00 = (y0 * W + x0) * 3;
          const i01 = (y0 * W + x1) * 3;
          const i10 = (y1 * W + x0) * 3;
          const i11 = (y1 * W + x1) * 3;
          const w00 = (1 - fx) * (1 - fy);
          const w01 = fx * (1 - fy);
          const w10 = (1 - fx) * fy;
          const w11 = fx * fy;
          r += src[i00]! * w00 + src[i01]! * w01 + src[i10]! * w10 + src[i11]! * w11;
          g += src[i00 + 1]! * w00 + src[i01 + 1]! * w01 + src[i10 + 1]! * w10 + src[i11 + 1]! * w11;
          b += src[i00 + 2]! * w00 + src[i01 + 2]! * w01 + src[i10 + 2]! * w10 + src[i11 + 2]! * w11;
        }
      }
      const o = (oy * width + ox) * 3;
      const n = ss * ss;
      out[o] = Math.round(r / n);
      out[o + 1] = Math.round(g / n);
      out[o + 2] = Math.round(b / n);
    }
  }
  return { width, height, data: out };
}

export async function encodeJpeg(image: RgbImage, quality = 85): Promise<Uint8Array> {
  const buf = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
    .jpeg({ quality })
    .toBuffer();
  // A copy with its own ArrayBuffer: transferable out of a worker and not a view into sharp's memory.
  return new Uint8Array(buf);
}

/** The axis-aligned region of `image` (clipped to it), copied. */
export function cropRgb(image: RgbImage, x: number, y: number, width: number, height: number): RgbImage {
  const x0 = Math.min(image.width - 1, Math.max(0, Math.floor(x)));
  const y0 = Math.min(image.height - 1, Math.max(0, Math.floor(y)));
  const x1 = Math.min(image.width, Math.ceil(x + width));
  const y1 = Math.min(image.height, Math.ceil(y + height));
  const w = Math.max(1, x1 - x0);
  const h = Math.max(1, y1 - y0);
  const out = new Uint8Array(w * h * 3);
  for (let r = 0; r < h; r++) out.set(image.data.subarray(((y0 + r) * image.width + x0) * 3, ((y0 + r) * image.width + x0 + w) * 3), r * w * 3);
  return { width: w, height: h, data: out };
}
