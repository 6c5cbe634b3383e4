/** The A/B state machine on a fake clock: health limits, bounded retries, permanent failures. */
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GatewayEvent } from '../../../gateway/events.ts';
import { packBundle } from '../../../ota/bundle.ts';
import { OtaError } from '../../../ota/errors.ts';
import { FirmwareUpdater, type HealthChecks } from '../../../ota/firmware/updater.ts';
import type { JournalTarget } from '../../../ota/firmware/journal.ts';
import { chooseLaunch } from '../../../ota/firmware/launcher.ts';
import { hashFile } from '../../../ota/hash.ts';
import { ProgressTracker } from '../../../ota/progress.ts';
import { makeFirmwareBundle, runningVersion } from '../../helpers/ota-firmware.ts';

let work: string;
let bundle: string;
let target: JournalTarget;

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'ota-fw-unit-'));
  bundle = await makeFirmwareBundle(work, '2.0.0');
  const { sha256, length } = await hashFile(bundle);
  target = { name: 'firmware/gw.bundle', version: 7, sha256, length };
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

interface Rig {
  updater: FirmwareUpdater;
  events: GatewayEvent[];
  clock: { now: number };
  dataDir: string;
  fetches: number;
  progress: ProgressTracker;
}

async function rig(opts: { health?: HealthChecks; fetch?: (n: number, dest: string) => Promise<void>; limitMs?: number } = {}): Promise<Rig> {
  const dataDir = await mkdtemp(path.join(work, 'dev-'));
  const events: GatewayEvent[] = [];
  const clock = { now: 1_700_000_000_000 };
  const sink = { emit: (e: GatewayEvent) => void events.push(e) };
  const progress = new ProgressTracker(sink, () => clock.now);
  const r: Rig = { updater: undefined as never, events, clock, dataDir, fetches: 0, progress };
  r.updater = new FirmwareUpdater(
    { dir: path.join(dataDir, 'ota', 'firmware'), factoryVersion: '1.0.0', healthTimeoutMs: opts.limitMs ?? 60_000, healthPollMs: 1_000, maxAttempts: 3 },
    {
      fetch: async (_t, dest) => {
        r.fetches += 1;
        if (opts.fetch) await opts.fetch(r.fetches, dest);
        else await copyFile(bundle, dest);
      },
      health: opts.health ?? { selfTest: async () => true, dispatchConnected: async () => true },
      events: sink,
      now: () => clock.now,
      sleep: async (ms) => {
        clock.now += ms;
      },
      log: { info: () => undefined, warn: () => undefined },
      progress,
    },
  );
  return r;
}

describe('firmware updater', () => {
  it('installs into the inactive slot, switches, health-checks and commits', async () => {
    const r = await rig();
    const steps: string[] = [];
    const orig = r.progress.step.bind(r.progress);
    r.progress.step = (s, i) => {
      steps.push(s);
      orig(s, i);
    };
    const out = await r.updater.update(target);
    expect(out.outcome).toBe('committed');
    expect(await runningVersion(r.dataDir)).toBe('2.0.0');
    expect(steps).toEqual(['download', 'verify', 'install', 'switch', 'health-check', 'commit']);
    expect(r.events.filter((e) => e.type === 'ota-installed')).toHaveLength(1);
    expect(r.events.some((e) => e.type === 'ota-progress' && e.step === 'install' && Number(e.bytesDone) > 0)).toBe(true);
    // The next release goes into the other slot; the running one is left alone.
    const next = await r.updater.update({ ...target, version: 8 });
    expect(next.outcome).toBe('committed');
    expect((await r.updater.slots.active()).slot).toBe('b');
  });

  it('rolls back when the health check does not pass within the limit — and not later than the limit', async () => {
    const r = await rig({ health: { selfTest: async () => true, dispatchConnected: async () => false }, limitMs: 90_000 });
    const start = r.clock.now;
    const out = await r.updater.update(target);
    expect(out.outcome).toBe('rolled-back');
    expect(out.reason).toMatch(/within 90000 ms/);
    expect(await runningVersion(r.dataDir)).toBe('1.0.0');
    const ev = r.events.find((e) => e.type === 'ota-rolled-back');
    expect(ev).toMatchObject({ restored: '1.0.0', kind: 'firmware' });
    expect(ev!.at - start).toBeLessThanOrEqual(90_000);
    expect(ev!.at - start).toBeGreaterThanOrEqual(89_000);
  });

  it('commits a firmware that becomes healthy late but within the limit', async () => {
    let calls = 0;
    const r = await rig({ health: { selfTest: async () => ++calls > 30, dispatchConnected: async () => true }, limitMs: 60_000 });
    expect((await r.updater.update(target)).outcome).toBe('committed');
    expect(calls).toBe(31);
  });

  it('retries a failing download a bounded number of times, then gives up on the old version', async () => {
    const flaky = await rig({ fetch: async (n, dest) => {
      if (n < 3) throw new OtaError('download', 'connection reset');
      await copyFile(bundle, dest);
    } });
    expect((await flaky.updater.update(target)).outcome).toBe('committed');
    expect(flaky.fetches).toBe(3);
    const dead = await rig({ fetch: async () => {
      throw new OtaError('download', 'connection reset');
    } });
    const out = await dead.updater.update(target);
    expect(out.outcome).toBe('failed');
    expect(dead.fetches).toBe(3);
    expect(await runningVersion(dead.dataDir)).toBe('1.0.0');
    expect(dead.events.find((e) => e.type === 'ota-refused')).toMatchObject({ reason: 'download' });
  });

  it('gives up at once on a download that fails verification (no retry of tampered bytes)', async () => {
    const r = await rig({ fetch: async () => {
      throw new OtaError('hash', 'sha256 mismatch');
    } });
    const out = await r.updater.update(target);
    expect(out.outcome).toBe('failed');
    expect(r.fetches).toBe(1);
    expect(r.events.find((e) => e.type === 'ota-refused')).toMatchObject({ reason: 'hash' });
  });

  it('a file on disk that does not match the signed hash is fetched again, then given up', async () => {
    const other = await makeFirmwareBundle(work, '9.9.9');
    const { sha256, length } = await hashFile(other);
    const r = await rig({ fetch: async (_n, dest) => copyFile(other, dest) });
    const out = await r.updater.update(target);
    expect(out.outcome).toBe('failed');
    expect(r.fetches).toBe(3);
    expect(await runningVersion(r.dataDir)).toBe('1.0.0');
    const ok = await rig({ fetch: async (_n, dest) => copyFile(other, dest) });
    expect((await ok.updater.update({ ...target, sha256, length })).outcome).toBe('committed');
  });

  it('refuses a signed bundle that is a model pack, not firmware', async () => {
    const src = await mkdtemp(path.join(work, 'pack-'));
    await writeFile(path.join(src, 'manifest.json'), '{}');
    const pack = path.join(work, 'pack.bundle');
    await packBundle(src, pack, { kind: 'model-pack', name: 'p', version: '1' });
    const { sha256, length } = await hashFile(pack);
    const r = await rig({ fetch: async (_n, dest) => copyFile(pack, dest) });
    const out = await r.updater.update({ ...target, sha256, length });
    expect(out).toMatchObject({ outcome: 'failed' });
    expect(out.reason).toMatch(/model-pack bundle, not firmware/);
    expect(r.fetches).toBe(1);
    expect(await runningVersion(r.dataDir)).toBe('1.0.0');
  });
});

describe('launcher', () => {
  it('starts the pointer slot when complete, the factory image when the slot is torn', async () => {
    const r = await rig();
    const factory = { dir: '/app', version: '1.0.0' };
    expect(await chooseLaunch(r.dataDir, factory)).toEqual({ dir: '/app', version: '1.0.0', slot: 'factory' });
    await r.updater.update(target);
    const choice = await chooseLaunch(r.dataDir, factory);
    expect(choice).toMatchObject({ slot: 'a', version: '2.0.0' });
    await writeFile(path.join(choice.dir, 'app', 'main.js'), 'corrupted');
    expect(await chooseLaunch(r.dataDir, factory)).toMatchObject({ slot: 'factory', fallback: expect.stringMatching(/slot a is incomplete/) });
  });
});

describe('agent boot', () => {
  it('a damaged journal does not fail the boot: the event says why, the running slot is untouched', async () => {
    const { OtaAgent } = await import('../../../ota/agent.ts');
    const dataDir = await mkdtemp(path.join(work, 'boot-'));
    await mkdir(path.join(dataDir, 'ota', 'firmware'), { recursive: true });
    await writeFile(path.join(dataDir, 'ota', 'firmware', 'journal.json'), '{"formatVersion": 1, "active": {"sta');
    const events: GatewayEvent[] = [];
    const agent = new OtaAgent(
      { enabled: true, repositoryUrl: 'https://127.0.0.1:9/', trustedRoot: '/nonexistent', checkIntervalMinutes: 60, hotlist: false, models: false, firmware: true, healthTimeoutSeconds: 10, maxAttempts: 3, balenaGate: false },
      {
        dataDir, events: { emit: (e) => void events.push(e) }, log: { info: () => undefined, warn: () => undefined, error: () => undefined }, now: Date.now,
        timers: { setTimeout: () => 0, clearTimeout: () => undefined },
        firmware: { factoryVersion: '1.0.0', health: { selfTest: async () => true, dispatchConnected: async () => true } },
      },
    );
    await agent.start();
    expect(events.find((e) => e.type === 'ota-refused')).toMatchObject({ kind: 'firmware', reason: 'invalid', message: expect.stringMatching(/journal unreadable/) });
    expect(await runningVersion(dataDir)).toBe('1.0.0');
    await agent.stop();
  });
});
