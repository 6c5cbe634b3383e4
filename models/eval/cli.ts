/**
 * The `alpr` command line: a small table of subcommands, each a function of its arguments and
 * the process's streams that returns an exit code. `bin/alpr.mjs` calls main(); `npm run eval`
 * runs this file directly, where a first argument that is not a command means `eval`.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { processIo, type CliIo } from './cli-io.ts';
import { evalCommand } from './eval-command.ts';
import { hotlistCommand } from '../../gateway/hotlist/import-command.ts';
import { auditCommand } from '../../gateway/store/cli/audit-command.ts';
import { evidenceCommand } from '../../gateway/store/cli/evidence-command.ts';
import { holdCommand } from '../../gateway/store/cli/hold-command.ts';
import { otaCommand } from '../../ota/cli/ota-command.ts';

export interface Command {
  /** One line for the command list. */
  readonly summary: string;
  run(argv: readonly string[], io: CliIo): Promise<number>;
}

export const COMMANDS: Readonly<Record<string, Command>> = {
  eval: { summary: 'measure plate recognition on a benchmark folder', run: (argv, io) => evalCommand(argv, io) },
  hotlist: { summary: 'hotlist import: convert hot-list sources into a device list, personal data sealed', run: (argv, io) => hotlistCommand(argv, io) },
  audit: { summary: 'audit verify | sample: check the audit chain; draw the P10 sample of inquiries', run: (argv, io) => auditCommand(argv, io) },
  hold: { summary: 'hold place | list | release: evidence holds kept past retention', run: (argv, io) => holdCommand(argv, io) },
  evidence: { summary: 'evidence export | verify: signed, encrypted evidence bundles (P11)', run: (argv, io) => evidenceCommand(argv, io) },
  ota: { summary: 'ota init | add | sign | rotate | publish | status | keygen: sign and publish updates (TUF)', run: (argv, io) => otaCommand(argv, io) },
  ca: { summary: 'ca init | issue-token | revoke | crl | rotate-ca | list | serve: the reference enrolment CA and EST server', run: async (argv, io) => (await import('../../provisioning/cli/ca-command.ts')).caCommand(argv, io) },
  provision: { summary: 'enrol this device with the EST server (one-time token) and show the certificate', run: async (argv, io) => (await import('../../provisioning/cli/provision-command.ts')).provisionCommand(argv, io) },
  status: { summary: 'one screen: cameras, certificate expiry, hot-list age, outbox, disk, clock, GPS', run: async (argv, io) => (await import('../../provisioning/cli/status-command.ts')).statusCommand(argv, io) },
  selftest: { summary: 'start-of-shift check (P13): cameras, test plate, broker, certificate, clock, disk; non-zero on failure', run: async (argv, io) => (await import('../../provisioning/cli/selftest-command.ts')).selftestCommand(argv, io) },
};

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((k) => k.length));
  const list = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return `usage: alpr <command> [arguments]\n\ncommands:\n${list.join('\n')}\n\nalpr <command> --help describes one.`;
}

export interface MainOptions {
  /** Run this command when the first argument names none (the npm script's behaviour). */
  readonly defaultCommand?: string;
}

export async function main(argv: readonly string[], io: CliIo = processIo(), options: MainOptions = {}): Promise<number> {
  const [first, ...rest] = argv;
  if (first !== undefined && Object.hasOwn(COMMANDS, first)) return COMMANDS[first]!.run(rest, io);
  if (options.defaultCommand !== undefined) return COMMANDS[options.defaultCommand]!.run(argv, io);
  if (first === '-h' || first === '--help' || first === 'help') {
    io.stdout.write(`${usage()}\n`);
    return 0;
  }
  io.stderr.write(`${first === undefined ? '' : `alpr: unknown command ${JSON.stringify(first)}\n\n`}${usage()}\n`);
  return 2;
}

function runAsScript(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return realpathSync(script) === fileURLToPath(import.meta.url);
  } catch {
    return false; // argv[1] is not a file (node -e, a REPL): imported, not run
  }
}

if (runAsScript()) {
  process.exitCode = await main(process.argv.slice(2), processIo(), { defaultCommand: 'eval' });
}
