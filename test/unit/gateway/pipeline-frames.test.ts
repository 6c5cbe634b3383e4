/**
 * Frame memory in the pipeline (issue #4): a pass's overview is encoded as soon as its frame
 * becomes the pass's best (from an RGB copy), and every frame goes back to its camera
 * (Frame.release) once analysed.
 */
import { describe, expect, it } from 'vitest';
import type { Frame, FrameSource } from '../../../drivers/camera/types.ts';
import { Pipeline, type PipelineDeps } from '../../../gateway/pipeline.ts';
import type { Detection, DetectionImages } from '../../../gateway/types.ts';
import { scriptedRead } from '../../../models/scripted-recognizer.ts';
import type { PlateRead, RgbImage } from '../../../models/types.ts';
import { i420Bytes } from '../../../models/yuv.ts';
import { captureLog } from '../drivers/log.ts';

interface Played {
  readonly frames: Frame[];
  readonly released: number[];
}

/** Six 8×8 frames 100 ms apart (luma 40, 70, … so the motion gate lets each through), each releasable once. */
function camera(played: Played): FrameSource {
  let stopped = false;
  return {
    cameraId: 'cam',
    async *frames(): AsyncIterable<Frame> {
      for (let seq = 0; seq < 6 && !stopped; seq++) {
        const frame: Frame = {
          format: 'i420',
          cameraId: 'cam',
          seq,
          capturedAt: 10_000 + seq * 100,
          width: 8,
          height: 8,
          data: new Uint8Array(i420Bytes(8, 8)).fill(40 + seq * 30),
          release: () => {
            if (played.released.includes(seq)) throw new Error(`frame ${seq} released twice`);
            played.released.push(seq);
          },
        };
        played.frames.push(frame);
        yield frame;
      }
    },
    status: () => ({ cameraId: 'cam', state: 'streaming', framesIn: 0, framesDropped: 0, restarts: 0 }),
    stop: async () => {
      stopped = true;
    },
  };
}

/** Confidence of the plate read in each frame: the best is frame 3. */
const CONFIDENCE = [0.6, 0.7, 0.65, 0.9, 0.8, 0.75];

async function run(encodeJpeg: (image: RgbImage) => Promise<Uint8Array>, played: Played = { frames: [], released: [] }): Promise<{ played: Played; stored: [Detection, DetectionImages][]; pipeline: Pipeline }> {
  const stored: [Detection, DetectionImages][] = [];
  let call = 0;
  let now = 10_000;
  const deps = {
    sources: [camera(played)],
    cameras: [{ id: 'cam', privacyMasks: [], idleEvery: 1 }],
    recognizer: {
      modelVersion: 't',
      recognize: async (): Promise<{ reads: PlateRead[] }> => ({ reads: [scriptedRead('7ABC123', { confidence: CONFIDENCE[call++] ?? 0.5 })] }),
      close: async () => undefined,
    },
    matcher: () => ({ match: () => undefined }),
    store: { put: async (d: Detection, images: DetectionImages) => void stored.push([d, images]) },
    hits: { publishHit: async () => undefined },
    events: { emit: () => undefined },
    log: captureLog().log,
    now: () => (now += 50),
    newId: () => 'id',
    encodeJpeg,
    device: { id: 'd', site: 's' },
    versions: { model: 'm', firmware: 'f', config: 'c' },
    minConfidence: 0.5,
    expiryMs: 2_000,
  } as unknown as PipelineDeps;
  const pipeline = new Pipeline(deps);
  pipeline.start();
  while (pipeline.cameraStatus()[0]?.framesIn !== 6) await new Promise<void>((resolve) => setImmediate(resolve));
  await pipeline.stop();
  return { played, stored, pipeline };
}

describe('pipeline: frames and overviews', () => {
  it('encodes the overview when a frame becomes the best, from that frame, and stores the last best', async () => {
    const encoded: number[] = [];
    const { stored, pipeline } = await run(async (image) => {
      encoded.push(image.data[0]!);
      return new Uint8Array([image.data[0]!]);
    });
    expect(stored).toHaveLength(1);
    // Frames 0, 1 and 3 each became the best in turn (2, 4 and 5 read less surely).
    expect(pipeline.stats.overviewsEncoded).toBe(3);
    expect(encoded).toHaveLength(3);
    const [detection, images] = stored[0]!;
    expect(detection.capturedAt).toBe(10_300);
    // The overview is frame 3's picture (an RGB grey made from luma 130), not a later frame's.
    expect(images.overview).toEqual(new Uint8Array([encoded[2]!]));
    expect(encoded[2]).toBeGreaterThan(encoded[1]!);
  });

  it('gives every frame back once analysed, and the overview survives its buffer carrying a later frame', async () => {
    const played: Played = { frames: [], released: [] };
    const pending: (() => void)[] = [];
    const running = run(async (image) => {
      await new Promise<void>((resolve) => pending.push(resolve));
      return new Uint8Array([image.data[0]!, image.data.length]);
    }, played);
    const until = async (done: () => boolean): Promise<void> => {
      for (let i = 0; i < 10_000 && !done(); i++) await new Promise<void>((resolve) => setImmediate(resolve));
    };
    // Every frame analysed and given back while the three overviews are still being encoded.
    await until(() => played.released.length === 6 && pending.length === 3);
    expect([...played.released].sort()).toEqual([0, 1, 2, 3, 4, 5]);
    // The camera reuses the buffers: the overviews must not change.
    for (const f of played.frames) f.data.fill(0);
    for (const resolve of pending) resolve();
    const { stored } = await running;
    const overview = stored[0]?.[1].overview;
    expect(overview?.[0]).toBeGreaterThan(100); // frame 3's grey (luma 130), not the zeroed buffer
    expect(overview?.[1]).toBe((8 * 8 * 3) & 0xff);
    expect(played.released).toHaveLength(6);
  });

  it('reuses an overview’s RGB buffer for the next one once its encode is done, never while it runs', async () => {
    // Encodes that finish at once: every overview after the first is made in the first one's buffer.
    const seen: Uint8Array[] = [];
    await run(async (image) => {
      seen.push(image.data);
      return new Uint8Array([image.data[0]!]);
    });
    expect(seen).toHaveLength(3);
    expect(new Set(seen).size).toBe(1);

    // The first encode still running when the others start: they get buffers of their own, and
    // its pixels stay frame 0's until it is done.
    const held: { data: Uint8Array; first: number; resolve: () => void }[] = [];
    const running = run(async (image) => {
      const first = image.data[0]!;
      if (held.length === 0) await new Promise<void>((resolve) => held.push({ data: image.data, first, resolve }));
      else held.push({ data: image.data, first, resolve: () => undefined });
      return new Uint8Array([image.data[0]!]);
    });
    for (let i = 0; i < 10_000 && held.length < 3; i++) await new Promise<void>((resolve) => setImmediate(resolve));
    expect(held).toHaveLength(3);
    expect(held[1]!.data).not.toBe(held[0]!.data);
    expect(held[0]!.data[0]).toBe(held[0]!.first);
    held[0]!.resolve();
    const { stored } = await running;
    expect(stored[0]?.[1].overview?.[0]).toBe(held[2]!.first);
  });
});
