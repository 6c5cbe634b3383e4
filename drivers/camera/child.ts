/**
 * The process side of the ffmpeg supervisor: the narrow child-process shape it needs (so tests can
 * hand in a fake), a ring of the last stderr lines, and the three-stage stop.
 */
import { spawn as nodeSpawn } from 'node:child_process';
import type { Socket } from 'node:net';
import type { Readable, Writable } from 'node:stream';
import type { Timers } from './timers.ts';

/** What the supervisor uses of a ChildProcess. Node's ChildProcess satisfies it. */
export interface ChildHandle {
  readonly pid?: number | undefined;
  readonly stdin: Writable | null;
  readonly stdout: Readable | null;
  readonly stderr: Readable | null;
  readonly exitCode: number | null;
  readonly signalCode: NodeJS.Signals | string | null;
  kill(signal?: NodeJS.Signals): boolean;
  once(event: 'exit', listener: (code: number | null, signal: NodeJS.Signals | null) => void): this;
  once(event: 'close', listener: () => void): this;
  once(event: 'error', listener: (err: Error) => void): this;
}

/**
 * `stdout`: a socket to give the child as its standard output (drivers/camera/output-socket.ts);
 * the child's `stdout` is then null. A spawner that ignores it hands back a child with a stdout.
 */
export type SpawnFn = (command: string, args: readonly string[], stdout?: Socket) => ChildHandle;

export const spawnProcess: SpawnFn = (command, args, stdout) => nodeSpawn(command, args, { stdio: ['pipe', stdout ?? 'pipe', 'pipe'] });

export interface ExitInfo {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Set when the process could not be started at all (e.g. ENOENT). */
  readonly spawnError?: Error;
}

/**
 * Resolves when the process has exited, or failed to start. Node reaps the child when it emits
 * 'exit', so once this resolves there is no zombie. An 'error' after a successful start (a failed
 * kill) is not an exit and is ignored here.
 */
export function watchExit(child: ChildHandle): Promise<ExitInfo> {
  return new Promise((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.once('error', (err) => {
      if (child.pid === undefined) resolve({ code: null, signal: null, spawnError: err });
    });
  });
}

export function hasExited(child: ChildHandle): boolean {
  return child.exitCode !== null || child.signalCode !== null || child.pid === undefined;
}

/** The last `capacity` lines a stream wrote, assembled across chunk boundaries. */
export class LineRing {
  readonly #capacity: number;
  readonly #lines: string[] = [];
  #partial = '';

  constructor(capacity = 100) {
    this.#capacity = capacity;
  }

  /** Adds text; returns the lines it completed. */
  push(text: string): string[] {
    const parts = (this.#partial + text).split(/\r?\n|\r/);
    this.#partial = parts.pop() ?? '';
    // A line without an end that grows past any sane length is kept as a line of its own.
    if (this.#partial.length > 4096) {
      parts.push(this.#partial);
      this.#partial = '';
    }
    const complete = parts.filter((l) => l.trim() !== '');
    for (const l of complete) {
      this.#lines.push(l);
      if (this.#lines.length > this.#capacity) this.#lines.shift();
    }
    return complete;
  }

  /** The kept lines, oldest first, including an unfinished last line. */
  lines(): string[] {
    const tail = this.#partial.trim() ? [this.#partial] : [];
    return [...this.#lines, ...tail].slice(-this.#capacity);
  }
}

export interface StopTimeouts {
  /** Wait after writing 'q' to stdin (ffmpeg finishes its output and exits). Default 2000. */
  readonly quitMs?: number;
  /** Wait after SIGTERM. Default 2000. */
  readonly termMs?: number;
  /** Wait after SIGKILL. Default 2000. */
  readonly killMs?: number;
}

export type StopStage = 'already-exited' | 'quit' | 'sigterm' | 'sigkill' | 'unkillable';

/**
 * Stops a child in three stages, each given its time: 'q' on stdin (ffmpeg's own clean exit),
 * then SIGTERM, then SIGKILL. Resolves with the stage that worked once the child has exited;
 * 'unkillable' only if even SIGKILL did not end it in time (a process stuck in the kernel).
 */
export async function stopChild(
  child: ChildHandle,
  exited: Promise<ExitInfo>,
  timers: Timers,
  timeouts: StopTimeouts = {},
): Promise<StopStage> {
  if (hasExited(child)) return 'already-exited';
  const waitExit = (ms: number): Promise<boolean> =>
    new Promise((resolve) => {
      const handle = timers.setTimeout(() => resolve(false), ms);
      void exited.then(() => {
        timers.clearTimeout(handle);
        resolve(true);
      });
    });
  const stdin = child.stdin;
  if (stdin && stdin.writable) {
    // The child may be gone by the time the write lands: EPIPE is expected then, not an error.
    stdin.on('error', () => undefined);
    stdin.write('q');
    if (await waitExit(timeouts.quitMs ?? 2000)) return 'quit';
  }
  child.kill('SIGTERM');
  if (await waitExit(timeouts.termMs ?? 2000)) return 'sigterm';
  child.kill('SIGKILL');
  if (await waitExit(timeouts.killMs ?? 2000)) return 'sigkill';
  return 'unkillable';
}
