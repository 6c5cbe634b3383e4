import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OnnxPlateRecognizer } from '../../../models/onnx-recognizer.ts';
import { detectorThreads } from '../../../models/threads.ts';
import { renderPlate } from '../../../models/synth/plate.ts';
import type { Box, RgbImage } from '../../../models/types.ts';
import { intersectionOverUnion, renderEmptyScene, renderPerspectivePlate, renderScene } from './fixtures.ts';
import { expectWellFormedRead } from './recognizer-contract.ts';

let recognizer: OnnxPlateRecognizer;

beforeAll(async () => {
  recognizer = await OnnxPlateRecognizer.create({ threads: 1 });
});
afterAll(async () => {
  await recognizer.close();
});

async function readTexts(image: RgbImage): Promise<string[]> {
  const { reads } = await recognizer.recognize(image);
  reads.forEach(expectWellFormedRead);
  return reads.map((r) => r.text);
}

function inside(outer: Box, inner: Box, slack: number): boolean {
  return (
    inner.x >= outer.x - slack &&
    inner.y >= outer.y - slack &&
    inner.x + inner.width <= outer.x + outer.width + slack &&
    inner.y + inner.height <= outer.y + outer.height + slack
  );
}

describe('OnnxPlateRecognizer on plate crops', () => {
  it.each(['7ABC123', '8XYZ456', 'ABC1234', '4GHJ872'])('reads %s exactly, and not the state name', async (text) => {
    expect(await readTexts(await renderPlate({ text, stateName: 'California', width: 240 }))).toEqual([text]);
  });

  it.each([
    ['ABC 1234', 'ABC1234'],
    ['ABC-1234', 'ABC1234'],
  ])('reads a registration split by a space or dash (%s) as one plate', async (printed, expected) => {
    expect(await readTexts(await renderPlate({ text: printed, stateName: 'Ohio', slogan: 'Birthplace of Aviation' }))).toEqual([expected]);
  });

  it('reads a tight crop with no margin, and a small one', async () => {
    expect(await readTexts(await renderPlate({ text: '6WVU338', stateName: 'Oregon', width: 200 }, 0))).toEqual(['6WVU338']);
    expect(await readTexts(await renderPlate({ text: '6WVU338', stateName: 'Oregon', width: 120 }, 0.05))).toEqual(['6WVU338']);
  });

  it('reads light characters on a dark plate', async () => {
    expect(await readTexts(await renderPlate({ text: '5DEF901', textColor: '#ffffff', background: '#203080' }))).toEqual(['5DEF901']);
  });

  it('reads a perspective-warped plate', async () => {
    const img = await renderPerspectivePlate(
      { text: '4GHJ872', stateName: 'Nevada' },
      [
        { x: 40, y: 30 },
        { x: 290, y: 55 },
        { x: 285, y: 150 },
        { x: 45, y: 165 },
      ],
      340,
      200,
    );
    expect(await readTexts(img)).toEqual(['4GHJ872']);
  });

  it('returns the rectified plate crop as a JPEG and top-N alternatives', async () => {
    const { reads } = await recognizer.recognize(await renderPlate({ text: '7ABC123', stateName: 'California' }));
    const [read] = reads;
    expect(read?.candidates.length).toBe(5);
    expect(new Set(read?.candidates.map((c) => c.text)).size).toBe(5);
    const meta = await sharp(read!.crop).metadata();
    expect(meta.format).toBe('jpeg');
    expect(meta.width! / meta.height!).toBeGreaterThan(1.5);
  });
});

describe('OnnxPlateRecognizer on 1280×720 scenes', () => {
  it('finds and reads the plate, and its box lies on the plate', async () => {
    const scene = await renderScene({ text: '7ABC123', stateName: 'California', width: 200 }, 700, 480);
    const { reads, timings } = await recognizer.recognize(scene.image);
    expect(reads.map((r) => r.text)).toEqual(['7ABC123']);
    expect(intersectionOverUnion(reads[0]!.box, scene.plate)).toBeGreaterThan(0.5);
    const { box } = reads[0]!;
    const centre = { x: box.x + box.width / 2, y: box.y + box.height / 2, width: 0, height: 0 };
    expect(inside(scene.plate, centre, 0)).toBe(true);
    expect(inside(box, { x: 720, y: 510, width: 160, height: 40 }, 0)).toBe(true); // the characters' band
    expect(timings.detectMs).toBeGreaterThan(0);
    expect(timings.recogniseMs).toBeGreaterThan(0);
  });

  it.each([8, -8])('reads a plate rotated %i°', async (angle) => {
    const scene = await renderScene({ text: '8XYZ456', stateName: 'Texas', slogan: 'The Lone Star State', width: 200 }, 300, 400, angle);
    const { reads } = await recognizer.recognize(scene.image);
    expect(reads.map((r) => r.text)).toEqual(['8XYZ456']);
    expect(intersectionOverUnion(reads[0]!.box, scene.plate)).toBeGreaterThan(0.4);
  });

  it('reads nothing where there is no plate', async () => {
    expect(await readTexts(await renderEmptyScene())).toEqual([]);
    expect(await readTexts({ width: 640, height: 480, data: new Uint8Array(640 * 480 * 3).fill(128) })).toEqual([]);
  });

  it('honours detMaxSide', async () => {
    const small = await OnnxPlateRecognizer.create({ threads: 1, detMaxSide: 640 });
    try {
      const scene = await renderScene({ text: 'ABC1234', width: 220 }, 400, 350);
      const { reads } = await small.recognize(scene.image);
      expect(reads.map((r) => r.text)).toEqual(['ABC1234']);
    } finally {
      await small.close();
    }
  });
});

describe('detectorThreads', () => {
  it('gives the detector two threads where there are two cores, never more than the cores', () => {
    expect(detectorThreads({}, 2)).toBe(2);
    expect(detectorThreads({}, 8)).toBe(2);
    expect(detectorThreads({}, 1)).toBe(1);
  });
  it('takes the sessions’ thread count when it is larger, and an explicit count as given', () => {
    expect(detectorThreads({ threads: 4 }, 8)).toBe(4);
    expect(detectorThreads({ threads: 4, detectorThreads: 1 }, 8)).toBe(1);
    expect(detectorThreads({ detectorThreads: 3 }, 2)).toBe(3);
  });
});
