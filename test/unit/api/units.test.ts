/** The console's pure parts: password policy and hashing, TOTP (RFC 6238 vectors), lockout, commissioning summary, error mapping, OpenAPI. */
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { Pole } from '../../../drivers/pole.ts';
import type { TamperLock } from '../../../gateway/api/types.ts';
import { editDistance, summarise, type CommissioningRun } from '../../../gateway/api/commissioning.ts';
import { ApiError, mapError } from '../../../gateway/api/errors.ts';
import { laplacianVariance } from '../../../gateway/api/focus.ts';
import { AddressThrottle } from '../../../gateway/api/address-throttle.ts';
import { afterFailure } from '../../../gateway/api/lockout.ts';
import { ReadsPerHour } from '../../../gateway/api/reads-per-hour.ts';
import { hashPassword, passwordProblem, verifyPassword } from '../../../gateway/api/passwords.ts';
import { ROUTES } from '../../../gateway/api/server.ts';
import { totpCode, totpStep } from '../../../gateway/api/totp.ts';
import { AccessDeniedError, InvalidInputError } from '../../../gateway/store/errors.ts';
import { removeTempDirs } from '../gateway/store-fixtures.ts';
import { closeHarness, harness } from './fixtures.ts';

describe('passwords', () => {
  it('hashes with scrypt and a random salt; verifies only the right password', async () => {
    const a = await hashPassword('violet-harbour-lantern-42');
    const b = await hashPassword('violet-harbour-lantern-42');
    expect(a).not.toBe(b);
    expect(await verifyPassword('violet-harbour-lantern-42', a)).toBe(true);
    expect(await verifyPassword('violet-harbour-lantern-43', a)).toBe(false);
    expect(await verifyPassword('x', 'md5$abc')).toBe(false);
  });

  it('refuses short, common (with suffixes), repeated and user-name passwords; accepts a passphrase', () => {
    expect(passwordProblem('short', 'ivy', 12)).toContain('at least 12');
    expect(passwordProblem('iloveyou123456', 'ivy', 12)).toContain('common'); // a listed stem with digits tacked on
    expect(passwordProblem('Password123!', 'ivy', 12)).toContain('common');
    expect(passwordProblem('letmein2026!!', 'ivy', 12)).toContain('common');
    expect(passwordProblem('111111111111', 'ivy', 12)).toContain('common');
    expect(passwordProblem('zzzzzzzzzzzzzz', 'ivy', 12)).toContain('repeated');
    expect(passwordProblem('my-name-is-rivera-1', 'rivera', 12)).toContain('user name');
    expect(passwordProblem('violet-harbour-lantern-42', 'ivy', 12)).toBeUndefined();
  });
});

describe('TOTP (RFC 6238 appendix B, SHA-1, 6 of the 8 digits)', () => {
  // The RFC's SHA-1 key "12345678901234567890" in base32.
  const secret = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
  const vectors: [number, string][] = [[59, '287082'], [1111111109, '081804'], [1111111111, '050471'], [1234567890, '005924'], [2000000000, '279037']];
  for (const [t, code] of vectors) {
    it(`T=${t}`, () => {
      expect(totpCode(secret, t * 1000)).toBe(code);
      expect(totpStep(secret, code, t * 1000)).toBe(Math.floor(t / 30));
    });
  }
  it('accepts one step of drift either way, not two', () => {
    const now = 1_700_000_000_000;
    const code = totpCode(secret, now);
    expect(totpStep(secret, code, now + 30_000)).toBe(Math.floor(now / 30_000));
    expect(totpStep(secret, code, now - 30_000)).toBe(Math.floor(now / 30_000));
    expect(totpStep(secret, code, now + 61_000)).toBeUndefined();
    expect(totpStep(secret, 'abcdef', now)).toBeUndefined();
  });
});

describe('lockout', () => {
  const policy = { threshold: 5, windowMs: 15 * 60_000 };
  it('locks at the fifth failure inside the window', () => {
    let f: number[] = [];
    const locks: boolean[] = [];
    for (let i = 0; i < 5; i++) {
      const r = afterFailure(f, 1_000 + i * 60_000, policy);
      f = r.failures;
      locks.push(r.lock);
    }
    expect(locks).toEqual([false, false, false, false, true]);
  });
  it('forgets failures older than the window', () => {
    expect(afterFailure([0, 1, 2, 3], 15 * 60_000 + 10, policy)).toEqual({ failures: [15 * 60_000 + 10], lock: false });
  });
});

describe('commissioning', () => {
  it('edit distance', () => {
    expect(editDistance('TEST123', 'TEST123')).toBe(0);
    expect(editDistance('TE5T123', 'TEST123')).toBe(1);
    expect(editDistance('TEST12', 'TEST123')).toBe(1);
    expect(editDistance('QQQ999', 'TEST123')).toBeGreaterThan(2);
  });
  it('passes only when every pass driven was read exactly and none was soft', () => {
    const pass = (exact: boolean, focus: number) => ({ n: 1, at: 0, read: 'X', confidence: 0.9, exact, plateWidthPx: 140, plateHeightPx: 40, focus });
    const run = (passes: ReturnType<typeof pass>[]): CommissioningRun => ({ id: 'r', cameraId: 'north', testPlate: 'X', passesWanted: 2, startedAt: 0, startedBy: 't', passes, otherVehicles: 0 });
    expect(summarise(run([pass(true, 500), pass(true, 400)])).result).toBe('pass');
    expect(summarise(run([pass(true, 500), pass(false, 400)])).result).toBe('fail');
    expect(summarise(run([pass(true, 500)])).result).toBe('fail');
    expect(summarise(run([pass(true, 500), pass(true, 20)])).result).toBe('fail');
    expect(summarise(run([pass(true, 500), pass(true, 400)])).medianPlateWidthPx).toBe(140);
  });
  it('focus: a flat image scores 0, edges score high', () => {
    expect(laplacianVariance(new Uint8Array(100).fill(128), 10, 10)).toBe(0);
    const checker = Uint8Array.from({ length: 100 }, (_, i) => ((i % 10) + Math.floor(i / 10)) % 2 ? 255 : 0);
    expect(laplacianVariance(checker, 10, 10)).toBeGreaterThan(10_000);
  });
});

describe('errors', () => {
  it('maps every kind to a status and a message naming what was wrong', () => {
    expect(mapError(new ApiError('account-locked', 'locked'))).toMatchObject({ status: 423, body: { code: 'account-locked' } });
    expect(mapError(new InvalidInputError('query.limit: an integer'))).toMatchObject({ status: 400, body: { message: 'query.limit: an integer' } });
    expect(mapError(new AccessDeniedError('purpose is required'))).toMatchObject({ status: 403 });
    expect(mapError(new Error('secret detail'))).toMatchObject({ status: 500, body: { message: 'internal error' } });
  });
});

it('the OpenAPI document lists every API route with its schema', async () => {
  const h = await harness();
  try {
    const doc = (await h.app.inject({ method: 'GET', url: '/api/openapi.json' })).json<{ openapi: string; paths: Record<string, Record<string, { operationId: string }>> }>();
    expect(doc.openapi).toMatch(/^3\./);
    const ops = Object.values(doc.paths).flatMap((p) => Object.values(p).map((o) => o.operationId));
    const api = ROUTES.filter((r) => r.url.startsWith('/api/')).map((r) => r.id);
    expect(ops.sort()).toEqual(api.sort());
    expect(JSON.stringify(doc.paths['/api/detections/search'])).toContain('caseNumber');
  } finally {
    await closeHarness(h);
    removeTempDirs();
  }
});

describe('reads per hour', () => {
  it('counts per camera per hour, oldest first, forgetting past a day', () => {
    const r = new ReadsPerHour();
    const h0 = Date.parse('2026-11-20T10:00:00Z');
    r.record('north', h0 + 5);
    r.record('north', h0 + 3_599_999);
    r.record('north', h0 + 3_600_000);
    r.record('south', h0);
    expect(r.series('north', h0 + 3_600_000 + 10, 3)).toEqual([0, 2, 1]);
    expect(r.series('south', h0 + 2 * 3_600_000, 3)).toEqual([1, 0, 0]);
    expect(r.series('east', h0)).toBeUndefined();
    r.record('north', h0 + 30 * 3_600_000);
    expect(r.series('north', h0 + 30 * 3_600_000, 24)?.reduce((a, b) => a + b, 0)).toBe(1);
  });
});

describe('address throttle', () => {
  it('refuses an address past its limit within the window, and lets it try again after', () => {
    const t = new AddressThrottle(3, 60_000);
    for (let i = 0; i < 3; i++) {
      expect(t.allowed('10.0.0.9', i)).toBe(true);
      t.fail('10.0.0.9', i);
    }
    expect(t.allowed('10.0.0.9', 10)).toBe(false);
    expect(t.allowed('10.0.0.8', 10)).toBe(true);
    expect(t.allowed('10.0.0.9', 60_003)).toBe(true);
  });
});

it('the drivers\' Pole can be passed as the console\'s tamper lock as it is', () => {
  expectTypeOf<Pole>().toExtend<TamperLock>();
});
