/**
 * A scripted stand-in for an ffmpeg child process, for unit tests of the supervisor: it records
 * what it was sent (stdin bytes, signals) and exits when the test or its behaviour says so.
 */
import { EventEmitter } from 'node:events';
import { PassThrough, Writable } from 'node:stream';
import type { ChildHandle, SpawnFn } from '../../../drivers/camera/child.ts';

export interface FakeBehaviour {
  /** Exit with code 0 when 'q' arrives on stdin (ffmpeg's own behaviour). Default true. */
  readonly quitsOnQ?: boolean;
  /** Exit when SIGTERM arrives. Default true. */
  readonly diesOnTerm?: boolean;
}

let nextPid = 40_000;

export class FakeChild extends EventEmitter implements ChildHandle {
  readonly pid: number | undefined;
  readonly args: readonly string[];
  readonly stdout = new PassThrough();
  readonly stderr = new PassThrough();
  readonly stdin: Writable;
  readonly signals: NodeJS.Signals[] = [];
  stdinText = '';
  exitCode: number | null = null;
  signalCode: NodeJS.Signals | null = null;
  readonly #behaviour: FakeBehaviour;

  constructor(args: readonly string[], behaviour: FakeBehaviour = {}, spawnFails = false) {
    super();
    this.args = args;
    this.#behaviour = behaviour;
    this.pid = spawnFails ? undefined : nextPid++;
    this.stdin = new Writable({
      write: (chunk: Buffer, _enc, done) => {
        this.stdinText += chunk.toString();
        if (chunk.includes('q') && (this.#behaviour.quitsOnQ ?? true)) this.exit(0);
        done();
      },
    });
    if (spawnFails) {
      process.nextTick(() => {
        const err = Object.assign(new Error('spawn ffmpeg ENOENT'), { code: 'ENOENT' });
        this.emit('error', err);
        this.emit('close', -2, null);
      });
    }
  }

  get running(): boolean {
    return this.pid !== undefined && this.exitCode === null && this.signalCode === null;
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): boolean {
    this.signals.push(signal);
    if (signal === 'SIGKILL' || (signal === 'SIGTERM' && (this.#behaviour.diesOnTerm ?? true))) this.exit(null, signal);
    return true;
  }

  /** Writes raw bytes to stdout (frames). */
  write(bytes: Uint8Array): void {
    this.stdout.write(Buffer.from(bytes));
  }

  say(line: string): void {
    this.stderr.write(`${line}\n`);
  }

  /** Ends the process: exit status now, then 'exit', then 'close' once the pipes have ended. */
  exit(code: number | null, signal: NodeJS.Signals | null = null): void {
    if (!this.running) return;
    this.exitCode = code;
    this.signalCode = signal;
    process.nextTick(() => {
      this.emit('exit', code, signal);
      this.stdout.end();
      this.stderr.end();
      let open = 2;
      const closed = (): void => {
        if (--open === 0) this.emit('close', code, signal);
      };
      this.stdout.once('close', closed);
      this.stderr.once('close', closed);
      // Ended streams only close once read to the end; a consumer may have paused stdout.
      this.stderr.resume();
    });
  }
}

/** A spawn function that makes FakeChildren and remembers them, scripted by `onSpawn`. */
export function fakeSpawner(onSpawn: (child: FakeChild, index: number) => void = () => undefined, behaviour: FakeBehaviour = {}) {
  const children: FakeChild[] = [];
  const spawn: SpawnFn = (_command, args) => {
    const child = new FakeChild(args, behaviour);
    children.push(child);
    process.nextTick(() => onSpawn(child, children.length - 1));
    return child;
  };
  return { spawn, children };
}
