/**
 * Power-cut safety of the evidence store: a child process writing detections (several writers,
 * maintenance ticks, searches) is killed with SIGKILL 100 times at random points — during start-up,
 * key creation, group commits, index merges. After every kill the database must open cleanly (no
 * quarantine), every write the child acknowledged must be there and decrypt, and the chains must
 * verify.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mulberry32 } from '../../drivers/camera/prng.ts';
import type { GatewayEvent } from '../../gateway/events.ts';
import { openDetectionStore } from '../../gateway/store/open.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
const KILLS = 100;
const CTX = { user: 'test', source: 'local', purpose: 'crash test verification', caseNumber: 'crash' };

let dir: string;
let child: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'alpr-crash-'));
  // The child is bundled once: starting it through the tsx loader 100 times would cost a minute
  // of transpiling. esbuild is the bundler tsx itself runs on (installed with it, same lockfile).
  const { build } = await import('esbuild');
  const outDir = join(ROOT, 'node_modules', '.cache', 'alpr-store-crash');
  mkdirSync(outDir, { recursive: true });
  child = join(outDir, `child-${process.pid}.mjs`);
  await build({ entryPoints: [join(ROOT, 'test/integration/store-crash-child.ts')], bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile: child, packages: 'external', logLevel: 'error' });
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  if (child) rmSync(child, { force: true });
});

/** Runs the child until `killAfterMs`, then SIGKILLs it; resolves with the ids it acknowledged. */
function runAndKill(killAfterMs: number): Promise<{ acked: string[]; ready: boolean; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [child, dir], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let stderr = '';
    p.stdout.on('data', (b: Buffer) => (out += b.toString()));
    p.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const timer = setTimeout(() => p.kill('SIGKILL'), killAfterMs);
    p.on('close', () => {
      clearTimeout(timer);
      // Only whole lines count: a line cut by the kill was not acknowledged.
      const lines = out.split('\n').slice(0, -1);
      resolve({ acked: lines.filter((l) => l.startsWith('ack ')).map((l) => l.slice(4)), ready: lines.includes('ready'), stderr });
    });
  });
}

describe('SIGKILL at random points', () => {
  it(`loses no acknowledged write and opens every time, ${KILLS} kills`, async () => {
    const rng = mulberry32(20261122);
    const acked = new Set<string>();
    let killedWhileWriting = 0;
    for (let i = 0; i < KILLS; i++) {
      const after = rng.int(0, 450);
      const run = await runAndKill(after);
      expect(run.stderr, `run ${i} (kill after ${after} ms) wrote to stderr`).toBe('');
      for (const id of run.acked) acked.add(id);
      if (run.acked.length) killedWhileWriting++;

      const events: GatewayEvent[] = [];
      const store = await openDetectionStore({ dataDir: dir, events: { emit: (e) => void events.push(e) } });
      try {
        expect(events.filter((e) => e.type === 'store.corruption' || e.type === 'store.integrity'), `run ${i}`).toEqual([]);
        const present = new Set<string>();
        for await (const d of store.all(CTX)) present.add(d.id);
        const lost = [...acked].filter((id) => !present.has(id));
        expect(lost, `run ${i} (kill after ${after} ms): acknowledged writes missing`).toEqual([]);
        if (i % 20 === 19 || i === KILLS - 1) {
          const days = new Set([...present].map((id) => new Date(parseInt(id.slice(0, 8) + id.slice(9, 13), 16)).toISOString().slice(0, 10)));
          for (const day of days) {
            for (const camera of ['north', 'south', 'east']) {
              const report = await store.verifyChain(CTX, day, camera);
              expect(report.ok, `run ${i}: chain ${day}/${camera}: ${JSON.stringify(report.problem)}`).toBe(true);
            }
          }
          expect((await store.verifyAudit(CTX)).ok, `run ${i}: audit log`).toBe(true);
        }
      } finally {
        await store.close();
      }
    }
    // The kills must have landed while writing, not only during start-up.
    expect(killedWhileWriting).toBeGreaterThan(KILLS / 3);
    expect(acked.size).toBeGreaterThan(300);
  }, 240_000);
});
