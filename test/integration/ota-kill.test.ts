/**
 * SIGKILL in every firmware-updater state: a child process runs the agent and kills itself at a
 * named point (test/helpers/ota-fw-child.ts); the next run resumes from the journal. After every
 * kill the device boots exactly the old or the new version, never half, and retries are bounded.
 * ALPR_SOAK=1 kills at both the entry and the end of every state, several rounds each.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeFirmwareBundle, runningVersion } from '../helpers/ota-firmware.ts';
import { makeCert, makeRepo, startStaticServer, type StaticServer, type TestRepo } from '../helpers/ota-repo.ts';

const CHILD = fileURLToPath(new URL('../helpers/ota-fw-child.ts', import.meta.url));
const SOAK = process.env.ALPR_SOAK === '1';
const OLD = '1.0.0';
const NEW = '1.1.0';

let r: TestRepo;
let srv: StaticServer;
let caFile: string;

beforeAll(async () => {
  r = await makeRepo();
  const cert = await makeCert(r.dir);
  caFile = path.join(r.dir, 'ca.pem');
  await writeFile(caFile, cert.cert);
  const bundle = await makeFirmwareBundle(r.dir, NEW);
  await r.repo.addTarget(bundle, { name: 'firmware/alpr-gateway.bundle', kind: 'firmware' });
  await r.release();
  srv = await startStaticServer(r.out, cert);
});

afterAll(async () => {
  await srv.close();
  await rm(r.dir, { recursive: true, force: true });
});

interface ChildResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly out: { report: { ok: boolean; refused: { reason: string }[]; installed: { version: number }[] }; events: { type: string }[] } | undefined;
  readonly stderr: string;
}

function runChild(dataDir: string, env: Record<string, string> = {}, killAfterMs?: number): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
      env: { ...process.env, OTA_DATA_DIR: dataDir, OTA_REPO_URL: srv.url, OTA_ROOT: path.join(r.out, 'metadata', '1.root.json'), OTA_CA: caFile, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('error', reject);
    if (killAfterMs !== undefined) {
      // Not a named state: wherever the child happens to be (mid-download, mid-unpack, mid-rename).
      const t = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
      child.on('close', () => clearTimeout(t));
    }
    child.on('close', (code, signal) => {
      const line = stdout.trim().split('\n').pop();
      resolve({ code, signal, out: line ? (JSON.parse(line) as ChildResult['out']) : undefined, stderr });
    });
  });
}

async function journal(dataDir: string): Promise<{ active?: { state: string }; last?: { outcome: string } }> {
  try {
    return JSON.parse(await readFile(path.join(dataDir, 'ota', 'firmware', 'journal.json'), 'utf8')) as never;
  } catch {
    return {};
  }
}

const HEALTHY_POINTS = SOAK
  ? ['download', 'verify', 'install', 'switch', 'health-check', 'commit'].flatMap((s) => [`${s}:enter`, `${s}:done`])
  : ['download:enter', 'verify:enter', 'install:enter', 'install:done', 'switch:enter', 'switch:done', 'health-check:enter', 'commit:enter'];
const ROUNDS = SOAK ? 3 : 1;
/** Each round spawns two children; a loaded 2-core machine needs seconds per spawn. */
const LOOP_TIMEOUT = SOAK ? 900_000 : 120_000;

describe('firmware updater under SIGKILL', () => {
  for (const point of HEALTHY_POINTS) {
    it(`killed at ${point} → old or new after the kill, new after resuming`, async () => {
      for (let round = 0; round < ROUNDS; round++) {
        const dataDir = await mkdtemp(path.join(tmpdir(), 'ota-kill-'));
        try {
          const killed = await runChild(dataDir, { OTA_KILL_AT: point });
          expect(killed.signal, killed.stderr).toBe('SIGKILL');
          const after = await runningVersion(dataDir);
          expect([OLD, NEW]).toContain(after);
          // Before the pointer moves the old version runs; from switch:done on, the new one.
          expect(after).toBe(['switch:done', 'health-check:enter', 'health-check:done', 'commit:enter', 'commit:done'].includes(point) ? NEW : OLD);
          // The journal names the state the process died in (commit's work ends by closing the journal).
          expect((await journal(dataDir)).active?.state).toBe(point === 'commit:done' ? undefined : point.split(':')[0]);
          const resumed = await runChild(dataDir);
          expect(resumed.code, resumed.stderr).toBe(0);
          expect(await runningVersion(dataDir)).toBe(NEW);
          const j = await journal(dataDir);
          expect(j.active).toBeUndefined();
          expect(j.last?.outcome).toBe('committed');
        } finally {
          await rm(dataDir, { recursive: true, force: true });
        }
      }
    }, LOOP_TIMEOUT);
  }

  for (const point of SOAK ? ['health-check:done', 'rollback:enter', 'rollback:done'] : ['rollback:enter']) {
    it(`unhealthy firmware killed at ${point} → ends on the old version`, async () => {
      const dataDir = await mkdtemp(path.join(tmpdir(), 'ota-kill-'));
      try {
        const killed = await runChild(dataDir, { OTA_KILL_AT: point, OTA_HEALTH: 'fail', OTA_HEALTH_S: '1' });
        expect(killed.signal, killed.stderr).toBe('SIGKILL');
        expect([OLD, NEW]).toContain(await runningVersion(dataDir));
        const resumed = await runChild(dataDir, { OTA_HEALTH: 'fail', OTA_HEALTH_S: '1' });
        expect(resumed.code, resumed.stderr).toBe(0);
        expect(await runningVersion(dataDir)).toBe(OLD);
        expect((await journal(dataDir)).last?.outcome).toBe('rolled-back');
      } finally {
        await rm(dataDir, { recursive: true, force: true });
      }
    });
  }

  it('a crash loop before the switch gives up after the bounded attempts, on the old version', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'ota-kill-'));
    try {
      let runs = 0;
      let last: ChildResult | undefined;
      for (; runs < 8; runs++) {
        last = await runChild(dataDir, { OTA_KILL_AT: 'install:enter' });
        expect(await runningVersion(dataDir)).toBe(OLD);
        if (last.signal === null) break;
      }
      expect(runs).toBe(3); // three kills, then the fourth run gives up instead of entering install again
      expect(last?.code, last?.stderr).toBe(0);
      expect((await journal(dataDir)).last?.outcome).toBe('failed');
      expect(last?.out?.events.some((e) => e.type === 'ota-refused')).toBe(true);
      // Given up means given up: the next check does not retry the same release.
      const again = await runChild(dataDir);
      expect(again.out?.report.refused[0]?.reason).toBe('invalid');
      expect(await runningVersion(dataDir)).toBe(OLD);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('a crash loop after the switch (new firmware dies in its health check) rolls back to the old version', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'ota-kill-'));
    try {
      let runs = 0;
      for (; runs < 8; runs++) {
        const res = await runChild(dataDir, { OTA_KILL_AT: 'health-check:enter' });
        if (res.signal === null) break;
        expect(await runningVersion(dataDir)).toBe(NEW);
      }
      expect(runs).toBe(3);
      expect(await runningVersion(dataDir)).toBe(OLD);
      expect((await journal(dataDir)).last?.outcome).toBe('rolled-back');
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('firmware whose health check fails is rolled back, and the refusal says so', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'ota-kill-'));
    try {
      const res = await runChild(dataDir, { OTA_HEALTH: 'fail', OTA_HEALTH_S: '1' });
      expect(res.code, res.stderr).toBe(0);
      expect(res.out?.report.refused[0]?.reason).toBe('health');
      expect(res.out?.events.some((e) => e.type === 'ota-rolled-back')).toBe(true);
      expect(await runningVersion(dataDir)).toBe(OLD);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it(`SIGKILL at random moments (${SOAK ? 20 : 3} rounds) → always old or new, new in the end`, async () => {
    const rounds = SOAK ? 20 : 3;
    for (let round = 0; round < rounds; round++) {
      const dataDir = await mkdtemp(path.join(tmpdir(), 'ota-kill-'));
      try {
        // The child needs ~0.5 s to start; its update takes a few hundred ms after that.
        const killed = await runChild(dataDir, {}, 400 + Math.floor(Math.random() * 1200));
        expect([OLD, NEW]).toContain(await runningVersion(dataDir));
        if (killed.signal === 'SIGKILL') {
          const resumed = await runChild(dataDir);
          expect(resumed.code, resumed.stderr).toBe(0);
        }
        expect(await runningVersion(dataDir)).toBe(NEW);
      } finally {
        await rm(dataDir, { recursive: true, force: true });
      }
    }
  }, LOOP_TIMEOUT);

  for (const healthy of [true, false]) {
    it(`activation by restart: the new version health-checks itself after the restart (${healthy ? 'commits' : 'rolls back'})`, async () => {
      const dataDir = await mkdtemp(path.join(tmpdir(), 'ota-restart-'));
      try {
        const env = { OTA_RESTART: '1', ...(healthy ? {} : { OTA_HEALTH: 'fail', OTA_HEALTH_S: '1' }) };
        const codes: (number | null)[] = [];
        for (let i = 0; i < 6; i++) {
          const res = await runChild(dataDir, env);
          codes.push(res.code);
          expect([OLD, NEW]).toContain(await runningVersion(dataDir));
          if (res.code === 0) break;
          expect(res.code, res.stderr).toBe(75);
        }
        // Healthy: restart into new, then commit. Unhealthy: restart into new, roll back and restart into old, then idle.
        expect(codes).toEqual(healthy ? [75, 0] : [75, 75, 0]);
        expect(await runningVersion(dataDir)).toBe(healthy ? NEW : OLD);
        expect((await journal(dataDir)).last?.outcome).toBe(healthy ? 'committed' : 'rolled-back');
      } finally {
        await rm(dataDir, { recursive: true, force: true });
      }
    });
  }
});
