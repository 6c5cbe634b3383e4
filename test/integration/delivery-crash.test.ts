/**
 * The device process is killed with SIGKILL again and again while it queues a burst of hits:
 * every hit the outbox accepted reaches dispatch exactly once after dedup — the outbox is synced
 * before it says "accepted", keeps what is unacked across the kill, and sends it again after.
 * 20 kills here; ALPR_SOAK=1 runs 100 kills over 10,000 hits.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Receiver } from '../../dispatch/receiver.ts';
import { mulberry32 } from '../../drivers/camera/prng.ts';
import { createDeliveryWorld, hitId, until, type DeliveryWorld } from './delivery-fixture.ts';

const SOAK = process.env.ALPR_SOAK === '1';
const KILLS = SOAK ? 100 : 20;
const HITS = SOAK ? 10_000 : 1_000;
const INTERVAL_MS = SOAK ? 2 : 8;
const ROOT = new URL('../..', import.meta.url).pathname;
const log = pino({ level: 'silent' });

describe('device process SIGKILLed during a burst', () => {
  let world: DeliveryWorld;
  let receiver: Receiver;
  let childJs: string;
  /** How many times dispatch reported each hit as new (its in-memory list keeps only the latest). */
  const seen = new Map<string, number>();
  let configPath: string;
  let live: ChildProcess | undefined;

  beforeAll(async () => {
    world = await createDeliveryWorld();
    receiver = await world.startReceiver(log);
    receiver.on('hit', (h) => seen.set(h.hitId, (seen.get(h.hitId) ?? 0) + 1));
    const dataDir = mkdtempSync(join(world.dir, 'dev-'));
    const config = await world.device('pole-k', dataDir, { delivery: { window: 64, ackTimeoutMs: 2_000 } });
    configPath = join(world.dir, 'device-config.json');
    writeFileSync(configPath, JSON.stringify(config));
    // Bundled once: starting the child through the tsx loader each time would cost a second or more.
    const { build } = await import('esbuild');
    const outDir = join(ROOT, 'node_modules', '.cache', 'alpr-delivery-crash');
    mkdirSync(outDir, { recursive: true });
    childJs = join(outDir, `child-${process.pid}.mjs`);
    await build({ entryPoints: [join(ROOT, 'test/integration/delivery-crash-child.ts')], bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile: childJs, packages: 'external', logLevel: 'error' });
  }, 60_000);

  afterAll(async () => {
    live?.kill('SIGKILL');
    await world?.dispose();
    if (childJs) rmSync(childJs, { force: true });
  });

  interface Run {
    readonly child: ChildProcess;
    accepted: number[];
    depth: number | undefined;
    ready: boolean;
    stderr: string;
    exited: Promise<void>;
  }

  function start(first: number): Run {
    const child = spawn(process.execPath, [childJs, configPath, String(first), String(HITS - 1), String(INTERVAL_MS)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    live = child;
    const run: Run = { child, accepted: [], depth: undefined, ready: false, stderr: '', exited: new Promise((r) => child.once('close', () => r())) };
    let buf = '';
    child.stdout?.on('data', (b: Buffer) => {
      buf += b.toString();
      const lines = buf.split('\n');
      buf = lines.pop() ?? ''; // a line cut by the kill does not count
      for (const line of lines) {
        if (line === 'ready') run.ready = true;
        else if (line.startsWith('accepted ')) run.accepted.push(Number(line.slice(9)));
        else if (line.startsWith('depth ')) run.depth = Number(line.slice(6));
      }
    });
    child.stderr?.on('data', (b: Buffer) => (run.stderr += b.toString()));
    return run;
  }

  it(`every accepted hit reaches dispatch exactly once, ${KILLS} kills over ${HITS} hits`, async () => {
    const rng = mulberry32(424242);
    const accepted = new Set<number>();
    let next = 0;
    let killedMidBurst = 0;
    for (let i = 0; i < KILLS; i++) {
      const run = start(next);
      await until(() => run.ready || run.stderr !== '', 30_000, `child ${i} ready`, () => run.stderr);
      expect(run.stderr, `run ${i}`).toBe('');
      await new Promise((r) => setTimeout(r, rng.int(50, SOAK ? 400 : 600)));
      run.child.kill('SIGKILL');
      await run.exited;
      for (const n of run.accepted) accepted.add(n);
      if (run.accepted.length && run.accepted.at(-1)! < HITS - 1) killedMidBurst++;
      next = Math.max(next, ...run.accepted.map((n) => n + 1));
      if (next >= HITS) next = HITS - 1; // the burst is over: later runs only drain
    }
    // The last run finishes the burst and drains.
    const final = start(next);
    await until(() => final.ready, 30_000, 'final child ready', () => final.stderr);
    const detail = (): string => `accepted ${accepted.size}, dispatch ${seen.size} (dup ${receiver.stats().duplicates}), child depth ${final.depth}\n${final.stderr}`;
    await until(() => final.accepted.at(-1) === HITS - 1 || next >= HITS - 1, 120_000, 'the burst to finish', detail);
    for (const n of final.accepted) accepted.add(n);
    await until(() => [...accepted].every((n) => seen.has(hitId(n))) && final.depth === 0, 180_000, 'every accepted hit at dispatch and the outbox empty', detail);
    final.child.kill('SIGTERM');
    await final.exited;
    expect(final.stderr).toBe('');

    expect([...seen].filter(([, times]) => times > 1), 'hits dispatch took as new more than once').toEqual([]);
    const generated = new Set(Array.from({ length: HITS }, (_, n) => hitId(n)));
    expect([...seen.keys()].filter((id) => !generated.has(id))).toEqual([]);
    const missing = [...accepted].filter((n) => !seen.has(hitId(n)));
    expect(missing, 'accepted hits that never reached dispatch').toEqual([]);
    expect(killedMidBurst, 'kills that fell while hits were being queued').toBeGreaterThanOrEqual(KILLS / 2);
  }, SOAK ? 1_800_000 : 240_000);
});
