/**
 * The one benchmark runner: `npm run bench -- <name> [--json]`, or `all`.
 * Each benchmark measures a baseline in the same run and reports ratios against it; with --json
 * the last line printed is one JSON object of its figures (keys are stable: issues name them).
 */
import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { allocatorEnv } from '../models/allocator.ts';

export interface BenchContext {
  readonly json: boolean;
  /** Human-readable progress and tables; silent in --json mode except on stderr. */
  readonly print: (line: string) => void;
  readonly args: readonly string[];
}

export type Bench = (ctx: BenchContext) => Promise<Record<string, number | string | boolean>>;

/** Name → module exporting `run: Bench`. Imported lazily so one bench never loads another's deps. */
const BENCHES: Record<string, () => Promise<{ run: Bench }>> = {
  recognition: () => import('./recognition.ts'),
  hotlist: () => import('./hotlist.ts'),
  camera: () => import('./camera.ts'),
  store: () => import('./store.ts'),
  delivery: () => import('./delivery.ts'),
};

async function main(argv: readonly string[]): Promise<number> {
  const json = argv.includes('--json');
  const rest = argv.filter((a) => a !== '--json');
  const name = rest[0];
  if (!name || !(name === 'all' || name in BENCHES)) {
    process.stderr.write(`usage: npm run bench -- <${[...Object.keys(BENCHES), 'all'].join('|')}> [--json]\n`);
    return 2;
  }
  const names = name === 'all' ? Object.keys(BENCHES) : [name];
  const results: Record<string, unknown> = {};
  for (const n of names) {
    const load = BENCHES[n];
    if (!load) continue;
    const print = (line: string): void => {
      (json ? process.stderr : process.stdout).write(`${line}\n`);
    };
    print(`== bench ${n}`);
    const { run } = await load();
    results[n] = await run({ json, print, args: rest.slice(1) });
  }
  const out = names.length === 1 ? results[names[0] as string] : results;
  process.stdout.write(`${JSON.stringify(out)}\n`);
  return 0;
}

/**
 * Benches measure what the pole runs: the runner starts itself again on the allocator the boot
 * shim starts the gateway on (jemalloc when installed; models/allocator.ts) and exits as that run does.
 */
function onGatewayAllocator(): number | undefined {
  if (process.env.ALPR_BENCH_ALLOCATOR === '1') return undefined;
  const env = { ...allocatorEnv(process.env), ALPR_BENCH_ALLOCATOR: '1' };
  const run = spawnSync(process.execPath, [...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit', env });
  return run.status ?? 1;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const status = onGatewayAllocator();
  if (status !== undefined) process.exit(status);
  main(process.argv.slice(2)).then((code) => process.exit(code), (err: unknown) => {
    process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
}
