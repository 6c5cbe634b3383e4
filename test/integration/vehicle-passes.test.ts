/**
 * Camera ingest to vehicle passes on real parts: GStreamer's RTSP server plays a generated clip
 * with N vehicles (distinct plates), the ffmpeg camera source, the ONNX recogniser in a worker,
 * the pipeline and its tracker, a LevelDB store. Exactly N detections must come out, one per
 * vehicle, each with the right text; the listed one is sent as a hit once.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FfmpegFrameSource } from '../../drivers/camera/ffmpeg-source.ts';
import type { SampleClipManifest } from '../../drivers/camera/sample-clip.ts';
import { encodeJpeg } from '../../models/image.ts';
import { createRecognizer } from '../../models/index.ts';
import type { PlateRecognizer } from '../../models/types.ts';
import type { GatewayEvent } from '../../gateway/events.ts';
import { parseHotlistCsv } from '../../gateway/hotlist/csv.ts';
import { HotlistMatcher } from '../../gateway/hotlist/matcher.ts';
import { createUuidV7 } from '../../gateway/ids.ts';
import { Pipeline } from '../../gateway/pipeline.ts';
import { openDetectionStore } from '../../gateway/store/open.ts';
import type { Detection } from '../../gateway/types.ts';
import { testClip } from '../helpers/clips.ts';
import { descendants } from '../helpers/processes.ts';
import { startRtspServer, type RtspServer } from '../helpers/rtsp-server.ts';

const PLATES = ['7TRK442', '4MXP819', '8DLW305', '2HNV671', '6BKT238'];

describe('vehicle passes from an RTSP camera', () => {
  let clip: SampleClipManifest;
  let rtsp: RtspServer;
  let recognizer: PlateRecognizer;
  let dir: string;

  beforeAll(async () => {
    clip = await testClip({ seed: 9, width: 1280, height: 720, fps: 10, vehicles: PLATES.map((plate) => ({ plate, stateName: 'California' })), secondsPerVehicle: 4, headwaySec: 3.5 });
    rtsp = await startRtspServer({ clip: clip.path, noLoop: true, shared: false });
    recognizer = await createRecognizer({ kind: 'onnx', inWorker: true });
    dir = mkdtempSync(join(tmpdir(), 'alpr-passes-'));
  }, 120_000);

  afterAll(async () => {
    await recognizer?.close();
    await rtsp?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it(`turns ${PLATES.length} vehicles into exactly ${PLATES.length} detections with the right plates`, async () => {
    const store = await openDetectionStore({ dataDir: dir, deviceId: 'pole-1', events: { emit: () => undefined } });
    const hits: Detection[] = [];
    const events: GatewayEvent[] = [];
    const source = new FfmpegFrameSource({ cameraId: 'north', url: rtsp.url, fps: 5 });
    const list = parseHotlistCsv(`plate,list_type\n${PLATES[2]},stolen-vehicle\n`, 'list.csv');
    const matcher = new HotlistMatcher(list);
    const pipeline = new Pipeline({
      sources: [source],
      cameras: [{ id: 'north', privacyMasks: [], idleEvery: 2 }],
      recognizer,
      matcher: () => matcher,
      store,
      hits: { publishHit: async (d) => void hits.push(d) },
      events: { emit: (e) => void events.push(e) },
      log: pino({ level: 'silent' }),
      now: Date.now,
      newId: createUuidV7(),
      encodeJpeg: (img) => encodeJpeg(img, 70),
      device: { id: 'pole-1', site: 'Test' },
      versions: { model: recognizer.modelVersion, firmware: 'test', config: 'test' },
      minConfidence: 0.5,
      expiryMs: 1500,
    });
    pipeline.start();
    // The clip plays once; wait until its last vehicle has left and its pass has expired.
    const deadline = Date.now() + (clip.durationSec + 20) * 1000;
    while (Date.now() < deadline && !(pipeline.stats.detections >= PLATES.length && source.status().state !== 'streaming')) {
      await new Promise((r) => setTimeout(r, 200));
    }
    await pipeline.stop();
    const detections: Detection[] = [];
    for await (const d of store.all({ user: 'test', source: 'local', purpose: 'integration test', caseNumber: 'test' })) detections.push(d);
    await store.close();

    expect(detections.map((d) => d.plate).sort()).toEqual([...PLATES].sort());
    for (const d of detections) {
      expect(d.frames).toBeGreaterThanOrEqual(2);
      expect(d.lastSeen).toBeGreaterThan(d.firstSeen);
      expect(d.cameraId).toBe('north');
    }
    expect(hits.map((h) => h.plate)).toEqual([PLATES[2]]);
    // The hit's record was completed with the whole pass when the vehicle left.
    const hitRecord = detections.find((d) => d.plate === PLATES[2]);
    expect(hitRecord?.id).toBe(hits[0]?.id);
    expect(hitRecord?.frames).toBeGreaterThan(hits[0]?.frames ?? Infinity);
    expect(events.filter((e) => e.type === 'camera-health')).toEqual([]);
    expect(await descendants({ name: /^ffmpeg$/ })).toEqual([]);
  }, 120_000);
});
