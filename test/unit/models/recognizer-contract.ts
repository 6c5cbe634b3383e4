/**
 * The PlateRecognizer contract, run against every implementation (ONNX in-thread, ONNX in a
 * worker, scripted twin). `make` builds a recogniser that will read the plate in `plateImage`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidImageError, RecognitionAbortedError, RecognizerClosedError } from '../../../models/errors.ts';
import { renderPlate } from '../../../models/synth/plate.ts';
import type { PlateRead, PlateRecognizer, RgbImage } from '../../../models/types.ts';
import { i420Bytes, rgbToI420 } from '../../../models/yuv.ts';

export const CONTRACT_PLATE = '7ABC123';

export function plateImage(): Promise<RgbImage> {
  return renderPlate({ text: CONTRACT_PLATE, stateName: 'California', width: 240 });
}

/** Invariants every PlateRead must hold, whatever produced it. */
export function expectWellFormedRead(read: PlateRead): void {
  expect(read.text).toMatch(/^[A-Z0-9]+$/);
  expect(read.charConfidences).toHaveLength(read.text.length);
  for (const p of read.charConfidences) {
    expect(p).toBeGreaterThanOrEqual(0);
    expect(p).toBeLessThanOrEqual(1);
  }
  expect(read.confidence).toBeGreaterThan(0);
  expect(read.confidence).toBeLessThanOrEqual(1);
  expect(read.candidates[0]?.text).toBe(read.text);
  const scores = read.candidates.map((c) => c.score);
  expect([...scores].sort((a, b) => b - a)).toEqual(scores);
  expect(read.box.width).toBeGreaterThan(0);
  expect(read.box.height).toBeGreaterThan(0);
  expect(read.crop).toBeInstanceOf(Uint8Array);
}

const BAD_IMAGES: readonly [string, RgbImage, RegExp][] = [
  ['zero width', { width: 0, height: 10, data: new Uint8Array(0) }, /positive integers/],
  ['fractional height', { width: 10, height: 2.5, data: new Uint8Array(75) }, /positive integers/],
  ['short data', { width: 10, height: 10, data: new Uint8Array(299) }, /holds 299 bytes.*needs 300/],
  ['16k × 16k', { width: 16_000, height: 16_000, data: new Uint8Array(3) }, /exceeds the 8192-pixel side limit/],
  ['not bytes', { width: 1, height: 1, data: [1, 2, 3] as unknown as Uint8Array }, /Uint8Array/],
];

export function describeRecognizerContract(name: string, make: () => Promise<PlateRecognizer>): void {
  describe(`PlateRecognizer contract: ${name}`, () => {
    let recognizer: PlateRecognizer;
    let plate: RgbImage;

    beforeAll(async () => {
      [recognizer, plate] = await Promise.all([make(), plateImage()]);
    });
    afterAll(async () => {
      await recognizer.close();
    });

    it('names its model version', () => {
      expect(recognizer.modelVersion).toMatch(/\S/);
    });

    it('reads the plate and reports well-formed reads and timings', async () => {
      const { reads, timings } = await recognizer.recognize(plate);
      expect(reads.map((r) => r.text)).toEqual([CONTRACT_PLATE]);
      reads.forEach(expectWellFormedRead);
      for (const v of Object.values(timings)) expect(v).toBeGreaterThanOrEqual(0);
      expect(timings.totalMs).toBeGreaterThanOrEqual(timings.detectMs);
    });

    it('reads a camera frame (I420) as it reads the same picture in RGB', async () => {
      const frame = rgbToI420(plate);
      const { reads } = await recognizer.recognize(frame);
      expect(reads.map((r) => r.text)).toEqual([CONTRACT_PLATE]);
      reads.forEach(expectWellFormedRead);
      expect(frame.data.length).toBe(i420Bytes(plate.width, plate.height)); // the caller's frame is left as it was
      const err: unknown = await recognizer.recognize({ ...frame, data: frame.data.subarray(1) }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(InvalidImageError);
      expect((err as Error).message).toMatch(/I420/);
    });

    it.each(BAD_IMAGES)('rejects bad input (%s) with InvalidImageError', async (_label, image, message) => {
      const err: unknown = await recognizer.recognize(image).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(InvalidImageError);
      expect((err as Error).message).toMatch(message);
    });

    it('still works after bad input', async () => {
      await expect(recognizer.recognize({ width: 3, height: 3, data: new Uint8Array(1) })).rejects.toThrow(InvalidImageError);
      const { reads } = await recognizer.recognize(plate);
      expect(reads[0]?.text).toBe(CONTRACT_PLATE);
    });

    it('honours an aborted signal', async () => {
      await expect(recognizer.recognize(plate, AbortSignal.abort())).rejects.toThrow(RecognitionAbortedError);
    });

    it('refuses work after close(), and close() twice is fine', async () => {
      const own = await make();
      await own.close();
      await own.close();
      await expect(own.recognize(plate)).rejects.toThrow(RecognizerClosedError);
    });
  });
}
