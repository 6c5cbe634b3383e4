/** What the console added to the store: the auditor's filtered reading, console events, derived keys. */
import { afterEach, expect, it } from 'vitest';
import { AccessDeniedError, InvalidInputError } from '../../../gateway/store/errors.ts';
import { INVESTIGATOR, T0, openTestStore, removeTempDirs, type TestStore } from '../gateway/store-fixtures.ts';

const AUDITOR = { user: 'audrey', source: '10.0.0.5', purpose: 'quarterly audit' };
let ts: TestStore | undefined;
afterEach(async () => {
  await ts?.store.close();
  ts = undefined;
  removeTempDirs();
});

it('readAudit filters by user, action (or prefix), outcome, case and time, newest first, and is itself audited', async () => {
  ts = await openTestStore();
  await ts.store.recordEvent({ user: 'ivy', source: '10.0.0.7', action: 'session.login', outcome: 'ok' });
  await ts.store.search(INVESTIGATOR, { from: T0 - 3_600_000, to: T0 });
  ts.clock.advance(60_000);
  await ts.store.recordEvent({ user: 'mallory', source: '10.0.0.66', action: 'session.login', outcome: 'refused' });
  const logins = await ts.store.readAudit(AUDITOR, { action: 'session.' });
  expect(logins.entries.map((e) => e.user)).toEqual(['mallory', 'ivy']);
  expect((await ts.store.readAudit(AUDITOR, { outcome: 'refused' })).entries.map((e) => e.user)).toEqual(['mallory']);
  expect((await ts.store.readAudit(AUDITOR, { caseNumber: INVESTIGATOR.caseNumber })).entries.map((e) => e.action)).toEqual(['detection.search']);
  expect((await ts.store.readAudit(AUDITOR, { to: T0 + 1 })).entries.every((e) => Date.parse(e.at) <= T0 + 1)).toBe(true);
  const reads = await ts.store.readAudit(AUDITOR, { action: 'audit.read' });
  expect(reads.matched).toBe(4); // the four reads before this one
  await expect(ts.store.readAudit(AUDITOR, { limit: 0 })).rejects.toThrow(InvalidInputError);
  await expect(ts.store.readAudit({ user: 'audrey', source: 'x' }, {})).rejects.toThrow(AccessDeniedError);
});

it('deriveKey: 32 bytes, one per purpose, the same after reopening, never the master key', async () => {
  ts = await openTestStore();
  const a = ts.store.deriveKey('console-totp');
  expect(a).toHaveLength(32);
  expect(ts.store.deriveKey('console-totp').equals(a)).toBe(true);
  expect(ts.store.deriveKey('something-else').equals(a)).toBe(false);
  expect(() => ts!.store.deriveKey('Bad Purpose!')).toThrow(InvalidInputError);
  const dir = ts.dir;
  await ts.store.close();
  ts = await openTestStore({ dir });
  expect(ts.store.deriveKey('console-totp').equals(a)).toBe(true);
});
