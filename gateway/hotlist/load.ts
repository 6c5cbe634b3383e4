/**
 * Loads whatever sits at the hot-list path: an imported `*.hotlist` file (production), or a
 * development CSV of public columns (the demo, tests). Told apart by content, not by name.
 */
import { open, readFile, stat } from 'node:fs/promises';
import { decodeHotlistBytes, HotlistError, parseHotlistCsv } from './csv.ts';
import { LIST_FORMAT } from './list-file.ts';
import { readListFile } from './list-reader.ts';
import type { LoadedList } from './matcher.ts';
import { tableFromEntries } from './table.ts';

/** A development CSV larger than this is surely meant to be imported. */
const MAX_CSV_BYTES = 64 << 20;

async function startsWithListHeader(path: string): Promise<boolean> {
  const handle = await open(path, 'r');
  try {
    const head = Buffer.alloc(64);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    return head.toString('latin1', 0, bytesRead).replace(/\s/g, '').startsWith(`{"format":"${LIST_FORMAT}"`);
  } finally {
    await handle.close();
  }
}

export async function loadList(path: string): Promise<LoadedList> {
  let size: number;
  let mtimeMs: number;
  try {
    ({ size, mtimeMs } = await stat(path));
  } catch (err) {
    throw new HotlistError(path, [`cannot read the file: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`]);
  }
  if (await startsWithListHeader(path)) return readListFile(path);
  if (size > MAX_CSV_BYTES) throw new HotlistError(path, [`a CSV of ${size} bytes: convert large lists with \`alpr hotlist import\``]);
  const list = parseHotlistCsv(decodeHotlistBytes(await readFile(path), path), path);
  return {
    // A development CSV has no generation time of its own; its modification time stands in.
    info: { listId: list.listId, version: list.version, generatedAt: mtimeMs, source: `${path} (development CSV, public columns only)` },
    table: tableFromEntries(list.entries),
  };
}
