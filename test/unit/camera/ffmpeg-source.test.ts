/**
 * The ffmpeg supervisor against a scripted fake child on a fake clock: restarts and backoff, the
 * staged stop, the stall watchdog, end of file, the hand-off policies, redaction. The real ffmpeg
 * is exercised in test/integration/camera-*.test.ts.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CameraError, FfmpegFrameSource } from '../../../drivers/camera/ffmpeg-source.ts';
import type { FfmpegFrameSourceOptions } from '../../../drivers/camera/ffmpeg-source.ts';
import type { Frame } from '../../../drivers/camera/types.ts';
import { i420Bytes } from '../../../models/yuv.ts';
import { fakeSpawner } from './fake-child.ts';
import type { FakeChild } from './fake-child.ts';

const W = 4;
const H = 2;
const FRAME = i420Bytes(W, H); // 12 bytes: 8 of Y, 2 of U, 2 of V

/** A frame of FRAME bytes all equal to `value`. */
function frameBytes(value: number, count = 1): Uint8Array {
  return new Uint8Array(FRAME * count).fill(value);
}

function source(opts: Partial<FfmpegFrameSourceOptions> & Pick<FfmpegFrameSourceOptions, 'spawn'>): FfmpegFrameSource {
  return new FfmpegFrameSource({
    cameraId: 'cam-1',
    url: 'rtsp://admin:pw1234@cam.local/live',
    fps: 10,
    width: W,
    height: H,
    backoff: { initialMs: 100, maxMs: 400, factor: 2, jitter: 0 },
    ...opts,
  });
}

/** Lets stream events and promise chains settle without moving the fake clock. */
async function settle(): Promise<void> {
  await vi.advanceTimersByTimeAsync(0);
  for (let i = 0; i < 5; i++) await new Promise<void>((r) => process.nextTick(r));
  await vi.advanceTimersByTimeAsync(0);
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
});

afterEach(() => {
  vi.useRealTimers();
});

describe('FfmpegFrameSource supervision', () => {
  it('restarts a dying RTSP child with capped exponential backoff and reports why, redacted', async () => {
    const spawnedAt: number[] = [];
    const { spawn, children } = fakeSpawner((child) => {
      spawnedAt.push(Date.now());
      child.say('[tcp @ 0x1] Connection to tcp://cam.local:554 failed: Connection refused');
      child.say('rtsp://admin:pw1234@cam.local/live: Connection refused');
      child.exit(1);
    });
    const cam = source({ spawn });
    const next = cam.frames()[Symbol.asyncIterator]().next();
    await settle();
    for (let i = 0; i < 5; i++) await vi.advanceTimersByTimeAsync(400);
    expect(spawnedAt.slice(0, 5).map((t, i, a) => (i === 0 ? 0 : t - (a[i - 1] ?? 0)))).toEqual([0, 100, 200, 400, 400]);

    const status = cam.status();
    expect(status.state).toBe('failed');
    expect(status.restarts).toBeGreaterThanOrEqual(4);
    expect(status.framesIn).toBe(0);
    expect(status.lastError).toMatch(/^ffmpeg exited with code 1: rtsp:\/\/admin:\*\*\*@cam\.local\/live: Connection refused/);
    expect(status.lastError).toContain('Connection to tcp://cam.local:554 failed');
    expect(status.lastError).not.toContain('pw1234');

    await cam.stop();
    await expect(next).resolves.toEqual({ value: undefined, done: true });
    expect(cam.status().state).toBe('stopped');
    expect(children.every((c) => !c.running)).toBe(true);
  });

  it('never puts the password into a log line', async () => {
    const lines: string[] = [];
    const { default: pino } = await import('pino');
    const logger = pino({ level: 'debug' }, { write: (s: string) => void lines.push(s) });
    const { spawn } = fakeSpawner((child) => {
      child.say("Input #0, rtsp, from 'rtsp://admin:pw1234@cam.local/live':");
      child.say('rtsp://admin:pw1234@cam.local/live: 401 Unauthorized');
      child.exit(1);
    });
    const cam = source({ spawn, logger });
    void cam.frames()[Symbol.asyncIterator]().next();
    await settle();
    await cam.stop();
    const all = lines.join('');
    expect(all).toContain('admin:***@cam.local');
    expect(all).toContain('401 Unauthorized');
    expect(all).not.toContain('pw1234');
  });

  it('resets the backoff only after a child has streamed for stableAfterMs (restart-rate limit)', async () => {
    const spawnedAt: number[] = [];
    const diedAt: number[] = [];
    const { spawn, children } = fakeSpawner((child) => {
      spawnedAt.push(Date.now());
      child.write(frameBytes(1));
    });
    const cam = source({ spawn, stableAfterMs: 1000, stallTimeoutMs: 60_000 });
    const it = cam.frames()[Symbol.asyncIterator]();
    await it.next();
    const die = async (i: number, after: number): Promise<void> => {
      await vi.advanceTimersByTimeAsync(after);
      diedAt.push(Date.now());
      children[i]?.exit(1);
      await vi.advanceTimersByTimeAsync(0);
    };
    // Three short-lived children in a row, then one that streams past stableAfterMs.
    await die(0, 10);
    await die(1, 500);
    await die(2, 500);
    await die(3, 1500);
    await vi.advanceTimersByTimeAsync(500);
    const waits = diedAt.map((t, i) => (spawnedAt[i + 1] ?? Number.NaN) - t);
    expect(waits).toEqual([100, 200, 400, 100]);
    await cam.stop();
  });

  it('stops in stages: q, then SIGTERM, then SIGKILL, and resolves once the child is gone', async () => {
    const { spawn, children } = fakeSpawner((child) => child.write(frameBytes(7)), { quitsOnQ: false, diesOnTerm: false });
    const cam = source({ spawn, stopTimeouts: { quitMs: 100, termMs: 200, killMs: 300 } });
    const it = cam.frames()[Symbol.asyncIterator]();
    await it.next();
    const child = children[0] as FakeChild;
    let stopped = false;
    const stopping = cam.stop().then(() => (stopped = true));
    await settle();
    expect(child.stdinText).toBe('q');
    expect(child.signals).toEqual([]);
    await vi.advanceTimersByTimeAsync(100);
    expect(child.signals).toEqual(['SIGTERM']);
    expect(stopped).toBe(false);
    await vi.advanceTimersByTimeAsync(200);
    expect(child.signals).toEqual(['SIGTERM', 'SIGKILL']);
    await stopping;
    expect(child.running).toBe(false);
    expect(cam.status().state).toBe('stopped');
  });

  it("stops a well-behaved child with 'q' alone", async () => {
    const { spawn, children } = fakeSpawner((child) => child.write(frameBytes(7)));
    const cam = source({ spawn });
    const it = cam.frames()[Symbol.asyncIterator]();
    await it.next();
    await cam.stop();
    expect(children[0]?.stdinText).toBe('q');
    expect(children[0]?.signals).toEqual([]);
    await expect(it.next()).resolves.toEqual({ value: undefined, done: true });
  });

  it('breaking out of for-await stops the child', async () => {
    const { spawn, children } = fakeSpawner((child) => child.write(frameBytes(7, 3)));
    const cam = source({ spawn });
    for await (const frame of cam.frames()) {
      expect(frame.width).toBe(W);
      break;
    }
    expect(children[0]?.running).toBe(false);
    expect(cam.status().state).toBe('stopped');
  });

  it('kills and restarts a stream that stalls, and says so in the status', async () => {
    const { spawn, children } = fakeSpawner((child) => child.write(frameBytes(3)));
    const cam = source({ spawn, stallTimeoutMs: 1000 });
    const it = cam.frames()[Symbol.asyncIterator]();
    await it.next();
    await vi.advanceTimersByTimeAsync(999);
    expect(children).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    await settle();
    expect(children[0]?.running).toBe(false);
    expect(cam.status().lastError).toMatch(/stream stalled: no frame within 1000 ms from rtsp:\/\/admin:\*\*\*@cam\.local\/live/);
    await vi.advanceTimersByTimeAsync(100);
    expect(children).toHaveLength(2);
    expect(cam.status().restarts).toBe(1);
    const next = await it.next();
    expect(next.value?.seq).toBe(1);
    expect(cam.status().state).toBe('streaming');
    await cam.stop();
  });

  it('gives a connection that never delivers a first frame startTimeoutMs', async () => {
    const { spawn, children } = fakeSpawner(() => undefined);
    const cam = source({ spawn, startTimeoutMs: 5000 });
    void cam.frames()[Symbol.asyncIterator]().next();
    await settle();
    expect(cam.status().state).toBe('starting');
    await vi.advanceTimersByTimeAsync(5000);
    await settle();
    expect(children[0]?.running).toBe(false);
    expect(cam.status().lastError).toMatch(/no first frame within 5000 ms/);
    await cam.stop();
  });
});

describe('FfmpegFrameSource files and hand-off', () => {
  it('ends the iteration at the end of a file, after its last frames', async () => {
    const { spawn } = fakeSpawner((child) => {
      child.write(frameBytes(1, 2));
      child.write(frameBytes(2).subarray(0, 4));
      child.write(frameBytes(2).subarray(4));
      child.exit(0);
    });
    const cam = source({ spawn, url: '/clips/a.mp4' });
    const frames: Frame[] = [];
    for await (const f of cam.frames()) frames.push(f);
    expect(frames.map((f) => [f.seq, f.data[0], f.data.length])).toEqual([
      [0, 1, FRAME],
      [1, 1, FRAME],
      [2, 2, FRAME],
    ]);
    expect(cam.status()).toMatchObject({ state: 'stopped', framesIn: 3, framesDropped: 0, restarts: 0 });
  });

  it('gives up on a file that cannot be read after maxFileFailures, with a CameraError', async () => {
    const { spawn, children } = fakeSpawner((child) => {
      child.say('/clips/missing.mp4: No such file or directory');
      child.exit(1);
    });
    const cam = source({ spawn, url: '/clips/missing.mp4', maxFileFailures: 3 });
    const next = cam.frames()[Symbol.asyncIterator]().next();
    const failed = expect(next).rejects.toThrow(CameraError);
    await vi.advanceTimersByTimeAsync(1000);
    await failed;
    await expect(next).rejects.toThrow(/after 3 failed starts: ffmpeg exited with code 1: \/clips\/missing.mp4: No such file/);
    expect(children).toHaveLength(3);
    expect(cam.status().state).toBe('failed');
  });

  it('hands a slow consumer only the latest frame of a live source and counts the drops', async () => {
    const { spawn, children } = fakeSpawner((child) => child.write(frameBytes(1)));
    const cam = source({ spawn });
    const it = cam.frames()[Symbol.asyncIterator]();
    expect((await it.next()).value?.seq).toBe(0);
    const child = children[0] as FakeChild;
    for (let v = 2; v <= 5; v++) child.write(frameBytes(v));
    await settle();
    const latest = await it.next();
    expect(latest.value?.seq).toBe(4);
    expect(latest.value?.data[0]).toBe(5);
    expect(cam.status()).toMatchObject({ framesIn: 5, framesDropped: 3 });
    await cam.stop();
  });

  it('reuses the buffers of dropped and released frames for later frames (issue #4: no 6 MB of garbage per frame)', async () => {
    const { spawn, children } = fakeSpawner((child) => child.write(frameBytes(1)));
    const cam = source({ spawn });
    const it = cam.frames()[Symbol.asyncIterator]();
    const first = (await it.next()).value as Frame;
    const child = children[0] as FakeChild;
    child.write(frameBytes(2)); // left unread, then replaced: dropped
    child.write(frameBytes(3));
    await settle();
    const third = (await it.next()).value as Frame;
    expect(third.data[0]).toBe(3);
    first.release?.();
    first.release?.(); // twice: still one spare
    third.release?.();
    child.write(frameBytes(4));
    child.write(frameBytes(5));
    await settle();
    const fifth = (await it.next()).value as Frame;
    // Frames 4 and 5 went into buffers given back (frame 2's, dropped, and the released ones).
    const recycled = new Set([first, third].map((f) => f.data.buffer));
    expect(recycled.has(fifth.data.buffer)).toBe(true);
    expect([...fifth.data]).toEqual([...frameBytes(5)]);
    await cam.stop();
  });

  it('holds back ffmpeg rather than dropping frames of a file read as fast as possible', async () => {
    const { spawn, children } = fakeSpawner((child) => child.write(frameBytes(1, 3)));
    const cam = source({ spawn, url: '/clips/a.mp4', stallTimeoutMs: 100 });
    const it = cam.frames()[Symbol.asyncIterator]();
    expect((await it.next()).value?.seq).toBe(0);
    await settle();
    const child = children[0] as FakeChild;
    expect(child.stdout.isPaused()).toBe(true);
    // A slow consumer is not a stall: no restart however long it takes.
    await vi.advanceTimersByTimeAsync(1000);
    expect(children).toHaveLength(1);
    expect((await it.next()).value?.seq).toBe(1);
    expect((await it.next()).value?.seq).toBe(2);
    expect(cam.status().framesDropped).toBe(0);
    await cam.stop();
  });

  it("learns the frame size from ffmpeg's output banner when it is not configured", async () => {
    const { spawn } = fakeSpawner((child) => {
      child.write(frameBytes(9, 2)); // raw output may come before the banner is read
      child.say('  Stream #0:0: Video: h264 (High), yuv420p(progressive), 1920x1080, 25 fps');
      child.say("Output #0, rawvideo, to 'pipe:1':");
      child.say('  Stream #0:0: Video: rawvideo (I420 / 0x30323449), yuv420p(progressive), 4x2, q=2-31, 4 fps');
    });
    const cam = new FfmpegFrameSource({ cameraId: 'cam-2', url: 'rtsp://cam/live', fps: 4, spawn });
    const it = cam.frames()[Symbol.asyncIterator]();
    const first = await it.next();
    expect(first.value).toMatchObject({ format: 'i420', width: 4, height: 2, cameraId: 'cam-2' });
    expect(first.value?.data.length).toBe(FRAME);
    await cam.stop();
  });

  it('counts a missing ffmpeg binary as a failure to retry, not a crash', async () => {
    const { FakeChild } = await import('./fake-child.ts');
    const cam = source({ spawn: (_c, args) => new FakeChild(args, {}, true) });
    void cam.frames()[Symbol.asyncIterator]().next();
    await settle();
    expect(cam.status()).toMatchObject({ state: 'failed', lastError: 'ffmpeg could not start: spawn ffmpeg ENOENT' });
    await cam.stop();
  });
});
