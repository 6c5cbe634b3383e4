// Measurement only: the share of a scenes folder's labelled plates a plate-det model finds (a box whose
// centre lies in the labelled plate box), and the boxes elsewhere.
//   node --import tsx models/training/det-recall.ts <scenes folder> <model.onnx> [side 640] [thresh 0.5]
import * as ort from 'onnxruntime-node';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { decodeImageFile } from '../eval/decode.ts';
import { resizeRgb } from '../image.ts';
import { boxesFromProbMap } from '../ppocr/db-postprocess.ts';
const [dir, model, sideS, threshS] = process.argv.slice(2);
const side = Number(sideS ?? 640); const thr = Number(threshS ?? 0.5);
const s = await ort.InferenceSession.create(model!, { intraOpNumThreads: 2, interOpNumThreads: 1 });
let found = 0, n = 0, comps = 0, falseComps = 0; const missed: string[] = [];
for (const f of readdirSync(dir!).filter((x) => x.endsWith('.txt')).sort()) {
  const [file, x, y, w, h] = readFileSync(path.join(dir!, f), 'utf8').trim().split('\t');
  const img = await decodeImageFile(path.join(dir!, file!));
  const sc = side / Math.max(img.width, img.height);
  const W = Math.max(32, Math.round(img.width * sc / 32) * 32), H = Math.max(32, Math.round(img.height * sc / 32) * 32);
  const r = await resizeRgb(img, W, H);
  const data = new Float32Array(3 * W * H);
  for (let c = 0; c < 3; c++) for (let i = 0; i < W * H; i++) data[c * W * H + i] = (r.data[i * 3 + c]! / 255 - 0.5) / 0.5;
  const out = (await s.run({ input: new ort.Tensor('float32', data, [1, 3, H, W]) })).prob!;
  const [, , mh, mw] = out.dims as number[];
  const p = out.data as Float32Array;
  const boxes = boxesFromProbMap(p, mw!, mh!, { thresh: thr, boxThresh: thr, unclipRatio: 0, minSize: 1 });
  const sx = img.width / mw!, sy = img.height / mh!;
  const gx = +x! + +w! / 2, gy = +y! + +h! / 2;
  let hit = false;
  for (const b of boxes) {
    const cx = (b.rect.cx + 0.5) * sx, cy = (b.rect.cy + 0.5) * sy;
    const inside = Math.abs(cx - gx) < +w! / 2 && Math.abs(cy - gy) < +h! / 2;
    if (inside) hit = true; else falseComps++;
  }
  comps += boxes.length; n++; if (hit) found++; else missed.push(`${file} ${w}x${h}`);
}
console.log(`${dir} side ${side}: plates found ${found}/${n}; boxes ${comps}, elsewhere ${falseComps}`);
console.log('missed', missed.join(', '));
