/**
 * The TUF tamper matrix against a real HTTPS repository and the gateway's real hot-list service:
 * every attack is refused with an `ota-refused` event, and the list in force stays as it was.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { GatewayEvent } from '../../gateway/events.ts';
import { generateKey, publicOnly } from '../../ota/release/keys.ts';
import { ReleaseRepository } from '../../ota/release/repository.ts';
import { csvList, makeDevice, type TestDevice } from '../helpers/ota-device.ts';
import { forgeRelease, readServed } from '../helpers/ota-forge.ts';
import { makeCert, makeRepo, startStaticServer, type StaticServer, type TestCert, type TestRepo } from '../helpers/ota-repo.ts';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';

let cert: TestCert;
const cleanup: (() => Promise<void>)[] = [];

beforeAll(async () => {
  cert = await makeCert(await mkdtemp(path.join(tmpdir(), 'ota-cert-')));
});

afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function publishList(r: TestRepo, plates: readonly string[], opts: { version?: number; generatedAt?: number } = {}): Promise<void> {
  const file = path.join(r.dir, `list-${plates.join('-')}.csv`);
  await writeFile(file, csvList(plates));
  await r.repo.addTarget(file, {
    name: 'hotlist/agency.csv', kind: 'hotlist',
    ...(opts.version !== undefined ? { version: opts.version } : {}),
    custom: { generatedAt: new Date(opts.generatedAt ?? Date.now()).toISOString() },
  });
  await r.release();
}

interface World {
  r: TestRepo;
  srv: StaticServer;
  dev: TestDevice;
  /** The list in force after the first good update. */
  version: string;
  text: string;
}

async function world(): Promise<World> {
  const r = await makeRepo();
  cleanup.push(() => rm(r.dir, { recursive: true, force: true }));
  const srv = await startStaticServer(r.out, cert);
  cleanup.push(() => srv.close());
  await publishList(r, ['GOOD001']);
  const dev = await makeDevice(srv.url, path.join(r.out, 'metadata', '1.root.json'), cert.cert);
  cleanup.push(async () => {
    await dev.stop();
    await rm(dev.dataDir, { recursive: true, force: true });
  });
  const first = await dev.agent.checkNow('test');
  expect(first.refused).toEqual([]);
  expect(first.installed).toEqual([{ kind: 'hotlist', version: 1 }]);
  expect(dev.hotlist.current().match({ plate: 'GOOD001', at: Date.now() })?.kind).toBe('exact');
  dev.events.length = 0;
  return { r, srv, dev, version: dev.hotlist.current().version, text: await readFile(dev.listPath, 'utf8') };
}

async function expectRefused(w: World, reason: string): Promise<GatewayEvent> {
  const report = await w.dev.agent.checkNow('test');
  expect(report.ok).toBe(false);
  expect(report.installed).toEqual([]);
  const ev = w.dev.events.find((e) => e.type === 'ota-refused');
  expect(ev, JSON.stringify(w.dev.events)).toBeDefined();
  expect(ev!.reason).toBe(reason);
  expect(w.dev.hotlist.current().version).toBe(w.version);
  expect(await readFile(w.dev.listPath, 'utf8')).toBe(w.text);
  expect(w.dev.events.some((e) => e.type === 'ota-installed' || e.type === 'hotlist-installed')).toBe(false);
  return ev!;
}

describe('OTA tamper matrix (TUF over HTTPS)', () => {
  it('a valid new list is installed (the control case)', async () => {
    const w = await world();
    await publishList(w.r, ['GOOD002']);
    const report = await w.dev.agent.checkNow('test');
    expect(report).toMatchObject({ ok: true, installed: [{ kind: 'hotlist', version: 2 }] });
    expect(w.dev.hotlist.current().version).not.toBe(w.version);
    expect(await readFile(w.dev.listPath, 'utf8')).toBe(csvList(['GOOD002']));
    // Progress: steps and bytes as events, the last download event complete.
    const progress = w.dev.events.filter((e) => e.type === 'ota-progress' && e.step === 'download');
    const size = Buffer.byteLength(csvList(['GOOD002']));
    expect(progress.at(-1)).toMatchObject({ kind: 'hotlist', version: 2, bytesDone: size, bytesTotal: size, stepIndex: 1, steps: 3 });
    expect(w.dev.agent.status()).toMatchObject({ lastCheckOk: true, installed: { hotlist: { version: 2, target: 'hotlist/agency.csv' } } });
    expect(w.dev.agent.status().activity).toBeUndefined();
  });

  it('bad signature on targets metadata → refused', async () => {
    const w = await world();
    await publishList(w.r, ['EVIL001']);
    const file = path.join(w.r.out, 'metadata', '3.targets.json');
    const json = JSON.parse(await readFile(file, 'utf8')) as { signatures: { sig: string }[] };
    // Flip one hex digit of every signature: still well-formed, no longer valid.
    for (const s of json.signatures) s.sig = (s.sig[0] === '0' ? '1' : '0') + s.sig.slice(1);
    await writeFile(file, JSON.stringify(json));
    const ev = await expectRefused(w, 'metadata');
    expect(String(ev.message)).toMatch(/signed by 0\/2 keys/);
  });

  it('targets signed below the threshold (1 of 2 keys) → refused', async () => {
    const w = await world();
    const served = await readServed(w.r.out, '2.targets.json');
    const targets = (served.signed as { targets: Record<string, unknown> }).targets;
    await forgeRelease(w.r.out, {
      targetsVersion: 3, snapshotVersion: 4, timestampVersion: 10, targets: { ...targets },
      targetsKeys: [w.r.keys.targets[0]!], snapshotKeys: w.r.keys.snapshot, timestampKeys: w.r.keys.timestamp,
    });
    await expectRefused(w, 'metadata');
  });

  it('expired timestamp (freeze attack) → refused, stale-list event raised', async () => {
    const w = await world();
    await publishList(w.r, ['EVIL002']);
    // Re-sign the timestamp as if two days ago: what a device sees when the server is frozen.
    const past = await ReleaseRepository.open(w.r.repo.dir, () => Date.now() - 2 * 86_400_000);
    const meta = path.join(w.r.out, 'metadata', 'timestamp.json');
    const before = JSON.parse(await readFile(meta, 'utf8')) as { signed: { version: number } };
    await past.publish(w.r.out, w.r.online);
    const after = JSON.parse(await readFile(meta, 'utf8')) as { signed: { version: number; expires: string } };
    expect(after.signed.version).toBe(before.signed.version + 1);
    expect(Date.parse(after.signed.expires)).toBeLessThan(Date.now());
    await expectRefused(w, 'expired');
    expect(w.dev.events.some((e) => e.type === 'hotlist-stale' && e.source === 'ota')).toBe(true);
  });

  it('a replayed older timestamp (metadata rollback) → refused', async () => {
    const w = await world();
    const oldTs = await readFile(path.join(w.r.out, 'metadata', 'timestamp.json'));
    await publishList(w.r, ['GOOD003']);
    expect((await w.dev.agent.checkNow('test')).ok).toBe(true);
    const w2 = { ...w, version: w.dev.hotlist.current().version, text: await readFile(w.dev.listPath, 'utf8') };
    w.dev.events.length = 0;
    await writeFile(path.join(w.r.out, 'metadata', 'timestamp.json'), oldTs);
    await expectRefused(w2, 'metadata');
  });

  it('a validly signed but lower target version (rollback attack) → refused', async () => {
    const w = await world();
    await publishList(w.r, ['GOOD004']);
    expect((await w.dev.agent.checkNow('test')).ok).toBe(true);
    const w2 = { ...w, version: w.dev.hotlist.current().version, text: await readFile(w.dev.listPath, 'utf8') };
    w.dev.events.length = 0;
    // The attacker holds the targets keys but replays the old list's entry (version 1) in a newer targets file.
    const old = await readServed(w.r.out, '2.targets.json');
    await forgeRelease(w.r.out, {
      targetsVersion: 4, snapshotVersion: 5, timestampVersion: 20,
      targets: (old.signed as { targets: Record<string, unknown> }).targets,
      targetsKeys: w.r.keys.targets, snapshotKeys: w.r.keys.snapshot, timestampKeys: w.r.keys.timestamp,
    });
    const ev = await expectRefused(w2, 'rollback');
    expect(String(ev.message)).toMatch(/versions only go up/);
  });

  it('mix-and-match: a snapshot other than the one the timestamp pins → refused', async () => {
    const w = await world();
    await publishList(w.r, ['EVIL003']);
    // Serve an old, validly signed snapshot under the new snapshot's name.
    w.srv.intercept = (p, _req, res) => {
      if (p !== '/metadata/3.snapshot.json') return false;
      void readFile(path.join(w.r.out, 'metadata', '2.snapshot.json')).then((b) => res.writeHead(200).end(b));
      return true;
    };
    await expectRefused(w, 'metadata');
  });

  it('oversized target (endless data) → download stopped at the signed length, refused', async () => {
    const w = await world();
    await publishList(w.r, ['EVIL004']);
    let sent = 0;
    w.srv.intercept = (p, _req, res) => {
      if (!p.startsWith('/targets/')) return false;
      res.writeHead(200);
      const chunk = Buffer.alloc(16 * 1024, 0x41);
      const pump = (): void => {
        while (!res.destroyed && sent < 512 * 1024 * 1024 && res.write(chunk)) sent += chunk.length;
        if (!res.destroyed && sent < 512 * 1024 * 1024) res.once('drain', pump);
      };
      res.on('close', () => undefined);
      pump();
      return true;
    };
    await expectRefused(w, 'download');
    expect(sent).toBeLessThan(64 * 1024 * 1024); // the client hung up long before the end
  });

  it('wrong hash (same length, other bytes) → refused', async () => {
    const w = await world();
    await publishList(w.r, ['EVIL005']);
    w.srv.intercept = (p, _req, res) => {
      if (!p.startsWith('/targets/')) return false;
      const body = Buffer.from(csvList(['EVIL999']));
      res.writeHead(200, { 'content-length': body.length }).end(body);
      return true;
    };
    await expectRefused(w, 'hash');
  });

  it('valid key rotation: new targets keys, root signed by old and new thresholds → accepted', async () => {
    const w = await world();
    const fresh = [generateKey(), generateKey()];
    await w.r.repo.rotate('targets', { add: fresh.map(publicOnly), remove: w.r.keys.targets.map((k) => k.keyid.slice(0, 16)), threshold: 2 });
    await w.r.repo.sign([...w.r.keys.root, ...fresh]);
    const file = path.join(w.r.dir, 'rot.csv');
    await writeFile(file, csvList(['ROT0001']));
    await w.r.repo.addTarget(file, { name: 'hotlist/agency.csv', kind: 'hotlist', custom: { generatedAt: new Date().toISOString() } });
    await w.r.repo.sign(fresh);
    await w.r.repo.publish(w.r.out, w.r.online);
    const report = await w.dev.agent.checkNow('test');
    expect(report).toMatchObject({ ok: true, installed: [{ kind: 'hotlist', version: 2 }] });
    const trusted = JSON.parse(await readFile(path.join(w.dev.dataDir, 'ota', 'metadata', 'root.json'), 'utf8')) as { signed: { version: number } };
    expect(trusted.signed.version).toBe(2);
  });

  it('a compromised timestamp key rotated out: the new key works, the old one is refused afterwards', async () => {
    const w = await world();
    const fresh = generateKey();
    const old = w.r.keys.timestamp[0]!;
    await w.r.repo.rotate('timestamp', { add: [publicOnly(fresh)], remove: [old.keyid.slice(0, 16)], threshold: 1 });
    await w.r.repo.sign(w.r.keys.root);
    const f = path.join(w.r.dir, 'rot2.csv');
    await writeFile(f, csvList(['ROT0002']));
    await w.r.repo.addTarget(f, { name: 'hotlist/agency.csv', kind: 'hotlist', custom: { generatedAt: new Date().toISOString() } });
    await w.r.repo.sign(w.r.keys.targets);
    await expect(w.r.repo.publish(w.r.out, w.r.online)).rejects.toThrow(/timestamp: 0 of the 1 private timestamp keys/);
    await w.r.repo.publish(w.r.out, [...w.r.keys.snapshot, fresh]);
    expect((await w.dev.agent.checkNow('test')).installed).toEqual([{ kind: 'hotlist', version: 2 }]);
    const w2 = { ...w, version: w.dev.hotlist.current().version, text: await readFile(w.dev.listPath, 'utf8') };
    w.dev.events.length = 0;
    // The attacker still holds the old timestamp key and signs a timestamp with it.
    const served = JSON.parse(await readFile(path.join(w.r.out, 'metadata', 'timestamp.json'), 'utf8')) as { signed: { version: number } };
    await forgeRelease(w.r.out, {
      targetsVersion: 90, snapshotVersion: 91, timestampVersion: served.signed.version + 5,
      targets: {}, targetsKeys: w.r.keys.targets, snapshotKeys: w.r.keys.snapshot, timestampKeys: [old],
    });
    const ev = await expectRefused(w2, 'metadata');
    expect(String(ev.message)).toMatch(/timestamp was signed by 0\/1 keys/);
  });

  it('invalid key rotation: new root signed only by the new keys → refused, old root kept', async () => {
    const w = await world();
    await publishList(w.r, ['EVIL006']);
    const attacker = [generateKey(), generateKey()];
    // The release tool refuses to publish this, so the attacker writes it by hand.
    await w.r.repo.rotate('root', { add: attacker.map(publicOnly), remove: w.r.keys.root.map((k) => k.keyid.slice(0, 16)), threshold: 2 });
    await w.r.repo.sign(attacker);
    await expect(w.r.repo.publish(w.r.out, w.r.online)).rejects.toThrow(/root v2: 0 of the 2 signatures root v1/);
    const staged = await readFile(path.join(w.r.repo.dir, 'staged', 'root.json'));
    await writeFile(path.join(w.r.out, 'metadata', '2.root.json'), staged);
    await expectRefused(w, 'metadata');
    const trusted = JSON.parse(await readFile(path.join(w.dev.dataDir, 'ota', 'metadata', 'root.json'), 'utf8')) as { signed: { version: number } };
    expect(trusted.signed.version).toBe(1);
  });

  it('a newer version of a list generated before the one in force → refused (newest data never overwritten by older)', async () => {
    const w = await world();
    await publishList(w.r, ['OLD0002'], { generatedAt: Date.now() - 3600_000 });
    const ev = await expectRefused(w, 'rollback');
    expect(String(ev.message)).toMatch(/before the list in force/);
  });

  it('a validly signed list the gateway cannot load → refused, previous list in force, hotlist-rejected raised', async () => {
    const w = await world();
    const f = path.join(w.r.dir, 'broken.csv');
    await writeFile(f, 'this is not,a hot list\n1,2\n');
    await w.r.repo.addTarget(f, { name: 'hotlist/agency.csv', kind: 'hotlist', custom: { generatedAt: new Date().toISOString() } });
    await w.r.release();
    await expectRefused(w, 'invalid');
    expect(w.dev.events.some((e) => e.type === 'hotlist-rejected')).toBe(true);
  });

  it('trusted metadata torn by a power cut: root restored from the last verified copy, role files fetched again', async () => {
    const w = await world();
    const meta = path.join(w.dev.dataDir, 'ota', 'metadata');
    // tuf-js writes metadata with a plain write: what a cut at the wrong moment leaves behind.
    await writeFile(path.join(meta, 'root.json'), '{"signed": {"_type": "ro');
    await writeFile(path.join(meta, 'timestamp.json'), '');
    await publishList(w.r, ['GOOD005']);
    const report = await w.dev.agent.checkNow('test');
    expect(report).toMatchObject({ ok: true, installed: [{ kind: 'hotlist', version: 2 }] });
    expect(JSON.parse(await readFile(path.join(meta, 'root.json'), 'utf8'))).toMatchObject({ signed: { _type: 'root', version: 1 } });
  });

  it('a list older than the freshness policy → refused as stale, stale-list event', async () => {
    const w = await world();
    await publishList(w.r, ['OLD0001'], { generatedAt: Date.now() - 30 * 3600_000 });
    await expectRefused(w, 'stale');
    expect(w.dev.events.some((e) => e.type === 'hotlist-stale')).toBe(true);
  });
});
