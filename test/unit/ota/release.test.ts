/** The release tool's own checks: thresholds, versions, names, keys — each with a clear message. */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { generateKey, keyIdOf, publicOnly, readKeyFile, signerFor, writeKeyFile } from '../../../ota/release/keys.ts';
import { ReleaseRepository } from '../../../ota/release/repository.ts';
import { makeRepo, type TestRepo } from '../../helpers/ota-repo.ts';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function repo(): Promise<TestRepo> {
  const r = await makeRepo();
  dirs.push(r.dir);
  return r;
}

async function file(r: TestRepo, name: string, content: string): Promise<string> {
  const f = path.join(r.dir, name);
  await writeFile(f, content);
  return f;
}

describe('release repository', () => {
  it('init refuses a threshold above the number of keys, and a second init', async () => {
    const d = await mkdtemp(path.join(tmpdir(), 'ota-rel-'));
    dirs.push(d);
    await expect(ReleaseRepository.init(path.join(d, 'r'), { keysDir: path.join(d, 'k'), counts: { root: { keys: 2, threshold: 3 } } })).rejects.toThrow(/root: threshold must be 1–2/);
    const r = await repo();
    await expect(ReleaseRepository.init(r.repo.dir, { keysDir: path.join(r.dir, 'k2') })).rejects.toThrow(/already holds a repository/);
    await expect(ReleaseRepository.open(path.join(d, 'nothing'))).rejects.toThrow(/not a release repository/);
  });

  it('targets: versions only go up, names stay inside the repository', async () => {
    const r = await repo();
    const f = await file(r, 'a.csv', 'x');
    expect((await r.repo.addTarget(f, { name: 'hotlist/a.csv', kind: 'hotlist' })).version).toBe(1);
    expect((await r.repo.addTarget(f, { name: 'hotlist/a.csv', kind: 'hotlist' })).version).toBe(2);
    await expect(r.repo.addTarget(f, { name: 'hotlist/a.csv', kind: 'hotlist', version: 2 })).rejects.toThrow(/must be an integer above 2.*versions only go up/);
    await expect(r.repo.addTarget(f, { name: '../etc/passwd', kind: 'hotlist' })).rejects.toThrow(/expected a relative path/);
    await expect(r.repo.addTarget(f, { name: 'a', kind: 'rootkit' as never })).rejects.toThrow(/kind "rootkit"/);
  });

  it('several lists live side by side; a new version replaces only its own name and its deltas', async () => {
    const r = await repo();
    const a1 = await file(r, 'a1', 'list a version one '.repeat(100));
    const a2 = await file(r, 'a2', 'list a version two '.repeat(100));
    await r.repo.addTarget(a1, { name: 'hotlist/a', kind: 'hotlist' });
    await r.repo.addTarget(await file(r, 'b1', 'list b'), { name: 'hotlist/b', kind: 'hotlist' });
    await r.repo.addTarget(await file(r, 'fw', 'firmware'), { name: 'firmware/gw.bundle', kind: 'firmware' });
    const res = await r.repo.addTarget(a2, { name: 'hotlist/a', kind: 'hotlist', delta: true });
    expect(res).toMatchObject({ version: 3, delta: 'hotlist/a.from-1.delta' });
    await expect(r.repo.addTarget(a2, { name: 'hotlist/c', kind: 'hotlist', delta: true })).rejects.toThrow(/no earlier hotlist\/c/);
    const names = (await r.repo.status()).targets.map((t) => `${t.name}@${t.version}`).sort();
    expect(names).toEqual(['firmware/gw.bundle@1', 'hotlist/a.from-1.delta@3', 'hotlist/a@3', 'hotlist/b@2']);
  });

  it('publish refuses targets below their threshold and names the shortfall', async () => {
    const r = await repo();
    await r.repo.addTarget(await file(r, 'a.csv', 'x'), { name: 'hotlist/a.csv', kind: 'hotlist' });
    await r.repo.sign([r.keys.targets[0]!]);
    await expect(r.repo.publish(r.out, r.online)).rejects.toThrow(/targets v2: 1 of 2 signatures required/);
    const st = await r.repo.status();
    expect(st.roles.find((x) => x.role === 'targets')).toMatchObject({ signatures: 1, threshold: 2, staged: true });
    await r.repo.sign([r.keys.targets[1]!]);
    await expect(r.repo.publish(r.out, [])).rejects.toThrow(/snapshot: 0 of the 1 private snapshot keys/);
    expect(await r.repo.publish(r.out, r.online)).toMatchObject({ targets: 2 });
  });

  it('sign refuses a key that signs nothing staged, and refuses with nothing staged', async () => {
    const r = await repo();
    await expect(r.repo.sign(r.keys.targets)).rejects.toThrow(/nothing staged/);
    await r.repo.addTarget(await file(r, 'a.csv', 'x'), { name: 'hotlist/a.csv', kind: 'hotlist' });
    await expect(r.repo.sign([generateKey()])).rejects.toThrow(/signs nothing staged/);
    await expect(r.repo.sign([publicOnly(r.keys.targets[0]!)])).rejects.toThrow(/no private half/);
  });

  it('rotation checks its arguments and needs both the old and the new root thresholds', async () => {
    const r = await repo();
    await expect(r.repo.rotate('root', { remove: ['ffff'] })).rejects.toThrow(/matches 0 root keys/);
    const fresh = generateKey();
    await expect(r.repo.rotate('root', { add: [publicOnly(fresh)], threshold: 4 })).rejects.toThrow(/threshold 4: must be 1–3/);
    await r.repo.rotate('root', { add: [publicOnly(fresh)], remove: [r.keys.root[0]!.keyid.slice(0, 12)], threshold: 2 });
    // Old threshold (2 of the old keys) but only 1 of the new root's 2 keys that are in it: refused.
    await r.repo.sign([r.keys.root[1]!]);
    await expect(r.repo.publish(r.out, r.online)).rejects.toThrow(/root v2: 1 of the 2 signatures root v1/);
    await r.repo.sign([r.keys.root[0]!]);
    await expect(r.repo.publish(r.out, r.online)).rejects.toThrow(/root v2: 1 of the 2 signatures its own root keys/);
    await r.repo.sign([fresh]);
    expect(await r.repo.publish(r.out, r.online)).toMatchObject({ root: 2 });
    expect(JSON.parse(await readFile(path.join(r.out, 'metadata', '2.root.json'), 'utf8'))).toMatchObject({ signed: { version: 2 } });
  });

  it('publish with nothing staged re-signs only the timestamp (the daily freshness run)', async () => {
    const r = await repo();
    const before = await r.repo.status();
    const res = await r.repo.publish(r.out, r.online);
    const after = await r.repo.status();
    expect(res.snapshot).toBe(before.roles.find((x) => x.role === 'snapshot')!.version);
    expect(after.roles.find((x) => x.role === 'timestamp')!.version).toBe(before.roles.find((x) => x.role === 'timestamp')!.version + 1);
  });
});

describe('key files', () => {
  it('round-trip, refuse a key whose id or private half does not match, sign verifiably', async () => {
    const d = await mkdtemp(path.join(tmpdir(), 'ota-key-'));
    dirs.push(d);
    const k = generateKey();
    expect(k.keyid).toBe(keyIdOf(k.public));
    await writeKeyFile(path.join(d, 'k.json'), k);
    expect(await readKeyFile(path.join(d, 'k.json'))).toEqual(k);
    await expect(writeKeyFile(path.join(d, 'k.json'), k)).rejects.toThrow(/EEXIST/);
    await writeFile(path.join(d, 'bad-id.json'), JSON.stringify({ ...k, keyid: 'ab'.repeat(32) }));
    await expect(readKeyFile(path.join(d, 'bad-id.json'))).rejects.toThrow(/keyid does not match/);
    await writeFile(path.join(d, 'swapped.json'), JSON.stringify({ ...k, private: generateKey().private }));
    await expect(readKeyFile(path.join(d, 'swapped.json'))).rejects.toThrow(/private key does not belong/);
    await writeFile(path.join(d, 'junk.json'), '{"hello":1}');
    await expect(readKeyFile(path.join(d, 'junk.json'))).rejects.toThrow(/not an alpr-ota-key ed25519 key file/);
    expect(signerFor(k)(Buffer.from('x')).sig).toMatch(/^[0-9a-f]{128}$/);
  });
});
