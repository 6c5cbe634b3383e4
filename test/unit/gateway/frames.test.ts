import { describe, expect, it } from 'vitest';
import type { RgbImage } from '../../../models/types.ts';
import { CameraHealth, pictureStats } from '../../../gateway/frames/health.ts';
import { MotionGate } from '../../../gateway/frames/motion.ts';
import { applyPrivacyMasks, cropToZone, toPixels } from '../../../gateway/frames/zones.ts';

/** A textured frame (a fine checkerboard of two greys) with an optional dark block drawn on it. */
function frame(w: number, h: number, opts: { block?: { x: number; y: number; size: number }; flat?: number; brightness?: number; smooth?: boolean } = {}): RgbImage {
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
  return { width: w, height: h, data };
}

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
    applyPrivacyMasks(img, [{ x: 0, y: 0, width: 0.5, height: 1 }]);
    expect(img.data[(10 * 100 + 10) * 3]).toBe(0);
    expect(img.data[(10 * 100 + 49) * 3 + 2]).toBe(0);
    expect(img.data[(10 * 100 + 50) * 3]).toBe(200);
  });

  it('crops to the detection zone and reports its offset', () => {
    const img = frame(100, 50, { block: { x: 60, y: 20, size: 5 } });
    const { image, offset } = cropToZone(img, { x: 0.5, y: 0.2, width: 0.5, height: 0.6 });
    expect(offset).toEqual({ x: 50, y: 10 });
    expect([image.width, image.height]).toEqual([50, 30]);
    expect(image.data[((20 - 10) * 50 + (60 - 50)) * 3]).toBe(20); // the block, moved by the offset
    expect(cropToZone(img, undefined).image).toBe(img);
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
