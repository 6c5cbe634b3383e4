/**
 * The self-test a new model pack must pass before it serves: plates rendered on the device
 * (models/synth, deterministic, so the "images" are built in without shipping files) read by
 * the candidate recogniser. Used as SwitchablePlateRecognizer's probe, so a pack that loads but
 * reads nothing never takes over.
 */
import { renderPlate } from '../models/synth/plate.ts';
import type { PlateRecognizer } from '../models/types.ts';
import { OtaError } from './errors.ts';

export const SELF_TEST_PLATES: readonly string[] = ['7ABC123', '4XKJ921', '8MNP447', 'TRK5521'];

export interface SelfTestOptions {
  readonly plates?: readonly string[];
  /** Share of plates that must be read exactly (default 0.75: one hard plate may be missed). */
  readonly minShare?: number;
}

export function selfTestProbe(options: SelfTestOptions = {}): (candidate: PlateRecognizer) => Promise<void> {
  const plates = options.plates ?? SELF_TEST_PLATES;
  const minShare = options.minShare ?? 0.75;
  return async (candidate) => {
    const misses: string[] = [];
    for (const text of plates) {
      const image = await renderPlate({ text, stateName: 'California', width: 360 });
      const result = await candidate.recognize(image);
      const read = result.reads.some((r) => r.text === text || r.candidates.some((c) => c.text === text));
      if (!read) misses.push(`${text} (read: ${result.reads.map((r) => r.text).join(', ') || 'nothing'})`);
    }
    const passed = plates.length - misses.length;
    if (passed < Math.ceil(minShare * plates.length)) {
      throw new OtaError('invalid', `self-test: ${candidate.modelVersion} read ${passed} of ${plates.length} test plates; missed ${misses.join('; ')}`);
    }
  };
}

/** The firmware health check's self-test predicate: the running recogniser still reads the test plates. */
export function recognizerSelfTest(recognizer: PlateRecognizer, options: SelfTestOptions = {}): () => Promise<boolean> {
  const probe = selfTestProbe(options);
  return () => probe(recognizer).then(() => true, () => false);
}
