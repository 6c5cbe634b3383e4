/**
 * A character split off at an end of a short registration ("B [emblem] 3333", a county number
 * before Wyoming's horse): the recogniser's rule, driven through fake models whose readings are
 * chosen here, so each case says exactly what PP-OCR and the CRNN saw.
 */
import { describe, expect, it } from 'vitest';
import { rectCorners, type RotatedRect } from '../../../models/geometry.ts';
import { OnnxPlateRecognizer } from '../../../models/onnx-recognizer.ts';
import type { PlateCrnn } from '../../../models/crnn/plate-crnn.ts';
import { PLATE_SYMBOLS, type StepMatrix } from '../../../models/ppocr/ctc.ts';
import type { TextDetector } from '../../../models/ppocr/detector.ts';
import type { TextReading, TextRecognizer } from '../../../models/ppocr/recognizer.ts';
import type { RgbImage } from '../../../models/types.ts';

const C = PLATE_SYMBOLS.length + 1;

/** A lattice spelling `text`, blanks between characters; `p` per character (default 0.98), the rest blank. */
function spelled(text: string, p: Record<number, Record<string, number>> = {}): StepMatrix {
  const steps = 2 * text.length + 1;
  const probs = new Float32Array(steps * C);
  for (let t = 0; t < steps; t++) {
    const i = (t - 1) / 2;
    const row: Record<string, number> = t % 2 === 1 ? (p[i] ?? { [text[i]!]: 0.98 }) : {};
    let rest = 1;
    for (const [sym, q] of Object.entries(row)) {
      probs[t * C + PLATE_SYMBOLS.indexOf(sym) + 1] = q;
      rest -= q;
    }
    probs[t * C] = rest; // blank
  }
  return { steps, classes: C, probs };
}

function reading(m: StepMatrix, text: string): TextReading {
  return { text, charProbs: [...text].map(() => 0.98), candidates: [{ text, score: 1 }], lattice: m, cropWidth: 8 * m.steps, stepWidth: 8 };
}

/** The registration line, 18 px high (below the short-character trim's floor). */
const LINE: RotatedRect = { cx: 200, cy: 80, ux: 1, uy: 0, width: 80, height: 18 };

/**
 * A recogniser over fakes. PP-OCR reads `narrow` from the line's usual crop and `wide` from a
 * crop with wide ends (told apart by width); the CRNN reads `plate` over the plate box (its
 * first call) and `wideCrnn` over the line with wide ends (its second).
 */
async function readWith(narrow: string, wide: [StepMatrix, string], plate: string, wideCrnn: StepMatrix): Promise<string[]> {
  const detector = { detect: async () => [{ rect: LINE, quad: rectCorners(LINE), score: 0.9 }] } as unknown as TextDetector;
  let narrowWidth = Infinity;
  const recognizer = {
    recognizeCrops: async (crops: readonly RgbImage[]) =>
      crops.map((c) => {
        narrowWidth = Math.min(narrowWidth, c.width);
        return c.width > narrowWidth ? reading(...wide) : reading(spelled(narrow), narrow);
      }),
    readText: async () => [],
  } as unknown as TextRecognizer;
  let crnnCalls = 0;
  const crnn = {
    id: 'fake-crnn',
    lattices: async (_: RgbImage, quads: readonly unknown[]) => {
      const m = crnnCalls++ === 0 ? spelled(plate) : wideCrnn;
      return quads.map(() => m);
    },
    close: async () => undefined,
  } as unknown as PlateCrnn;
  const image: RgbImage = { width: 320, height: 160, data: new Uint8Array(320 * 160 * 3).fill(200) };
  const r = new OnnxPlateRecognizer('test', detector, recognizer, [], { readState: false }, 960, crnn);
  try {
    return (await r.recognize(image)).reads.map((x) => x.text);
  } finally {
    await r.close();
  }
}

describe('a character split off at an end of a short registration', () => {
  it('is taken when the wide PP-OCR reading and the wide CRNN reading both see it', async () => {
    expect(await readWith('3333', [spelled('B3333'), 'B3333'], '3333', spelled('B3333'))).toEqual(['B3333']);
  });

  it('is taken when the wide CRNN reading misreads one other character', async () => {
    const wideCrnn = spelled('B3383', { 3: { '8': 0.55, '3': 0.4 } });
    expect(await readWith('3333', [spelled('B3333'), 'B3333'], '3333', wideCrnn)).toEqual(['B3333']);
  });

  it('is not taken when the wide PP-OCR reading does not see it', async () => {
    expect(await readWith('3333', [spelled('3333'), '3333'], '3333', spelled('B3333'))).toEqual(['3333']);
  });

  it('is not taken when the wide CRNN reading differs in two other characters', async () => {
    expect(await readWith('3333', [spelled('B3333'), 'B3333'], '3333', spelled('B8383'))).toEqual(['3333']);
  });
});
