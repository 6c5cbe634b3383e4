import { readFileSync } from 'node:fs';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelLoadError, ModelPackError } from '../../../models/errors.ts';
import { createRecognizer } from '../../../models/index.ts';
import { BUILTIN_PACKS, DEFAULT_PACK, ocrModelsAssetDir, PPOCR_PACK } from '../../../models/packs/builtin.ts';
import { shapeMismatch, verifyPack } from '../../../models/packs/loader.ts';
import { parseManifest, type PackManifestInput } from '../../../models/packs/manifest.ts';
import { openPack } from '../../../models/packs/open.ts';
import { PackRegistry } from '../../../models/packs/registry.ts';
import { SwitchablePlateRecognizer } from '../../../models/packs/switcher.ts';
import { tempDir } from './eval-fixtures.ts';
import { CONTRACT_PLATE, plateImage } from './recognizer-contract.ts';

/** The reference pack: the npm package's files as published, which the test packs link to. */
const PPOCR = BUILTIN_PACKS.find((b) => b.manifest.name === PPOCR_PACK)!.manifest;

/** The reference pack's manifest under another name, changed by `edit`. */
function variant(name: string, edit: (m: PackManifestInput) => void = () => undefined): PackManifestInput {
  const m = structuredClone(PPOCR) as PackManifestInput & { name: string };
  m.name = name;
  edit(m);
  return m;
}

/** A pack folder whose files are links to the installed PP-OCR files (so hashes are real). */
async function writePack(root: string, folder: string, manifest: unknown, files = PPOCR.files.map((f) => f.path)): Promise<string> {
  const dir = path.join(root, folder);
  await mkdir(dir, { recursive: true });
  for (const f of files) await symlink(path.join(ocrModelsAssetDir(), f), path.join(dir, f));
  await writeFile(path.join(dir, 'manifest.json'), typeof manifest === 'string' ? manifest : JSON.stringify(manifest, null, 1));
  return dir;
}

async function packError(promise: Promise<unknown>): Promise<ModelPackError> {
  const err: unknown = await promise.then(
    () => new Error('expected a ModelPackError, it loaded'),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ModelPackError);
  expect(err).toBeInstanceOf(ModelLoadError); // callers that only know ModelLoadError still catch it
  return err as ModelPackError;
}

let tmp: { dir: string; remove: () => Promise<void> };
let packs: string;

beforeAll(async () => {
  tmp = await tempDir('alpr-packs-');
  packs = path.join(tmp.dir, 'packs');
  await writePack(packs, 'good', variant('good-ppocr'));
  await writePack(packs, 'bad-hash', variant('bad-hash', (m) => {
    m.files[0] = { ...m.files[0]!, sha256: '0'.repeat(64) };
  }));
  await writePack(packs, 'bad-size', variant('bad-size', (m) => {
    m.files[1] = { ...m.files[1]!, bytes: 1234 };
  }));
  await writePack(packs, 'missing', variant('missing'), [PPOCR.files[0]!.path, PPOCR.files[2]!.path]);
  await writePack(packs, 'wrong-shape', variant('wrong-shape', (m) => {
    m.models.detector!.input = { name: 'x', shape: [null, 1, null, null] };
  }));
  await writePack(packs, 'wrong-input-name', variant('wrong-input-name', (m) => {
    m.models.recognizer!.input = { name: 'image', shape: [null, 3, 48, null] };
  }));
  await writePack(packs, 'wrong-classes', variant('wrong-classes', (m) => {
    m.models.recognizer!.trailingSpace = true;
    m.models.recognizer!.alphabet = { file: 'ppocr_keys_v1.txt' };
    m.files.push({ path: 'short-keys.txt', sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', bytes: 0 });
    m.models.recognizer!.alphabet = { file: 'short-keys.txt' };
  }));
  await writeFile(path.join(packs, 'wrong-classes', 'short-keys.txt'), '');
  await writePack(packs, 'crnn-like', variant('crnn-like', (m) => {
    delete m.models.detector;
    m.models.recognizer = {
      kind: 'ctc-recognizer',
      file: 'ch_PP-OCRv4_rec_infer.onnx',
      input: { shape: [null, 3, 32, 128] },
      normalisation: { channels: 'rgb', mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] },
      alphabet: { symbols: '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ' },
      output: 'log-probabilities',
      crop: 'plate',
    };
  }));
  await writePack(packs, 'broken-json', '{ "name": ', []);
  await writePack(packs, 'invalid', { manifestVersion: 1, name: 'invalid', version: '1', models: {}, files: [], provenance: {} }, []);
  await writePack(packs, 'future', { ...variant('future'), manifestVersion: 7 }, []);
  await mkdir(path.join(packs, 'in-training')); // no manifest yet: not a pack
});
afterAll(async () => {
  await tmp.remove();
});


/** A shipped pack's version. */
const packVersion = (dir: string): string => (JSON.parse(readFileSync(new URL(`../../../models/packs/${dir}/manifest.json`, import.meta.url), 'utf8')) as { version: string }).version;
/** Our plate CRNN's and plate detector's pack ids, as recognisers put them into their version. */
const OWN_PACKS = `plate-crnn@${packVersion('plate-crnn')}+plate-det@${packVersion('plate-det')}`;

describe('model pack manifest', () => {
  it('the built-in packs are valid and pin every file they use; the default is the fused one', async () => {
    const m = parseManifest(PPOCR, PPOCR_PACK);
    expect(m.files.map((f) => f.path).sort()).toEqual(['ch_PP-OCRv4_det_infer.onnx', 'ch_PP-OCRv4_rec_infer.onnx', 'ppocr_keys_v1.txt']);
    expect(m.models.recognizer?.crop).toBe('text-line');
    expect(DEFAULT_PACK).toBe('ppocr-v4-fused');
    const fused = parseManifest(BUILTIN_PACKS.find((b) => b.manifest.name === DEFAULT_PACK)!.manifest, DEFAULT_PACK);
    expect(fused.files.map((f) => f.path).sort()).toEqual(['latin_keys.txt', 'ppocr-v4-det-fused.onnx', 'ppocr-v4-rec-fused.onnx']);
    // Its committed files are there and match their pins.
    const registry = await PackRegistry.discover({ dirs: [] });
    expect((await verifyPack(registry.resolve(DEFAULT_PACK))).id).toBe('ppocr-v4-fused@ocr-models-1.4.2-fused-2');
  });

  it('names every problem of an invalid manifest with its path', () => {
    const err = (() => {
      try {
        parseManifest({ ...variant('x'), files: [], extra: 1 }, 'folder');
      } catch (e) {
        return e as ModelPackError;
      }
      throw new Error('expected a throw');
    })();
    expect(err).toBeInstanceOf(ModelPackError);
    expect(err).toMatchObject({ pack: 'x', file: 'manifest.json' });
    expect(err.message).toMatch(/invalid manifest: .*files: /);
    expect(err.message).toMatch(/extra/);
    expect(err.message).toMatch(/models.detector.file: ch_PP-OCRv4_det_infer.onnx is not listed in files/);
  });

  it('refuses paths outside the pack', () => {
    expect(() => parseManifest(variant('x', (m) => {
      m.files[0] = { ...m.files[0]!, path: '../../etc/passwd' };
    }), 'x')).toThrow(/inside the pack/);
  });

  it.each([
    [[null, 3, 48, null], [ 'p2o.0', 3, 48, 'p2o.1'], undefined],
    [[1, 3, 48, null], ['batch', 3, 48, 'w'], undefined], // the manifest may fix what the model leaves open
    [[null, 3, 48, null], ['n', 3, 32, 'w'], /dimension 2/],
    [[null, 3, 48, null], ['n', 3, 48, 320], /dimension 3/], // the engine varies the width; the model cannot
    [[null, 3, 48], ['n', 3, 48, 'w'], /model input is \[\?, 3, 48, \?\], the manifest declares \[\?, 3, 48\]/],
  ] as const)('shape %j against the model’s %j', (declared, actual, problem) => {
    const got = shapeMismatch([...declared], [...actual]);
    if (problem === undefined) expect(got).toBeUndefined();
    else expect(got).toMatch(problem);
  });
});

describe('model pack registry and loader', () => {
  it('finds the built-in pack and the packs in a folder, skipping folders without a manifest', async () => {
    const registry = await PackRegistry.discover({ dirs: [packs] });
    expect(registry.names).toEqual(
      ['bad-hash', 'bad-size', 'broken-json', 'crnn-like', 'future', 'good-ppocr', 'invalid', 'missing', 'ppocr-v4', 'ppocr-v4-fused', 'wrong-classes', 'wrong-input-name', 'wrong-shape'].sort(),
    );
    const good = await verifyPack(registry.resolve('good-ppocr'));
    expect(good.id).toBe('good-ppocr@ocr-models-1.4.2');
  });

  it('an unknown pack names the known ones (and folders it could not search)', async () => {
    const registry = await PackRegistry.discover({ dirs: [packs, path.join(tmp.dir, 'absent')] });
    const err = await packError(Promise.resolve().then(() => registry.resolve('nope')));
    expect(err).toMatchObject({ pack: 'nope' });
    expect(err.message).toMatch(/model pack "nope": unknown pack; known packs: bad-hash, .*good-ppocr, .*ppocr-v4/);
    expect(err.message).toMatch(/cannot search .*absent: ENOENT/);
  });

  it.each([
    ['bad-hash', 'ch_PP-OCRv4_det_infer.onnx', /sha256 is 30a86f57\w+, the manifest pins 0{64} \(the file changed or is corrupt\)/],
    ['bad-size', 'ch_PP-OCRv4_rec_infer.onnx', /is 10822323 bytes, the manifest pins 1234/],
    ['missing', 'ch_PP-OCRv4_rec_infer.onnx', /missing \(looked for .*missing\/ch_PP-OCRv4_rec_infer.onnx: ENOENT\)/],
    ['broken-json', 'manifest.json', /cannot read: .*JSON/],
    ['invalid', 'manifest.json', /invalid manifest: models: a pack holds at least one model; files: /],
    ['future', 'manifest.json', /manifest version 7 is newer than this build understands \(1\)/],
  ])('pack %s: ModelPackError on %s', async (name, file, problem) => {
    const err = await packError(openPack({ pack: name, packDirs: [packs] }));
    expect(err).toMatchObject({ pack: name, file });
    expect(err.problem).toMatch(problem);
    expect(err.message).toContain(`model pack "${name}", file ${file}: `);
  });

  it('a model whose input does not match the manifest is refused once loaded, by pack and file', async () => {
    const shape = await packError(createRecognizer({ kind: 'onnx', inWorker: false, pack: 'wrong-shape', packDirs: [packs] }));
    expect(shape).toMatchObject({ pack: 'wrong-shape', file: 'ch_PP-OCRv4_det_infer.onnx' });
    expect(shape.problem).toMatch(/model input is \[\?, 3, \?, \?\], the manifest declares \[\?, 1, \?, \?\] \(dimension 1\)/);

    const name = await packError(createRecognizer({ kind: 'onnx', inWorker: false, pack: 'wrong-input-name', packDirs: [packs] }));
    expect(name.problem).toMatch(/input is called "x", the manifest declares "image"/);

    const classes = await packError(createRecognizer({ kind: 'onnx', inWorker: false, pack: 'wrong-classes', packDirs: [packs] }));
    expect(classes).toMatchObject({ file: 'ch_PP-OCRv4_rec_infer.onnx' });
    expect(classes.problem).toMatch(/scores 6625 classes; blank \+ 0 symbols \+ space = 2/);
  });

  it('a recogniser this build cannot feed (whole-plate crop, 32×128, log-probabilities) is refused by name', async () => {
    const err = await packError(openPack({ pack: 'crnn-like', packDirs: [packs] }));
    expect(err).toMatchObject({ pack: 'crnn-like', file: 'ch_PP-OCRv4_rec_infer.onnx' });
    expect(err.problem).toMatch(/recogniser with crop "plate", output "log-probabilities", .*32×128 .* is not supported by this build's recognition engine/);
  });

  it('a ModelPackError keeps its fields across the worker boundary', async () => {
    const err = await packError(createRecognizer({ kind: 'onnx', inWorker: true, pack: 'bad-hash', packDirs: [packs] }));
    expect(err).toMatchObject({ name: 'ModelPackError', pack: 'bad-hash', file: 'ch_PP-OCRv4_det_infer.onnx' });
  });
});

describe('switching packs on a running recogniser', () => {
  it('selects a pack by name, and keeps the previous pack when the next one fails to load', async () => {
    const recognizer = new SwitchablePlateRecognizer(await createRecognizer({ kind: 'onnx', inWorker: false, pack: 'good-ppocr', packDirs: [packs] }));
    try {
      const plate = await plateImage();
      // Our plate CRNN and plate detector are used by default, so their packs are part of the version too.
      const good = `good-ppocr@ocr-models-1.4.2+${OWN_PACKS}/plate-ctc-2`;
      expect(recognizer.modelVersion).toBe(good);

      const failed = await recognizer.switchTo(() => createRecognizer({ kind: 'onnx', inWorker: true, pack: 'bad-hash', packDirs: [packs] }));
      expect(failed).toMatchObject({ switched: false, modelVersion: good });
      expect(!failed.switched && failed.error).toBeInstanceOf(ModelPackError);
      expect((await recognizer.recognize(plate)).reads.map((r) => r.text)).toEqual([CONTRACT_PLATE]);

      const ok = await recognizer.switchTo(() => createRecognizer({ kind: 'onnx', inWorker: false }));
      expect(ok).toEqual({ switched: true, modelVersion: `ppocr-v4-fused@ocr-models-1.4.2-fused-2+${OWN_PACKS}/plate-ctc-2`, previous: good });
      expect((await recognizer.recognize(plate)).reads.map((r) => r.text)).toEqual([CONTRACT_PLATE]);
    } finally {
      await recognizer.close();
    }
  });
});
