/** Health (n/a where unknown), thumbnails, and a commissioning run ending in a signed report. */
import { createPublicKey, type JsonWebKey } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { compactVerify } from 'jose';
import sharp from 'sharp';
import { afterEach, expect, it } from 'vitest';
import { createUuidV7 } from '../../../gateway/ids.ts';
import { T0, detection, removeTempDirs } from '../gateway/store-fixtures.ts';
import { account, closeHarness, harness, signIn, type Harness } from './fixtures.ts';

let h: Harness | undefined;
afterEach(async () => {
  if (h) await closeHarness(h);
  h = undefined;
  removeTempDirs();
});

/** A plate-like crop: sharp black bars on white, or the same blurred. */
async function crop(blur: boolean): Promise<Uint8Array> {
  const w = 160;
  const hgt = 48;
  const px = Buffer.alloc(w * hgt, 255);
  for (let y = 10; y < 38; y++) for (let x = 0; x < w; x++) if (Math.floor(x / 8) % 2 === 0) px[y * w + x] = 0;
  let img = sharp(px, { raw: { width: w, height: hgt, channels: 1 } });
  if (blur) img = img.blur(6);
  return img.jpeg({ quality: 95 }).toBuffer();
}

it('renders the health page from the snapshot, with n/a for what is not known, and serves thumbnails', async () => {
  h = await harness();
  await account(h, 'tess', 'technician');
  const cookie = await signIn(h, 'tess');
  const page = await h.app.inject({ method: 'GET', url: '/health', headers: { cookie } });
  expect(page.statusCode).toBe(200);
  expect(page.body).toContain('<svg class="chart"');
  expect(page.body).toContain('2026-11-20.1');
  expect(page.body).toMatch(/Certificate<\/th><td><span class="na">n\/a/);
  expect(page.body).toMatch(/GPS<\/th><td><span class="na">n\/a/);
  expect(page.body).toMatch(/Outbox depth<\/th><td>0/);
  expect(page.headers['content-security-policy']).toContain("script-src 'self'");
  const thumb = await h.app.inject({ method: 'GET', url: '/api/cameras/north/thumbnail', headers: { cookie } });
  expect(thumb.headers['content-type']).toBe('image/jpeg');
  expect((await h.app.inject({ method: 'GET', url: '/api/cameras/south/thumbnail', headers: { cookie } })).statusCode).toBe(404);
  expect((await h.app.inject({ method: 'GET', url: '/api/cameras/east/thumbnail', headers: { cookie } })).statusCode).toBe(404);
});

it('commissioning: shows each pass of the test plate with pixels and focus, hides other traffic, signs the report', async () => {
  h = await harness();
  await account(h, 'tess', 'technician');
  const cookie = await signIn(h, 'tess');
  const start = await h.app.inject({ method: 'POST', url: '/api/commissioning', headers: { cookie }, payload: { cameraId: 'north', plate: 'test123', passes: 3 } });
  expect(start.statusCode).toBe(201);
  const next = createUuidV7();
  const sharpCrop = await crop(false);
  const softCrop = await crop(true);
  const box = { x: 10, y: 20, width: 142, height: 38 };
  await h.api.observeDetection(detection(next(T0), T0, 'TEST123', { box }), { plate: sharpCrop });
  await h.api.observeDetection(detection(next(T0 + 1), T0 + 60_000, 'TE5T123', { box }), { plate: softCrop });
  await h.api.observeDetection(detection(next(T0 + 2), T0 + 70_000, 'QQQ999', { box }), { plate: sharpCrop }); // another car
  await h.api.observeDetection(detection(next(T0 + 3), T0 + 80_000, 'TEST123', { box, cameraId: 'south' }), { plate: sharpCrop }); // other camera
  const status = await h.app.inject({ method: 'GET', url: '/api/commissioning', headers: { cookie } });
  const run = status.json<{ run: { passes: { read: string; exact: boolean; plateWidthPx: number; focus: number }[]; otherVehicles: number } }>().run;
  expect(run.passes.map((p) => [p.read, p.exact, p.plateWidthPx])).toEqual([['TEST123', true, 142], ['TE5T123', false, 142]]);
  expect(run.otherVehicles).toBe(1);
  const south = (await h.app.inject({ method: 'GET', url: '/api/health', headers: { cookie } })).json<{ cameras: { id: string; readsPerHour?: number[] }[] }>().cameras.find((c) => c.id === 'south');
  expect(south?.readsPerHour?.reduce((a, b) => a + b, 0)).toBe(1); // counted by the console: the snapshot has none for south
  expect(JSON.stringify(run)).not.toContain('QQQ999');
  expect(run.passes[0]!.focus).toBeGreaterThan(run.passes[1]!.focus * 5);
  const fin = await h.app.inject({ method: 'POST', url: '/api/commissioning/finish', headers: { cookie }, payload: {} });
  expect(fin.statusCode).toBe(200);
  const { jws, report } = fin.json<{ jws: string; report: { summary: { result: string; exactReads: number; readRate: number } } }>();
  expect(report.summary).toMatchObject({ result: 'fail', exactReads: 1 });
  const key = createPublicKey({ key: h.ts.store.publicKey.jwk as JsonWebKey, format: 'jwk' });
  const verified = await compactVerify(jws, key);
  expect(verified.protectedHeader.typ).toBe('alpr-commissioning-report');
  expect(JSON.parse(Buffer.from(verified.payload).toString('utf8'))).toMatchObject({ type: 'alpr.commissioning-report', testPlate: 'TEST123', device: 'pole-1' });
  const kept = await readdir(join(h.settings.dataDir, 'console', 'commissioning'));
  expect(kept).toHaveLength(1);
  expect(await readFile(join(h.settings.dataDir, 'console', 'commissioning', kept[0]!), 'utf8')).toBe(jws);
  const health = await h.app.inject({ method: 'GET', url: '/api/health', headers: { cookie } });
  const series = health.json<{ cameras: { id: string; readsPerHour?: number[] }[] }>().cameras.find((c) => c.id === 'north')?.readsPerHour;
  expect(series).toEqual([3, 9, 14, 2]); // the status provider's own series wins
  const again = await h.app.inject({ method: 'POST', url: '/api/commissioning/finish', headers: { cookie }, payload: {} });
  expect(again.statusCode).toBe(409);
  const bad = await h.app.inject({ method: 'POST', url: '/api/commissioning', headers: { cookie }, payload: { cameraId: 'east', plate: 'TEST123', passes: 3 } });
  expect(bad.statusCode).toBe(400);
  expect(bad.json<{ message: string }>().message).toContain('body.cameraId');
});
