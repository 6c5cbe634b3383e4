import { describe, expect, it } from 'vitest';
import { detectorTensorData } from '../../../models/ppocr/detector.ts';

const image = { width: 3, height: 2, data: new Uint8Array(Array.from({ length: 18 }, (_, i) => i * 13)) };

describe('detectorTensorData', () => {
  it('writes the same values into a buffer it is given as into one of its own, and nothing past them', () => {
    const own = detectorTensorData(image);
    const into = new Float32Array(30).fill(7);
    const out = detectorTensorData(image, into);
    expect(out.length).toBe(18);
    expect(out.buffer).toBe(into.buffer);
    expect([...out]).toEqual([...own]);
    expect([...into.subarray(18)]).toEqual(new Array(12).fill(7));
  });

  it('rejects a buffer too small for the image, naming both sizes', () => {
    expect(() => detectorTensorData(image, new Float32Array(17))).toThrow(/17 values, 18 needed/);
  });
});
