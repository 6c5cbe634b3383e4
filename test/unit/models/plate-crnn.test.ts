import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PlateCrnn } from '../../../models/crnn/plate-crnn.ts';
import { ModelPackError } from '../../../models/errors.ts';
import { stretchContrast } from '../../../models/plates/reading.ts';

const manifest = (over: Record<string, unknown> = {}) => ({
  name: 'plate-crnn',
  version: '0.0.1',
  files: [{ path: 'm.onnx', sha256: '0'.repeat(64), bytes: 3 }],
  input: { name: 'input', height: 32, width: 128, channels: 3, layout: 'NCHW', colour: 'RGB', normalise: { mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], scale: 1 / 255 } },
  alphabet: '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ',
  blankIndex: 0,
  output: { name: 'logprobs', layout: 'NTC', classes: 37, softmax: 'log_softmax applied' },
  ...over,
});

function pack(m: unknown, files: Record<string, string> = {}): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'crnn-'));
  writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify(m));
  for (const [f, body] of Object.entries(files)) writeFileSync(path.join(dir, f), body);
  return dir;
}

describe('plate CRNN pack', () => {
  it('refuses a manifest with another alphabet, a missing file or a wrong hash, by name', async () => {
    await expect(PlateCrnn.open(pack(manifest({ alphabet: 'ABC' })))).rejects.toThrow(ModelPackError);
    await expect(PlateCrnn.open(pack(manifest()))).rejects.toThrow(/m\.onnx/);
    await expect(PlateCrnn.open(pack(manifest(), { 'm.onnx': 'abc' }))).rejects.toThrow(/sha256/);
    await expect(PlateCrnn.open(pack({ name: 'x' }))).rejects.toThrow(ModelPackError);
  });
});

describe('second-look contrast stretch', () => {
  it('spreads a narrow grey band to full range and leaves flat images alone', () => {
    const data = new Uint8Array(100 * 3);
    for (let i = 0; i < 100; i++) data.fill(i < 50 ? 100 : 140, i * 3, i * 3 + 3);
    const out = stretchContrast({ width: 10, height: 10, data });
    expect(out.data[0]).toBe(0);
    expect(out.data[299]).toBe(255);
    const flat = { width: 2, height: 1, data: new Uint8Array(6).fill(90) };
    expect(stretchContrast(flat)).toBe(flat);
  });
});
