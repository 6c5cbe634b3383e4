import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HotlistError } from '../../../gateway/hotlist/csv.ts';
import { HEADER_BYTES, ListFileError, ListFileWriter, writeListFile } from '../../../gateway/hotlist/list-file.ts';
import { readListFile } from '../../../gateway/hotlist/list-reader.ts';
import { loadList } from '../../../gateway/hotlist/load.ts';
import type { HotlistEntry } from '../../../gateway/types.ts';

const GENERATED = Date.parse('2026-06-01T06:00:00Z');
const ENTRIES: HotlistEntry[] = [
  { id: 'stolen-vehicle:7ABC123:ca', plate: '7ABC123', state: 'ca', listType: 'stolen-vehicle', priority: 70, sealed: 'eyJhbGciOi.one.two.three.four' },
  { id: 'case-24-001', plate: '8XYZ456', listType: 'amber', priority: 100, effective: GENERATED - 1000, expires: GENERATED + 86_400_000, covert: true, sealed: 'eyJ.b.c.d.e' },
  { id: 'partial:4TRK?19', plate: '4TRK?19', listType: 'partial', priority: 60 },
  { id: 'quote"and\\slash', plate: 'AB12', state: 'tx', listType: 'bolo', priority: 60 },
];

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'hotlist-file-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const meta = { listId: 'ncic-ca', generatedAt: GENERATED, source: 'test.csv (alpr, 4 rows)', sealedTo: 'kid-1' };

describe('the device list file', () => {
  it('reads back every entry, id and sealed blob included, with its header', async () => {
    const path = join(dir, 'list.hotlist');
    const header = await writeListFile(path, meta, ENTRIES);
    expect(header).toMatchObject({ format: 'alpr-hotlist', formatVersion: 1, listId: 'ncic-ca', entries: 4, wildcards: 1, sealedTo: 'kid-1', generatedAt: '2026-06-01T06:00:00.000Z' });
    expect(header.version).toMatch(/^[0-9a-f]{12}$/);
    const list = await readListFile(path);
    expect(list.info).toEqual({ listId: 'ncic-ca', version: header.version, generatedAt: GENERATED, source: meta.source });
    expect(Array.from({ length: list.table.size }, (_, i) => list.table.entry(i))).toEqual(ENTRIES);
    // The default id is not stored: rebuilt from the public fields.
    expect(readFileSync(path, 'utf8')).not.toContain('stolen-vehicle:7ABC123:ca');
    list.table.close();
  });

  it('changes version whenever the content does, not when only the time does', async () => {
    const a = await writeListFile(join(dir, 'a.hotlist'), meta, ENTRIES);
    const b = await writeListFile(join(dir, 'b.hotlist'), { ...meta, generatedAt: GENERATED + 1 }, ENTRIES);
    const c = await writeListFile(join(dir, 'c.hotlist'), meta, ENTRIES.slice(1));
    expect(b.version).toBe(a.version);
    expect(c.version).not.toBe(a.version);
  });

  it('replaces a file atomically and leaves no temp file behind, finished or aborted', async () => {
    const path = join(dir, 'list.hotlist');
    await writeListFile(path, meta, ENTRIES);
    const before = readFileSync(path);
    const writer = await ListFileWriter.create(path);
    await writer.add(ENTRIES[0]!);
    await writer.abort();
    expect(readFileSync(path).equals(before)).toBe(true);
    await expect(writeListFile(path, { ...meta, source: 'x'.repeat(HEADER_BYTES) }, ENTRIES)).rejects.toThrow(/does not fit/);
    expect(readFileSync(path).equals(before)).toBe(true);
    expect(readdirSync(dir)).toEqual(['list.hotlist']);
  });

  it.each([
    ['truncated', (b: Buffer) => b.subarray(0, b.length - 10), /truncated or appended to/],
    ['a flipped byte in the public section', (b: Buffer) => {
      const c = Buffer.from(b);
      c[c.length - 30] = c[c.length - 30] === 0x31 ? 0x32 : 0x31;
      return c;
    }, /checksum|entry/],
    ['from a newer gateway', (b: Buffer) => Buffer.from(b.toString('latin1').replace('"formatVersion":1', '"formatVersion":7'), 'latin1'), /format version 7.*update the gateway first/],
    ['not a list at all', () => Buffer.from('{"format":"alpr-hotlist"\nnonsense'), /first line is not JSON/],
  ])('refuses a file %s with a ListFileError', async (_name, damage, reason) => {
    const path = join(dir, 'list.hotlist');
    await writeListFile(path, meta, ENTRIES);
    writeFileSync(path, damage(readFileSync(path)));
    const err = await readListFile(path).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(ListFileError);
    expect(err).toBeInstanceOf(HotlistError);
    expect((err as Error).message).toMatch(reason);
  });

  it('loads a list file or a development CSV from the same path, told apart by content', async () => {
    const path = join(dir, 'hotlist.csv');
    writeFileSync(path, 'plate,list_type\nABC123,bolo\n');
    expect((await loadList(path)).info.source).toMatch(/development CSV/);
    await writeListFile(path, meta, ENTRIES);
    const list = await loadList(path);
    expect(list.info.listId).toBe('ncic-ca');
    list.table.close();
    await expect(loadList(join(dir, 'missing.hotlist'))).rejects.toThrow(/cannot read the file: ENOENT/);
  });
});
