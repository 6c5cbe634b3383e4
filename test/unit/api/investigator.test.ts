/** The investigator's path end to end through the API: search, images, hold, export with release record. */
import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { verifyBundle } from '../../../gateway/store/bundle-verify.ts';
import { T0, deviceKey, removeTempDirs } from '../gateway/store-fixtures.ts';
import { closeHarness } from './fixtures.ts';
import { buildWorld, type Built } from './world.ts';

let b: Built;
beforeAll(async () => {
  b = await buildWorld();
});
afterAll(async () => {
  await closeHarness(b.h);
  removeTempDirs();
});

const inject = (opts: Omit<InjectOptions, 'headers'>) => b.h.app.inject({ ...opts, headers: { cookie: b.cookies.investigator } });

it('searches by wildcard plate, time range and camera; results open as images under the inquiry', async () => {
  const res = await inject({ method: 'POST', url: '/api/detections/search', payload: { caseNumber: 'VPD-26-0142', purpose: 'stolen vehicle investigation', plate: 'AB?1*', from: T0 - 86_400_000, to: T0, cameraId: 'north' } });
  expect(res.statusCode).toBe(200);
  const r = res.json<{ inquiry: string; hits: { id: string; plate: string }[] }>();
  expect(r.hits.map((h) => h.plate)).toEqual(['ABC123']);
  const img = await inject({ method: 'GET', url: `/api/inquiries/${r.inquiry}/detections/${r.hits[0]!.id}/image/plate` });
  expect(img.statusCode).toBe(200);
  expect(img.headers['content-type']).toBe('image/jpeg');
  expect(img.rawPayload.subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
  const det = await inject({ method: 'GET', url: `/api/inquiries/${r.inquiry}/detections/${r.hits[0]!.id}` });
  expect(det.json<{ plate: string }>().plate).toBe('ABC123');
  const none = await inject({ method: 'POST', url: '/api/detections/search', payload: { caseNumber: 'VPD-26-0142', purpose: 'stolen vehicle investigation', plate: 'AB*', from: T0 - 86_400_000, to: T0, cameraId: 'south' } });
  expect(none.json<{ hits: unknown[] }>().hits).toEqual([]);
});

it('an inquiry belongs to the session that made it', async () => {
  const other = await b.h.app.inject({ method: 'GET', url: `/api/inquiries/${b.world.inquiry}/detections/${b.world.detectionId}`, headers: { cookie: b.cookies.investigator } });
  expect(other.statusCode).toBe(200);
  const unknown = await inject({ method: 'GET', url: `/api/inquiries/00000000-0000-4000-8000-000000000000/detections/${b.world.detectionId}` });
  expect(unknown.statusCode).toBe(404);
});

it('places a hold on selected results and exports it with a release record that verifies offline', async () => {
  const place = await inject({ method: 'POST', url: '/api/holds', payload: { inquiry: b.world.inquiry, ids: [b.ids[0]!, b.ids[1]!], reason: 'evidence for VPD-26-0142' } });
  expect(place.statusCode).toBe(201);
  const hold = place.json<{ id: string; records: number; caseNumber: string }>();
  expect(hold).toMatchObject({ records: 2, caseNumber: 'VPD-26-0142' });
  const outside = await inject({ method: 'POST', url: '/api/holds', payload: { inquiry: b.world.inquiry, ids: [b.ids[2]!], reason: 'not in the results' } });
  expect(outside.statusCode).toBe(403);
  const release = { agency: 'Oakland PD', requester: 'Det. Chen', purpose: 'robbery investigation', approver: 'Lt. Ruiz', requestRef: 'REQ-77' };
  const forbidden = await inject({ method: 'POST', url: `/api/holds/${hold.id}/export`, payload: { purpose: 'release', password: 'bundle-password-long-enough', release: { ...release, purpose: 'immigration enforcement' } } });
  expect(forbidden.statusCode).toBe(403);
  const both = await inject({ method: 'POST', url: `/api/holds/${hold.id}/export`, payload: { purpose: 'release', release } });
  expect(both.statusCode).toBe(400);
  expect(both.json<{ message: string }>().message).toContain('body.password');
  const exp = await inject({ method: 'POST', url: `/api/holds/${hold.id}/export`, payload: { purpose: 'release to Oakland PD', password: 'bundle-password-long-enough', release } });
  expect(exp.statusCode).toBe(200);
  const out = exp.json<{ bundle: string; records: number; release: { agency: string; releasedBy: string } }>();
  expect(out.records).toBe(2);
  expect(out.release).toMatchObject({ agency: 'Oakland PD', releasedBy: 'ivy' });
  const check = await verifyBundle(out.bundle, { password: 'bundle-password-long-enough', trustedDeviceKey: deviceKey(b.h.ts.store) });
  expect(check.problems).toEqual([]);
  expect(check.ok).toBe(true);
  const list = await inject({ method: 'GET', url: '/api/holds', query: { purpose: 'review holds' } });
  const listed = list.json<{ holds: { id: string; releases: { agency: string }[] }[] }>().holds.find((x) => x.id === hold.id);
  expect(listed?.releases.map((r) => r.agency)).toEqual(['Oakland PD']);
});
