/**
 * The production bundles (build/bundle.ts): built, they run with plain node — no tsx — and find
 * what lies beside their sources (model packs, package resolution) as the sources do.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIST, bundle } from '../../build/bundle.ts';
import { launchArgs } from '../../ota/firmware/boot.ts';
import { renderPlate } from '../../models/synth/plate.ts';
import type { FromWorker, ToWorker } from '../../models/worker-protocol.ts';

const plainNode = (args: string[], env: Record<string, string>) =>
  spawnSync(process.execPath, args, { env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8', timeout: 60_000 });

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'alpr-bundle-'));
  await bundle();
}, 120_000);
afterAll(() => rm(tmp, { recursive: true, force: true }));

describe('production bundles', () => {
  it('the boot shim and the gateway start as plain JavaScript, each its own main module only', () => {
    const boot = plainNode([join(DIST, 'boot.mjs')], {});
    expect(boot.status).toBe(78);
    expect(boot.stderr).toMatch(/ALPR_DATA_DIR is not set/);
    // The gateway imports the boot shim's constants: the shim must not start inside it.
    const gateway = plainNode([join(DIST, 'gateway.mjs')], { ALPR_CONFIG_FILE: join(tmp, 'missing.yaml') });
    expect(gateway.stderr).not.toMatch(/alpr boot:/);
    expect(gateway.stderr).toMatch(/invalid configuration[\s\S]*ALPR_CONFIG_FILE: cannot read/);
    expect(gateway.status).toBe(78);
  }, 120_000);

  it('the boot shim starts a slot\'s bundle when it has one, its sources through tsx when not', async () => {
    const root = join(DIST, '..');
    expect(existsSync(join(root, 'dist', 'gateway.mjs'))).toBe(true);
    expect(await launchArgs(root)).toEqual([join(root, 'dist', 'gateway.mjs')]);
    expect(await launchArgs(tmp)).toEqual(['--import', 'tsx', join(tmp, 'gateway', 'main.ts')]);
    expect(await launchArgs(root, 'gateway/other.ts')).toEqual(['--import', 'tsx', join(root, 'gateway', 'other.ts')]);
  });

  it('the recogniser worker bundle loads the model packs beside the sources and reads a plate', async () => {
    const worker = new Worker(join(DIST, 'recognizer-worker.mjs'), { workerData: { options: {} }, execArgv: [] });
    const messages: FromWorker[] = [];
    const next = (type: FromWorker['type']): Promise<FromWorker> =>
      new Promise((resolve, reject) => {
        const seen = messages.find((m) => m.type === type);
        if (seen) return resolve(seen);
        worker.on('message', (m: FromWorker) => m.type === type && resolve(m));
        worker.once('error', reject);
      });
    worker.on('message', (m: FromWorker) => void messages.push(m));
    try {
      const ready = await next('ready');
      expect(ready).toMatchObject({ type: 'ready', modelVersion: expect.stringMatching(/^ppocr-v4-fused@.*plate-crnn/) });
      const image = await renderPlate({ text: '7BND482', stateName: 'California', width: 240 });
      const msg: ToWorker = { type: 'recognize', id: 1, width: image.width, height: image.height, data: image.data };
      worker.postMessage(msg);
      const result = await next('result');
      expect(result.type === 'result' && result.result.reads.map((r) => r.text)).toEqual(['7BND482']);
    } finally {
      await worker.terminate();
    }
  }, 120_000);
});
