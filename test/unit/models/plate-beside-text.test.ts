/**
 * Regression (us-dev us7): letters of another plate or a frame on the registration's baseline
 * were merged into its line, which then read too long for a plate ("5VCF20377") and was dropped,
 * so a clear plate gave no read. The widest word is now read alone.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OnnxPlateRecognizer } from '../../../models/onnx-recognizer.ts';
import { plateSvgGroup, rasterizeSvg } from '../../../models/synth/plate.ts';

describe('a plate with lettering beside it on the same baseline', () => {
  let rec: OnnxPlateRecognizer;
  beforeAll(async () => {
    rec = await OnnxPlateRecognizer.create();
  });
  afterAll(async () => {
    await rec.close();
  });

  it('reads the registration, not the registration plus its neighbours', async () => {
    const big = (x: number, text: string): string =>
      `<text x="${x}" y="160" font-family="DejaVu Sans Mono" font-weight="bold" font-size="64" fill="#111">${text}</text>`;
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="420" height="230">
      <rect width="100%" height="100%" fill="#f2f2f2"/>
      ${big(4, 'M')}${big(342, '77')}
      ${plateSvgGroup({ text: '5VCF203', stateName: 'California', width: 290 }, 60, 45)}
    </svg>`;
    const { reads } = await rec.recognize(await rasterizeSvg(svg));
    expect(reads.map((r) => r.text)).toContain('5VCF203');
    expect(reads.some((r) => r.text.length > 8)).toBe(false);
  });
});
