import { describe, expect, it } from 'vitest';
import { ModelLoadError, RecognizerWorkerError } from '../../../models/errors.ts';
import { createRecognizer } from '../../../models/index.ts';
import { WorkerPlateRecognizer } from '../../../models/worker-recognizer.ts';
import { renderScene } from './fixtures.ts';
import { CONTRACT_PLATE, plateImage } from './recognizer-contract.ts';

const messagePorts = (): number => process.getActiveResourcesInfo().filter((r) => r === 'MessagePort').length;

describe('WorkerPlateRecognizer', () => {
  it('reads a plate in a worker thread, leaves the caller’s frame intact, and close() leaves no worker behind', async () => {
    const before = messagePorts();
    const recognizer = await createRecognizer({ kind: 'onnx', inWorker: true, threads: 1 });
    expect(recognizer).toBeInstanceOf(WorkerPlateRecognizer);
    const worker = recognizer as WorkerPlateRecognizer;
    expect(worker.threadId).toBeGreaterThan(0);
    expect(worker.modelVersion).toMatch(/^ppocr-v4/);

    const scene = await renderScene({ text: CONTRACT_PLATE, stateName: 'California', width: 200 }, 500, 420);
    const length = scene.image.data.length;
    // Two frames in flight at once are answered in order, each with its own result.
    const [a, b] = await Promise.all([recognizer.recognize(scene.image), recognizer.recognize(await plateImage())]);
    expect(a.reads.map((r) => r.text)).toEqual([CONTRACT_PLATE]);
    expect(b.reads.map((r) => r.text)).toEqual([CONTRACT_PLATE]);
    expect(scene.image.data.length).toBe(length);
    expect(a.reads[0]!.crop.subarray(0, 2)).toEqual(new Uint8Array([0xff, 0xd8]));

    await recognizer.close();
    expect(worker.threadId).toBeUndefined();
    expect(messagePorts()).toBeLessThanOrEqual(before);
  });

  it('reuses the copy buffer the worker gives back, with no pixels of the previous frame left in it', async () => {
    const recognizer = await WorkerPlateRecognizer.create({ threads: 1 });
    try {
      const image = await plateImage();
      const blank = { ...image, data: new Uint8Array(image.data.length).fill(128) };
      expect((await recognizer.recognize(image)).reads.map((r) => r.text)).toEqual([CONTRACT_PLATE]);
      // Same size: carried in the buffer that held the plate a moment ago.
      expect((await recognizer.recognize(blank)).reads).toEqual([]);
      expect((await recognizer.recognize(image)).reads.map((r) => r.text)).toEqual([CONTRACT_PLATE]);
    } finally {
      await recognizer.close();
    }
  });

  it('starts when the process runs with V8 flags (regression: they were copied into the worker\'s execArgv, which refuses them)', async () => {
    process.execArgv.push('--max-semi-space-size=4');
    try {
      const recognizer = await WorkerPlateRecognizer.create({ threads: 1 });
      expect(recognizer.threadId).toBeGreaterThan(0);
      await recognizer.close();
    } finally {
      process.execArgv.splice(process.execArgv.indexOf('--max-semi-space-size=4'), 1);
    }
  });

  it('with transferInput hands the caller’s buffer over instead of copying it', async () => {
    const recognizer = await WorkerPlateRecognizer.create({ threads: 1, transferInput: true });
    try {
      const image = await plateImage();
      const own = { ...image, data: new Uint8Array(image.data) }; // a buffer of its own, so it can move
      const { reads } = await recognizer.recognize(own);
      expect(reads[0]?.text).toBe(CONTRACT_PLATE);
      expect(own.data.length).toBe(0); // detached: it now belongs to the worker
    } finally {
      await recognizer.close();
    }
  });
});

describe('WorkerPlateRecognizer watchdog', () => {
  it('fails a request that overruns timeoutMs, drops that worker and starts a fresh one for the next request', async () => {
    // No inference finishes within a millisecond, so every request overruns.
    const recognizer = await WorkerPlateRecognizer.create({ threads: 1, timeoutMs: 1 });
    try {
      const image = await plateImage();
      const first = recognizer.threadId;
      await expect(recognizer.recognize(image)).rejects.toThrow(/longer than 1 ms/);
      expect(recognizer.threadId).toBeUndefined();
      const second = recognizer.recognize(image);
      expect(recognizer.threadId).toBeGreaterThan(first!);
      await expect(second).rejects.toBeInstanceOf(RecognizerWorkerError);
    } finally {
      await recognizer.close();
    }
  });
});

describe('model loading failures', () => {
  it.each([false, true])('a missing model folder is a ModelLoadError (inWorker: %s)', async (inWorker) => {
    await expect(createRecognizer({ kind: 'onnx', inWorker, assetDir: '/nonexistent/models' })).rejects.toBeInstanceOf(ModelLoadError);
  });
});
