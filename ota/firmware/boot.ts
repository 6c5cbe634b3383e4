/**
 * The boot shim: the container's (or systemd unit's) command. It asks chooseLaunch() which folder
 * holds the application to run — the committed or trial A/B slot, or the factory image this file
 * ships in — starts the application from there (its bundle `dist/gateway.mjs` when it has one,
 * else `gateway/main.ts` through tsx), passes SIGTERM/SIGINT on, and starts it again
 * when it exits with EXIT_RESTART (the OTA agent switched slots, or rolled back). Any other exit
 * status is the shim's own, so the container's restart policy still sees crashes.
 *
 *   node dist/boot.mjs                            (built: `npm run build`)
 *   node --import tsx ota/firmware/boot.ts        (from source; ALPR_DATA_DIR, ALPR_FIRMWARE_VERSION from the environment)
 *
 * A firmware bundle holds the application's own files; packages come from the factory image's
 * node_modules (linked into the slot when the bundle has none), so a release that changes
 * dependencies ships them in the bundle.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { lstat, symlink } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { allocatorEnv } from '../../models/allocator.ts';
import { chooseLaunch, type LaunchChoice } from './launcher.ts';

/** Exit status asking the shim to start the application again (gateway/control-plane.ts). */
export const EXIT_RESTART = 75;
/** Exit status for a configuration the shim cannot start the application with (sysexits EX_CONFIG). */
const EX_CONFIG = 78;
/** Restarts in a row without a clean run of at least MIN_RUN_MS before the shim gives up. */
const MAX_QUICK_RESTARTS = 5;
const MIN_RUN_MS = 10_000;

export interface BootOptions {
  readonly dataDir: string;
  /** The image this shim ships in, and its version. */
  readonly factory: { readonly dir: string; readonly version: string };
  readonly env: NodeJS.ProcessEnv;
  readonly log: (line: string) => void;
  /** Entry inside the chosen folder (default gateway/main.ts). */
  readonly entry?: string;
}

async function exists(p: string): Promise<boolean> {
  return lstat(p).then(() => true, () => false);
}

/**
 * How to start the application in `dir`: its production bundle (`dist/gateway.mjs`, made by
 * `npm run build` — plain JavaScript, no TypeScript transpiled at run time) when the folder has
 * one, else `gateway/main.ts` through tsx (a tree without a build, or an older firmware). An
 * explicit `entry` always runs from source.
 */
export async function launchArgs(dir: string, entry?: string): Promise<string[]> {
  if (entry === undefined && (await exists(path.join(dir, BUNDLE)))) return [path.join(dir, BUNDLE)];
  return ['--import', 'tsx', path.join(dir, entry ?? 'gateway/main.ts')];
}

const BUNDLE = 'dist/gateway.mjs';

/** Runs the chosen application once; resolves with its exit status. */
async function runOnce(choice: LaunchChoice, opts: BootOptions, forward: { child?: ReturnType<typeof spawn> }): Promise<number> {
  if (choice.slot !== 'factory' && !(await exists(path.join(choice.dir, 'node_modules')))) {
    await symlink(path.join(opts.factory.dir, 'node_modules'), path.join(choice.dir, 'node_modules'), 'dir');
  }
  let env: NodeJS.ProcessEnv;
  try {
    // On jemalloc when installed (models/allocator.ts): a preload has to be there at exec.
    env = allocatorEnv({ ...opts.env, ALPR_FIRMWARE_VERSION: choice.version, ALPR_FIRMWARE_SLOT: choice.slot });
  } catch (err) {
    opts.log(`cannot start ${choice.dir}: ${(err as Error).message}`);
    return EX_CONFIG;
  }
  const child = spawn(process.execPath, await launchArgs(choice.dir, opts.entry), { cwd: choice.dir, stdio: 'inherit', env });
  forward.child = child;
  return new Promise((resolve) => {
    child.once('error', (err) => {
      opts.log(`cannot start ${choice.dir}: ${err.message}`);
      resolve(1);
    });
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 + 15 : 1)));
  });
}

/** Chooses, runs, and runs again on EXIT_RESTART; resolves with the status to exit with. */
export async function boot(opts: BootOptions, signals: NodeJS.EventEmitter = process): Promise<number> {
  const forward: { child?: ReturnType<typeof spawn> } = {};
  let stopping = false;
  const pass = (signal: NodeJS.Signals): void => {
    stopping = true;
    forward.child?.kill(signal);
  };
  signals.on('SIGTERM', pass);
  signals.on('SIGINT', pass);
  let quick = 0;
  try {
    for (;;) {
      const choice = await chooseLaunch(opts.dataDir, opts.factory);
      opts.log(`starting ${choice.slot === 'factory' ? 'the factory image' : `slot ${choice.slot}`} (${choice.version})${choice.fallback ? ` — ${choice.fallback}` : ''}`);
      const started = Date.now();
      const code = await runOnce(choice, opts, forward);
      if (code !== EXIT_RESTART || stopping) return code;
      quick = Date.now() - started < MIN_RUN_MS ? quick + 1 : 0;
      if (quick > MAX_QUICK_RESTARTS) {
        opts.log(`restart requested ${quick} times in a row within ${MIN_RUN_MS} ms each: giving up`);
        return 1;
      }
    }
  } finally {
    signals.off('SIGTERM', pass);
    signals.off('SIGINT', pass);
  }
}

if (import.meta.url === `file://${process.argv[1] ?? ''}`) {
  const here = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
  const dataDir = process.env.ALPR_DATA_DIR;
  if (!dataDir) {
    process.stderr.write('alpr boot: ALPR_DATA_DIR is not set (where the A/B slots and their pointer live)\n');
    process.exit(78);
  }
  // The image's own version: ALPR_FIRMWARE_VERSION when the build sets it, else its package.json.
  const version = process.env.ALPR_FIRMWARE_VERSION ?? (JSON.parse(readFileSync(path.join(here, 'package.json'), 'utf8')) as { version: string }).version;
  boot({ dataDir, factory: { dir: here, version }, env: process.env, log: (line) => process.stderr.write(`alpr boot: ${line}\n`) }).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`alpr boot: ${(err as Error).stack ?? String(err)}\n`);
      process.exit(1);
    },
  );
}
