/**
 * The start-of-shift checks of the optical path (P13): a frame from each camera, and a built-in
 * test plate — rendered here, never photographed — read correctly by the recogniser.
 */
import type { Logger } from 'pino';
import { createFrameSource, type FrameSource } from '../../drivers/camera/index.ts';
import type { CameraConfig } from '../../gateway/config/schema.ts';
import { renderPlate } from '../../models/synth/plate.ts';
import type { PlateRecognizer } from '../../models/types.ts';
import type { ProbeResult } from './probes.ts';

/** The built-in test plate: a California-format registration, drawn the way the sample clip draws plates. */
export const TEST_PLATE = { text: '7TST482', stateName: 'California', slogan: 'dmv.ca.gov', width: 360 } as const;

export async function probeCamera(camera: CameraConfig, timeoutMs: number, log: Logger, make: (c: CameraConfig) => FrameSource = (c) => createFrameSource({ ...c, preset: c.decoder }, log)): Promise<ProbeResult> {
  const source = make(camera);
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    const first = (async () => {
      for await (const frame of source.frames()) return frame;
      return undefined;
    })();
    const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
    const frame = await Promise.race([first, timeout]);
    if (frame === 'timeout') return { ok: false, detail: `no frame within ${timeoutMs / 1000} s (${source.status().state}${source.status().lastError ? `: ${source.status().lastError}` : ''})` };
    if (!frame) return { ok: false, detail: `the stream ended without a frame${source.status().lastError ? `: ${source.status().lastError}` : ''}` };
    return { ok: true, detail: `${frame.width}x${frame.height} frame after ${Date.now() - started} ms` };
  } catch (err) {
    return { ok: false, detail: (err as Error).message };
  } finally {
    clearTimeout(timer);
    await source.stop();
  }
}

export async function probeTestPlate(recognizer: () => Promise<PlateRecognizer>): Promise<ProbeResult> {
  let rec: PlateRecognizer | undefined;
  try {
    rec = await recognizer();
    const image = await renderPlate(TEST_PLATE, 0.3);
    const { reads } = await rec.recognize(image);
    const texts = reads.map((r) => r.text);
    if (texts.includes(TEST_PLATE.text)) {
      const read = reads.find((r) => r.text === TEST_PLATE.text);
      return { ok: true, detail: `read ${TEST_PLATE.text} (confidence ${(read?.confidence ?? 0).toFixed(2)}, model ${rec.modelVersion})` };
    }
    return { ok: false, detail: texts.length ? `read ${texts.join(', ')} instead of ${TEST_PLATE.text}` : `no plate read in the test image (model ${rec.modelVersion})` };
  } catch (err) {
    return { ok: false, detail: `recogniser failed: ${(err as Error).message}` };
  } finally {
    await rec?.close();
  }
}
