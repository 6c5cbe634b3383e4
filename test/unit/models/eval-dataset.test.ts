import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCropsCsv, parseSceneTxt } from '../../../models/eval/dataset.ts';
import { decodeImageFile } from '../../../models/eval/decode.ts';
import { createProgress } from '../../../models/eval/progress.ts';
import { tempDir, writeTruncatedJpeg } from './eval-fixtures.ts';

describe('ground-truth parsing', () => {
  it('scene .txt: tab-separated lines, plate normalised, bad lines skipped with the reason', () => {
    const { truths, skipped } = parseSceneTxt(
      ['car.jpg\t935\t362\t99\t49\tYG9X2G', 'car.jpg\t1\t2\t30\t15\tab-c 12', 'car.jpg 1 2 3 4 X', 'car.jpg\t1\t2\t0\t4\tX1', 'notes.doc\t1\t2\t3\t4\tX1', ''].join('\r\n'),
      'car.txt',
    );
    expect(truths).toEqual([
      { file: 'car.jpg', truth: { plate: 'YG9X2G', box: { x: 935, y: 362, width: 99, height: 49 } } },
      { file: 'car.jpg', truth: { plate: 'ABC12', box: { x: 1, y: 2, width: 30, height: 15 } } },
    ]);
    expect(skipped).toEqual([
      'car.txt:3: expected 6 tab-separated fields, got 1',
      'car.txt:4: box 1 2 0 4 is not four non-negative numbers with a non-zero size',
      'car.txt:5: "notes.doc" is not a .jpg/.png file name',
    ]);
  });

  it('groundtruth.csv: file,state,text with or without a header, sorted by file', () => {
    const { samples, skipped } = parseCropsCsv('file,state,text\nb.png,TX,abc 123\na.png,ca,7ABC123\nc.png,ny\nd.png,,X-1\n', '/data');
    expect(samples).toEqual([
      { file: 'a.png', path: '/data/a.png', truths: [{ plate: '7ABC123', state: 'ca' }] },
      { file: 'b.png', path: '/data/b.png', truths: [{ plate: 'ABC123', state: 'tx' }] },
      { file: 'd.png', path: '/data/d.png', truths: [{ plate: 'X1' }] },
    ]);
    expect(skipped).toEqual(['groundtruth.csv:4: expected 3 comma-separated fields, got 2']);
  });
});

describe('image decoding', () => {
  let tmp: { dir: string; remove: () => Promise<void> };
  beforeAll(async () => {
    tmp = await tempDir('alpr-decode-');
  });
  afterAll(async () => {
    await tmp.remove();
  });

  it('honours EXIF orientation, and expands grey and RGBA to packed RGB', async () => {
    const rotated = path.join(tmp.dir, 'rotated.jpg');
    await sharp({ create: { width: 40, height: 20, channels: 3, background: '#c00' } }).jpeg().withMetadata({ orientation: 6 }).toFile(rotated);
    const r = await decodeImageFile(rotated);
    expect([r.width, r.height, r.data.length]).toEqual([20, 40, 20 * 40 * 3]);

    const grey = path.join(tmp.dir, 'grey.png');
    await sharp({ create: { width: 8, height: 4, channels: 3, background: '#808080' } }).toColourspace('b-w').png().toFile(grey);
    expect((await sharp(grey).metadata()).channels).toBe(1);
    const g = await decodeImageFile(grey);
    expect(g.data.length).toBe(8 * 4 * 3);

    const rgba = path.join(tmp.dir, 'rgba.png');
    await sharp({ create: { width: 8, height: 4, channels: 4, background: { r: 0, g: 0, b: 255, alpha: 0.5 } } }).png().toFile(rgba);
    expect((await decodeImageFile(rgba)).data.length).toBe(8 * 4 * 3);
  });

  it('refuses a truncated JPEG and a file that is not an image', async () => {
    const cut = path.join(tmp.dir, 'cut.jpg');
    await writeTruncatedJpeg(cut);
    await expect(decodeImageFile(cut)).rejects.toThrow();
    const text = path.join(tmp.dir, 'text.png');
    await writeFile(text, 'not a png');
    await expect(decodeImageFile(text)).rejects.toThrow();
  });
});

describe('progress', () => {
  it('rewrites one line on a terminal', () => {
    let out = '';
    const p = createProgress({ write: (s: string) => (out += s), isTTY: true }, 3, 'eval x');
    p.update(1, 'exact 1/1');
    p.update(2);
    p.update(3);
    p.finish();
    expect(out).toBe('\reval x 1/3 (33%) exact 1/1\reval x 2/3 (66%)' + ' '.repeat(10) + '\reval x 3/3 (100%)\n');
  });

  it('writes a line every tenth of the way, and the last, to a pipe', () => {
    const lines: string[] = [];
    const p = createProgress({ write: (s: string) => lines.push(s) }, 25, 'eval y');
    for (let i = 1; i <= 25; i++) p.update(i);
    p.finish();
    expect(lines.map((l) => l.trim().split(' ')[2])).toEqual(['1/25', '3/25', '6/25', '9/25', '12/25', '15/25', '18/25', '21/25', '24/25', '25/25']);
  });
});
