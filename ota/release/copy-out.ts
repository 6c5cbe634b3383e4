/**
 * Copies a release repository to the folder a static HTTPS server serves, in the order that
 * keeps every moment of the copy consistent for a device reading it: content-addressed target
 * files first, numbered metadata next, then root.json, and timestamp.json last — each renamed
 * into place. A device reading mid-copy sees the old timestamp (naming files that exist) or the
 * new one (naming files already copied).
 */
import { mkdir, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { copyFileAtomic } from '../atomic-json.ts';
import type { ReleaseProgress } from './repository.ts';

function rank(file: string): number {
  if (file === 'timestamp.json') return 3;
  if (file === 'root.json') return 2;
  return /^\d+\.root\.json$/.test(file) ? 0 : 1;
}

async function listFiles(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const d of await readdir(dir, { withFileTypes: true })) {
    const rel = path.join(prefix, d.name);
    if (d.isDirectory()) out.push(...(await listFiles(path.join(dir, d.name), rel)));
    else if (d.isFile()) out.push(rel);
  }
  return out;
}

export async function copyOut(repoDir: string, outDir: string, progress: ReleaseProgress): Promise<void> {
  const metaDir = path.join(repoDir, 'metadata');
  const files: { from: string; rel: string; size: number }[] = [];
  for (const rel of await listFiles(path.join(repoDir, 'targets'))) {
    const from = path.join(repoDir, 'targets', rel);
    files.push({ from, rel: path.join('targets', rel), size: (await stat(from)).size });
  }
  const meta = (await readdir(metaDir)).filter((f) => f.endsWith('.json'));
  meta.sort((a, b) => rank(a) - rank(b));
  for (const f of meta) files.push({ from: path.join(metaDir, f), rel: path.join('metadata', f), size: (await stat(path.join(metaDir, f))).size });
  const total = files.reduce((n, f) => n + f.size, 0);
  let done = 0;
  for (const f of files) {
    const dest = path.join(outDir, f.rel);
    await mkdir(path.dirname(dest), { recursive: true });
    const existing = await stat(dest).catch(() => undefined);
    // Content-addressed targets and numbered metadata never change once written.
    const immutable = f.rel.startsWith('targets') || /^\d+\./.test(path.basename(f.rel));
    if (!(immutable && existing?.size === f.size)) await copyFileAtomic(f.from, dest);
    done += f.size;
    progress.bytes(done, total);
  }
}
