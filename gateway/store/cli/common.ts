/**
 * What the store's `alpr` commands share: the data directory, who is running the command (every
 * command is an audited access), opening the store, and turning errors into messages and exit
 * codes through the one mapping in errors.ts. The commands open the database directly, so they
 * run with the gateway stopped (its lock says so) until the local API carries them.
 */
import { hostname, userInfo } from 'node:os';
import path from 'node:path';
import type { CliIo } from '../../../models/eval/cli-io.ts';
import type { AccessContext } from '../access.ts';
import type { DetectionStore } from '../detection-store.ts';
import { errorReply } from '../errors.ts';
import { openDetectionStore } from '../open.ts';

export const COMMON_OPTIONS = {
  'data-dir': { type: 'string' },
  user: { type: 'string' },
  purpose: { type: 'string' },
  case: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export const COMMON_USAGE = `  --data-dir <dir>     the gateway's data directory (default $ALPR_DATA_DIR, else /data)
  --user <name>        who runs this (default: the login name); recorded in the audit log
  --purpose <text>     why; recorded in the audit log
  --json               one JSON object on the last line of stdout
  -h, --help           this text`;

export interface CommonValues {
  readonly 'data-dir'?: string | undefined;
  readonly user?: string | undefined;
  readonly purpose?: string | undefined;
  readonly case?: string | undefined;
}

export function dataDir(values: CommonValues, io: CliIo): string {
  return path.resolve(io.cwd, values['data-dir'] ?? process.env.ALPR_DATA_DIR ?? '/data');
}

export function accessOf(values: CommonValues, defaultPurpose: string): AccessContext {
  return {
    user: values.user ?? userInfo().username,
    source: `cli@${hostname()}`,
    purpose: values.purpose ?? defaultPurpose,
    ...(values.case !== undefined ? { caseNumber: values.case } : {}),
  };
}

/** Opens the store (events printed to stderr as JSON lines), runs `fn`, closes it. */
export async function withStore(dir: string, io: CliIo, fn: (store: DetectionStore) => Promise<number>): Promise<number> {
  const store = await openDetectionStore({ dataDir: dir, events: { emit: (e) => void io.stderr.write(`event ${JSON.stringify({ ...e, receipt: undefined, jws: undefined })}\n`) } });
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

/** Prints an error the way the one mapping says, and returns its exit code. */
export function fail(io: CliIo, command: string, err: unknown): number {
  const reply = errorReply(err);
  io.stderr.write(`alpr ${command}: ${reply.code === 'internal' ? (err as Error).message : reply.message}\n`);
  return reply.exitCode;
}
