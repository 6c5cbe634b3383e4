/**
 * Hot lists (full and delta) and model packs over the air, end to end: release tool → HTTPS
 * repository → agent → the gateway's HotlistService / the recogniser's pack switcher (with the
 * self-test probe run through the real ONNX recogniser); plus the refresh command and status.
 */
import { copyFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportJWK, generateKeyPair } from 'jose';
import { hotlistCommand } from '../../gateway/hotlist/import-command.ts';
import { main } from '../../models/eval/cli.ts';
import { createRecognizer } from '../../models/index.ts';
import { BUILTIN_PACKS, ocrModelsAssetDir } from '../../models/packs/builtin.ts';
import { SwitchablePlateRecognizer } from '../../models/packs/switcher.ts';
import { ScriptedPlateRecognizer } from '../../models/scripted-recognizer.ts';
import { otaCommandHandler } from '../../ota/agent.ts';
import { packBundle } from '../../ota/bundle.ts';
import { selfTestProbe } from '../../ota/model-selftest.ts';
import { csvList, makeDevice, type TestDevice } from '../helpers/ota-device.ts';
import { makeCert, makeRepo, startStaticServer, type StaticServer, type TestCert, type TestRepo } from '../helpers/ota-repo.ts';

let cert: TestCert;
let r: TestRepo;
let srv: StaticServer;
const cleanup: (() => Promise<void>)[] = [];

beforeAll(async () => {
  r = await makeRepo();
  cert = await makeCert(r.dir);
  srv = await startStaticServer(r.out, cert);
});
afterAll(async () => {
  for (const fn of cleanup.reverse()) await fn();
  await srv.close();
  await rm(r.dir, { recursive: true, force: true });
});

function plates(n: number, prefix: string): string[] {
  return Array.from({ length: n }, (_, i) => `${prefix}${String(i).padStart(4, '0')}`);
}

async function addList(list: readonly string[], delta: boolean): Promise<void> {
  const f = path.join(r.dir, `list-${list.length}-${list[0]}.csv`);
  await writeFile(f, csvList(list));
  await r.repo.addTarget(f, { name: 'hotlist/agency.csv', kind: 'hotlist', delta, custom: { generatedAt: new Date().toISOString() } });
  await r.release();
}

async function device(extra: Parameters<typeof makeDevice>[3] = {}, config: Parameters<typeof makeDevice>[4] = {}): Promise<TestDevice> {
  const d = await makeDevice(srv.url, path.join(r.out, 'metadata', '1.root.json'), cert.cert, extra, config);
  cleanup.push(async () => {
    await d.stop();
    await rm(d.dataDir, { recursive: true, force: true });
  });
  return d;
}

describe('hot lists over the air', () => {
  it('takes a delta against the installed list, and falls back to the full file when the base differs', async () => {
    const v1 = plates(3000, 'AAA');
    await addList(v1, false);
    const dev = await device();
    expect((await dev.agent.checkNow('test')).installed).toEqual([{ kind: 'hotlist', version: 1 }]);
    const v2 = [...v1.slice(0, 1500), 'NEW0001', 'NEW0002', ...v1.slice(1510)];
    await addList(v2, true);
    srv.requests.length = 0;
    const report = await dev.agent.checkNow('test');
    expect(report).toMatchObject({ ok: true, installed: [{ kind: 'hotlist', version: 2 }] });
    expect(dev.events.find((e) => e.type === 'ota-installed' && e.version === 2)).toMatchObject({ via: 'delta' });
    expect(srv.requests.filter((p) => p.startsWith('/targets/'))).toEqual([expect.stringMatching(/agency\.csv\.from-1\.delta$/)]);
    expect(await readFile(dev.listPath, 'utf8')).toBe(csvList(v2));
    expect(dev.hotlist.current().match({ plate: 'NEW0002', at: Date.now() })?.kind).toBe('exact');

    // A second device whose list on disk is not the signed v1 (edited by hand): the delta does not apply.
    const other = await device();
    await other.agent.checkNow('test'); // installs v2 in full (its installed version is none)
    const v3 = [...v2, 'NEW0003'];
    await addList(v3, true);
    await writeFile(other.listPath, csvList(['HANDMADE']));
    srv.requests.length = 0;
    expect((await other.agent.checkNow('test')).installed).toEqual([{ kind: 'hotlist', version: 3 }]);
    expect(srv.requests.filter((p) => p.startsWith('/targets/'))).toEqual([expect.stringMatching(/[0-9a-f]{64}\.agency\.csv$/)]);
    expect(await readFile(other.listPath, 'utf8')).toBe(csvList(v3));
  });

  it('the refresh command nudges an immediate check; nudges during a check coalesce into one more', async () => {
    const dev = await device();
    const handler = otaCommandHandler(dev.agent, 30_000);
    const reply = await handler({});
    expect(reply).toMatchObject({ accepted: true, finished: true, report: { ok: true } });
    expect(dev.agent.status().installed.hotlist?.version).toBeGreaterThanOrEqual(1);
    expect(dev.agent.status().lastCheckOk).toBe(true);
    const before = srv.requests.filter((p) => p.endsWith('timestamp.json')).length;
    const a = dev.agent.checkNow('a');
    const b = dev.agent.checkNow('b');
    const c = dev.agent.checkNow('c');
    expect(b).toBe(a);
    expect(c).toBe(a);
    await a;
    await new Promise((res) => setTimeout(res, 50));
    await dev.agent.checkNow('settle'); // waits for the coalesced re-check if it is still running
    const after = srv.requests.filter((p) => p.endsWith('timestamp.json')).length;
    expect(after - before).toBeGreaterThanOrEqual(2);
    expect(after - before).toBeLessThanOrEqual(3);
  });
});

describe('sealed hot lists (alpr hotlist import) over the air', () => {
  it('carries generatedAt from the list header, and a delta rebuilds the sealed list byte for byte', async () => {
    const pair = await generateKeyPair('ECDH-ES+A256KW', { crv: 'P-256', extractable: true });
    await writeFile(path.join(r.dir, 'dispatch.jwk'), JSON.stringify(await exportJWK(pair.publicKey)));
    const quiet = { stdout: { write: () => true }, stderr: { write: () => true, isTTY: false }, cwd: r.dir };
    const source = (n: number, extra: readonly string[]): string => [
      'plate,state,list_type,priority,covert,entered_by,case_number,synopsis,notes',
      ...Array.from({ length: n }, (_, i) => `${(1_000_000 + i).toString(36).toUpperCase()},ca,stolen-vehicle,,false,"Ofc. A #1",CASE-${i},"synopsis ${i}",`),
      ...extra,
    ].join('\n');
    await writeFile(path.join(r.dir, 's1.csv'), source(300, []));
    await writeFile(path.join(r.dir, 's2.csv'), source(300, ['SEAL001,ca,stolen-vehicle,,false,"Ofc. B #2",CASE-X,"new entry",']));
    const generated1 = new Date(Date.now() - 3600_000).toISOString();
    expect(await hotlistCommand(['import', 's1.csv', '--dispatch-key', 'dispatch.jwk', '--out', 'l1.hotlist', '--generated-at', generated1], quiet)).toBe(0);
    expect(await hotlistCommand(['import', 's2.csv', '--dispatch-key', 'dispatch.jwk', '--out', 'l2.hotlist'], quiet)).toBe(0);
    const ota = async (...args: string[]): Promise<number> => main(['ota', ...args], quiet);
    const repoDir = path.relative(r.dir, r.repo.dir);
    expect(await ota('add', repoDir, 'l1.hotlist', '--name', 'hotlist/sealed.hotlist', '--kind', 'hotlist')).toBe(0);
    await r.release();
    const dev = await device({}, { hotlistTarget: 'hotlist/sealed.hotlist' });
    expect((await dev.agent.checkNow('test')).refused).toEqual([]);
    const rec = await dev.agent.installed.get('hotlist');
    // `alpr ota add` read generatedAt from the list's header; the device checked freshness against it.
    expect(rec?.detail?.generatedAt).toBe(Date.parse(generated1));
    expect(dev.hotlist.current().generatedAt).toBe(Date.parse(generated1));
    expect(await ota('add', repoDir, 'l2.hotlist', '--name', 'hotlist/sealed.hotlist', '--kind', 'hotlist', '--delta')).toBe(0);
    await r.release();
    const report = await dev.agent.checkNow('test');
    expect(report.refused).toEqual([]);
    expect(dev.events.find((e) => e.type === 'ota-installed' && e.target === 'hotlist/sealed.hotlist' && e.via === 'delta')).toBeDefined();
    expect((await readFile(dev.listPath)).equals(await readFile(path.join(r.dir, 'l2.hotlist')))).toBe(true);
    expect(dev.hotlist.current().match({ plate: 'SEAL001', at: Date.now() })?.kind).toBe('exact');
  });
});

describe('model packs over the air', () => {
  async function packFolder(name: string, version: string, corrupt = false): Promise<string> {
    const builtin = BUILTIN_PACKS.find((b) => b.manifest.name === 'ppocr-v4')!;
    const dir = path.join(r.dir, `pack-${name}-${version}`);
    await mkdir(dir, { recursive: true });
    for (const f of builtin.manifest.files) await copyFile(path.join(ocrModelsAssetDir(), f.path), path.join(dir, f.path));
    const files = corrupt ? builtin.manifest.files.map((f, i) => (i === 0 ? { ...f, sha256: '0'.repeat(64) } : f)) : builtin.manifest.files;
    await writeFile(path.join(dir, 'manifest.json'), JSON.stringify({ ...builtin.manifest, name, version, files }));
    const bundle = path.join(r.dir, `pack-${name}-${version}.bundle`);
    await packBundle(dir, bundle, { kind: 'model-pack', name, version });
    return bundle;
  }

  it('verifies, self-tests through the new pack with the real recogniser, switches, keeps the previous', async () => {
    const initial = await createRecognizer({ kind: 'onnx', inWorker: false });
    const switcher = new SwitchablePlateRecognizer(initial, { probe: selfTestProbe() });
    cleanup.push(() => switcher.close());
    let fakeBad = false;
    const dev = await device({
      models: {
        switchTo: (name, dir) => switcher.switchTo(() => (fakeBad
          // A pack that loads but reads nothing (what a broken export looks like).
          ? Promise.resolve(new ScriptedPlateRecognizer({ modelVersion: `${name}@broken`, script: [] }))
          : createRecognizer({ kind: 'onnx', inWorker: false, pack: name, packDirs: [dir] }))),
      },
    }, { hotlist: false, models: true });

    await r.repo.addTarget(await packFolder('ppocr-v4-ota', '2026.1'), { name: 'models/ppocr-v4-ota.bundle', kind: 'model-pack' });
    await r.release();
    const first = await dev.agent.checkNow('test');
    expect(first.refused).toEqual([]);
    expect(switcher.modelVersion).toMatch(/^ppocr-v4-ota@2026\.1/);
    const installed1 = await dev.agent.installed.get('model-pack');
    expect(installed1?.detail?.dir).toMatch(/ppocr-v4-ota-v\d+$/);

    // A pack that fails its self-test never serves; the one in service stays, and so does its folder.
    fakeBad = true;
    await r.repo.addTarget(await packFolder('ppocr-v4-ota', '2026.2'), { name: 'models/ppocr-v4-ota.bundle', kind: 'model-pack' });
    await r.release();
    const second = await dev.agent.checkNow('test');
    expect(second.refused).toEqual([expect.objectContaining({ kind: 'model-pack', reason: 'invalid', message: expect.stringMatching(/self-test: ppocr-v4-ota@broken read 0 of 4 test plates/) })]);
    expect(switcher.modelVersion).toMatch(/^ppocr-v4-ota@2026\.1/);
    expect(await dev.agent.installed.get('model-pack')).toEqual(installed1);
    await expect(readFile(path.join(String(installed1?.detail?.dir), 'manifest.json'))).resolves.toBeTruthy();

    // A pack whose manifest pins a file it does not hold is refused before anything loads it.
    fakeBad = false;
    await r.repo.addTarget(await packFolder('ppocr-v4-ota', '2026.3', true), { name: 'models/ppocr-v4-ota.bundle', kind: 'model-pack' });
    await r.release();
    const third = await dev.agent.checkNow('test');
    expect(third.refused).toEqual([expect.objectContaining({ kind: 'model-pack', reason: 'invalid', message: expect.stringMatching(/sha256 is [0-9a-f]{64}, the manifest pins 0{64}/) })]);
    expect(switcher.modelVersion).toMatch(/^ppocr-v4-ota@2026\.1/);

    // The next good pack takes over and the first is kept as the previous one.
    await r.repo.addTarget(await packFolder('ppocr-v4-ota', '2026.4'), { name: 'models/ppocr-v4-ota.bundle', kind: 'model-pack' });
    await r.release();
    expect((await dev.agent.checkNow('test')).refused).toEqual([]);
    expect(switcher.modelVersion).toMatch(/^ppocr-v4-ota@2026\.4/);
    expect((await dev.agent.installed.get('model-pack'))?.detail?.previousDir).toBe(installed1?.detail?.dir);
  });
});
