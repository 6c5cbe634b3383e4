/** What a CLI command may touch of its process, so tests run commands without one. */
import type { ProgressSink } from './progress.ts';

export interface CliIo {
  readonly stdout: { write(chunk: string): unknown };
  readonly stderr: ProgressSink;
  /** Relative paths in arguments resolve against this. */
  readonly cwd: string;
}

export function processIo(): CliIo {
  // `npm run eval -- <folder>` runs in the package root; INIT_CWD is where the user typed it.
  return { stdout: process.stdout, stderr: process.stderr, cwd: process.env.INIT_CWD ?? process.cwd() };
}
