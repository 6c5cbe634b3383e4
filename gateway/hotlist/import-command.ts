/**
 * `alpr hotlist import <file>... --dispatch-key <key> --out <list>`: the agency-side conversion
 * (import.ts) as a command. Progress on stderr (large NCIC extracts take minutes to seal); the
 * result on stdout, with --json one JSON object on the last line.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createProgress, type Progress } from '../../models/eval/progress.ts';
import type { CliIo } from '../../models/eval/cli-io.ts';
import { HOTLIST_TYPES, type HotlistType } from '../types.ts';
import { HotlistError } from './csv.ts';
import { importHotlist } from './import.ts';
import { loadDispatchKey, SealError } from './seal.ts';

export const HOTLIST_USAGE = `usage: alpr hotlist import <file>... --dispatch-key <key> --out <list file> [options]

Converts hot-list source files into the device's list file. Every field except plate, state,
list type, priority, dates and covert is sealed (JWE, ECDH-ES+A256KW / A256GCM) to the dispatch
center's public key; the device can match on the list but cannot read the personal data.

Sources are CSV with a header, UTF-8:
  alpr format   plate, list_type, state, priority, effective, expires, covert, id, and the
                personal columns source, entered_by, case_number, synopsis, ncic_number, agency,
                vin, make, model, year, colour, notes, contact. Rows whose source is "local"
                (the default) need entered_by, case_number and synopsis.
  ncic format   NCIC field codes: LIC (plate), LIS (state), LIT, LIY, VIN, VYR, VMA, VMO, VST,
                VCO, NIC, ORI, OCA, DOT, DTE, MIS, NAM. The list type comes from --list-type.
A plate may be partial: ? for one unknown character, * for any run (at least 4 known).

options:
  --dispatch-key <file>   the dispatch center's P-256 public key: JWK (JSON) or PEM (required)
  --out <file>            the list file to write, atomically (required)
  --list-id <id>          list id (default: the output file's name)
  --list-type <type>      list type of NCIC-format rows (default stolen-vehicle)
  --generated-at <iso>    when the source data was extracted (default: now)
  --json                  print one JSON object instead of a summary
  -h, --help              this text`;

class UsageError extends Error {}

function parse(argv: readonly string[]) {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        'dispatch-key': { type: 'string' },
        out: { type: 'string' },
        'list-id': { type: 'string' },
        'list-type': { type: 'string' },
        'generated-at': { type: 'string' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) return { help: true as const };
  const [sub, ...files] = positionals;
  if (sub !== 'import') throw new UsageError(sub === undefined ? 'expected a subcommand: import' : `unknown subcommand ${JSON.stringify(sub)} (expected import)`);
  if (files.length === 0) throw new UsageError('which file? expected alpr hotlist import <file>...');
  if (!values['dispatch-key']) throw new UsageError('--dispatch-key is required: the sealed fields are encrypted to it');
  if (!values.out) throw new UsageError('--out is required');
  const listType = values['list-type'];
  if (listType !== undefined && !(HOTLIST_TYPES as readonly string[]).includes(listType)) throw new UsageError(`--list-type: expected one of ${HOTLIST_TYPES.join(', ')}`);
  const generatedRaw = values['generated-at'];
  const generatedAt = generatedRaw === undefined ? undefined : Date.parse(generatedRaw);
  if (generatedAt !== undefined && Number.isNaN(generatedAt)) throw new UsageError(`--generated-at: not an ISO 8601 date/time: ${JSON.stringify(generatedRaw)}`);
  if (values['list-id'] !== undefined && !/^[a-z0-9][a-z0-9._-]{0,62}$/i.test(values['list-id'])) throw new UsageError('--list-id: letters, digits, dot, dash and underscore, at most 63');
  return {
    help: false as const,
    files,
    dispatchKey: values['dispatch-key'],
    out: values.out,
    json: values.json,
    ...(values['list-id'] !== undefined ? { listId: values['list-id'] } : {}),
    ...(listType !== undefined ? { listType: listType as HotlistType } : {}),
    ...(generatedAt !== undefined ? { generatedAt } : {}),
  };
}

export interface HotlistCommandDeps {
  readonly now?: () => number;
}

export async function hotlistCommand(argv: readonly string[], io: CliIo, deps: HotlistCommandDeps = {}): Promise<number> {
  let args;
  try {
    args = parse(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    io.stderr.write(`alpr hotlist: ${err.message}\n\n${HOTLIST_USAGE}\n`);
    return 2;
  }
  if (args.help) {
    io.stdout.write(`${HOTLIST_USAGE}\n`);
    return 0;
  }
  const resolve = (p: string): string => path.resolve(io.cwd, p);
  const bars: Partial<Record<1 | 2, Progress>> = {};
  try {
    const dispatchKey = await loadDispatchKey(resolve(args.dispatchKey));
    const result = await importHotlist({
      files: args.files.map(resolve),
      out: resolve(args.out),
      dispatchKey,
      ...(args.listId !== undefined ? { listId: args.listId } : {}),
      ...(args.listType !== undefined ? { listType: args.listType } : {}),
      ...(args.generatedAt !== undefined ? { generatedAt: args.generatedAt } : {}),
      ...(deps.now ? { now: deps.now } : {}),
      onProgress: (pass, done, total, rows) => {
        // KiB keep the numbers readable for files of hundreds of megabytes.
        const bar = (bars[pass] ??= createProgress(io.stderr, Math.ceil(total / 1024), pass === 1 ? 'checking (KiB)' : 'sealing (KiB)'));
        bar.update(Math.ceil(done / 1024), `${rows.toLocaleString('en-US')} rows`);
      },
    });
    bars[1]?.finish();
    bars[2]?.finish();
    const h = result.header;
    if (args.json) io.stdout.write(`${JSON.stringify({ out: resolve(args.out), ...h, sources: result.sources })}\n`);
    else {
      io.stdout.write(`wrote ${resolve(args.out)}: ${h.entries.toLocaleString('en-US')} entries (${h.wildcards} partial plates), list ${h.listId} version ${h.version}\n`);
      io.stdout.write(`  generated ${h.generatedAt}; personal fields sealed to dispatch key ${h.sealedTo}\n`);
      for (const s of result.sources) io.stdout.write(`  ${s.file}: ${s.format} format, ${s.rows.toLocaleString('en-US')} rows\n`);
    }
    return 0;
  } catch (err) {
    bars[1]?.finish();
    bars[2]?.finish();
    if (err instanceof HotlistError || err instanceof SealError) {
      io.stderr.write(`alpr hotlist: ${err.message}\nnothing written; ${args.out} is unchanged.\n`);
      return err instanceof HotlistError ? 65 : 66;
    }
    const code = (err as NodeJS.ErrnoException).code;
    if (typeof code === 'string') {
      io.stderr.write(`alpr hotlist: ${(err as Error).message}\nnothing written; ${args.out} is unchanged.\n`);
      return 74; // EX_IOERR
    }
    throw err;
  }
}
