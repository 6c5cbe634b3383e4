/**
 * Our own plate detector (models/platedet, pack models/packs/plate-det): the pack's contract, the
 * shipped model on drawn frames, and where the recogniser consults it (through fakes, so each
 * case says exactly what the text detector saw).
 */
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PlateCrnn } from '../../../models/crnn/plate-crnn.ts';
import { ModelPackError } from '../../../models/errors.ts';
import { rectCorners, type RotatedRect } from '../../../models/geometry.ts';
import { DEFAULT_PLATE_DET_PACK_DIR, OnnxPlateRecognizer } from '../../../models/onnx-recognizer.ts';
import { PlateDetector } from '../../../models/platedet/plate-detector.ts';
import { PLATE_SYMBOLS, type StepMatrix } from '../../../models/ppocr/ctc.ts';
import type { TextDetector } from '../../../models/ppocr/detector.ts';
import type { TextReading, TextRecognizer } from '../../../models/ppocr/recognizer.ts';
import { plateSvgGroup, rasterizeSvg } from '../../../models/synth/plate.ts';
import type { Box, RgbImage } from '../../../models/types.ts';

/** A copy of the shipped pack in a temporary folder, its manifest changed by `edit`. */
function packCopy(edit: (m: Record<string, unknown>) => void, onnx = true): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'plate-det-'));
  const m = JSON.parse(readFileSync(path.join(DEFAULT_PLATE_DET_PACK_DIR, 'manifest.json'), 'utf8')) as Record<string, unknown>;
  edit(m);
  writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify(m));
  if (onnx) copyFileSync(path.join(DEFAULT_PLATE_DET_PACK_DIR, 'plate-det.onnx'), path.join(dir, 'plate-det.onnx'));
  return dir;
}

describe('plate-det pack', () => {
  it('opens the shipped pack and names its version', async () => {
    const d = await PlateDetector.open(DEFAULT_PLATE_DET_PACK_DIR);
    expect(d.id).toMatch(/^plate-det@\d+\.\d+\.\d+$/);
    await d.close();
  });

  it('refuses another kind, a missing file, a wrong hash and wrong tensor names, by name', async () => {
    await expect(PlateDetector.open(packCopy((m) => (m.kind = 'ctc-recognizer')))).rejects.toThrow(ModelPackError);
    await expect(PlateDetector.open(packCopy(() => undefined, false))).rejects.toThrow(/plate-det\.onnx/);
    const badHash = packCopy((m) => ((m.files as { sha256: string }[])[0]!.sha256 = '0'.repeat(64)));
    await expect(PlateDetector.open(badHash)).rejects.toThrow(/sha256/);
    const badName = packCopy((m) => ((m.input as { name: string }).name = 'pixels'));
    await expect(PlateDetector.open(badName)).rejects.toThrow(/pixels/);
    await expect(PlateDetector.open(path.join(tmpdir(), 'no-such-plate-det-pack'))).rejects.toThrow(ModelPackError);
  });

  it('makes the recogniser refuse to start, naming the pack, when its pack is broken', async () => {
    const badHash = packCopy((m) => ((m.files as { sha256: string }[])[0]!.sha256 = '0'.repeat(64)));
    await expect(OnnxPlateRecognizer.create({ plateDetPackDir: badHash })).rejects.toThrow(ModelPackError);
  });
});

describe('the shipped plate detector on drawn frames', () => {
  let det: PlateDetector;
  beforeAll(async () => {
    det = await PlateDetector.open(DEFAULT_PLATE_DET_PACK_DIR, 2);
  });
  afterAll(async () => det.close());

  /** A 1280×720 street-grey frame with a dark car body and, when `plate` is given, a plate 90 px wide on it. */
  async function frame(plate?: { x: number; y: number }): Promise<RgbImage> {
    const car = '<rect x="420" y="250" width="440" height="300" rx="30" fill="#23262b"/><rect x="470" y="270" width="340" height="90" fill="#101216"/>';
    const p = plate ? plateSvgGroup({ text: '7EAV033', stateName: 'California', width: 90 }, plate.x, plate.y) : '';
    return rasterizeSvg(`<svg xmlns="http://www.w3.org/2000/svg" width="1280" height="720"><rect width="100%" height="100%" fill="#7d7f80"/>${car}${p}</svg>`);
  }

  it('finds a plate 90 px wide in a 1280×720 frame, scaled to 640', async () => {
    const found = await det.detect(await frame({ x: 595, y: 420 }), 640);
    expect(found.length).toBeGreaterThanOrEqual(1);
    const b = found[0]!.box;
    const [cx, cy] = [595 + 45, 420 + 22.5];
    expect(cx).toBeGreaterThan(b.x);
    expect(cx).toBeLessThan(b.x + b.width);
    expect(cy).toBeGreaterThan(b.y);
    expect(cy).toBeLessThan(b.y + b.height);
    expect(b.width).toBeGreaterThan(90 * 0.6);
    expect(b.width).toBeLessThan(90 * 2);
  });

  it('finds nothing on the same car without a plate, or in a blank frame', async () => {
    expect(await det.detect(await frame(), 640)).toEqual([]);
    const grey: RgbImage = { width: 1280, height: 720, data: new Uint8Array(1280 * 720 * 3).fill(128) };
    expect(await det.detect(grey, 640)).toEqual([]);
  });
});

describe('where the recogniser reads the plate detector’s plates', () => {
  const C = PLATE_SYMBOLS.length + 1;
  function spelled(text: string): StepMatrix {
    const steps = 2 * text.length + 1;
    const probs = new Float32Array(steps * C);
    for (let t = 0; t < steps; t++) {
      if (t % 2 === 1) {
        probs[t * C + PLATE_SYMBOLS.indexOf(text[(t - 1) / 2]!) + 1] = 0.98;
        probs[t * C] = 0.02;
      } else probs[t * C] = 1;
    }
    return { steps, classes: C, probs };
  }
  const reading = (text: string): TextReading => {
    const m = spelled(text);
    return { text, charProbs: [...text].map(() => 0.98), candidates: [{ text, score: 1 }], lattice: m, cropWidth: 8 * m.steps, stepWidth: 8 };
  };

  /** The plate, in the frame: 1280×720, a plate at (600, 400) 90×45. */
  const PLATE: Box = { x: 600, y: 400, width: 90, height: 45 };
  /**
   * Reads a 1280×720 frame with fakes. The text detector sees `frameText` (when given) as a
   * line on the plate in the full frame, and the plate's line in any window (a crop smaller than
   * the frame) around it. The recogniser reads every crop as the line's text.
   */
  async function readWith(opts: { frameText?: string; windowText: string; plateDet: boolean }): Promise<{ texts: string[]; plateDetCalls: number }> {
    const lineIn = (img: RgbImage, ox: number, oy: number): RotatedRect => ({ cx: PLATE.x + 45 - ox, cy: PLATE.y + 24 - oy, ux: 1, uy: 0, width: 80, height: 20 });
    const detector = {
      detect: async (img: RgbImage) => {
        if (img.width === 1280) return opts.frameText ? [{ rect: lineIn(img, 0, 0), quad: rectCorners(lineIn(img, 0, 0)), score: 0.9 }] : [];
        // A window: it starts at the plate box grown by half its size on each side.
        const r = lineIn(img, Math.floor(PLATE.x - 45), Math.floor(PLATE.y - 22.5));
        return [{ rect: r, quad: rectCorners(r), score: 0.9 }];
      },
    } as unknown as TextDetector;
    let text = opts.frameText ?? opts.windowText;
    const recognizer = {
      recognizeCrops: async (crops: readonly RgbImage[]) => crops.map(() => reading(text)),
      readText: async () => [],
    } as unknown as TextRecognizer;
    let plateDetCalls = 0;
    const plateDet = {
      id: 'fake-plate-det',
      detect: async () => {
        plateDetCalls++;
        text = opts.windowText;
        return [{ box: PLATE, score: 0.9 }];
      },
      close: async () => undefined,
    } as unknown as PlateDetector;
    const image: RgbImage = { width: 1280, height: 720, data: new Uint8Array(1280 * 720 * 3).fill(120) };
    const r = new OnnxPlateRecognizer('test', detector, recognizer, [], { readState: false }, 960, undefined as PlateCrnn | undefined, opts.plateDet ? plateDet : undefined);
    try {
      return { texts: (await r.recognize(image)).reads.map((x) => x.text), plateDetCalls };
    } finally {
      await r.close();
    }
  }

  it('reads a plate only it found, where both text passes saw nothing', async () => {
    expect(await readWith({ windowText: '7EAV033', plateDet: true })).toEqual({ texts: ['7EAV033'], plateDetCalls: 1 });
    expect(await readWith({ windowText: '7EAV033', plateDet: false })).toEqual({ texts: [], plateDetCalls: 0 });
  });

  it('is not consulted when the text passes read a plate surely', async () => {
    expect(await readWith({ frameText: '5LTA600', windowText: '7EAV033', plateDet: true })).toEqual({ texts: ['5LTA600'], plateDetCalls: 0 });
  });
});
