/**
 * Recognition bench: per-stage times (decode, detect, recognise, post-process) on generated
 * 1920×1080 street-like scenes, and the ratio to the naive pipeline — the same models run at the
 * frame's full resolution — measured in the same run on the same images.
 * Keys: medianMs, p95Ms, decodeMs, detectMs, recogniseMs, postprocessMs, naiveMedianMs,
 * speedupVsNaive, readRate, naiveReadRate, images.
 */
import sharp from 'sharp';
import { createRecognizer } from '../models/index.ts';
import { plateSvgGroup, rasterizeSvg } from '../models/synth/plate.ts';
import type { PlateRecognizer, RgbImage } from '../models/types.ts';
import { mulberry32 } from '../drivers/camera/prng.ts';
import type { Bench } from './run.ts';

const W = 1920;
const H = 1080;

interface Scene {
  readonly jpeg: Buffer;
  readonly plate: string;
}

async function makeScenes(count: number, seed: number): Promise<Scene[]> {
  const rng = mulberry32(seed);
  const letters = 'ABCDEFGHJKLMNPRSTUVWXYZ';
  const pick = (s: string): string => s[Math.floor(rng.next() * s.length)] ?? 'A';
  const scenes: Scene[] = [];
  for (let i = 0; i < count; i++) {
    const plate = `${pick('123456789')}${pick(letters)}${pick(letters)}${pick(letters)}${pick('0123456789')}${pick('0123456789')}${pick('0123456789')}`;
    const carW = 500 + rng.next() * 300;
    const carX = rng.next() * (W - carW);
    const carY = 350 + rng.next() * 300;
    const plateW = 150 + rng.next() * 120;
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}">
      <rect width="100%" height="100%" fill="#5d6166"/>
      <rect x="0" y="${H * 0.55}" width="${W}" height="${H * 0.45}" fill="#3c3f43"/>
      <rect x="${W * 0.05}" y="40" width="300" height="60" fill="#1e4d2b"/>
      <text x="${W * 0.05 + 20}" y="82" font-family="DejaVu Sans" font-size="34" fill="#fff">MAIN ST</text>
      <rect x="${carX}" y="${carY}" width="${carW}" height="${carW * 0.55}" rx="40" fill="#8a1c1c"/>
      <rect x="${carX + carW * 0.15}" y="${carY + 20}" width="${carW * 0.7}" height="${carW * 0.18}" rx="14" fill="#223"/>
      ${plateSvgGroup({ text: plate, stateName: 'California', width: plateW }, carX + (carW - plateW) / 2, carY + carW * 0.3)}
    </svg>`;
    const rgb = await rasterizeSvg(svg);
    const jpeg = await sharp(Buffer.from(rgb.data), { raw: { width: rgb.width, height: rgb.height, channels: 3 } }).jpeg({ quality: 88 }).toBuffer();
    scenes.push({ jpeg, plate });
  }
  return scenes;
}

async function decode(jpeg: Buffer): Promise<RgbImage> {
  const { data, info } = await sharp(jpeg).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
}

const quantile = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
};
const median = (xs: number[]): number => quantile(xs, 0.5);

interface PassResult {
  total: number[];
  decode: number[];
  detect: number[];
  recognise: number[];
  post: number[];
  correct: number;
}

async function pass(recognizer: PlateRecognizer, scenes: readonly Scene[]): Promise<PassResult> {
  const r: PassResult = { total: [], decode: [], detect: [], recognise: [], post: [], correct: 0 };
  await recognizer.recognize(await decode(scenes[0]?.jpeg ?? Buffer.alloc(0))); // warm-up, untimed
  for (const scene of scenes) {
    const t0 = performance.now();
    const image = await decode(scene.jpeg);
    const t1 = performance.now();
    const { reads, timings } = await recognizer.recognize(image);
    const t2 = performance.now();
    r.decode.push(t1 - t0);
    r.total.push(t2 - t0);
    r.detect.push(timings.detectMs);
    r.recognise.push(timings.recogniseMs);
    r.post.push(timings.postprocessMs);
    if (reads.some((x) => x.text === scene.plate)) r.correct++;
  }
  return r;
}

export const run: Bench = async ({ print, args }) => {
  const count = Number(args.find((a) => a.startsWith('--images='))?.slice(9) ?? '20');
  print(`generating ${count} ${W}×${H} scenes…`);
  const scenes = await makeScenes(count, 42);
  const ours = await createRecognizer({ kind: 'onnx', inWorker: false, threads: 1 });
  // Naive: one detection pass over the whole frame at full resolution (no cheap first pass).
  const full = Math.ceil(W / 32) * 32;
  const naive = await createRecognizer({ kind: 'onnx', inWorker: false, threads: 1, detMaxSide: full, detFirstSide: full });
  try {
    print('pipeline (default detector size)…');
    const a = await pass(ours, scenes);
    print('naive pipeline (detector at full resolution)…');
    const b = await pass(naive, scenes);
    const figures = {
      images: count,
      medianMs: round(median(a.total)),
      p95Ms: round(quantile(a.total, 0.95)),
      decodeMs: round(median(a.decode)),
      detectMs: round(median(a.detect)),
      recogniseMs: round(median(a.recognise)),
      postprocessMs: round(median(a.post)),
      readRate: round(a.correct / count, 3),
      naiveMedianMs: round(median(b.total)),
      naiveReadRate: round(b.correct / count, 3),
      speedupVsNaive: round(median(b.total) / median(a.total), 2),
    };
    print(`  ours : median ${figures.medianMs} ms (decode ${figures.decodeMs}, detect ${figures.detectMs}, recognise ${figures.recogniseMs}, post ${figures.postprocessMs}), p95 ${figures.p95Ms} ms, read ${(figures.readRate * 100).toFixed(0)}%`);
    print(`  naive: median ${figures.naiveMedianMs} ms, read ${(figures.naiveReadRate * 100).toFixed(0)}%`);
    print(`  speed-up vs naive: ${figures.speedupVsNaive}×`);
    return figures;
  } finally {
    await ours.close();
    await naive.close();
  }
};

function round(x: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
