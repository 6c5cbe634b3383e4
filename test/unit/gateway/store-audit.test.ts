import { afterEach, describe, expect, it } from 'vitest';
import { createUuidV7 } from '../../../gateway/ids.ts';
import { openEntry, type AuditEntry } from '../../../gateway/store/audit-log.ts';
import { readAuditEntries } from '../../../gateway/store/audit-verify.ts';
import { seal, sha256, utf8 } from '../../../gateway/store/crypto.ts';
import type { DataDb as Db } from '../../../gateway/store/days.ts';
import { AccessDeniedError } from '../../../gateway/store/errors.ts';
import type { Keyring } from '../../../gateway/store/keyring.ts';
import { range } from '../../../gateway/store/layout.ts';
import { raw } from './store-raw.ts';
import { DAY_MS, INVESTIGATOR, SUPERVISOR, T0, detection, jpeg, openTestStore, removeTempDirs, type TestStore } from './store-fixtures.ts';

afterEach(removeTempDirs);

const next = createUuidV7();

/** A store with some history: puts, two searches, a get, a refused search. */
async function history(): Promise<TestStore & { id: string }> {
  const t = await openTestStore();
  const d = detection(next(T0), T0, '7ABC123');
  await t.store.put(d, { plate: jpeg('p') });
  await t.store.search(INVESTIGATOR, { plate: '7AB*', from: T0 - DAY_MS, to: T0 + DAY_MS });
  t.clock.advance(1234);
  await t.store.get(INVESTIGATOR, d.id);
  await expect(t.store.search({ user: 'j.rivera', source: '10.20.0.7', purpose: 'curiosity' }, { from: 0, to: 1 })).rejects.toThrow(AccessDeniedError);
  for (let i = 0; i < 4; i++) await t.store.search(INVESTIGATOR, { plate: `*${i}23`, from: T0 - DAY_MS, to: T0 });
  return { ...t, id: d.id };
}

async function auditKeys(db: Db): Promise<string[]> {
  return db.keys(range('aud!')).all();
}

describe('audit log', () => {
  it('records every access with user, UTC time to the ms, source, action, terms, purpose, case, outcome and count', async () => {
    const { store, dir, clock } = await history();
    await store.close();
    const { db, keyring, close } = await raw(dir);
    const entries = await readAuditEntries({ db, keyring });
    await close();
    expect(entries[0]).toMatchObject({
      seq: 0, at: new Date(T0).toISOString(), user: 'j.rivera', source: '10.20.0.7', action: 'detection.search',
      terms: { plate: '7AB*', from: T0 - DAY_MS, to: T0 + DAY_MS }, purpose: 'stolen vehicle investigation', caseNumber: 'VPD-26-0142',
      outcome: 'ok', resultCount: 1,
    });
    expect(entries[1]).toMatchObject({ action: 'detection.get', at: '2026-11-20T12:00:01.234Z', outcome: 'ok', resultCount: 1 });
    expect(entries[2]).toMatchObject({ action: 'detection.search', outcome: 'refused', user: 'j.rivera', detail: expect.stringMatching(/caseNumber is required/) });
    expect(entries.every((e, i) => e.seq === i)).toBe(true);
    void clock;
  });

  it('verifies an untouched log, and names the entry when one is edited, deleted or reordered', async () => {
    const cases: { name: string; tamper: (db: Db, keyring: Keyring, keys: string[]) => Promise<void>; expect: RegExp; seq: number }[] = [
      { name: 'ciphertext edited', seq: 3, expect: /cannot be opened/, tamper: async (db, _k, keys) => {
        const v = Buffer.from((await db.get(keys[3] as string)) as Uint8Array);
        v[v.length - 3] = (v[v.length - 3] as number) ^ 0x40;
        await db.put(keys[3] as string, v);
      } },
      { name: 'entry deleted', seq: 2, expect: /missing/, tamper: async (db, _k, keys) => db.del(keys[2] as string) },
      { name: 'entries swapped', seq: 1, expect: /cannot be opened/, tamper: async (db, _k, keys) => {
        const a = (await db.get(keys[1] as string)) as Uint8Array;
        const b = (await db.get(keys[2] as string)) as Uint8Array;
        await db.batch([{ type: 'put', key: keys[1] as string, value: b }, { type: 'put', key: keys[2] as string, value: a }]);
      } },
      // With the master key an attacker can re-seal; the hash chain still names the entry.
      { name: 'edited and re-sealed', seq: 2, expect: /altered: its content does not match its hash/, tamper: async (db, keyring, keys) => {
        const dataKey = await keyring.find(`audit!${keys[2]?.slice(4, 14)}`);
        const { hash, entry } = openEntry(dataKey!.key, keys[2] as string, (await db.get(keys[2] as string)) as Uint8Array);
        const body = JSON.stringify({ ...entry, purpose: 'routine patrol' });
        await db.put(keys[2] as string, seal(dataKey!.key, utf8(`${hash}\n${body}`), keys[2] as string));
      } },
      { name: 'edited, re-hashed and re-sealed', seq: 2, expect: /altered: its hash is not the one entry 3 was chained to/, tamper: async (db, keyring, keys) => {
        const dataKey = await keyring.find(`audit!${keys[2]?.slice(4, 14)}`);
        const { entry } = openEntry(dataKey!.key, keys[2] as string, (await db.get(keys[2] as string)) as Uint8Array);
        const body = JSON.stringify({ ...entry, caseNumber: 'NONE' } satisfies AuditEntry);
        await db.put(keys[2] as string, seal(dataKey!.key, utf8(`${sha256(body).toString('hex')}\n${body}`), keys[2] as string));
      } },
      { name: 'reordered and re-sealed', seq: 1, expect: /out of order: the entry stored here is entry 2/, tamper: async (db, keyring, keys) => {
        const dataKey = await keyring.find(`audit!${keys[1]?.slice(4, 14)}`);
        const one = openEntry(dataKey!.key, keys[1] as string, (await db.get(keys[1] as string)) as Uint8Array);
        const two = openEntry(dataKey!.key, keys[2] as string, (await db.get(keys[2] as string)) as Uint8Array);
        await db.batch([
          { type: 'put', key: keys[1] as string, value: seal(dataKey!.key, utf8(`${two.hash}\n${two.body}`), keys[1] as string) },
          { type: 'put', key: keys[2] as string, value: seal(dataKey!.key, utf8(`${one.hash}\n${one.body}`), keys[2] as string) },
        ]);
      } },
    ];
    for (const c of cases) {
      const { store, dir, clock } = await history();
      const clean = await store.verifyAudit(SUPERVISOR);
      expect(clean, c.name).toMatchObject({ ok: true, firstSeq: 0 });
      await store.close();
      const { db, keyring, close } = await raw(dir);
      await c.tamper(db, keyring, await auditKeys(db));
      await close();
      const again = await openTestStore({ dir, clock });
      const report = await again.store.verifyAudit(SUPERVISOR);
      expect(report.ok, c.name).toBe(false);
      expect(report.problem?.seq, c.name).toBe(c.seq);
      expect(report.problem?.reason, c.name).toMatch(c.expect);
      await again.store.close();
    }
  });

  it('a log cut short contradicts the signed checkpoint raised as an event', async () => {
    const { store, dir, clock, events } = await history();
    await store.tick();
    const [checkpoint] = events.ofType('audit.checkpoint');
    expect(checkpoint).toMatchObject({ seq: 6 });
    await store.close();
    const { db, close } = await raw(dir);
    const keys = await auditKeys(db);
    await db.batch(keys.slice(4).map((key) => ({ type: 'del' as const, key })).concat([{ type: 'del', key: 'meta!audit-head' }, { type: 'del', key: 'ckp!000000000006' }]));
    await close();
    const again = await openTestStore({ dir, clock });
    // The device's own copy of the checkpoint is gone too, and the log goes on from entry 3; the
    // checkpoint published as an event still proves the cut.
    expect((await again.store.verifyAudit(SUPERVISOR)).ok).toBe(true);
    const report = await again.store.verifyAudit(SUPERVISOR, [checkpoint?.jws as string]);
    expect(report).toMatchObject({ ok: false, problem: { seq: 5, reason: expect.stringMatching(/cut off: a checkpoint was signed at entry 6 but the log ends at 4/) } });
    await again.store.close();
  });

  it('draws the P10 sample of browsing inquiries from the last six months with a recorded seed, reproducibly', async () => {
    const t = await openTestStore();
    const d = detection(next(T0), T0, '7ABC123');
    await t.store.put(d, { plate: jpeg('p') });
    t.clock.t = T0 - 200 * DAY_MS; // outside the six months
    await t.store.search(INVESTIGATOR, { plate: '7AB*', from: 0, to: DAY_MS });
    for (let i = 0; i < 30; i++) {
      t.clock.t = T0 - (170 - i * 5) * DAY_MS;
      await t.store.search({ ...INVESTIGATOR, caseNumber: `CASE-${i}` }, { plate: '7AB*', from: T0 - DAY_MS, to: T0 });
    }
    t.clock.t = T0;
    const a = await t.store.sampleAudit(SUPERVISOR, { seed: 12345 });
    const b = await t.store.sampleAudit(SUPERVISOR, { seed: 12345 });
    const c = await t.store.sampleAudit(SUPERVISOR, { seed: 999 });
    expect(a.population).toBe(30);
    expect(a.sample).toHaveLength(10);
    expect(a.sample.map((e) => e.seq)).toEqual(b.sample.map((e) => e.seq));
    expect(a.sample.map((e) => e.seq)).not.toEqual(c.sample.map((e) => e.seq));
    expect(a.sample.every((e) => e.action === 'detection.search' && Date.parse(e.at) >= T0 - 184 * DAY_MS)).toBe(true);
    expect(a.text).toMatch(/seed 12345; 10 of 30 inquiries/);
    // The draw itself is on the record, seed and all.
    await t.store.close();
    const { db, keyring, close } = await raw(t.dir);
    const entries = await readAuditEntries({ db, keyring });
    await close();
    expect(entries.filter((e) => e.action === 'audit.sample').map((e) => e.terms?.seed)).toEqual([12345, 12345, 999]);
  });
});
