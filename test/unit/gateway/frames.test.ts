import { describe, expect, it } from 'vitest';
import type { YuvImage } from '../../../models/types.ts';
import { rgbToI420 } from '../../../models/yuv.ts';
import { CameraHealth, pictureStats } from '../../../gateway/frames/health.ts';
import { MotionGate } from '../../../gateway/frames/motion.ts';
import { applyPrivacyMasks, cropToZone, toPixels } from '../../../gateway/frames/zones.ts';

/** A textured frame (a fine checkerboard of two greys) with an optional dark block drawn on it, as a camera delivers it (I420). */
function frame(w: number, h: number, opts: { block?: { x: number; y: number; size: number }; flat?: number; brightness?: number; smooth?: boolean } = {}): YuvImage {
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let v = opts.flat ?? (opts.smooth ? 100 + 40 * Math.sin(x / 40) : ((x >> 1) + (y >> 1)) % 2 ? 150 : 90);
      v += opts.brightness ?? 0;
      const b = opts.block;
      if (b && x >= b.x && x < b.x + b.size && y >= b.y && y < b.y + b.size) v = 20;
      data.fill(Math.max(0, Math.min(255, v)), (y * w + x) * 3, (y * w + x) * 3 + 3);
    }
  }
  return rgbToI420({ width: w, height: h, data });
}

/** The luma (Y) of pixel x, y. */
const lumaAt = (img: YuvImage, x: number, y: number): number | undefined => img.data[y * img.width + x];
/** Its U and V. */
const chromaAt = (img: YuvImage, x: number, y: number): [number | undefined, number | undefined] => {
  const cw = (img.width + 1) >> 1;
  const u = img.width * img.height;
  const i = (y >> 1) * cw + (x >> 1);
  return [img.data[u + i], img.data[u + cw * ((img.height + 1) >> 1) + i]];
};

describe('MotionGate', () => {
  it('stays shut on a still scene and opens when a vehicle-sized block moves through', () => {
    const gate = new MotionGate();
    expect(gate.update(frame(640, 360)).moving).toBe(false); // first frame: background only
    expect(gate.update(frame(640, 360)).moving).toBe(false);
    const r = gate.update(frame(640, 360, { block: { x: 200, y: 100, size: 80 } }));
    expect(r.moving).toBe(true);
    expect(r.changed).toBeGreaterThan(0.01);
  });

  it('absorbs a slow change of light without opening', () => {
    const gate = new MotionGate();
    let opened = 0;
    for (let i = 0; i <= 40; i++) if (gate.update(frame(320, 180, { brightness: i })).moving) opened++;
    expect(opened).toBe(0);
  });

  it('restarts its background when the frame size changes', () => {
    const gate = new MotionGate();
    gate.update(frame(320, 180));
    expect(gate.update(frame(640, 360, { block: { x: 0, y: 0, size: 200 } })).moving).toBe(false);
  });
});

describe('zones and privacy masks', () => {
  it('converts fractional regions to clamped pixels', () => {
    expect(toPixels({ x: 0.5, y: 0.25, width: 0.25, height: 0.5 }, { width: 640, height: 360 })).toEqual({ x: 320, y: 90, width: 160, height: 180 });
    expect(toPixels({ x: 0.9, y: 0.9, width: 0.5, height: 0.5 }, { width: 100, height: 100 })).toEqual({ x: 90, y: 90, width: 10, height: 10 });
  });

  it('blacks out a privacy mask and nothing else', () => {
    const img = frame(100, 50, { flat: 200 });
    const grey = lumaAt(img, 50, 10);
    applyPrivacyMasks(img, [{ x: 0, y: 0, width: 0.5, height: 1 }]);
    // Black in limited range: Y 16, no colour.
    expect(lumaAt(img, 10, 10)).toBe(16);
    expect(lumaAt(img, 49, 10)).toBe(16);
    expect(chromaAt(img, 49, 10)).toEqual([128, 128]);
    expect(lumaAt(img, 50, 10)).toBe(grey);
    expect(grey).toBeGreaterThan(150);
  });

  it('a mask on odd pixels blacks the chroma those pixels use', () => {
    const img = frame(10, 10, { flat: 200 });
    for (let i = img.width * img.height; i < img.data.length; i++) img.data[i] = 90; // a colour, not grey
    applyPrivacyMasks(img, [{ x: 0.3, y: 0.3, width: 0.1, height: 0.1 }]); // pixel 3,3 alone
    expect(lumaAt(img, 3, 3)).toBe(16);
    expect(lumaAt(img, 2, 3)).not.toBe(16);
    expect(chromaAt(img, 3, 3)).toEqual([128, 128]);
    expect(chromaAt(img, 4, 3)).toEqual([90, 90]);
  });

  it('crops to the detection zone and reports its offset', () => {
    const img = frame(100, 50, { block: { x: 60, y: 20, size: 5 } });
    const { image, offset } = cropToZone(img, { x: 0.5, y: 0.2, width: 0.5, height: 0.6 });
    expect(offset).toEqual({ x: 50, y: 10 });
    expect([image.format, image.width, image.height, image.data.length]).toEqual(['i420', 50, 30, 50 * 30 * 1.5]);
    expect(lumaAt(image, 60 - 50, 20 - 10)).toBe(lumaAt(img, 60, 20)); // the block, moved by the offset
    expect(lumaAt(img, 60, 20)).toBeLessThan(40);
    expect(chromaAt(image, 10, 10)).toEqual(chromaAt(img, 60, 20));
    expect(cropToZone(img, undefined).image).toBe(img);
  });

  it('moves a zone that starts on an odd pixel to the even one before it (a chroma sample starts there)', () => {
    const img = frame(128, 64, { block: { x: 60, y: 20, size: 5 } });
    const { image, offset } = cropToZone(img, { x: 51 / 128, y: 11 / 64, width: 20 / 128, height: 10 / 64 }); // pixels 51,11 to 71,21
    expect(offset).toEqual({ x: 50, y: 10 });
    expect([image.width, image.height]).toEqual([21, 11]);
    expect(image.data.length).toBe(21 * 11 + 2 * 11 * 6);
    expect(lumaAt(image, 10, 10)).toBe(lumaAt(img, 60, 20));
    expect(chromaAt(image, 10, 10)).toEqual(chromaAt(img, 60, 20));
  });
});

describe('CameraHealth', () => {
  const textured = pictureStats(frame(320, 180));
  const covered = pictureStats(frame(320, 180, { flat: 30 }));
  const blurred = pictureStats(frame(320, 180, { smooth: true }));

  function learned(opts = {}): CameraHealth {
    const h = new CameraHealth('north', 0, { baselineFrames: 5, persistMs: 3_000, ...opts });
    for (let i = 0; i < 5; i++) h.frame(textured, i * 100);
    return h;
  }

  it('measures contrast and edges so that covered and blurred pictures stand apart', () => {
    expect(covered.contrast).toBeLessThan(textured.contrast * 0.1);
    expect(blurred.contrast).toBeGreaterThan(textured.contrast * 0.25);
    expect(blurred.edges).toBeLessThan(textured.edges * 0.2);
  });

  it('raises lens-blocked only after it persists, and clears it when the picture returns', () => {
    const h = learned();
    expect(h.frame(covered, 1_000)).toEqual([]);
    expect(h.frame(covered, 3_000)).toEqual([]);
    const [raised] = h.frame(covered, 4_000);
    expect(raised).toMatchObject({ condition: 'lens-blocked', state: 'raised', cameraId: 'north' });
    expect(h.frame(covered, 5_000)).toEqual([]); // once
    expect(h.frame(textured, 6_000)).toEqual([expect.objectContaining({ condition: 'lens-blocked', state: 'cleared' })]);
  });

  it('tells a defocused lens from a blocked one', () => {
    const h = learned();
    h.frame(blurred, 1_000);
    expect(h.frame(blurred, 4_500)).toEqual([expect.objectContaining({ condition: 'defocused', state: 'raised' })]);
    expect(h.conditions).toEqual(['defocused']);
  });

  it('a brief occlusion (a passing truck) raises nothing', () => {
    const h = learned();
    h.frame(covered, 1_000);
    h.frame(covered, 2_000);
    expect(h.frame(textured, 2_500)).toEqual([]);
    expect(h.frame(covered, 3_000)).toEqual([]);
  });

  it('raises no-frames when the camera goes quiet and clears it on the next frame', () => {
    const h = learned({ noFramesMs: 10_000 });
    expect(h.tick(5_000)).toEqual([]);
    expect(h.tick(10_500)).toEqual([expect.objectContaining({ condition: 'no-frames', state: 'raised' })]);
    expect(h.tick(11_000)).toEqual([]);
    expect(h.frame(textured, 12_000)).toEqual([expect.objectContaining({ condition: 'no-frames', state: 'cleared' })]);
  });

  it('raises a read-rate collapse against the camera’s own usual rate, and clears it', () => {
    const hour = 3_600_000;
    const h = new CameraHealth('north', 0, { noFramesMs: Infinity });
    for (let w = 1; w <= 4; w++) {
      h.reads(100 + w);
      expect(h.tick(w * hour)).toEqual([]);
    }
    h.reads(5);
    expect(h.tick(5 * hour)).toEqual([expect.objectContaining({ condition: 'read-rate-collapse', state: 'raised' })]);
    h.reads(98);
    expect(h.tick(6 * hour)).toEqual([expect.objectContaining({ condition: 'read-rate-collapse', state: 'cleared' })]);
  });
});
