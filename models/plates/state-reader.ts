/**
 * Reads the state of a plate candidate from its captions: the printed state name (or slogan)
 * above or below the registration, read over the recogniser's whole dictionary (not the plate
 * alphabet) and matched against the state names (state-match.ts).
 */
import { rectCorners, type RotatedRect } from '../geometry.ts';
import type { TextRecognizer } from '../ppocr/recognizer.ts';
import type { RgbImage } from '../types.ts';
import type { PlateCandidate } from './candidates.ts';
import { stateFromCaptions } from './state-match.ts';

/** Captions are read at most this wide (model pixels): state names fit, long slogans are squeezed. */
const CAPTION_MAX_WIDTH = 320;
/** Captions shorter than this (source pixels) are not legible to the recogniser. */
const CAPTION_MIN_HEIGHT = 7;

/** The nearest legible caption on one side of a candidate's registration. */
export function captionLine(c: PlateCandidate, side: 'above' | 'below'): RotatedRect | undefined {
  let best: RotatedRect | undefined;
  let bestDistance = Infinity;
  for (const s of c.secondary) {
    if (s.height < CAPTION_MIN_HEIGHT || c.likeness < 1) continue;
    const v = -(s.cx - c.rect.cx) * c.rect.uy + (s.cy - c.rect.cy) * c.rect.ux;
    if ((side === 'above' ? -v : v) > 0 && Math.abs(v) < bestDistance) {
      best = s;
      bestDistance = Math.abs(v);
    }
  }
  return best;
}

/**
 * The two-letter state of `c`, or undefined. The nearest caption above is read first (most states
 * print their name on top); the one below only when that named no state, so most plates cost one
 * extra model call and none more than two.
 */
export async function readState(recognizer: Pick<TextRecognizer, 'readText'>, image: RgbImage, c: PlateCandidate): Promise<string | undefined> {
  for (const side of ['above', 'below'] as const) {
    const line = captionLine(c, side);
    if (!line) continue;
    const [text] = await recognizer.readText(image, [rectCorners(line)], CAPTION_MAX_WIDTH);
    const state = text !== undefined ? stateFromCaptions([text])?.state : undefined;
    if (state) return state;
  }
  return undefined;
}
