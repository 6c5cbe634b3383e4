/** The pole's other sensors on each detection: GPS fix quality and the radar's speed over the pass. */
import { describe, expect, it } from 'vitest';
import type { Frame, FrameSource } from '../../../drivers/camera/types.ts';
import { Pipeline, type PipelineDeps } from '../../../gateway/pipeline.ts';
import { i420Bytes } from '../../../models/yuv.ts';
import type { Detection, PassSpeed } from '../../../gateway/types.ts';
import { scriptedRead } from '../../../models/scripted-recognizer.ts';
import { captureLog } from '../drivers/log.ts';

/** Six frames 100 ms apart, each showing the same plate, then the stream ends. */
function plateCamera(cameraId: string): FrameSource {
  let stopped = false;
  return {
    cameraId,
    async *frames(): AsyncIterable<Frame> {
      for (let seq = 0; seq < 6 && !stopped; seq++) {
        // Frames differ, so the motion gate lets each through.
        yield { format: 'i420', cameraId, seq, capturedAt: 10_000 + seq * 100, width: 16, height: 16, data: new Uint8Array(i420Bytes(16, 16)).fill(40 + seq * 30) };
      }
    },
    status: () => ({ cameraId, state: 'streaming', framesIn: 0, framesDropped: 0, restarts: 0 }),
    stop: async () => {
      stopped = true;
    },
  };
}

async function passOf(extra: Partial<PipelineDeps>): Promise<Detection[]> {
  const stored: Detection[] = [];
  let now = 10_000;
  const deps = {
    sources: [plateCamera('cam')],
    cameras: [{ id: 'cam', privacyMasks: [], idleEvery: 1 }],
    recognizer: { modelVersion: 't', recognize: async () => ({ reads: [scriptedRead('7ABC123')] }), close: async () => undefined },
    matcher: () => ({ match: () => undefined }),
    store: { put: async (d: Detection) => void stored.push(d) },
    hits: { publishHit: async () => undefined },
    events: { emit: () => undefined },
    log: captureLog().log,
    now: () => (now += 50),
    newId: () => 'id',
    encodeJpeg: async () => new Uint8Array(),
    device: { id: 'd', site: 's' },
    versions: { model: 'm', firmware: 'f', config: 'c' },
    minConfidence: 0.5,
    expiryMs: 2_000,
    ...extra,
  } as unknown as PipelineDeps;
  const pipeline = new Pipeline(deps);
  pipeline.start();
  while (pipeline.cameraStatus()[0]?.framesIn !== 6) await new Promise<void>((resolve) => setImmediate(resolve));
  await pipeline.stop();
  return stored;
}

describe('pipeline: GPS fix and radar speed on detections', () => {
  it('stamps the fix quality and the speed measured over the pass', async () => {
    const windows: [number, number][] = [];
    const speed: PassSpeed = { kmh: 52.3, medianKmh: 50.1, samples: 4, direction: 'approaching', at: 10_300 };
    const [detection, ...rest] = await passOf({
      gpsFix: () => 'dgps',
      speedFor: (first, last) => {
        windows.push([first, last]);
        return speed;
      },
    });
    expect(rest).toEqual([]);
    expect(detection).toMatchObject({ plate: '7ABC123', gpsFix: 'dgps', speed });
    // Asked for the pass's own window: first to last sighting.
    expect(windows).toContainEqual([detection!.firstSeen, detection!.lastSeen]);
    expect(detection!.lastSeen).toBeGreaterThan(detection!.firstSeen);
  });

  it('without sensors (or with no reading) the fields are absent', async () => {
    const [bare] = await passOf({});
    expect(bare).toBeDefined();
    expect(bare).not.toHaveProperty('gpsFix');
    expect(bare).not.toHaveProperty('speed');
    const [silent] = await passOf({ gpsFix: () => undefined, speedFor: () => undefined });
    expect(silent).not.toHaveProperty('speed');
  });
});
