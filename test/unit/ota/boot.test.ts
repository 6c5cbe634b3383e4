/** The boot shim: runs the chosen application, again on EXIT_RESTART, passes signals on, gives up on a restart loop. */
import { EventEmitter } from 'node:events';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { boot, EXIT_RESTART } from '../../../ota/firmware/boot.ts';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'boot-'));
});
afterEach(() => rm(root, { recursive: true, force: true }));

/** A factory image whose entry appends a line to runs.log and exits as `script` says. */
async function factory(script: string): Promise<string> {
  const dir = path.join(root, 'factory');
  await mkdir(path.join(dir, 'gateway'), { recursive: true });
  // A factory image carries its packages (tsx among them) beside the application.
  await symlink(path.resolve('node_modules'), path.join(dir, 'node_modules'), 'dir');
  await writeFile(path.join(dir, 'gateway', 'main.ts'), `import { appendFileSync, readFileSync } from 'node:fs';
const log = ${JSON.stringify(path.join(root, 'runs.log'))};
appendFileSync(log, process.env.ALPR_FIRMWARE_VERSION + ' ' + process.env.ALPR_FIRMWARE_SLOT + '\\n');
const runs = readFileSync(log, 'utf8').trim().split('\\n').length;
${script}
`);
  return dir;
}

const options = (dir: string, lines: string[]) => ({
  dataDir: path.join(root, 'data'),
  factory: { dir, version: '1.2.3' },
  env: process.env,
  log: (line: string) => void lines.push(line),
});

describe('boot shim', () => {
  it('starts the factory image when no slot was installed, and again after EXIT_RESTART', async () => {
    const dir = await factory(`process.exit(runs < 3 ? ${EXIT_RESTART} : 7);`);
    const lines: string[] = [];
    const code = await boot(options(dir, lines), new EventEmitter());
    expect(code).toBe(7);
    expect((await readFile(path.join(root, 'runs.log'), 'utf8')).trim().split('\n')).toEqual(['1.2.3 factory', '1.2.3 factory', '1.2.3 factory']);
    expect(lines[0]).toMatch(/starting the factory image \(1\.2\.3\)/);
  }, 30_000);

  it('passes SIGTERM on and exits with the application’s status', async () => {
    const dir = await factory(`process.on('SIGTERM', () => process.exit(0)); setInterval(() => undefined, 1000); appendFileSync(log, 'ready\\n');`);
    const signals = new EventEmitter();
    const done = boot(options(dir, []), signals);
    const logFile = path.join(root, 'runs.log');
    while (!(await readFile(logFile, 'utf8').catch(() => '')).includes('ready')) await new Promise((r) => setTimeout(r, 50));
    signals.emit('SIGTERM', 'SIGTERM');
    expect(await done).toBe(0);
  }, 30_000);

  it('starts the application on jemalloc (installed by make deps), or on glibc with one arena when ALPR_ALLOCATOR=glibc', async () => {
    const dir = await factory(`appendFileSync(log, 'jemalloc ' + readFileSync('/proc/self/maps', 'utf8').includes('libjemalloc') + ' arenas ' + process.env.MALLOC_ARENA_MAX + '\\n'); process.exit(0);`);
    expect(await boot(options(dir, []), new EventEmitter())).toBe(0);
    expect(await boot({ ...options(dir, []), env: { ...process.env, ALPR_ALLOCATOR: 'glibc', MALLOC_ARENA_MAX: undefined } }, new EventEmitter())).toBe(0);
    const runs = (await readFile(path.join(root, 'runs.log'), 'utf8')).trim().split('\n').filter((l) => l.startsWith('jemalloc'));
    expect(runs).toEqual([`jemalloc true arenas ${process.env.MALLOC_ARENA_MAX}`, 'jemalloc false arenas 1']);
  }, 30_000);

  it('does not start the application with an unknown ALPR_ALLOCATOR, and says why', async () => {
    const dir = await factory(`process.exit(0);`);
    const lines: string[] = [];
    expect(await boot({ ...options(dir, lines), env: { ...process.env, ALPR_ALLOCATOR: 'tcmalloc' } }, new EventEmitter())).toBe(78);
    expect(lines.at(-1)).toMatch(/ALPR_ALLOCATOR: expected "jemalloc" or "glibc".*got "tcmalloc"/);
    await expect(readFile(path.join(root, 'runs.log'), 'utf8')).rejects.toThrow();
  }, 30_000);

  it('gives up on an application that asks for a restart at once, every time', async () => {
    const dir = await factory(`process.exit(${EXIT_RESTART});`);
    const lines: string[] = [];
    expect(await boot(options(dir, lines), new EventEmitter())).toBe(1);
    expect(lines.at(-1)).toMatch(/giving up/);
  }, 60_000);
});
