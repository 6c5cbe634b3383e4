/**
 * The ffmpeg camera source against the real ffmpeg, reading the generated sample clip as a file.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { CameraError, FfmpegFrameSource } from '../../drivers/camera/ffmpeg-source.ts';
import type { Frame } from '../../drivers/camera/types.ts';
import { i420Bytes, i420ToRgb } from '../../models/yuv.ts';
import { testClip } from '../helpers/clips.ts';
import { descendants } from '../helpers/processes.ts';

const sources: FfmpegFrameSource[] = [];
afterEach(async () => {
  await Promise.all(sources.splice(0).map((s) => s.stop()));
  expect(await descendants({ name: /^ffmpeg$/ })).toEqual([]);
});

function track(source: FfmpegFrameSource): FfmpegFrameSource {
  sources.push(source);
  return source;
}

/** Mean of the RGB bytes inside a box of a frame (frames are I420: converted as the recogniser converts them). */
function meanIn(frame: Frame, box: { x: number; y: number; width: number; height: number }): number {
  const rgb = i420ToRgb(frame);
  let sum = 0;
  let n = 0;
  for (let y = box.y; y < box.y + box.height; y++) {
    for (let x = box.x; x < box.x + box.width; x++) {
      const i = (y * frame.width + x) * 3;
      sum += (rgb.data[i] ?? 0) + (rgb.data[i + 1] ?? 0) + (rgb.data[i + 2] ?? 0);
      n += 3;
    }
  }
  return sum / n;
}

describe('FfmpegFrameSource reading a file', () => {
  it('yields every frame of the clip at its size, then ends', async () => {
    const clip = await testClip();
    const cam = track(new FfmpegFrameSource({ cameraId: 'file', url: clip.path, fps: clip.fps }));
    const frames: Frame[] = [];
    for await (const frame of cam.frames()) frames.push(frame);

    expect(Math.abs(frames.length - clip.frameCount)).toBeLessThanOrEqual(1);
    expect(frames.every((f) => f.format === 'i420' && f.width === clip.width && f.height === clip.height && f.data.length === i420Bytes(clip.width, clip.height))).toBe(true);
    expect(frames.map((f) => f.seq)).toEqual(frames.map((_, i) => i));
    expect(cam.status()).toMatchObject({ state: 'stopped', framesIn: frames.length, framesDropped: 0, restarts: 0 });
    expect(cam.status().lastError).toBeUndefined();

    // The manifest's plate box holds a light plate at mid-time; the road around is dark.
    const v = clip.vehicles[0];
    if (!v) throw new Error('clip without vehicles');
    const mid = frames[Math.round(v.midTime * clip.fps)];
    if (!mid) throw new Error('no frame at the plate mid-time');
    const plate = meanIn(mid, { x: v.box.x + 4, y: v.box.y + 4, width: v.box.width - 8, height: v.box.height - 8 });
    expect(plate).toBeGreaterThan(150);
    expect(meanIn(mid, { x: 0, y: 0, width: 20, height: 20 })).toBeLessThan(120);
  });

  it('resamples to the configured rate and scales to the configured width', async () => {
    const clip = await testClip();
    const cam = track(new FfmpegFrameSource({ cameraId: 'scaled', url: clip.path, fps: clip.fps / 2, width: 320 }));
    let count = 0;
    for await (const frame of cam.frames()) {
      expect([frame.width, frame.height, frame.data.length]).toEqual([320, 180, 320 * 180 * 1.5]);
      count++;
    }
    expect(Math.abs(count - clip.frameCount / 2)).toBeLessThanOrEqual(1);
  });

  it('stop() while a looped clip plays in real time leaves no ffmpeg behind', async () => {
    const clip = await testClip();
    const cam = track(new FfmpegFrameSource({ cameraId: 'live', url: clip.path, fps: 5, realtime: true, loop: true }));
    const it = cam.frames()[Symbol.asyncIterator]();
    for (let i = 0; i < 3; i++) expect((await it.next()).done).toBe(false);
    expect(await descendants({ name: /^ffmpeg$/ })).toHaveLength(1);
    expect(cam.status().state).toBe('streaming');

    const started = Date.now();
    await cam.stop();
    // 'q' is enough for a healthy ffmpeg: well inside the 2 s it is given before SIGTERM.
    expect(Date.now() - started).toBeLessThan(2000);
    expect(await descendants({ name: /^ffmpeg$/ })).toEqual([]);
    expect(cam.status().state).toBe('stopped');
    await expect(it.next()).resolves.toEqual({ value: undefined, done: true });
  });

  it('fails a file that does not exist with a CameraError that names it, after a few tries', async () => {
    const cam = track(
      new FfmpegFrameSource({ cameraId: 'missing', url: '/nonexistent/clip.mp4', fps: 5, maxFileFailures: 2, backoff: { initialMs: 50, jitter: 0 } }),
    );
    const it = cam.frames()[Symbol.asyncIterator]();
    const err: unknown = await it.next().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(CameraError);
    expect((err as CameraError).message).toMatch(/giving up on \/nonexistent\/clip\.mp4 after 2 failed starts: .*No such file or directory/);
    expect((err as CameraError).stderrTail.join('\n')).toMatch(/No such file or directory/);
    expect(cam.status()).toMatchObject({ state: 'failed', restarts: 1 });
  });
});
