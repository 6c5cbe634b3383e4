/**
 * Focus score of a plate crop: the variance of the 4-neighbour Laplacian over the greyscale
 * image (Pech-Pacheco et al.), the usual cheap sharpness measure. A soft or misfocused lens
 * gives low variance; a crisp plate's character edges give high variance. The number depends on
 * the crop's content and size, so the commissioning page compares passes with each other and
 * against a rule-of-thumb floor rather than treating it as absolute.
 */
import sharp from 'sharp';

export const SOFT_BELOW = 100;

export function laplacianVariance(grey: Uint8Array, width: number, height: number): number {
  if (width < 3 || height < 3) return 0;
  let sum = 0;
  let sumSq = 0;
  let n = 0;
  for (let y = 1; y < height - 1; y++) {
    for (let x = 1; x < width - 1; x++) {
      const i = y * width + x;
      const v = 4 * (grey[i] ?? 0) - (grey[i - 1] ?? 0) - (grey[i + 1] ?? 0) - (grey[i - width] ?? 0) - (grey[i + width] ?? 0);
      sum += v;
      sumSq += v * v;
      n++;
    }
  }
  const mean = sum / n;
  return sumSq / n - mean * mean;
}

/** Focus score of a JPEG, or undefined if it cannot be decoded. */
export async function focusScore(jpeg: Uint8Array): Promise<number | undefined> {
  try {
    const { data, info } = await sharp(jpeg).greyscale().raw().toBuffer({ resolveWithObject: true });
    return laplacianVariance(data, info.width, info.height);
  } catch {
    return undefined; // an undecodable crop has no score; the page shows n/a
  }
}
