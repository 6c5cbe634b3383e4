/**
 * The route table, walked: every route × every role is allowed or refused as the table says;
 * without a session, or without the second factor, every protected route is refused; every route
 * that takes input answers bad input with 400 naming the field.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROUTES } from '../../../gateway/api/server.ts';
import { admits, needsMfa } from '../../../gateway/api/route-table.ts';
import { totpCode } from '../../../gateway/api/totp.ts';
import { ROLES } from '../../../gateway/api/types.ts';
import { removeTempDirs } from '../gateway/store-fixtures.ts';
import { closeHarness } from './fixtures.ts';
import { BAD, EXAMPLES } from './route-cases.ts';
import { USERS, buildWorld, passwordOnly, type Built } from './world.ts';

let b: Built;
beforeAll(async () => {
  b = await buildWorld();
});
afterAll(async () => {
  await closeHarness(b.h);
  removeTempDirs();
});

it('every route has an example request and every route with input a bad-input case', () => {
  const ids = ROUTES.map((r) => r.id);
  expect(new Set(ids).size).toBe(ids.length);
  expect(ids.filter((id) => !EXAMPLES[id])).toEqual([]);
  const withInput = ROUTES.filter((r) => r.schema?.body ?? r.schema?.querystring ?? r.schema?.params).map((r) => r.id);
  expect(withInput.filter((id) => !BAD[id])).toEqual([]);
  expect(Object.keys(EXAMPLES).filter((id) => !ids.includes(id))).toEqual([]);
});

describe('every route × every role', () => {
  for (const route of ROUTES.filter((r) => r.access !== 'public')) {
    for (const role of ROLES) {
      const allowed = admits(route, role);
      it(`${route.id} as ${role}: ${allowed ? 'allowed' : 'refused'}`, async () => {
        b.h.clock.t += 30_000; // a fresh TOTP step for the routes that take a code
        b.world.code = totpCode(b.h.secrets.get(USERS[role]) ?? '', b.h.clock.now());
        const res = await b.h.app.inject({ ...EXAMPLES[route.id]!(b.world), headers: { cookie: b.cookies[role] } });
        if (allowed) {
          expect([401, 403, 423], `${res.statusCode} ${res.body.slice(0, 200)}`).not.toContain(res.statusCode);
          expect(res.statusCode, res.body.slice(0, 300)).toBeLessThan(500);
        } else {
          expect(res.statusCode, res.body.slice(0, 200)).toBe(403);
          if (!route.page) expect(res.json<{ code: string }>().code).toBe('forbidden');
        }
      });
    }
  }
});

describe('public routes answer without a session', () => {
  for (const route of ROUTES.filter((r) => r.access === 'public')) {
    it(route.id, async () => {
      const res = await b.h.app.inject(EXAMPLES[route.id]!(b.world));
      expect(res.statusCode).not.toBe(403);
      expect(res.statusCode).toBeLessThan(500);
    });
  }
});

describe('without a session, every protected route is refused', () => {
  for (const route of ROUTES.filter((r) => r.access !== 'public')) {
    it(route.id, async () => {
      const res = await b.h.app.inject(EXAMPLES[route.id]!(b.world));
      if (route.page) {
        expect(res.statusCode).toBe(302);
        expect(res.headers.location).toBe('/login');
      } else {
        expect(res.statusCode).toBe(401);
        expect(res.json<{ code: string }>().code).toBe('unauthenticated');
      }
    });
  }
});

describe('without the second factor, routes that need it are refused', () => {
  for (const route of ROUTES.filter((r) => r.access !== 'public' && needsMfa(r))) {
    it(route.id, async () => {
      const role = ROLES.find((r) => admits(route, r)) ?? 'admin';
      const cookie = await passwordOnly(b.h, USERS[role]);
      const res = await b.h.app.inject({ ...EXAMPLES[route.id]!(b.world), headers: { cookie } });
      if (route.page) {
        expect(res.statusCode).toBe(302);
        expect(res.headers.location).toBe('/login?step=2fa');
      } else {
        expect(res.statusCode).toBe(401);
        expect(res.json<{ code: string }>().code).toBe('mfa-required');
      }
    });
  }
});

describe('bad input: 400 naming the field', () => {
  for (const route of ROUTES.filter((r) => BAD[r.id])) {
    it(`${route.id}: ${BAD[route.id]!.field}`, async () => {
      const role = ROLES.find((r) => admits(route, r)) ?? 'admin';
      const res = await b.h.app.inject({ ...BAD[route.id]!.req(b.world), headers: { cookie: b.cookies[role], 'content-type': 'application/json' } });
      expect(res.statusCode, res.body).toBe(400);
      const body = res.json<{ code: string; message: string }>();
      expect(body.code).toBe('invalid-input');
      expect(body.message).toContain(BAD[route.id]!.field);
    });
  }
});
