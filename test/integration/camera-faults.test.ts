/**
 * Camera faults against real processes: the RTSP server killed and restarted under a streaming
 * camera, and a "camera" that answers with garbage. Frames must resume, the status must say what
 * happened, retries must back off, and no ffmpeg may be left behind.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { FfmpegFrameSource } from '../../drivers/camera/ffmpeg-source.ts';
import { testClip } from '../helpers/clips.ts';
import { freePort } from '../helpers/ports.ts';
import { descendants } from '../helpers/processes.ts';
import { startRtspServer, type RtspServer } from '../helpers/rtsp-server.ts';

const sources: FfmpegFrameSource[] = [];
afterEach(async () => {
  await Promise.all(sources.splice(0).map((s) => s.stop()));
  expect(await descendants({ name: /^ffmpeg$/ })).toEqual([]);
});

function camera(url: string): FfmpegFrameSource {
  const source = new FfmpegFrameSource({ cameraId: 'faulty', url, fps: 5, backoff: { initialMs: 200, maxMs: 1000, jitter: 0 }, stallTimeoutMs: 3000, startTimeoutMs: 8000 });
  sources.push(source);
  return source;
}

function consume(source: FfmpegFrameSource): { count: () => number } {
  let n = 0;
  void (async () => {
    for await (const _ of source.frames()) n++;
  })().catch(() => undefined); // an RTSP source only ends on stop()
  return { count: () => n };
}

async function until(cond: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<number> {
  const t0 = Date.now();
  while (!(await cond())) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return Date.now() - t0;
}

describe('camera faults', () => {
  it('resumes within 5 s each time the RTSP server is killed and restarted, 10 times, with at most one ffmpeg at a time', async () => {
    const clip = await testClip();
    const port = await freePort();
    let server: RtspServer = await startRtspServer({ clip: clip.path, port });
    const source = camera(server.url);
    const frames = consume(source);
    let maxChildren = 0;
    const watch = setInterval(() => {
      void descendants({ name: /^ffmpeg$/ }).then((l) => (maxChildren = Math.max(maxChildren, l.length)));
    }, 100);
    try {
      await until(() => frames.count() > 0, 15_000, 'first frames');
      const resumeMs: number[] = [];
      for (let i = 0; i < 10; i++) {
        process.kill(server.pid, 'SIGKILL'); // killed, not asked to stop: no RTSP teardown
        await server.stop();
        await until(() => source.status().state !== 'streaming', 15_000, `camera noticing outage ${i + 1}`);
        server = await startRtspServer({ clip: clip.path, port });
        const before = frames.count();
        resumeMs.push(await until(() => frames.count() > before, 10_000, `frames after restart ${i + 1}`));
      }
      expect(Math.max(...resumeMs)).toBeLessThan(5_000);
      expect(source.status().restarts).toBeGreaterThanOrEqual(10);
      expect(maxChildren).toBeLessThanOrEqual(1);
    } finally {
      clearInterval(watch);
      await source.stop();
      await server.stop();
    }
  }, 180_000);

  it('reports garbage from the camera address clearly and retries with backoff, not a busy loop', async () => {
    const sockets = new Set<Socket>();
    let connections = 0;
    const garbage: Server = createServer((socket) => {
      connections++;
      sockets.add(socket);
      socket.on('error', () => undefined); // ffmpeg hangs up on us; that is the point
      socket.on('close', () => sockets.delete(socket));
      socket.write(Buffer.from('\x00\xffNOT RTSP AT ALL\r\n\r\n\x13\x37'.repeat(50), 'binary'));
      socket.end();
    });
    await new Promise<void>((r) => garbage.listen(0, '127.0.0.1', () => r()));
    const { port } = garbage.address() as AddressInfo;
    const source = camera(`rtsp://viewer:hunter2@127.0.0.1:${port}/cam`);
    const frames = consume(source);
    try {
      await until(() => source.status().restarts >= 3, 20_000, 'three retries');
      const status = source.status();
      expect(frames.count()).toBe(0);
      expect(status.state).not.toBe('streaming');
      expect(status.lastError).toBeDefined();
      expect(status.lastError).not.toContain('hunter2');
      // Backoff 200 → 400 → 800 → 1000 ms: a handful of attempts in 3 s, never hundreds.
      const before = connections;
      await new Promise((r) => setTimeout(r, 3000));
      expect(connections - before).toBeLessThanOrEqual(6);
    } finally {
      await source.stop();
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => garbage.close(() => r()));
    }
  }, 60_000);
});
