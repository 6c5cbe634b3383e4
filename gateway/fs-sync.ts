/** fsync of a directory: makes the names created, renamed or removed in it survive a power cut. */
import { open } from 'node:fs/promises';

export async function syncDir(path: string): Promise<void> {
  const dir = await open(path, 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}
