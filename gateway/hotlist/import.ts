/**
 * Agency-side conversion of source files (alpr or NCIC-extract CSV) into the device's list file,
 * personal fields sealed to the dispatch key (P4). Two streaming passes over the sources: the
 * first checks every row and reports every problem with its line (minutes of sealing are not
 * spent on a list that will be rejected); the second seals and writes. The output is written to
 * a temp file and renamed into place only when complete: on any failure the previous list file
 * at `out` is untouched.
 */
import { createReadStream } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import type { HotlistType } from '../types.ts';
import { CsvTokenizer, firstInvalidUtf8, HotlistError, type Row } from './csv.ts';
import { ListFileWriter, type ListHeader } from './list-file.ts';
import { planColumns, RowChecker, SeenEntries, type CheckedRow, type ColumnPlan, type SourceFormat } from './rows.ts';
import { sealPersonal, type DispatchKey } from './seal.ts';

export interface ImportOptions {
  readonly files: readonly string[];
  readonly out: string;
  readonly dispatchKey: DispatchKey;
  /** Default: the output file's name without extension. */
  readonly listId?: string;
  /** List type of NCIC-format files (they carry none). Default stolen-vehicle. */
  readonly listType?: HotlistType;
  /** When the source data was extracted, ms since epoch. Default: now. */
  readonly generatedAt?: number;
  readonly now?: () => number;
  /** Blobs sealed concurrently (WebCrypto work runs off the main thread). */
  readonly concurrency?: number;
  readonly minWildcardLiterals?: number;
  /** Called as bytes of the sources are consumed; `pass` 1 checks, 2 seals. */
  readonly onProgress?: (pass: 1 | 2, done: number, total: number, rows: number) => void;
}

export interface SourceSummary {
  readonly file: string;
  readonly format: SourceFormat;
  readonly rows: number;
}

export interface ImportResult {
  readonly header: ListHeader;
  readonly sources: readonly SourceSummary[];
}

/** Rows of one file, decoded strictly as UTF-8, with the reason when it is not. */
async function* readRows(file: string, onBytes: (n: number) => void): AsyncGenerator<Row> {
  const tokenizer = new CsvTokenizer(basename(file));
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const rows: Row[] = [];
  let first = true;
  let sawBytes = false;
  const fail = (reason: string): never => {
    throw new HotlistError(file, [reason]);
  };
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    if (first && ((chunk[0] === 0xff && chunk[1] === 0xfe) || (chunk[0] === 0xfe && chunk[1] === 0xff))) fail('the file is UTF-16 text: export it as UTF-8 (CSV UTF-8)');
    first = false;
    if (chunk.length) sawBytes = true;
    const nul = chunk.indexOf(0);
    if (nul >= 0) fail(`line ${tokenizer.currentLine + countNewlines(chunk, nul)}: a NUL byte: binary data, not CSV text`);
    let text: string;
    try {
      text = decoder.decode(chunk, { stream: true });
    } catch {
      fail(`line ${tokenizer.currentLine + countNewlines(chunk, firstInvalidUtf8(chunk))}: not UTF-8 text (another encoding such as Windows-1252?): export it as UTF-8`);
    }
    tokenizer.push(text!, rows);
    yield* rows;
    rows.length = 0;
    onBytes(chunk.length); // after the chunk's rows, so progress counts them
  }
  try {
    tokenizer.push(decoder.decode(), rows);
  } catch {
    fail(`line ${tokenizer.currentLine}: not UTF-8 text (the file ends inside a character)`);
  }
  if (!sawBytes) fail('the file is empty: expected a header line and at least one entry');
  yield* tokenizer.end(rows);
}

function countNewlines(chunk: Buffer, end: number): number {
  let n = 0;
  for (let i = 0; i < end; i++) if (chunk[i] === 0x0a) n++;
  return n;
}

interface Pass {
  readonly onBytes: (n: number) => void;
  readonly onRow: (row: CheckedRow) => Promise<void> | void;
}

/** One pass over every source; returns each file's checker for its problems and counts. */
async function pass(options: ImportOptions, pass: Pass): Promise<{ checker: RowChecker; plan: ColumnPlan | undefined; file: string }[]> {
  const seen = new SeenEntries();
  const results = [];
  for (const file of options.files) {
    const name = options.files.length > 1 ? basename(file) : '';
    let plan: ColumnPlan | undefined;
    let checker: RowChecker | undefined;
    for await (const row of readRows(file, pass.onBytes)) {
      if (!plan) {
        plan = planColumns(row, 'import', {
          ...(options.listType ? { listType: options.listType } : {}),
          ...(options.minWildcardLiterals !== undefined ? { minWildcardLiterals: options.minWildcardLiterals } : {}),
        });
        if (plan.problems.length) throw new HotlistError(file, plan.problems);
        checker = new RowChecker(plan, seen, name);
        continue;
      }
      const checked = checker!.check(row);
      if (checked) await pass.onRow(checked);
    }
    if (!checker) throw new HotlistError(file, ['the file is empty: expected a header line and at least one entry']);
    if (checker.rows === 0) throw new HotlistError(file, ['no entries after the header line']);
    results.push({ checker, plan, file });
  }
  return results;
}

export async function importHotlist(options: ImportOptions): Promise<ImportResult> {
  if (options.files.length === 0) throw new HotlistError('import', ['no source files given']);
  const now = options.now ?? Date.now;
  const total = (await Promise.all(options.files.map(async (f) => {
    try {
      return (await stat(f)).size;
    } catch (err) {
      throw new HotlistError(f, [`cannot read the file: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`]);
    }
  }))).reduce((a, b) => a + b, 0);

  // Pass 1: check everything, keep nothing but what duplicate detection needs.
  let done = 0;
  let rows = 0;
  const checked = await pass(options, {
    onBytes: (n) => options.onProgress?.(1, (done += n), total, rows),
    onRow: () => void rows++,
  });
  const problems = checked.flatMap((c) => c.checker.problems.map((p) => (options.files.length > 1 ? `${basename(c.file)}: ${p}` : p)));
  const unreported = checked.reduce((s, c) => s + c.checker.unreported, 0);
  if (problems.length) throw new HotlistError(options.files.length > 1 ? options.files.join(', ') : options.files[0]!, problems, unreported);

  // Pass 2: seal and write. The rows are the same rows: pass 1 accepted every one of them.
  await mkdir(dirname(options.out), { recursive: true });
  const writer = await ListFileWriter.create(options.out);
  const concurrency = options.concurrency ?? 64;
  let batch: CheckedRow[] = [];
  const flush = async (): Promise<void> => {
    const sealed = await Promise.all(batch.map((r) => (Object.keys(r.personal).length ? sealPersonal(options.dispatchKey, r.entry.id, r.personal) : undefined)));
    for (let i = 0; i < batch.length; i++) await writer.add(sealed[i] ? { ...batch[i]!.entry, sealed: sealed[i]! } : batch[i]!.entry);
    batch = [];
  };
  done = 0;
  rows = 0;
  try {
    const second = await pass(options, {
      onBytes: (n) => options.onProgress?.(2, (done += n), total, rows),
      onRow: async (row) => {
        rows++;
        batch.push(row);
        if (batch.length >= concurrency) await flush();
      },
    });
    await flush();
    const sources = second.map((c) => ({ file: basename(c.file), format: c.plan!.format, rows: c.checker.rows }));
    const header = await writer.finish({
      listId: options.listId ?? basename(options.out).replace(/\.[^.]*$/, ''),
      generatedAt: options.generatedAt ?? now(),
      source: sources.map((s) => `${s.file} (${s.format}, ${s.rows} rows)`).join('; ').slice(0, 4000),
      sealedTo: options.dispatchKey.kid,
    });
    return { header, sources };
  } catch (err) {
    await writer.abort();
    throw err;
  }
}
