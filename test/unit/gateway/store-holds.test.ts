import { generateKeyPairSync } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { createUuidV7 } from '../../../gateway/ids.ts';
import { verifyBundle } from '../../../gateway/store/bundle-verify.ts';
import { AccessDeniedError, ConflictError, NotFoundError } from '../../../gateway/store/errors.ts';
import { dayOf } from '../../../gateway/store/layout.ts';
import { readStatement } from '../../../gateway/store/signer.ts';
import type { DeletionReceipt } from '../../../gateway/store/retention.ts';
import { DAY_MS, INVESTIGATOR, SUPERVISOR, T0, detection, deviceKey, jpeg, match, openTestStore, removeTempDirs } from './store-fixtures.ts';

afterEach(removeTempDirs);

const RELEASE = { agency: 'Solano County DA', requester: 'ADA M. Chen', purpose: 'prosecution of case VPD-26-0142', approver: 'Lt. R. Park', requestRef: 'REQ-7781' };

async function storeWithDay() {
  const t = await openTestStore({ retention: { readsDays: 30, hitsDays: 30, imagesDays: 30 } });
  const next = createUuidV7();
  const ids: string[] = [];
  for (let i = 0; i < 6; i++) {
    const at = T0 + i * 1000;
    const plate = i === 2 ? '7ABC123' : `4XY${String(i).padStart(4, '0')}`;
    const d = detection(next(at), at, plate, { cameraId: i % 2 ? 'south' : 'north', ...(i === 4 ? { match: match(plate) } : {}) });
    t.clock.t = at;
    await t.store.put(d, { plate: jpeg(`plate${i}`), overview: jpeg(`ov${i}`, 4_000) });
    ids.push(d.id);
  }
  return { ...t, ids };
}

describe('evidence holds', () => {
  it('survive the purge of their day, and export as a bundle that verifies offline', async () => {
    const { store, clock, ids } = await storeWithDay();
    const held = [ids[2] as string, ids[4] as string, ids[5] as string];
    const hold = await store.placeHold(SUPERVISOR, { caseNumber: 'VPD-26-0142', reason: 'vehicle used in robbery', refs: held.map((id) => ({ id })) });
    expect(hold).toMatchObject({ caseNumber: 'VPD-26-0142', placedBy: 'sgt.okafor', state: 'active' });
    expect(hold.records.map((r) => r.id)).toEqual(held);

    clock.t = T0 + 31 * DAY_MS;
    const purged = await store.purge();
    expect(purged.map((r) => r.class).sort()).toEqual(['chain', 'hit', 'image', 'read']);
    expect(await store.get(INVESTIGATOR, held[0] as string, dayOf(T0))).toBeUndefined();

    const recipient = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const { bundle, manifest } = await store.exportHold(SUPERVISOR, hold.id, {
      release: RELEASE, recipient: { publicKey: recipient.publicKey.export({ type: 'spki', format: 'pem' }).toString() },
    });
    expect(manifest.records).toHaveLength(3);
    expect(bundle).not.toContain('7ABC123');
    const check = await verifyBundle(bundle, { privateKey: recipient.privateKey, trustedDeviceKey: deviceKey(store) });
    expect(check.problems).toEqual([]);
    expect(check).toMatchObject({ ok: true, deviceKeyTrusted: true });
    expect(check.manifest?.release).toMatchObject(RELEASE);
    expect(check.records.every((r) => r.ok)).toBe(true);
    expect(JSON.parse(check.manifest?.records.find((r) => r.id === held[0])?.json ?? '{}').plate).toBe('7ABC123');
    // The approved request is kept on file with the hold (P11).
    const [listed] = await store.listHolds(SUPERVISOR);
    expect(listed?.releases).toEqual([expect.objectContaining({ agency: RELEASE.agency, approver: RELEASE.approver, bundleId: manifest.bundleId })]);
    await store.close();
  });

  it('a bundle altered anywhere, or signed by another device, does not verify', async () => {
    const { store, ids } = await storeWithDay();
    const hold = await store.placeHold(SUPERVISOR, { caseNumber: 'C-1', reason: 'test hold', refs: [{ id: ids[1] as string }] });
    const { bundle } = await store.exportHold(SUPERVISOR, hold.id, { release: RELEASE, recipient: { password: 'correct horse battery staple' } });
    const good = await verifyBundle(bundle, { password: 'correct horse battery staple' });
    expect(good.problems).toEqual([]);
    expect((await verifyBundle(bundle, { password: 'wrong password here' })).problems[0]).toMatch(/cannot decrypt/);
    const flipped = `${bundle.slice(0, 300)}${bundle[300] === 'A' ? 'B' : 'A'}${bundle.slice(301)}`;
    expect((await verifyBundle(flipped, { password: 'correct horse battery staple' })).ok).toBe(false);
    const other = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const check = await verifyBundle(bundle, { password: 'correct horse battery staple', trustedDeviceKey: other.publicKey });
    expect(check.ok).toBe(false);
    expect(check.problems[0]).toMatch(/not by the trusted device key/);
    await store.close();
  });

  it('release shreds the hold key, deletes the copies, and signs a receipt', async () => {
    const { store, ids, events } = await storeWithDay();
    const hold = await store.placeHold(SUPERVISOR, { caseNumber: 'C-2', reason: 'test hold', refs: [{ id: ids[0] as string }, { id: ids[3] as string }] });
    const receipt = await store.releaseHold(SUPERVISOR, hold.id, 'case closed');
    expect(receipt).toMatchObject({ class: 'hold', holdId: hold.id, reason: 'hold-release' });
    expect(receipt.counts).toMatchObject({ hrec: 2, himg: 4, hchn: 2 });
    expect(receipt.keyId).toMatch(/^[0-9a-f]{16}$/);
    const raised = events.ofType('store.purge-receipt').at(-1);
    expect(readStatement<DeletionReceipt>(raised?.receipt as string)).toMatchObject({ holdId: hold.id, total: 8 });
    const [listed] = await store.listHolds(SUPERVISOR);
    expect(listed).toMatchObject({ state: 'released', released: { by: 'sgt.okafor', reason: 'case closed' } });
    await expect(store.releaseHold(SUPERVISOR, hold.id, 'again')).rejects.toThrow(ConflictError);
    await expect(store.exportHold(SUPERVISOR, hold.id, { release: RELEASE, recipient: { password: 'correct horse battery staple' } })).rejects.toThrow(ConflictError);
    await store.close();
  });

  it('can be placed from a search, refuses unknown detections, and refuses a forbidden release purpose (P11)', async () => {
    const { store, ids } = await storeWithDay();
    const hold = await store.placeHold(SUPERVISOR, { caseNumber: 'C-3', reason: 'all reads of the partial plate', query: { plate: '4XY*', from: T0 - DAY_MS, to: T0 + DAY_MS } });
    expect(hold.records).toHaveLength(5);
    const unknown = createUuidV7()(T0);
    await expect(store.placeHold(SUPERVISOR, { caseNumber: 'C-4', reason: 'missing', refs: [{ id: ids[0] as string }, { id: unknown }] })).rejects.toThrow(NotFoundError);
    await expect(store.exportHold(SUPERVISOR, hold.id, {
      release: { ...RELEASE, purpose: 'Federal immigration enforcement request' }, recipient: { password: 'correct horse battery staple' },
    })).rejects.toThrow(AccessDeniedError);
    await store.close();
  });
});
