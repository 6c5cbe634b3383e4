/** Files that survive a yanked cable: written to a temporary name, fsynced, renamed, directory fsynced. */
import { open, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fsyncDir as syncDir } from '../gateway/hotlist/atomic.ts';

export async function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o644): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}-${Date.now()}`;
  const fh = await open(tmp, 'w', mode);
  try {
    await fh.writeFile(data);
    // open()'s mode is filtered by the umask; a key must end up 0600 whatever the umask says
    await fh.chmod(mode);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
  await syncDir(dirname(path));
}

/** Makes a rename in `dir` durable (the one helper every store uses). */
export { syncDir };
