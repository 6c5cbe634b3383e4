import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { packBundle, readBundleHeader, unpackBundle } from '../../../ota/bundle.ts';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function tmp(): Promise<string> {
  const d = await mkdtemp(path.join(tmpdir(), 'ota-bundle-'));
  dirs.push(d);
  return d;
}

/** A bundle with a hand-written header, for the refusals. */
async function rawBundle(dir: string, header: object, body: Buffer): Promise<string> {
  const file = path.join(dir, 'raw.bundle');
  await writeFile(file, Buffer.concat([Buffer.from(`ALPRBND1\n${JSON.stringify(header)}\n`), body]));
  return file;
}

describe('bundle archive', () => {
  it('packs a folder and unpacks it byte for byte', async () => {
    const d = await tmp();
    await mkdir(path.join(d, 'src', 'lib'), { recursive: true });
    await writeFile(path.join(d, 'src', 'main.js'), 'hello');
    await writeFile(path.join(d, 'src', 'lib', 'empty'), '');
    await writeFile(path.join(d, 'src', 'lib', 'big.bin'), Buffer.alloc(300_000, 7));
    const header = await packBundle(path.join(d, 'src'), path.join(d, 'b.bundle'), { kind: 'firmware', name: 'x', version: '2.0.0' });
    expect(header.files.map((f) => f.path)).toEqual(['lib/big.bin', 'lib/empty', 'main.js']);
    const progress: number[] = [];
    await unpackBundle(path.join(d, 'b.bundle'), path.join(d, 'out'), (done) => progress.push(done));
    expect(await readFile(path.join(d, 'out', 'main.js'), 'utf8')).toBe('hello');
    expect((await readFile(path.join(d, 'out', 'lib', 'big.bin'))).equals(Buffer.alloc(300_000, 7))).toBe(true);
    expect(await readFile(path.join(d, 'out', 'lib', 'empty'), 'utf8')).toBe('');
    expect(progress.at(-1)).toBe(300_005);
  });

  it('refuses paths that climb out, sizes that do not add up, and bytes that do not match', async () => {
    const d = await tmp();
    const sha = 'a'.repeat(64);
    const base = { format: 'alpr-bundle', formatVersion: 1, kind: 'firmware', name: 'x', version: '1' };
    await expect(readBundleHeader(await rawBundle(d, { ...base, files: [{ path: '../evil', bytes: 1, sha256: sha, mode: 420 }] }, Buffer.from('x')))).rejects.toThrow(/not a relative path inside the bundle/);
    await expect(readBundleHeader(await rawBundle(d, { ...base, files: [{ path: '/etc/passwd', bytes: 1, sha256: sha, mode: 420 }] }, Buffer.from('x')))).rejects.toThrow(/not a relative path/);
    await expect(readBundleHeader(await rawBundle(d, { ...base, files: [{ path: 'a', bytes: 5, sha256: sha, mode: 420 }] }, Buffer.from('x')))).rejects.toThrow(/accounts for/);
    await expect(readBundleHeader(await rawBundle(d, { ...base, kind: 'rootkit', files: [] }, Buffer.alloc(0)))).rejects.toThrow(/kind rootkit/);
    await expect(unpackBundle(await rawBundle(d, { ...base, files: [{ path: 'a', bytes: 1, sha256: sha, mode: 420 }] }, Buffer.from('x')), path.join(d, 'o'))).rejects.toThrow(/unpacked with sha256/);
    await writeFile(path.join(d, 'junk'), 'PK\x03\x04');
    await expect(readBundleHeader(path.join(d, 'junk'))).rejects.toThrow(/not an ALPRBND1 bundle/);
  });
});
