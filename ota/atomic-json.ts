/**
 * Small state files (journal, installed versions, pointers) written so that a power cut leaves
 * the old content or the new, never a torn file: temp beside the target, fsync, rename, fsync dir.
 */
import { copyFile, open, readFile, rm } from 'node:fs/promises';
import { commitTemp, fsyncFile, tempPathFor } from '../gateway/hotlist/atomic.ts';

export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const temp = tempPathFor(path);
  try {
    const handle = await open(temp, 'w', 0o644);
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await commitTemp(temp, path);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
}

export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`);
}

/** Copies `from` to `to` with the same guarantee (the copy is fsynced before it is renamed in). */
export async function copyFileAtomic(from: string, to: string): Promise<void> {
  const temp = tempPathFor(to);
  try {
    await copyFile(from, temp);
    await fsyncFile(temp);
    await commitTemp(temp, to);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
}

/** The parsed file, or undefined when it does not exist. A file that exists but does not parse throws. */
export async function readJsonIfExists(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  return JSON.parse(text) as unknown;
}
