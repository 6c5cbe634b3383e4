import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUuidV7 } from '../../../gateway/ids.ts';
import { AccessDeniedError, InvalidInputError, NotFoundError, errorReply } from '../../../gateway/store/errors.ts';
import { INVESTIGATOR, SUPERVISOR, T0, detection, jpeg, openTestStore, removeTempDirs, type TestStore } from './store-fixtures.ts';

let t: TestStore;
const next = createUuidV7();
const id = next(T0);
const RANGE = { from: T0 - 3_600_000, to: T0 };

beforeAll(async () => {
  t = await openTestStore();
  await t.store.put(detection(id, T0, '7ABC123'), { plate: jpeg('x') });
});
afterAll(async () => {
  await t.store.close();
  removeTempDirs();
});

/** Asserts a clear, typed refusal: the class, and a message naming the field. */
async function refuses(p: Promise<unknown>, cls: typeof InvalidInputError | typeof AccessDeniedError | typeof NotFoundError, message: RegExp): Promise<void> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err, String(message)).toBeInstanceOf(cls);
  expect((err as Error).message).toMatch(message);
}

describe('bad input to every public method gets a clear error', () => {
  it('put', async () => {
    const ok = detection(next(T0), T0, '1AAA111');
    await refuses(t.store.put(null as never, { plate: jpeg('x') }), InvalidInputError, /detection: expected an object/);
    await refuses(t.store.put({ ...ok, id: 'x' }, { plate: jpeg('x') }), InvalidInputError, /detection\.id "x" is not a UUIDv7/);
    await refuses(t.store.put({ ...ok, cameraId: '../etc' }, { plate: jpeg('x') }), InvalidInputError, /detection\.cameraId/);
    await refuses(t.store.put({ ...ok, plate: '' }, { plate: jpeg('x') }), InvalidInputError, /detection\.plate/);
    await refuses(t.store.put({ ...ok, capturedAt: Number.NaN }, { plate: jpeg('x') }), InvalidInputError, /capturedAt/);
    await refuses(t.store.put(ok, { plate: new Uint8Array() }), InvalidInputError, /images\.plate: a non-empty JPEG/);
    await refuses(t.store.put(ok, { plate: 'jpeg' as never }), InvalidInputError, /images\.plate/);
    await refuses(t.store.put(ok, { plate: jpeg('x'), overview: [1, 2] as never }), InvalidInputError, /images\.overview/);
  });

  it('get, image, day', async () => {
    await refuses(t.store.get(INVESTIGATOR, '1; DROP'), InvalidInputError, /is not a UUIDv7/);
    await refuses(t.store.get(INVESTIGATOR, id, '2026-02-30'), InvalidInputError, /expected a calendar day/);
    await refuses(t.store.image(INVESTIGATOR, id, 'thumb' as never), InvalidInputError, /kind: plate or overview/);
    await refuses((async () => {
      for await (const _ of t.store.day(INVESTIGATOR, '20261120')) break;
    })(), InvalidInputError, /expected a calendar day/);
    expect(await t.store.get(INVESTIGATOR, next(T0 - 5 * 86_400_000))).toBeUndefined();
  });

  it('search: ranges, limits, and plate patterns including wildcard bombs', async () => {
    const s = (q: unknown): Promise<unknown> => t.store.search(INVESTIGATOR, q);
    await refuses(s('7ABC123'), InvalidInputError, /query: expected/);
    await refuses(s({ from: 'yesterday', to: T0 }), InvalidInputError, /query\.from: ms since epoch/);
    await refuses(s({ from: T0, to: T0 - 1 }), InvalidInputError, /from is after to/);
    await refuses(s({ from: 0, to: T0 }), InvalidInputError, /at most 400 days/);
    await refuses(s({ ...RANGE, limit: 0 }), InvalidInputError, /limit/);
    await refuses(s({ ...RANGE, limit: 1e9 }), InvalidInputError, /limit/);
    await refuses(s({ ...RANGE, kind: 'everything' }), InvalidInputError, /kind/);
    await refuses(s({ ...RANGE, cameraId: 'NORTH!' }), InvalidInputError, /cameraId/);
    await refuses(s({ ...RANGE, plate: '7AB.*' }), InvalidInputError, /only letters, digits, \*/);
    await refuses(s({ ...RANGE, plate: '(a+)+$' }), InvalidInputError, /only letters, digits, \*/);
    await refuses(s({ ...RANGE, plate: '*' }), InvalidInputError, /too broad/);
    await refuses(s({ ...RANGE, plate: '?*?*?*?' }), InvalidInputError, /too broad/);
    await refuses(s({ ...RANGE, plate: '*A*B*C*D*' }), InvalidInputError, /at most 3 \* wildcards/);
    await refuses(s({ ...RANGE, plate: 'A'.repeat(17) }), InvalidInputError, /1 to 16 characters/);
    await refuses(s({ ...RANGE, plate: '7ABCDEFGHJKL' }), InvalidInputError, /at most 11 characters/);
    expect((await t.store.search(INVESTIGATOR, { ...RANGE, plate: '7a*' })).hits).toHaveLength(1);
  });

  it('access contexts: who, from where, why — and a case number to browse (P8)', async () => {
    await refuses(t.store.search(undefined as never, RANGE), AccessDeniedError, /access context/);
    await refuses(t.store.search({ source: 'x', purpose: 'why', caseNumber: '1' } as never, RANGE), AccessDeniedError, /user is required/);
    await refuses(t.store.search({ user: 'a', purpose: 'why', caseNumber: '1' } as never, RANGE), AccessDeniedError, /source is required/);
    await refuses(t.store.search({ user: 'a', source: 'b', caseNumber: '1' }, RANGE), AccessDeniedError, /purpose is required/);
    await refuses(t.store.search({ user: 'a', source: 'b', purpose: 'why' }, RANGE), AccessDeniedError, /caseNumber is required/);
    await refuses(t.store.search({ ...INVESTIGATOR, user: 'a\nforged line' }, RANGE), InvalidInputError, /user: at most 64 printable/);
    await refuses(t.store.listHolds({ user: 'a', source: 'b' }), AccessDeniedError, /purpose is required/);
  });

  it('holds, exports and audit tools', async () => {
    await refuses(t.store.placeHold(SUPERVISOR, { caseNumber: '', reason: 'why not', refs: [{ id }] }), InvalidInputError, /caseNumber/);
    await refuses(t.store.placeHold(SUPERVISOR, { caseNumber: 'C1', reason: '', refs: [{ id }] }), InvalidInputError, /reason/);
    await refuses(t.store.placeHold(SUPERVISOR, { caseNumber: 'C1', reason: 'evidence', refs: [] }), InvalidInputError, /refs: 1 to 10000/);
    await refuses(t.store.placeHold(SUPERVISOR, { caseNumber: 'C1', reason: 'evidence', refs: [{ id: 'nope' }] }), InvalidInputError, /refs\[\]\.id/);
    await refuses(t.store.releaseHold(SUPERVISOR, 'nope', 'done'), InvalidInputError, /holdId/);
    await refuses(t.store.releaseHold(SUPERVISOR, next(T0), 'done'), NotFoundError, /not found/);
    const hold = await t.store.placeHold(SUPERVISOR, { caseNumber: 'C1', reason: 'evidence', refs: [{ id }] });
    const release = { agency: 'DA', requester: 'ADA X', purpose: 'prosecution', approver: 'Lt Y' };
    await refuses(t.store.exportHold(SUPERVISOR, hold.id, { release: { ...release, approver: undefined }, recipient: { password: 'long enough password' } }), InvalidInputError, /release\.approver/);
    await refuses(t.store.exportHold(SUPERVISOR, hold.id, { release, recipient: { password: 'short' } }), InvalidInputError, /at least 12/);
    await refuses(t.store.exportHold(SUPERVISOR, hold.id, { release, recipient: { publicKey: 'not a key' } }), InvalidInputError, /not a PEM or JWK/);
    await refuses(t.store.verifyChain(SUPERVISOR, 'today', 'north'), InvalidInputError, /calendar day/);
    await refuses(t.store.sampleAudit(SUPERVISOR, { seed: -1 }), InvalidInputError, /seed/);
    await refuses(t.store.sampleAudit(SUPERVISOR, { seed: 1, count: 0 }), InvalidInputError, /count/);
  });

  it('maps each error class to one reply in one place', () => {
    expect(errorReply(new InvalidInputError('x'))).toMatchObject({ code: 'invalid-input', httpStatus: 400, exitCode: 64 });
    expect(errorReply(new AccessDeniedError('x'))).toMatchObject({ code: 'access-denied', httpStatus: 403 });
    expect(errorReply(new Error('secret detail'))).toEqual({ code: 'internal', httpStatus: 500, exitCode: 70, message: 'internal error' });
  });
});
