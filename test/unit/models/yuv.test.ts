import { describe, expect, it } from 'vitest';
import { validateImage } from '../../../models/image.ts';
import { i420Bytes, i420ToRgb, isYuv, rgbToI420, toRgb } from '../../../models/yuv.ts';

/** A w×h RGB image of smooth gradients in all three channels. */
function gradient(w: number, h: number): { width: number; height: number; data: Uint8Array } {
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = (y * w + x) * 3;
      data[i] = 30 + Math.round((180 * x) / w);
      data[i + 1] = 40 + Math.round((160 * y) / h);
      data[i + 2] = 200 - Math.round((150 * (x + y)) / (w + h));
    }
  }
  return { width: w, height: h, data };
}

describe('I420', () => {
  it('sizes the planes with chroma rounded up for odd sizes', () => {
    expect(i420Bytes(1920, 1080)).toBe(1920 * 1080 * 1.5);
    expect(i420Bytes(5, 3)).toBe(15 + 2 * 3 * 2);
  });

  it('converts to RGB and back within a few levels on smooth images, odd sizes included', () => {
    for (const [w, h] of [[64, 32], [65, 33]] as const) {
      const rgb = gradient(w, h);
      const back = i420ToRgb(rgbToI420(rgb));
      let max = 0;
      for (let i = 0; i < rgb.data.length; i++) max = Math.max(max, Math.abs(rgb.data[i]! - back.data[i]!));
      expect(max, `${w}x${h}`).toBeLessThanOrEqual(6);
      expect(back.data.length).toBe(w * h * 3);
    }
  });

  it('reads black, white and a saturated colour at the ends of limited range', () => {
    const px = (y: number, u: number, v: number): number[] => [...i420ToRgb({ format: 'i420', width: 1, height: 1, data: new Uint8Array([y, u, v]) }).data];
    expect(px(16, 128, 128)).toEqual([0, 0, 0]);
    expect(px(235, 128, 128).every((v) => v >= 254)).toBe(true);
    const red = px(81, 90, 240);
    expect(red[0]).toBeGreaterThan(250);
    expect(red[1]).toBeLessThan(5);
    expect(red[2]).toBeLessThan(5);
    expect(px(0, 0, 255)[1]).toBe(0); // out-of-range sums saturate
  });

  it('converts into a buffer given for reuse, and passes RGB through', () => {
    const yuv = rgbToI420(gradient(8, 4));
    const out = new Uint8Array(8 * 4 * 3);
    expect(toRgb(yuv, out).data).toBe(out);
    const rgb = gradient(2, 2);
    expect(toRgb(rgb)).toBe(rgb);
    expect([isYuv(yuv), isYuv(rgb)]).toEqual([true, false]);
  });

  it('is validated by its own size: an I420 buffer is not a short RGB one', () => {
    const yuv = rgbToI420(gradient(8, 4));
    expect(() => validateImage(yuv)).not.toThrow();
    expect(() => validateImage({ ...yuv, data: yuv.data.subarray(1) })).toThrow(/an I420 8×4 image needs 48/);
    expect(() => validateImage({ width: 8, height: 4, data: yuv.data })).toThrow(/packed-RGB 8×4 image needs 96/);
  });
});
