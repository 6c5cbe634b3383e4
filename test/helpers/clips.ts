/**
 * Sample clips for tests, generated on demand (no media in the repository) and cached under
 * var/cache/clips by their options, so that test files share them and reruns are instant.
 *
 *   const clip = await testClip();                        // 640×360, 10 fps, 2 vehicles, 8 s
 *   const big = await testClip({ width: 1280, height: 720, vehicleCount: 6 });
 *
 * The manifest says which plates are where and when (see SampleClipManifest).
 */
import { fileURLToPath } from 'node:url';
import { ensureSampleClip } from '../../drivers/camera/sample-clip.ts';
import type { SampleClipManifest, SampleClipOptions } from '../../drivers/camera/sample-clip.ts';

export const CLIP_CACHE_DIR = fileURLToPath(new URL('../../var/cache/clips', import.meta.url));

/** Small by default (fast to decode on a 2-core machine); any option of the generator may be given. */
export function testClip(opts: Omit<SampleClipOptions, 'outPath'> = {}): Promise<SampleClipManifest> {
  return ensureSampleClip(CLIP_CACHE_DIR, { seed: 1, width: 640, height: 360, fps: 10, vehicleCount: 2, secondsPerVehicle: 4, headwaySec: 3, ...opts });
}
