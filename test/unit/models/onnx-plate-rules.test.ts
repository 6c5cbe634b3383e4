/**
 * The plate rules end to end on generated plates: vanity plates, registrations split by an
 * emblem, stacked letters beside the registration, tiny crops, stickers, and the state read from
 * the plate. Images come from models/synth and inline SVG, never from the benchmark sets.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OnnxPlateRecognizer } from '../../../models/onnx-recognizer.ts';
import { rasterizeSvg, renderPlate } from '../../../models/synth/plate.ts';
import type { RgbImage } from '../../../models/types.ts';

let recognizer: OnnxPlateRecognizer;

beforeAll(async () => {
  recognizer = await OnnxPlateRecognizer.create({ threads: 1 });
});
afterAll(async () => {
  await recognizer.close();
});

async function best(image: RgbImage): Promise<{ text: string; state?: string } | undefined> {
  const { reads } = await recognizer.recognize(image);
  return reads[0] && { text: reads[0].text, ...(reads[0].state !== undefined && { state: reads[0].state }) };
}

/** A 320×160 plate with free-form SVG content drawn over a light background. */
function plateSvg(content: string): Promise<RgbImage> {
  return rasterizeSvg(
    `<svg xmlns="http://www.w3.org/2000/svg" width="360" height="200"><rect width="100%" height="100%" fill="#6b6f74"/>` +
      `<g transform="translate(20,20)"><rect x="1" y="1" width="318" height="158" rx="12" fill="#f6f6f2" stroke="#333" stroke-width="3"/>${content}</g></svg>`,
  );
}

const REG = 'font-family="DejaVu Sans Mono" font-weight="bold" font-size="74" fill="#1a2a5a"';

describe('plate rules on generated plates', () => {
  it('reads an all-letter vanity plate', async () => {
    expect((await best(await renderPlate({ text: 'ANYTEXT', stateName: 'Arkansas' })))?.text).toBe('ANYTEXT');
  });

  it('reads a registration split by a wide gap with a pale emblem as one plate, without the emblem', async () => {
    const img = await plateSvg(
      `<text x="8" y="112" font-family="DejaVu Sans Mono" font-weight="bold" font-size="64" fill="#1a2a5a">832</text>` +
        `<circle cx="160" cy="88" r="26" fill="#e4d8b8"/>` +
        `<text x="204" y="112" font-family="DejaVu Sans Mono" font-weight="bold" font-size="64" fill="#1a2a5a">AXV</text>`,
    );
    expect((await best(img))?.text).toBe('832AXV');
  });

  it('drops small stacked letters beside the registration', async () => {
    const img = await plateSvg(
      `<text x="20" y="118" ${REG}>2678</text>` +
        `<text x="212" y="80" font-family="DejaVu Sans" font-weight="bold" font-size="30" fill="#1a2a5a">H</text>` +
        `<text x="212" y="116" font-family="DejaVu Sans" font-weight="bold" font-size="30" fill="#1a2a5a">H</text>`,
    );
    expect((await best(img))?.text).toBe('2678');
  });

  it('prefers the registration to a year sticker', async () => {
    const img = await plateSvg(
      `<text x="30" y="112" ${REG}>UBUNTU</text>` +
        `<rect x="262" y="128" width="46" height="24" fill="#e07010"/><text x="266" y="147" font-family="DejaVu Sans" font-size="17" fill="#000">2008</text>`,
    );
    expect((await best(img))?.text).toBe('UBUNTU');
  });

  it('reads a tiny crop (scaled up for detection)', async () => {
    expect((await best(await renderPlate({ text: '4701134', width: 84 }, 0.03)))?.text).toBe('4701134');
  });

  it('names the state printed on the plate', async () => {
    expect(await best(await renderPlate({ text: '7ABC123', stateName: 'California', width: 320 }))).toEqual({ text: '7ABC123', state: 'ca' });
    expect(await best(await renderPlate({ text: 'BMN2079', stateName: 'TEXAS', width: 320 }))).toEqual({ text: 'BMN2079', state: 'tx' });
  });

  it('names no state when the plate prints none', async () => {
    expect(await best(await renderPlate({ text: 'ABC1234', width: 320 }))).toEqual({ text: 'ABC1234' });
  });
});
