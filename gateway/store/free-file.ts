/**
 * Freeing a large file without stalling the synced writes beside it. Unlinking a quarter-gigabyte
 * at once is one large filesystem journal commit, and every fdatasync of the writer waits for it
 * (measured: 100–200 ms stalls); truncating it a slice at a time with a pause between lets the
 * writer's syncs through.
 */
import { open, rm, stat } from 'node:fs/promises';

const STEP = 16 * 1024 * 1024;
const PAUSE_MS = 5;

export type Pause = (ms: number) => Promise<void>;

export const realPause: Pause = (ms) => new Promise((r) => setTimeout(r, ms));

/** Truncates `path` in steps, then unlinks it; returns the bytes it held (0 if it was not there). */
export async function freeFile(path: string, pause: Pause = realPause): Promise<number> {
  let size = 0;
  try {
    size = (await stat(path)).size;
    if (size > STEP) {
      const fh = await open(path, 'r+');
      try {
        for (let left = size - STEP; left > 0; left -= STEP) {
          await fh.truncate(left);
          await pause(PAUSE_MS);
        }
      } finally {
        await fh.close();
      }
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await rm(path, { force: true });
  return size;
}
