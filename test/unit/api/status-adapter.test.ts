import { expect, it } from 'vitest';
import type { CameraStatus } from '../../../drivers/camera/types.ts';
import { FrameRates, gatewayStatus } from '../../../gateway/api/status-adapter.ts';

it('frames per second from the change in frames received; a restarted counter starts again', () => {
  const r = new FrameRates();
  expect(r.update('north', 100, 0)).toBeUndefined();
  expect(r.update('north', 140, 10_000)).toBe(4);
  expect(r.update('north', 141, 10_500)).toBe(4); // too soon: the last rate
  expect(r.update('north', 5, 12_000)).toBeUndefined();
  expect(r.update('north', 25, 22_000)).toBe(2);
});

it('maps the gateway\'s parts to the snapshot; what is not wired is left out (n/a)', async () => {
  let t = 1_000_000;
  const cams: CameraStatus[] = [{ cameraId: 'north', state: 'streaming', framesIn: 0, framesDropped: 3, restarts: 0 }];
  const status = gatewayStatus({
    cameras: () => cams, now: () => t,
    hotlist: () => ({ version: 'v7', generatedAt: t - 7_200_000, stale: false }),
    outboxDepth: () => 2, dataDir: '/data', diskProbe: async () => ({ freeBytes: 5, totalBytes: 10 }),
    clock: () => ({ now: t, status: 'trusted' }),
  });
  const first = await status.snapshot();
  expect(first).toMatchObject({ cameras: [{ id: 'north', state: 'streaming', framesDropped: 3 }], hotlist: { version: 'v7', ageMs: 7_200_000 }, outboxDepth: 2, disk: { freeBytes: 5 }, clock: { status: 'trusted' } });
  expect(first.cameras[0]!.fps).toBeUndefined();
  expect(first.gps).toBeUndefined();
  t += 5_000;
  cams[0] = { ...cams[0]!, framesIn: 20 };
  expect((await status.snapshot()).cameras[0]!.fps).toBe(4);
  const broken = gatewayStatus({ cameras: () => [], dataDir: '/nope', diskProbe: async () => { throw new Error('ENOENT'); } });
  expect((await broken.snapshot()).disk).toBeUndefined();
});
