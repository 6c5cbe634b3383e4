/**
 * The one LevelDB database (through `level`), keys as UTF-8 strings (ASCII in practice, see
 * layout.ts), values as bytes. Compression is off: nearly every value is ciphertext.
 */
import { Level } from 'level';

/** `level` types the portable API; on Node it is classic-level, which also compacts and repairs. */
export type Db = Level<string, Uint8Array> & { compactRange(start: string, end: string): Promise<void> };

export async function repairDb(location: string): Promise<void> {
  await (Level as unknown as { repair(location: string): Promise<void> }).repair(location);
}

export function createDb(location: string): Db {
  return new Level<string, Uint8Array>(location, {
    keyEncoding: 'utf8',
    valueEncoding: 'view',
    compression: false,
    // Values are small (images live in blob files), so LevelDB's own sizes suit; a small write
    // buffer also keeps short the flush that each purge's compaction forces while writers wait.
    writeBufferSize: 4 * 1024 * 1024,
    maxFileSize: 4 * 1024 * 1024,
  } as ConstructorParameters<typeof Level<string, Uint8Array>>[1]) as Db;
}

/** Options for writes that acknowledge data: on disk (fsync) before the promise resolves. */
export const SYNC = { sync: true } as const;

export type BatchOp = { type: 'put'; key: string; value: Uint8Array } | { type: 'del'; key: string };
