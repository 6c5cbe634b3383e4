/**
 * The ffmpeg camera source against a real RTSP server (GStreamer's, serving the generated clip
 * in a loop on the loopback interface): frames, authentication, redaction, reconnection, the stall
 * watchdog, and that nothing is left running.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { FfmpegFrameSource } from '../../drivers/camera/ffmpeg-source.ts';
import type { FfmpegFrameSourceOptions } from '../../drivers/camera/ffmpeg-source.ts';
import type { SampleClipManifest } from '../../drivers/camera/sample-clip.ts';
import { i420Bytes } from '../../models/yuv.ts';
import { testClip } from '../helpers/clips.ts';
import { freePort } from '../helpers/ports.ts';
import { descendants } from '../helpers/processes.ts';
import { startRtspServer } from '../helpers/rtsp-server.ts';
import type { RtspServer } from '../helpers/rtsp-server.ts';

let clip: SampleClipManifest;
let server: RtspServer;
const sources: FfmpegFrameSource[] = [];

beforeAll(async () => {
  clip = await testClip();
  server = await startRtspServer({ clip: clip.path, user: 'admin', password: 's3cr@t!pass' });
});

afterEach(async () => {
  await Promise.all(sources.splice(0).map((s) => s.stop()));
  expect(await descendants({ name: /^ffmpeg$/ })).toEqual([]);
});

afterAll(async () => {
  await server.stop();
  expect(await descendants()).toEqual([]);
});

function camera(opts: Partial<FfmpegFrameSourceOptions> & Pick<FfmpegFrameSourceOptions, 'url'>): FfmpegFrameSource {
  const source = new FfmpegFrameSource({ cameraId: 'rtsp', fps: 5, backoff: { initialMs: 100, maxMs: 400, jitter: 0 }, ...opts });
  sources.push(source);
  return source;
}

/** Pulls frames in the background, as the gateway's pipeline does. */
function consume(source: FfmpegFrameSource): { count: () => number; done: Promise<void> } {
  let n = 0;
  const done = (async () => {
    for await (const frame of source.frames()) {
      expect(frame.data.length).toBe(i420Bytes(frame.width, frame.height));
      n++;
    }
  })();
  return { count: () => n, done };
}

describe('FfmpegFrameSource over RTSP', () => {
  it('streams frames of the right size from an authenticated camera, and stops cleanly', async () => {
    const cam = camera({ url: server.authUrl });
    const it = cam.frames()[Symbol.asyncIterator]();
    for (let i = 0; i < 5; i++) {
      const r = await it.next();
      expect(r.done).toBe(false);
      expect(r.value).toMatchObject({ cameraId: 'rtsp', width: clip.width, height: clip.height, seq: i });
    }
    expect(cam.status()).toMatchObject({ state: 'streaming', restarts: 0 });
    expect(cam.displayUrl).toBe(server.url.replace('rtsp://', 'rtsp://admin:***@'));
    await cam.stop();
    expect(await descendants({ name: /^ffmpeg$/ })).toEqual([]);
    expect(cam.status().state).toBe('stopped');
  });

  it('keeps going past the end of the clip (the server loops it)', async () => {
    const short = await testClip({ vehicleCount: 1, secondsPerVehicle: 2, minFullViewSec: 0 });
    const looped = await startRtspServer({ clip: short.path });
    try {
      const cam = camera({ url: looped.url, fps: 10, width: 160 });
      const seen = consume(cam);
      // More frames than the clip has proves the loop (about 4 s).
      await vi.waitFor(() => expect(seen.count()).toBeGreaterThan(short.frameCount + 5), { timeout: 15_000, interval: 100 });
      expect(cam.status()).toMatchObject({ state: 'streaming', restarts: 0 });
      await cam.stop();
      await seen.done;
    } finally {
      await looped.stop();
    }
  }, 30_000);

  it('reports a wrong password clearly, without the password, and keeps retrying', async () => {
    const url = server.url.replace('rtsp://', 'rtsp://admin:Wr0ngPassw0rd@');
    const cam = camera({ url });
    const seen = consume(cam);
    await vi.waitFor(() => expect(cam.status().restarts).toBeGreaterThanOrEqual(2), { timeout: 10_000, interval: 50 });
    const status = cam.status();
    expect(status.framesIn).toBe(0);
    expect(status.lastError).toMatch(/401 Unauthorized/);
    expect(status.lastError).toContain('admin:***@127.0.0.1');
    expect(status.lastError).not.toContain('Wr0ngPassw0rd');
    await cam.stop();
    await seen.done;
  });

  it('retries a camera nobody listens for with backoff, not a busy loop, and never crashes', async () => {
    const port = await freePort();
    const cam = camera({ url: `rtsp://admin:hunter22@127.0.0.1:${port}/cam` });
    const seen = consume(cam);
    const started = Date.now();
    await vi.waitFor(() => expect(cam.status().restarts).toBeGreaterThanOrEqual(4), { timeout: 15_000, interval: 50 });
    const elapsed = Date.now() - started;
    // Backoff 100, 200, 400, 400 ms: four restarts take at least 1.1 s.
    expect(elapsed).toBeGreaterThanOrEqual(1000);
    const status = cam.status();
    expect(status.state === 'failed' || status.state === 'starting').toBe(true);
    expect(status.framesIn).toBe(0);
    expect(status.lastError).toMatch(/^ffmpeg exited with code \d+: .*Connection refused/);
    expect(status.lastError).not.toContain('hunter22');
    await cam.stop();
    await seen.done;
    expect(cam.status().state).toBe('stopped');
  });

  it('restarts a stream that stalls (server frozen) and streams again when it comes back', async () => {
    const frozen = await startRtspServer({ clip: clip.path });
    try {
      const cam = camera({ url: frozen.url, fps: 10, width: 160, stallTimeoutMs: 1500, startTimeoutMs: 6000 });
      const seen = consume(cam);
      await vi.waitFor(() => expect(seen.count()).toBeGreaterThanOrEqual(5), { timeout: 10_000, interval: 50 });
      process.kill(frozen.pid, 'SIGSTOP');
      try {
        await vi.waitFor(() => expect(cam.status().restarts).toBeGreaterThanOrEqual(1), { timeout: 10_000, interval: 50 });
        expect(cam.status().lastError).toMatch(/stream stalled: no frame within 1500 ms/);
      } finally {
        process.kill(frozen.pid, 'SIGCONT');
      }
      const before = seen.count();
      await vi.waitFor(() => expect(seen.count()).toBeGreaterThan(before + 5), { timeout: 15_000, interval: 50 });
      expect(cam.status().state).toBe('streaming');
      await cam.stop();
      await seen.done;
    } finally {
      await frozen.stop();
    }
  }, 40_000);
});
