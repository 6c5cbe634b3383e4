/**
 * The rotation state machine against a fake MQTT link: commit only after reconnect and cert-seen,
 * rollback (old pair back on disk, reconnect with it) when either fails, nothing touched when the
 * request fails, one rotation at a time. The identity files are real, in a temporary directory.
 */
import type { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { GatewayEvent } from '../../../gateway/events.ts';
import type { Renewal } from '../../../provisioning/enrol.ts';
import { IdentityStore } from '../../../provisioning/identity.ts';
import { CertificateRotator, type RotationLink } from '../../../provisioning/rotation.ts';
import { generateP256Key, serialHex } from '../../../provisioning/x509.ts';
import { TestCa } from './fixtures.ts';

let dir: string;
let store: IdentityStore;
const ca = new TestCa();

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rotation-'));
  store = new IdentityStore(dir);
  const key = await store.ensureKey();
  await store.stage([ca.issue('pole-1', key, Date.now() - 1000, 90)]);
  await store.activate();
  await store.commit();
  await store.writeCaBundle([ca.cert]);
});
afterEach(() => rm(dir, { recursive: true, force: true }));

/** A link that records what it was asked and reads the certificate on disk at each reconnect, as the delivery client does. */
class FakeLink implements RotationLink {
  connectedWith: string[] = [];
  failReconnect = 0;
  seen = new Set<string>();
  async reconnect(): Promise<void> {
    const id = await store.read();
    this.connectedWith.push(serialHex(id!.leaf));
    if (this.failReconnect > 0) {
      this.failReconnect--;
      throw new Error('connection refused by broker');
    }
  }
  async waitForCertSeen(serial: string): Promise<void> {
    if (!this.seen.has(serial)) throw new Error(`dispatch did not confirm ${serial} within 100 ms`);
  }
}

function rotator(link: FakeLink, renew: (opts: { rekey: boolean }) => Promise<Renewal>, events: GatewayEvent[], current: X509Certificate[] = []): CertificateRotator {
  return new CertificateRotator({
    identity: store, renew, link, certSeenTimeoutMs: 100, now: Date.now, log: pino({ level: 'silent' }),
    events: { emit: (e) => events.push(e) }, onCurrent: (leaf) => current.push(leaf),
  });
}

async function freshRenewal(rekey: boolean): Promise<Renewal> {
  const id = (await store.read())!;
  const key = rekey ? generateP256Key() : id.key;
  return { chain: [ca.issue('pole-1', key, Date.now() - 1000, 90)], ...(rekey ? { key } : {}), anchors: [ca.cert] };
}

describe('CertificateRotator', () => {
  it('commits a rekeyed certificate after reconnect and cert-seen; prev files are gone', async () => {
    const link = new FakeLink();
    const events: GatewayEvent[] = [];
    const renewal = await freshRenewal(true);
    const newSerial = serialHex(renewal.chain[0]!);
    link.seen.add(newSerial);
    const old = (await store.read())!;
    const out = await rotator(link, async () => renewal, events).rotate({ rekey: true, reason: 'command' });
    expect(out).toMatchObject({ ok: true, serial: newSerial, previousSerial: serialHex(old.leaf) });
    expect(link.connectedWith).toEqual([newSerial]);
    const now = (await store.read())!;
    expect(serialHex(now.leaf)).toBe(newSerial);
    expect(now.key.export({ type: 'pkcs8', format: 'der' })).toEqual(renewal.key!.export({ type: 'pkcs8', format: 'der' }));
    expect((await readdir(store.dir)).sort()).toEqual(['ca-bundle.pem', 'device.crt.pem', 'device.key.pem']);
    expect(events.map((e) => e.type)).toEqual(['cert-rotated']);
  });

  it('rolls back when dispatch never confirms the new serial: old pair back, reconnected with it', async () => {
    const link = new FakeLink();
    const events: GatewayEvent[] = [];
    const current: X509Certificate[] = [];
    const old = (await store.read())!;
    const oldKeyPem = await readFile(store.path('key'), 'utf8');
    const renewal = await freshRenewal(true);
    const out = await rotator(link, async () => renewal, events, current).rotate({ rekey: true, reason: 'schedule' });
    expect(out).toMatchObject({ ok: false, stage: 'confirm', rolledBack: true, error: expect.stringContaining('did not confirm') });
    expect(link.connectedWith).toEqual([serialHex(renewal.chain[0]!), serialHex(old.leaf)]);
    expect(serialHex((await store.read())!.leaf)).toBe(serialHex(old.leaf));
    expect(await readFile(store.path('key'), 'utf8')).toBe(oldKeyPem);
    expect(await store.pending()).toBe(false);
    expect(current.map(serialHex)).toEqual([serialHex(renewal.chain[0]!), serialHex(old.leaf)]);
    expect(events).toEqual([expect.objectContaining({ type: 'cert-rotation-failed', stage: 'confirm', rolledBack: true })]);
  });

  it('rolls back when the reconnect with the new certificate fails', async () => {
    const link = new FakeLink();
    link.failReconnect = 1;
    const old = (await store.read())!;
    const out = await rotator(link, () => freshRenewal(false), []).rotate({ rekey: false, reason: 'schedule' });
    expect(out).toMatchObject({ ok: false, stage: 'reconnect', rolledBack: true, error: 'connection refused by broker' });
    expect(serialHex((await store.read())!.leaf)).toBe(serialHex(old.leaf));
    expect(link.connectedWith).toHaveLength(2);
  });

  it('a failed request touches nothing and does not reconnect', async () => {
    const link = new FakeLink();
    const before = await Promise.all(['key', 'cert', 'ca'].map((n) => readFile(store.path(n as 'key'), 'utf8')));
    const out = await rotator(link, () => Promise.reject(new Error('EST simplereenroll refused (403): revoked')), []).rotate({ rekey: true, reason: 'command' });
    expect(out).toMatchObject({ ok: false, stage: 'request', rolledBack: false });
    expect(link.connectedWith).toEqual([]);
    expect(await Promise.all(['key', 'cert', 'ca'].map((n) => readFile(store.path(n as 'key'), 'utf8')))).toEqual(before);
  });

  it('runs one rotation at a time', async () => {
    const link = new FakeLink();
    let calls = 0;
    const r = rotator(link, async () => {
      calls++;
      const renewal = await freshRenewal(false);
      link.seen.add(serialHex(renewal.chain[0]!));
      return renewal;
    }, []);
    const [a, b] = await Promise.all([r.rotate({ rekey: false, reason: 'command' }), r.rotate({ rekey: false, reason: 'command' })]);
    expect(calls).toBe(1);
    expect(a).toBe(b);
    expect(r.phase).toBe('idle');
  });
});

describe('IdentityStore.recover', () => {
  it('rolls back a rotation cut off before commit, and finishes a first activation cut between its renames', async () => {
    const old = (await store.read())!;
    await store.stage([ca.issue('pole-1', old.key, Date.now(), 30)]);
    await store.activate();
    expect(await store.recover()).toBe('rolled-back');
    expect(serialHex((await store.read())!.leaf)).toBe(serialHex(old.leaf));

    const fresh = new IdentityStore(join(dir, 'second'));
    const key = await fresh.ensureKey();
    await fresh.stage([ca.issue('pole-2', key, Date.now(), 30)]);
    expect(await fresh.recover()).toBe('clean');
    expect((await fresh.read())?.leaf.subject).toContain('pole-2');
  });

  it('refuses a key file others can read', async () => {
    const { chmod } = await import('node:fs/promises');
    await chmod(store.path('key'), 0o644);
    await expect(store.read()).rejects.toThrow(/readable by others/);
  });
});
