/** SHA-256 and length of a file, streamed (firmware bundles do not fit in memory on a Pi). */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';

export async function hashFile(file: string, progress?: { bytes(done: number, total: number): void }): Promise<{ sha256: string; length: number }> {
  const total = (await stat(file)).size;
  const hash = createHash('sha256');
  let length = 0;
  for await (const chunk of createReadStream(file)) {
    hash.update(chunk as Buffer);
    length += (chunk as Buffer).length;
    progress?.bytes(length, total);
  }
  return { sha256: hash.digest('hex'), length };
}
