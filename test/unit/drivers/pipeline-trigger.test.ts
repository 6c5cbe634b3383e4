/** Pipeline.setVehiclePresent: a vehicle trigger makes a still camera analyse every frame. */
import { describe, expect, it } from 'vitest';
import type { Frame, FrameSource } from '../../../drivers/camera/types.ts';
import { Pipeline, type PipelineDeps } from '../../../gateway/pipeline.ts';
import { i420Bytes } from '../../../models/yuv.ts';
import type { RgbImage } from '../../../models/types.ts';
import { captureLog } from './log.ts';

/** 16 identical grey frames (nothing moves); `between` runs after the 8th. */
function stillCamera(cameraId: string, between: () => void = () => undefined): FrameSource {
  let stopped = false;
  return {
    cameraId,
    async *frames(): AsyncIterable<Frame> {
      for (let seq = 0; seq < 16 && !stopped; seq++) {
        if (seq === 8) between();
        yield { format: 'i420', cameraId, seq, capturedAt: 1_000 + seq * 100, width: 16, height: 16, data: new Uint8Array(i420Bytes(16, 16)).fill(90) };
      }
    },
    status: () => ({ cameraId, state: 'streaming', framesIn: 0, framesDropped: 0, restarts: 0 }),
    stop: async () => {
      stopped = true;
    },
  };
}

async function run(source: FrameSource, before: (p: Pipeline) => void = () => undefined): Promise<{ recognised: number; pipeline: Pipeline }> {
  let recognised = 0;
  let now = 1_000;
  const deps = {
    sources: [source],
    cameras: [{ id: source.cameraId, privacyMasks: [], idleEvery: 4 }],
    recognizer: { modelVersion: 't', recognize: async (_i: RgbImage) => { recognised++; return { reads: [] }; }, close: async () => undefined },
    matcher: () => ({ match: () => undefined }),
    store: { put: async () => undefined },
    hits: { publishHit: async () => undefined },
    events: { emit: () => undefined },
    log: captureLog().log,
    now: () => now++,
    newId: () => 'id',
    encodeJpeg: async () => new Uint8Array(),
    device: { id: 'd', site: 's' },
    versions: { model: 'm', firmware: 'f', config: 'c' },
    minConfidence: 0.5,
    expiryMs: 2_000,
  } as unknown as PipelineDeps;
  const pipeline = new Pipeline(deps);
  before(pipeline);
  pipeline.start();
  // The source ends by itself after 16 frames; stop() then finishes the open work.
  while (pipeline.cameraStatus()[0]?.framesIn !== 16) await new Promise<void>((resolve) => setImmediate(resolve));
  await pipeline.stop();
  return { recognised, pipeline };
}

describe('Pipeline.setVehiclePresent', () => {
  it('a still camera with no vehicle present analyses every idleEvery-th frame', async () => {
    const { recognised, pipeline } = await run(stillCamera('cam'));
    expect(recognised).toBe(4);
    expect(pipeline.cameraStatus()[0]).toMatchObject({ framesIn: 16, framesIdleSkipped: 12 });
  });

  it('while the trigger says present, every frame; after it clears, idle rate again', async () => {
    let pipeline: Pipeline | undefined;
    const source = stillCamera('cam', () => pipeline?.setVehiclePresent('cam', false));
    const result = await run(source, (p) => {
      pipeline = p;
      expect(p.setVehiclePresent('cam', true)).toBe(true);
    });
    expect(result.recognised).toBe(8 + 2);
  });

  it('an unknown camera is refused', async () => {
    const { pipeline } = await run(stillCamera('cam'));
    expect(pipeline.setVehiclePresent('other', true)).toBe(false);
  });
});
