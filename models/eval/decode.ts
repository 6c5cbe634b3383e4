/** Image files → packed RGB for the recogniser, as a camera frame would arrive. */
import sharp from 'sharp';
import type { Box, RgbImage } from '../types.ts';

/**
 * Decodes a JPEG or PNG (EXIF orientation applied, alpha dropped, grey expanded to RGB).
 * Throws on a truncated or corrupt file rather than returning a partly grey image.
 */
export async function decodeImageFile(file: string): Promise<RgbImage> {
  const { data, info } = await sharp(file, { failOn: 'error' })
    .rotate()
    .removeAlpha()
    .toColourspace('srgb')
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels, expected 3`);
  return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
}

/** A small JPEG of `image` (or of `region` of it, with some context around), for the HTML report. */
export async function thumbnailJpeg(image: RgbImage, maxWidth: number, maxHeight: number, region?: Box): Promise<Uint8Array> {
  let pipeline = sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } });
  if (region) {
    const padX = region.width * 0.25;
    const padY = region.height * 0.5;
    const left = Math.max(0, Math.floor(region.x - padX));
    const top = Math.max(0, Math.floor(region.y - padY));
    const right = Math.min(image.width, Math.ceil(region.x + region.width + padX));
    const bottom = Math.min(image.height, Math.ceil(region.y + region.height + padY));
    if (right - left >= 2 && bottom - top >= 2) pipeline = pipeline.extract({ left, top, width: right - left, height: bottom - top });
  }
  const buf = await pipeline.resize(maxWidth, maxHeight, { fit: 'inside', withoutEnlargement: true }).jpeg({ quality: 75 }).toBuffer();
  return new Uint8Array(buf);
}

/** Re-sizes an encoded image (a read's evidence crop) for the report. */
export async function shrinkJpeg(jpeg: Uint8Array, maxWidth: number, maxHeight: number): Promise<Uint8Array> {
  const buf = await sharp(jpeg).resize(maxWidth, maxHeight, { fit: 'inside', withoutEnlargement: true }).jpeg({ quality: 75 }).toBuffer();
  return new Uint8Array(buf);
}
