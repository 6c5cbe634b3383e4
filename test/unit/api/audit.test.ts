/**
 * Each data route leaves exactly one audit entry carrying who (user), when (time), from where
 * (address), what (terms), why (purpose), the case for detection-browsing inquiries, and how many
 * results (P8) — whether it succeeds or is refused by the store (a purpose too short).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../../gateway/store/audit-log.ts';
import { ROUTES } from '../../../gateway/api/server.ts';
import { admits } from '../../../gateway/api/route-table.ts';
import { ROLES } from '../../../gateway/api/types.ts';
import { removeTempDirs } from '../gateway/store-fixtures.ts';
import { closeHarness } from './fixtures.ts';
import { EXAMPLES } from './route-cases.ts';
import { USERS, buildWorld, type Built } from './world.ts';

const READER = { user: 'test-reader', source: 'test', purpose: 'checking the audit trail' };

let b: Built;
beforeAll(async () => {
  b = await buildWorld();
});
afterAll(async () => {
  await closeHarness(b.h);
  removeTempDirs();
});

/** Entries written by `fn`: between two reads of the log (each read adds its own entry). */
async function entriesOf(fn: () => Promise<unknown>): Promise<AuditEntry[]> {
  const before = await b.h.ts.store.readAudit(READER, { limit: 1 });
  const mark = (before.entries[0]?.seq ?? -1) + 1; // the read's own entry
  await fn();
  const after = await b.h.ts.store.readAudit(READER, { limit: 5000 });
  return after.entries.filter((e) => e.seq > mark).sort((x, y) => x.seq - y.seq);
}

const dataRoutes = ROUTES.filter((r) => r.data);

it('the data routes are the ones that read or change detections, holds, the audit log or commissioning runs', () => {
  expect(dataRoutes.map((r) => r.id).sort()).toEqual([
    'audit.read', 'audit.sample', 'audit.verify', 'chain.verify', 'commissioning.finish', 'commissioning.start',
    'detection.get', 'detection.image', 'detection.search', 'hold.export', 'hold.list', 'hold.place',
  ]);
});

describe('each data route leaves exactly one audit entry with the required fields', () => {
  for (const route of dataRoutes) {
    it(route.id, async () => {
      const role = ROLES.find((r) => admits(route, r)) ?? 'admin';
      let status = 0;
      const entries = await entriesOf(async () => {
        const res = await b.h.app.inject({ ...EXAMPLES[route.id]!(b.world), headers: { cookie: b.cookies[role] } });
        status = res.statusCode;
      });
      expect(status).toBeLessThan(300);
      expect(entries).toHaveLength(1);
      const e = entries[0]!;
      expect(e.action).toBe(route.id);
      expect(e.user).toBe(USERS[role]);
      expect(e.source).toBe('127.0.0.1');
      expect(Date.parse(e.at)).toBeGreaterThan(0);
      expect(e.outcome).toBe('ok');
      expect(e.terms).toBeDefined();
      expect(e.purpose?.length).toBeGreaterThanOrEqual(3);
      expect(typeof e.resultCount).toBe('number');
      if (route.id.startsWith('detection.')) expect(e.caseNumber).toBe('VPD-26-0142');
    });
  }
});

it('a search with a purpose too short is refused by the store and still leaves exactly one entry, marked refused', async () => {
  let body: { code?: string; message?: string } = {};
  const entries = await entriesOf(async () => {
    const res = await b.h.app.inject({
      method: 'POST', url: '/api/detections/search', headers: { cookie: b.cookies.investigator },
      payload: { caseNumber: 'VPD-26-0142', purpose: '', plate: 'ABC*', from: Date.parse('2026-11-19T00:00:00Z'), to: Date.parse('2026-11-21T00:00:00Z') },
    });
    expect(res.statusCode).toBe(403);
    body = res.json();
  });
  expect(body.message).toContain('purpose');
  expect(entries).toHaveLength(1);
  expect(entries[0]).toMatchObject({ action: 'detection.search', outcome: 'refused', user: 'ivy', source: '127.0.0.1' });
  expect(entries[0]!.terms).toMatchObject({ plate: 'ABC*' });
});

it('a role refused a data route is itself recorded (one entry, refused)', async () => {
  const entries = await entriesOf(async () => {
    const res = await b.h.app.inject({ ...EXAMPLES['detection.search']!(b.world), headers: { cookie: b.cookies.technician } });
    expect(res.statusCode).toBe(403);
  });
  expect(entries).toHaveLength(1);
  expect(entries[0]).toMatchObject({ action: 'detection.search', outcome: 'refused', user: 'tess' });
});

it('an image outside the inquiry that found it is refused and recorded', async () => {
  const other = b.ids[2]!; // XYZ777: not matched by the inquiry's AB*
  const entries = await entriesOf(async () => {
    const res = await b.h.app.inject({ method: 'GET', url: `/api/inquiries/${b.world.inquiry}/detections/${other}/image/plate`, headers: { cookie: b.cookies.investigator } });
    expect(res.statusCode).toBe(403);
  });
  expect(entries).toHaveLength(1);
  expect(entries[0]).toMatchObject({ action: 'detection.image', outcome: 'refused' });
});

it('the tamper lock refuses every data route (recorded) until an admin clears it', async () => {
  b.h.tamper.locked = true;
  for (const route of dataRoutes) {
    const role = ROLES.find((r) => admits(route, r)) ?? 'admin';
    const entries = await entriesOf(async () => {
      const res = await b.h.app.inject({ ...EXAMPLES[route.id]!(b.world), headers: { cookie: b.cookies[role] } });
      expect(res.statusCode, route.id).toBe(423);
      expect(res.json<{ code: string }>().code).toBe('tamper-locked');
    });
    expect(entries.map((e) => [e.action, e.outcome])).toEqual([[route.id, 'refused']]);
  }
  const health = await b.h.app.inject({ method: 'GET', url: '/api/health', headers: { cookie: b.cookies.technician } });
  expect(health.statusCode).toBe(200); // health is not data: the technician can still see what is wrong
  expect(health.json<{ tamperLocked: boolean }>().tamperLocked).toBe(true);
  const refused = await b.h.app.inject({ method: 'POST', url: '/api/tamper/clear', headers: { cookie: b.cookies.technician }, payload: { reason: 'I opened it' } });
  expect(refused.statusCode).toBe(403);
  const cleared = await b.h.app.inject({ method: 'POST', url: '/api/tamper/clear', headers: { cookie: b.cookies.admin }, payload: { reason: 'enclosure inspected, seal replaced' } });
  expect(cleared.statusCode).toBe(200);
  expect(b.h.tamper.clearedBy).toEqual(['ada']);
  const res = await b.h.app.inject({ ...EXAMPLES['hold.list']!(b.world), headers: { cookie: b.cookies.investigator } });
  expect(res.statusCode).toBe(200);
});
