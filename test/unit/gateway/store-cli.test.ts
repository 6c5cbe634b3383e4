import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../../../models/eval/cli.ts';
import type { CliIo } from '../../../models/eval/cli-io.ts';
import { createUuidV7 } from '../../../gateway/ids.ts';
import { INVESTIGATOR, DAY_MS, detection, jpeg, openTestStore, removeTempDirs, tempDir } from './store-fixtures.ts';
import { raw } from './store-raw.ts';

afterEach(removeTempDirs);

function io(cwd: string): CliIo & { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return {
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (err += s) } as CliIo['stderr'],
    cwd,
    out: () => out,
    err: () => err,
  };
}

const next = createUuidV7();

/** A closed store with three detections and two searches in its audit log, on the real clock. */
async function seeded(): Promise<{ dir: string; ids: string[] }> {
  const now = Date.now();
  const { store, dir } = await openTestStore({ clock: { now: () => Date.now(), status: () => 'trusted' } });
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) {
    const d = detection(next(now + i), now + i, `5CLI00${i}`);
    await store.put(d, { plate: jpeg(`c${i}`) });
    ids.push(d.id);
  }
  await store.search(INVESTIGATOR, { plate: '5CLI*', from: now - DAY_MS, to: now + DAY_MS });
  await store.search(INVESTIGATOR, { plate: '*001', from: now - DAY_MS, to: now + DAY_MS });
  await store.close();
  return { dir, ids };
}

describe('alpr audit / hold / evidence', () => {
  it('audit verify passes on an intact log and names the entry of a tampered one', async () => {
    const { dir } = await seeded();
    let c = io(dir);
    expect(await main(['audit', 'verify', '--data-dir', dir, '--user', 'auditor'], c)).toBe(0);
    expect(c.out()).toMatch(/^audit log intact: entries 0–1 \(2\)/);
    const r = await raw(dir);
    await r.db.del((await r.db.keys({ gt: 'aud!', lt: 'aud!\xff' }).all())[1] as string);
    await r.close();
    c = io(dir);
    expect(await main(['audit', 'verify', '--data-dir', dir, '--user', 'auditor'], c)).toBe(1);
    expect(c.out()).toMatch(/audit log BROKEN at entry 1: missing/);
  });

  it('audit sample prints the seed and the inquiries', async () => {
    const { dir } = await seeded();
    const c = io(dir);
    expect(await main(['audit', 'sample', '--data-dir', dir, '--user', 'auditor', '--seed', '42'], c)).toBe(0);
    expect(c.out()).toMatch(/seed 42; 2 of 2 inquiries \(asked for 10\)/);
    expect(c.out()).toMatch(/case VPD-26-0142; purpose: stolen vehicle investigation/);
    expect(c.out()).toMatch(/terms \{"plate":"5CLI\*"/);
  });

  it('hold place → evidence export → evidence verify, end to end', async () => {
    const { dir, ids } = await seeded();
    let c = io(dir);
    expect(await main(['hold', 'place', '--data-dir', dir, '--user', 'sgt', '--case', 'VPD-9', '--reason', 'robbery evidence', '--json', ids[0] as string, ids[2] as string], c)).toBe(0);
    const hold = JSON.parse(c.out()) as { id: string };
    c = io(dir);
    expect(await main(['hold', 'list', '--data-dir', dir, '--user', 'sgt'], c)).toBe(0);
    expect(c.out()).toMatch(new RegExp(`${hold.id}\\s+active\\s+case VPD-9\\s+2 detection`));

    const work = tempDir('alpr-cli-');
    const recipient = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    writeFileSync(join(work, 'recipient.pub'), recipient.publicKey.export({ type: 'spki', format: 'pem' }));
    writeFileSync(join(work, 'recipient.key'), recipient.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    writeFileSync(join(work, 'other.pub'), generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey.export({ type: 'spki', format: 'pem' }));
    c = io(work);
    expect(await main(['evidence', 'export', '--data-dir', dir, '--user', 'sgt', '--hold', hold.id, '--agency', 'Solano DA', '--requester', 'ADA Chen',
      '--release-purpose', 'prosecution', '--approver', 'Lt Park', '--recipient-key', 'recipient.pub', '--out', 'case.jwe'], c)).toBe(0);
    expect(c.out()).toMatch(/wrote .*case\.jwe: bundle .*, 2 record\(s\)/);

    c = io(work);
    expect(await main(['evidence', 'verify', 'case.jwe', '--key', 'recipient.key', '--device-key', join(dir, 'keys', 'device-key.pem'), '--out', 'records'], c)).toBe(0);
    expect(c.out()).toMatch(/^bundle VERIFIED/);
    expect(c.out()).toMatch(/matches the trusted device key/);
    expect(c.out()).toMatch(/released to Solano DA \(requester ADA Chen; purpose: prosecution; approved by Lt Park\)/);
    expect(readdirSync(join(work, 'records')).sort()).toEqual([`${ids[0]}-plate.jpg`, `${ids[0]}.json`, `${ids[2]}-plate.jpg`, `${ids[2]}.json`].sort());

    c = io(work);
    expect(await main(['evidence', 'verify', 'case.jwe', '--key', 'recipient.key', '--device-key', 'other.pub'], c)).toBe(1);
    expect(c.out()).toMatch(/not by the trusted device key/);
  });

  it('refuses bad arguments with usage and the mapped exit code', async () => {
    const dir = tempDir();
    let c = io(dir);
    expect(await main(['audit', 'frobnicate'], c)).toBe(64);
    expect(c.err()).toMatch(/usage: alpr audit verify/);
    c = io(dir);
    expect(await main(['evidence', 'verify', 'missing.jwe'], c)).toBe(64);
    expect(c.err()).toMatch(/a bundle file and --key or --password-file are required/);
  });
});
