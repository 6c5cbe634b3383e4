import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../../models/eval/cli.ts';
import type { CliIo } from '../../../models/eval/cli-io.ts';
import { evalCommand, type EvalResult, type RecognizerRequest } from '../../../models/eval/eval-command.ts';
import { ScriptedPlateRecognizer, scriptedRead } from '../../../models/scripted-recognizer.ts';
import type { PlateRead } from '../../../models/types.ts';
import { tempDir, writeCropsDataset, writeScenesDataset, writeTruncatedJpeg, type GeneratedCrop, type GeneratedScene } from './eval-fixtures.ts';

const ROOT = path.resolve(import.meta.dirname, '../../..');

function captureIo(cwd = ROOT): CliIo & { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return {
    cwd,
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (err += s), isTTY: false },
    out: () => out,
    err: () => err,
  };
}

const lastJson = (text: string): EvalResult => JSON.parse(text.trim().split('\n').at(-1)!) as EvalResult;

/** A scripted recogniser answering per image width (each generated image has its own). */
function scripted(byWidth: ReadonlyMap<number, readonly PlateRead[]>): () => Promise<ScriptedPlateRecognizer> {
  return async () => new ScriptedPlateRecognizer({ modelVersion: 'scripted-eval', script: (image) => byWidth.get(image.width) ?? [] });
}

let tmp: { dir: string; remove: () => Promise<void> };
let cropsDir: string;
let scenesDir: string;
let crops: GeneratedCrop[];
let scenes: GeneratedScene[];

beforeAll(async () => {
  tmp = await tempDir('alpr-eval-');
  cropsDir = path.join(tmp.dir, 'crops');
  scenesDir = path.join(tmp.dir, 'scenes');
  await mkdir(cropsDir);
  await mkdir(scenesDir);
  crops = await writeCropsDataset(cropsDir, [
    ['ca', '7ABC123'],
    ['tx', 'BKT4821'],
    ['ny', 'HJK5530'],
    ['oh', 'GTR6012'],
  ]);
  scenes = await writeScenesDataset(scenesDir, ['8XYZ456', 'ABC1234', '4GHJ872']);
});
afterAll(async () => {
  await tmp.remove();
});

describe('alpr eval on plate crops (groundtruth.csv)', () => {
  it('computes the metrics from exactly the reads given, and writes the HTML report', async () => {
    const [a, b, , d] = crops;
    const reads = new Map<number, PlateRead[]>([
      [a!.width, [scriptedRead('7ABC123', { state: 'ca' })]], // exact, state right
      [b!.width, [scriptedRead('8KT4821', { candidates: [{ text: '8KT4821', score: 0.6 }, { text: 'BKT4821', score: 0.3 }] })]], // look-alike, top-3
      // c: nothing read
      // a character dropped, and a strong alternative that is image a's plate: a false hit
      [d!.width, [scriptedRead('GTR601', { candidates: [{ text: 'GTR601', score: 0.6 }, { text: '7ABC123', score: 0.4 }] })]],
    ]);
    const io = captureIo();
    const report = path.join(tmp.dir, 'out', 'report.html');
    const code = await evalCommand([cropsDir, '--json', '--report', report, '--hotlist-size', '1000'], io, { createRecognizer: scripted(reads) });
    expect(code).toBe(0);
    const r = lastJson(io.out());
    expect(r).toMatchObject({
      dataset: 'crops',
      format: 'crops',
      pack: 'ppocr-v4-fused',
      modelVersion: 'scripted-eval',
      images: 4,
      plates: 4,
      errors: 0,
      exactRate: 0.25,
      top3Rate: 0.5,
      noPlateRate: 0.25,
      hitRecall: 0.5,
      falseHitRate: 0.25,
      stateRate: 0.25,
      hotlistSize: 1004,
      report,
    });
    for (const k of ['medianMs', 'p95Ms', 'decodeMs'] as const) expect(r[k]).toBeGreaterThanOrEqual(0);
    expect(io.err()).toMatch(/eval crops 4\/4 \(100%\) exact 1\/4/);

    const html = await readFile(report, 'utf8');
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain('Misreads (3)');
    expect(html).toContain('False hits (1 image)');
    expect(html).toMatch(/<td>7ABC123<\/td><td>GTR601 \(GTR601 0\.60, 7ABC123 0\.40\)<\/td>/);
    expect(html.match(/<figure class="card">/g)).toHaveLength(3);
    expect(html.match(/src="data:image\/jpeg;base64,/g)?.length).toBeGreaterThanOrEqual(3);
    expect(html).toContain('<td>B→8</td>');
    expect(html).toContain('<td>−2</td>');
    expect(html).toContain('one look-alike substitution');
    expect(html).toContain('no plate read');
    expect(html).not.toMatch(/src="(?!data:)/); // self-contained
  });

  it('prints a readable summary without --json, and honours --limit', async () => {
    const io = captureIo();
    const all = new Map(crops.map((c) => [c.width, [scriptedRead(c.text)]]));
    expect(await evalCommand([cropsDir, '--limit', '2', '--hotlist-size', '10'], io, { createRecognizer: scripted(all) })).toBe(0);
    expect(io.out()).toMatch(/^crops \(crops, 2 images\) — pack ppocr-v4-fused \(scripted-eval\)/);
    expect(io.out()).toMatch(/exact read rate {3}100\.0%/);
    expect(io.out()).toMatch(/state rate {8}0\.0%/); // the reads carry no state: reported as it is
  });
});

describe('alpr eval recogniser options', () => {
  it('passes --plate-det to the recogniser: a folder resolved, "off" as none', async () => {
    const asked: RecognizerRequest[] = [];
    const capture = async (request: RecognizerRequest): Promise<ScriptedPlateRecognizer> => {
      asked.push(request);
      return new ScriptedPlateRecognizer({ modelVersion: 'scripted-eval', script: () => [] });
    };
    expect(await evalCommand([cropsDir, '--limit', '1', '--hotlist-size', '0', '--plate-det', 'off'], captureIo(), { createRecognizer: capture })).toBe(0);
    expect(await evalCommand([cropsDir, '--limit', '1', '--hotlist-size', '0', '--plate-det', 'packs/x'], captureIo(), { createRecognizer: capture })).toBe(0);
    expect(await evalCommand([cropsDir, '--limit', '1', '--hotlist-size', '0'], captureIo(), { createRecognizer: capture })).toBe(0);
    expect(asked.map((r) => r.plateDetPackDir)).toEqual([false, path.resolve(ROOT, 'packs/x'), undefined]);
  });
});

describe('alpr eval on scenes (.txt per image)', () => {
  it('scores the read over the plate’s box, ignores unlabelled images, and counts an unreadable image as an error row', async () => {
    const dir = path.join(tmp.dir, 'scenes-bad');
    await mkdir(dir);
    const copy = await writeScenesDataset(dir, scenes.map((s) => s.text));
    await writeTruncatedJpeg(path.join(dir, 'broken.jpg'));
    await writeFile(path.join(dir, 'broken.txt'), 'broken.jpg\t1\t1\t10\t5\tQQQ111\n');
    const [s0, s1, s2] = copy;
    const far = { x: 0, y: 0, width: 40, height: 20 };
    const reads = new Map<number, PlateRead[]>([
      // a confident read elsewhere must not be scored against the plate
      [s0!.width, [scriptedRead('TEXAS2', { confidence: 0.99, box: far }), scriptedRead(s0!.text, { confidence: 0.6, box: s0!.box })]],
      [s1!.width, [scriptedRead('ABC1284', { box: s1!.box })]], // one other substitution: no hit
      [s2!.width, [scriptedRead('4GHJ872', { box: far })]], // right text, wrong place: still exact (falls back)
    ]);
    const io = captureIo();
    const code = await evalCommand([dir, '--json', '--hotlist-size', '100'], io, { createRecognizer: scripted(reads) });
    expect(code).toBe(0);
    expect(lastJson(io.out())).toMatchObject({
      format: 'scenes',
      images: 3,
      errors: 1,
      exactRate: 0.6667,
      hitRecall: 0.6667,
      noPlateRate: 0,
      stateRate: null,
    });
    expect(io.err()).toMatch(/broken\.jpg: cannot decode/);
  });

  it('reads the generated scenes with the real recogniser (smoke run through bin/alpr.mjs)', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [path.join(ROOT, 'bin/alpr.mjs'), 'eval', scenesDir, '--json', '--hotlist-size', '1000'], {
      cwd: ROOT,
      timeout: 60_000,
    });
    const r = lastJson(stdout);
    expect(r).toMatchObject({ format: 'scenes', images: 3, errors: 0, noPlateRate: 0, falseHitRate: 0 });
    expect(r.modelVersion).toMatch(/^ppocr-v4-fused@/);
    expect(r.exactRate).toBeGreaterThanOrEqual(2 / 3);
    expect(r.hitRecall).toBeGreaterThanOrEqual(r.exactRate);
    expect(r.medianMs).toBeGreaterThan(0);
  });
});

describe('alpr eval errors', () => {
  it('a missing folder, a folder in neither format and bad arguments fail with a clear message', async () => {
    const missing = captureIo();
    expect(await evalCommand([path.join(tmp.dir, 'nope')], missing)).toBe(1);
    expect(missing.err()).toMatch(/cannot open dataset folder .*nope: ENOENT/);

    const empty = path.join(tmp.dir, 'empty');
    await mkdir(empty);
    await writeFile(path.join(empty, 'a.jpg'), '');
    const neither = captureIo();
    expect(await evalCommand([empty], neither)).toBe(1);
    expect(neither.err()).toMatch(/no ground truth found — expected groundtruth\.csv \(plate crops\) or one \.txt per image \(scenes\)/);

    const noFolder = captureIo();
    expect(await evalCommand([], noFolder)).toBe(2);
    expect(noFolder.err()).toMatch(/which folder\?[\s\S]*usage: alpr eval/);

    const badOption = captureIo();
    expect(await evalCommand([cropsDir, '--frobnicate'], badOption)).toBe(2);
    expect(badOption.err()).toMatch(/frobnicate/);

    const badLimit = captureIo();
    expect(await evalCommand([cropsDir, '--limit', 'ten'], badLimit)).toBe(2);
    expect(badLimit.err()).toMatch(/--limit: expected an integer ≥ 1, got "ten"/);
  });

  it('an unknown pack fails before any image is read, naming the known packs', async () => {
    const io = captureIo();
    expect(await evalCommand([cropsDir, '--pack', 'no-such-pack'], io)).toBe(1);
    expect(io.err()).toMatch(/cannot load the recogniser: model pack "no-such-pack": unknown pack; known packs: .*ppocr-v4/);
  });
});

describe('alpr command table', () => {
  it('dispatches by name, lists commands, and treats a bare folder as eval only when asked to', async () => {
    const help = captureIo();
    expect(await main(['--help'], help)).toBe(0);
    expect(help.out()).toMatch(/commands:\n {2}eval +measure plate recognition[^\n]*\n {2}hotlist +hotlist import/);

    const none = captureIo();
    expect(await main([], none)).toBe(2);
    expect(none.err()).toMatch(/usage: alpr <command>/);

    const unknown = captureIo();
    expect(await main([cropsDir], unknown)).toBe(2);
    expect(unknown.err()).toMatch(/unknown command/);

    const evalHelp = captureIo();
    expect(await main(['eval', '--help'], evalHelp)).toBe(0);
    expect(evalHelp.out()).toMatch(/usage: alpr eval <folder>/);

    // `npm run eval -- …` runs cli.ts itself: everything that is not a command goes to eval.
    const asScript = captureIo();
    expect(await main([path.join(tmp.dir, 'nope')], asScript, { defaultCommand: 'eval' })).toBe(1);
    expect(asScript.err()).toMatch(/cannot open dataset folder/);
    const scriptHelp = captureIo();
    expect(await main(['--help'], scriptHelp, { defaultCommand: 'eval' })).toBe(0);
    expect(scriptHelp.out()).toMatch(/^usage: alpr eval <folder>/);
  });
});
