/**
 * The archive format for firmware bundles and model packs: a header line, then the files'
 * bytes back to back.
 *
 *   ALPRBND1\n
 *   {"format":"alpr-bundle","formatVersion":1,"kind":…,"version":…,"files":[{path,bytes,sha256,mode}]}\n
 *   <bytes of files[0]><bytes of files[1]>…
 *
 * The whole bundle is a TUF target (its length and hash are signed), so unpacking needs no
 * signature of its own; the per-file hashes catch a bug or a disk fault between verification and
 * use. Paths are relative and may not climb out of the folder they are unpacked into.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { OtaError } from './errors.ts';

const MAGIC = 'ALPRBND1\n';
const MAX_HEADER = 1 << 20;

export interface BundleFile {
  readonly path: string;
  readonly bytes: number;
  readonly sha256: string;
  readonly mode: number;
}

export interface BundleHeader {
  readonly format: 'alpr-bundle';
  readonly formatVersion: 1;
  readonly kind: 'firmware' | 'model-pack';
  readonly name: string;
  readonly version: string;
  readonly files: readonly BundleFile[];
}

function checkPath(p: string): boolean {
  return p.length > 0 && !path.isAbsolute(p) && !p.split(/[\\/]/).some((s) => s === '..' || s === '');
}

async function walk(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const d of (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
    const rel = prefix ? `${prefix}/${d.name}` : d.name;
    if (d.isDirectory()) out.push(...(await walk(path.join(dir, d.name), rel)));
    else if (d.isFile()) out.push(rel);
  }
  return out;
}

/** Packs every file under `dir` (release side). */
export async function packBundle(dir: string, out: string, meta: { kind: BundleHeader['kind']; name: string; version: string }): Promise<BundleHeader> {
  const files: BundleFile[] = [];
  const rels = await walk(dir);
  for (const rel of rels) {
    const abs = path.join(dir, rel);
    const st = await stat(abs);
    const hash = createHash('sha256');
    for await (const chunk of createReadStream(abs)) hash.update(chunk as Buffer);
    files.push({ path: rel, bytes: st.size, sha256: hash.digest('hex'), mode: st.mode & 0o777 });
  }
  const header: BundleHeader = { format: 'alpr-bundle', formatVersion: 1, ...meta, files };
  const ws = createWriteStream(out);
  ws.write(MAGIC);
  ws.write(`${JSON.stringify(header)}\n`);
  for (const f of files) await pipeline(createReadStream(path.join(dir, f.path)), ws, { end: false });
  await new Promise<void>((resolve, reject) => ws.end((err?: Error | null) => (err ? reject(err) : resolve())));
  return header;
}

/** Reads and checks the header; `dataStart` is where the first file's bytes begin. */
export async function readBundleHeader(file: string): Promise<{ header: BundleHeader; dataStart: number; size: number }> {
  const fail = (why: string): never => {
    throw new OtaError('invalid', `${path.basename(file)}: ${why}`);
  };
  const handle = await open(file, 'r');
  let head: Buffer;
  let size: number;
  try {
    size = (await handle.stat()).size;
    head = Buffer.alloc(Math.min(size, MAX_HEADER + MAGIC.length));
    await handle.read(head, 0, head.length, 0);
  } finally {
    await handle.close();
  }
  if (head.subarray(0, MAGIC.length).toString('latin1') !== MAGIC) fail('not an ALPRBND1 bundle');
  const nl = head.indexOf(0x0a, MAGIC.length);
  if (nl < 0) fail('header line missing or over 1 MiB');
  let json: unknown;
  try {
    json = JSON.parse(head.subarray(MAGIC.length, nl).toString('utf8'));
  } catch (err) {
    fail(`header is not JSON (${(err as Error).message})`);
  }
  const h = json as Partial<BundleHeader>;
  if (h.format !== 'alpr-bundle' || h.formatVersion !== 1) fail(`header format ${String(h.format)} v${String(h.formatVersion)}: expected alpr-bundle v1`);
  if (h.kind !== 'firmware' && h.kind !== 'model-pack') fail(`kind ${String(h.kind)}: expected firmware or model-pack`);
  if (typeof h.version !== 'string' || typeof h.name !== 'string' || !Array.isArray(h.files)) fail('header lacks name, version or files');
  let total = 0;
  const seen = new Set<string>();
  for (const f of h.files ?? []) {
    if (typeof f.path !== 'string' || !checkPath(f.path)) fail(`file path ${JSON.stringify(f.path)} is not a relative path inside the bundle`);
    if (seen.has(f.path)) fail(`file ${f.path} listed twice`);
    seen.add(f.path);
    if (!Number.isSafeInteger(f.bytes) || f.bytes < 0) fail(`file ${f.path}: bad size`);
    if (typeof f.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(f.sha256)) fail(`file ${f.path}: bad sha256`);
    total += f.bytes;
  }
  const dataStart = nl + 1;
  if (dataStart + total !== size) fail(`bundle is ${size} bytes, the header accounts for ${dataStart + total}`);
  return { header: h as BundleHeader, dataStart, size };
}

/**
 * Unpacks into `dest` (which must be empty or absent), checking every file's hash. `onBytes`
 * reports progress. Throws OtaError('invalid') naming the first bad file.
 */
export async function unpackBundle(file: string, dest: string, onBytes?: (done: number, total: number) => void): Promise<BundleHeader> {
  const { header, dataStart, size } = await readBundleHeader(file);
  await mkdir(dest, { recursive: true });
  let offset = dataStart;
  let done = 0;
  const total = size - dataStart;
  for (const f of header.files) {
    const target = path.join(dest, f.path);
    await mkdir(path.dirname(target), { recursive: true });
    const hash = createHash('sha256');
    const tap = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        hash.update(chunk);
        done += chunk.length;
        onBytes?.(done, total);
        cb(null, chunk);
      },
    });
    if (f.bytes > 0) {
      await pipeline(createReadStream(file, { start: offset, end: offset + f.bytes - 1 }), tap, createWriteStream(target, { mode: f.mode & 0o755 }));
    } else {
      await (await open(target, 'w', f.mode & 0o755)).close();
    }
    const handle = await open(target, 'r+');
    try {
      await handle.sync(); // the slot must hold these bytes before the pointer ever names it
    } finally {
      await handle.close();
    }
    const got = f.bytes > 0 ? hash.digest('hex') : createHash('sha256').digest('hex');
    if (got !== f.sha256) throw new OtaError('invalid', `${path.basename(file)}: ${f.path} unpacked with sha256 ${got}, the header says ${f.sha256}`);
    offset += f.bytes;
  }
  return header;
}
