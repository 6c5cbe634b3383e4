/** `alpr ota` end to end through the command table, with the progress output on a pipe and on a TTY. */
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../../../models/eval/cli.ts';
import type { CliIo } from '../../../models/eval/cli-io.ts';
import { progressBar } from '../../../ota/cli/progress-bar.ts';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

function io(cwd: string, tty = false): CliIo & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, cwd, stdout: { write: (c: string) => out.push(c) }, stderr: { write: (c: string) => err.push(c), isTTY: tty } };
}

describe('alpr ota', () => {
  it('init, add, sign, publish, status — with plain progress lines when stderr is not a terminal', async () => {
    const d = await mkdtemp(path.join(tmpdir(), 'ota-cli-'));
    dirs.push(d);
    const run = async (...args: string[]): Promise<{ code: number; out: string; err: string }> => {
      const x = io(d);
      const code = await main(['ota', ...args], x);
      return { code, out: x.out.join(''), err: x.err.join('') };
    };
    expect((await run('init', 'repo', '--keys', 'keys', '--targets-keys', '2', '--targets-threshold', '2')).code).toBe(0);
    await writeFile(path.join(d, 'list.csv'), 'plate,state,list_type,priority\nABC123,ca,stolen-vehicle,90\n');
    const add = await run('add', 'repo', 'list.csv', '--name', 'hotlist/agency.csv', '--kind', 'hotlist', '--generated-at', '2026-01-02T03:04:05Z');
    expect(add.code, add.err).toBe(0);
    expect(add.out).toMatch(/staged hotlist\/agency\.csv v1/);
    expect(add.err).toMatch(/^ota add: step 1\/3 hash$/m);
    const half = await run('sign', 'repo', '--key', 'keys/targets-1.key.json');
    expect(half.out).toMatch(/targets v2: 1 of 2 signatures$/m);
    const early = await run('publish', 'repo', 'www', '--key', 'keys/snapshot-1.key.json', '--key', 'keys/timestamp-1.key.json');
    expect(early.code).toBe(1);
    expect(early.err).toMatch(/targets v2: 1 of 2 signatures required/);
    expect((await run('sign', 'repo', '--key', 'keys/targets-2.key.json')).out).toMatch(/2 of 2 signatures — ready to publish/);
    const pub = await run('publish', 'repo', 'www', '--key', 'keys/snapshot-1.key.json', '--key', 'keys/timestamp-1.key.json');
    expect(pub.code, pub.err).toBe(0);
    expect(pub.err).toMatch(/ota publish: copy .* \(100%\)/);
    expect((await readdir(path.join(d, 'www', 'metadata'))).sort()).toContain('timestamp.json');
    const st = await run('status', 'repo', '--json');
    expect(JSON.parse(st.out)).toMatchObject({ targets: [{ name: 'hotlist/agency.csv', kind: 'hotlist', version: 1 }] });
  });

  it('bad input gets a message naming what is wrong', async () => {
    const d = await mkdtemp(path.join(tmpdir(), 'ota-cli-'));
    dirs.push(d);
    const x = io(d);
    expect(await main(['ota', 'add', 'nowhere', 'f', '--name', 'a', '--kind', 'hotlist'], x)).toBe(1);
    expect(x.err.join('')).toMatch(/not a release repository/);
    const y = io(d);
    expect(await main(['ota', 'frobnicate'], y)).toBe(64);
    expect(y.err.join('')).toMatch(/unknown subcommand "frobnicate"/);
    const z = io(d);
    expect(await main(['ota', 'init', 'r'], z)).toBe(1);
    expect(z.err.join('')).toMatch(/--keys <dir> is required/);
  });

  it('draws one bar rewritten in place on a terminal', () => {
    const x = io('/', true);
    const bar = progressBar(x.stderr, 'ota publish');
    bar.step('copy', 2, 3);
    bar.bytes(512 * 1024, 1024 * 1024);
    bar.bytes(1024 * 1024, 1024 * 1024);
    bar.finish();
    const text = x.err.join('');
    expect(text).toContain('\rota publish [############------------]  50% 512.0 kB/1.0 MB  step 2/3 copy');
    expect(text).toContain('[########################] 100% 1.0 MB/1.0 MB');
    expect(text.endsWith('\n')).toBe(true);
    expect(text.split('\n')).toHaveLength(2);
  });
});
