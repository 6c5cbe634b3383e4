/**
 * Durable file replacement: write a temp file beside the target, fsync it, rename it over the
 * target, fsync the directory. After a power cut the target is the old file or the new one,
 * never a mix (CONVENTIONS.md, "Durable writes survive a yanked cable").
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** A temp name in the target's directory (rename is atomic only within one file system). */
export function tempPathFor(target: string): string {
  return join(dirname(target), `.${basename(target)}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
}

/** Makes a rename in `dir` durable. */
export async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export async function fsyncFile(path: string): Promise<void> {
  const handle = await open(path, 'r+');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Renames a finished, fsynced temp file over `target` and makes the rename durable. */
export async function commitTemp(temp: string, target: string): Promise<void> {
  await rename(temp, target);
  await fsyncDir(dirname(target));
}
