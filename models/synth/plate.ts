/**
 * Renders US-style licence plates as SVG, and to pixels through sharp (librsvg + system fonts).
 * Used by the sample-clip generator, by tests, and by anything that needs a plate nobody photographed.
 * Deterministic: the same spec always gives the same pixels.
 */
import sharp from 'sharp';
import type { RgbImage } from '../types.ts';

export interface PlateSpec {
  /** Characters on the plate, A–Z, 0–9 and spaces/dashes. */
  readonly text: string;
  /** Name printed across the top, e.g. "California". */
  readonly stateName?: string;
  /** Slogan printed along the bottom. */
  readonly slogan?: string;
  /** Plate width in pixels; height follows the US 12"×6" aspect ratio. */
  readonly width?: number;
  readonly textColor?: string;
  readonly background?: string;
}

/** The US plate aspect ratio, 12 by 6 inches. */
export const PLATE_ASPECT = 2;

function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * The plate as an SVG fragment (a <g>) placed with its top-left corner at (x, y), so a frame
 * renderer can put several plates into one scene.
 */
export function plateSvgGroup(spec: PlateSpec, x: number, y: number): string {
  if (!/^[A-Z0-9 -]{1,10}$/.test(spec.text)) {
    throw new RangeError(`plate text ${JSON.stringify(spec.text)}: expected 1–10 of A–Z, 0–9, space, dash`);
  }
  const w = spec.width ?? 240;
  const h = w / PLATE_ASPECT;
  const bg = spec.background ?? '#f6f6f2';
  const fg = spec.textColor ?? '#1a2a5a';
  // librsvg ignores textLength, so the font size itself makes the registration fit:
  // DejaVu Sans Mono advances 0.602 em per character.
  const fontSize = Math.min(h * 0.5, (w * 0.88) / (spec.text.length * 0.602));
  const parts = [
    `<g transform="translate(${x.toFixed(2)},${y.toFixed(2)})">`,
    `<rect x="1" y="1" width="${w - 2}" height="${h - 2}" rx="${(w * 0.04).toFixed(1)}" fill="${bg}" stroke="#333" stroke-width="${Math.max(1, w / 120).toFixed(1)}"/>`,
  ];
  if (spec.stateName) {
    parts.push(
      `<text x="${w / 2}" y="${(h * 0.2).toFixed(1)}" font-family="DejaVu Sans" font-size="${(h * 0.16).toFixed(1)}" fill="#a01818" text-anchor="middle">${escapeXml(spec.stateName)}</text>`,
    );
  }
  parts.push(
    `<text x="${w / 2}" y="${(h * 0.72).toFixed(1)}" font-family="DejaVu Sans Mono" font-weight="bold" font-size="${fontSize.toFixed(1)}" fill="${fg}" text-anchor="middle">${escapeXml(spec.text)}</text>`,
  );
  if (spec.slogan) {
    parts.push(
      `<text x="${w / 2}" y="${(h * 0.92).toFixed(1)}" font-family="DejaVu Sans" font-size="${(h * 0.11).toFixed(1)}" fill="#333" text-anchor="middle">${escapeXml(spec.slogan)}</text>`,
    );
  }
  parts.push('</g>');
  return parts.join('');
}

/** Rasterises an SVG document to packed RGB. */
export async function rasterizeSvg(svg: string): Promise<RgbImage> {
  const { data, info } = await sharp(Buffer.from(svg)).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new Error(`rasterizeSvg: expected 3 channels, got ${info.channels}`);
  return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
}

/**
 * A plate alone on a plain background with a margin around it (as a tight crop from a camera
 * would look), rasterised to RGB.
 */
export async function renderPlate(spec: PlateSpec, margin = 0.15, background = '#6b6f74'): Promise<RgbImage> {
  const w = spec.width ?? 240;
  const h = w / PLATE_ASPECT;
  const mx = Math.round(w * margin);
  const my = Math.round(h * margin);
  const W = w + 2 * mx;
  const H = Math.round(h + 2 * my);
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}"><rect width="100%" height="100%" fill="${background}"/>${plateSvgGroup(spec, mx, my)}</svg>`;
  return rasterizeSvg(svg);
}
