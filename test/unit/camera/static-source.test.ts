import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createFrameSource, FfmpegFrameSource, StaticFrameSource } from '../../../drivers/camera/index.ts';
import type { RgbImage } from '../../../models/types.ts';
import { rgbToI420 } from '../../../models/yuv.ts';

const image = (v: number): RgbImage => ({ width: 1, height: 1, data: new Uint8Array([v, v, v]) });

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
});

afterEach(() => {
  vi.useRealTimers();
});

describe('StaticFrameSource (the simulated camera)', () => {
  it('plays its images in order on a timer and ends, like a file', async () => {
    const cam = new StaticFrameSource({ cameraId: 'sim', images: [image(1), image(2), image(3)], fps: 10 });
    const it = cam.frames()[Symbol.asyncIterator]();
    const t0 = Date.now();
    const seen: [number, number | undefined, number][] = [];
    for (;;) {
      const next = it.next();
      await vi.advanceTimersByTimeAsync(100);
      const r = await next;
      if (r.done) break;
      seen.push([r.value.seq, r.value.data[0], r.value.capturedAt - t0]);
    }
    // Frames come as I420, as a camera delivers them: data[0] is the first pixel's luma.
    const luma = (v: number): number | undefined => rgbToI420(image(v)).data[0];
    expect(seen).toEqual([
      [0, luma(1), 0],
      [1, luma(2), 100],
      [2, luma(3), 200],
    ]);
    expect(new Set(seen.map((s) => s[1])).size).toBe(3);
    expect(cam.status()).toMatchObject({ cameraId: 'sim', state: 'stopped', framesIn: 3, restarts: 0 });
  });

  it('loops until stopped, dropping frames a slow consumer missed', async () => {
    const cam = new StaticFrameSource({ cameraId: 'sim', images: [image(1), image(2)], fps: 10, loop: true });
    const it = cam.frames()[Symbol.asyncIterator]();
    await it.next();
    await vi.advanceTimersByTimeAsync(1000);
    const r = await it.next();
    expect(r.value?.seq).toBe(10);
    expect(cam.status().framesDropped).toBe(9);
    await cam.stop();
    await expect(it.next()).resolves.toEqual({ value: undefined, done: true });
    expect(cam.status().state).toBe('stopped');
  });
});

describe('createFrameSource', () => {
  it('picks the simulated twin for images and ffmpeg for a URL or path', () => {
    expect(createFrameSource({ id: 'a', images: [image(1)] })).toBeInstanceOf(StaticFrameSource);
    const cam = createFrameSource({ id: 'b', url: 'rtsp://u:secret@cam/live', fps: 4 });
    expect(cam).toBeInstanceOf(FfmpegFrameSource);
    expect(cam.cameraId).toBe('b');
    expect((cam as FfmpegFrameSource).displayUrl).toBe('rtsp://u:***@cam/live');
    expect(cam.status()).toEqual({ cameraId: 'b', state: 'idle', framesIn: 0, framesDropped: 0, restarts: 0 });
  });
});
