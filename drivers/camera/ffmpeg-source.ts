/**
 * A camera read by a supervised ffmpeg child: RTSP (over TCP) or a file played as a camera,
 * decoded to raw I420 at a fixed rate and cut into frames on stdout.
 *
 * Supervision (CONVENTIONS.md, "ffmpeg is a supervised child"): a stall watchdog restarts a child
 * that stops delivering; a child that dies is restarted with capped exponential backoff, which only
 * resets once a child has streamed for `stableAfterMs` (the restart-rate limit: a flapping camera
 * cannot make us spin); stop() goes 'q' → SIGTERM → SIGKILL and resolves once the child is gone.
 * Credentials never reach a log line, an error or the status. The last ~100 stderr lines are kept
 * and shown only when the child dies unexpectedly.
 *
 * Lifecycle: the child starts when frames() is first pulled. A file without `loop` ends the
 * iteration at its end; a file that cannot be read fails it after `maxFileFailures` tries in a row
 * (throwing CameraError); an RTSP camera reconnects until stop(). Breaking out of the iteration
 * stops the source.
 */
import pino from 'pino';
import type { Logger } from 'pino';
import { Backoff } from './backoff.ts';
import type { BackoffOptions } from './backoff.ts';
import { LineRing, hasExited, spawnProcess, stopChild, watchExit } from './child.ts';
import type { ChildHandle, ExitInfo, SpawnFn, StopTimeouts } from './child.ts';
import { buildFfmpegArgs, isNetworkUrl, parseOutputVideoSize } from './ffmpeg-args.ts';
import type { FfmpegInputSpec } from './ffmpeg-args.ts';
import { FramePool } from './frame-pool.ts';
import { RawFrameParser } from './frame-parser.ts';
import { Mailbox, mailboxIterable } from './mailbox.ts';
import type { HandoffPolicy } from './mailbox.ts';
import { openOutputSocket } from './output-socket.ts';
import type { OutputSocket } from './output-socket.ts';
import { redactorFor } from './redact.ts';
import { i420Bytes } from '../../models/yuv.ts';
import { delay, systemTimers } from './timers.ts';
import type { Timers } from './timers.ts';
import type { CameraState, CameraStatus, Frame, FrameSource } from './types.ts';

export interface FfmpegFrameSourceOptions extends FfmpegInputSpec {
  readonly cameraId: string;
  readonly ffmpegPath?: string;
  /** Logs go to a child `{module: 'camera', cameraId}` of it (bindings it already has are kept); silent when absent. */
  readonly logger?: Logger;
  /** No frame for this long while streaming: kill and restart (default 10 000 ms). */
  readonly stallTimeoutMs?: number;
  /** No first frame this long after spawning (connect, first keyframe): same (default 20 000 ms). */
  readonly startTimeoutMs?: number;
  readonly backoff?: BackoffOptions;
  /** A child that streamed this long resets the backoff (default 30 000 ms). */
  readonly stableAfterMs?: number;
  /** Files: give up after this many failed starts in a row without a frame (default 3). */
  readonly maxFileFailures?: number;
  readonly stopTimeouts?: StopTimeouts;
  /** Default: 'backpressure' for a file read as fast as possible, 'latest' otherwise. */
  readonly handoff?: HandoffPolicy;
  readonly timers?: Timers;
  readonly spawn?: SpawnFn;
  /**
   * Read ffmpeg's output through a unix socket into one reused buffer (output-socket.ts) rather
   * than a pipe, whose every read allocates. Default: true with the real spawner, false when
   * `spawn` is given (a stand-in child brings its own stdout).
   */
  readonly socketOutput?: boolean;
}

/** The camera could not be read and will not be retried (files only; RTSP retries forever). */
export class CameraError extends Error {
  readonly cameraId: string;
  /** ffmpeg's last stderr lines, redacted. */
  readonly stderrTail: readonly string[];

  constructor(cameraId: string, message: string, stderrTail: readonly string[] = []) {
    super(message);
    this.name = 'CameraError';
    this.cameraId = cameraId;
    this.stderrTail = stderrTail;
  }
}

type ChildOutcome = 'ended' | 'failed' | 'stopped';

const STDERR_LINES = 100;
/** Raw output held while ffmpeg has not yet said the frame size; past this, something is wrong. */
const MAX_EARLY_BYTES = 64 * 1024 * 1024;

/** ffmpeg's output socket, and where its reads go (set once the child's run exists). */
interface OutputChannel {
  readonly socket: OutputSocket;
  route: (chunk: Uint8Array) => void;
}

/** Everything about one ffmpeg child, from spawn to exit. */
interface ChildRun {
  readonly child: ChildHandle;
  readonly exited: Promise<ExitInfo>;
  /** What we read ffmpeg's frames from (the output socket's end, or the child's stdout pipe). */
  readonly output: { pause(): void; resume(): void } | undefined;
  /** Resolves once the child has exited and all its output has been read. */
  readonly drained: Promise<void>;
  readonly stderr: LineRing;
  /** Set when the first frame arrives (timers.now()). */
  streamingSince: number | undefined;
  /** Why we are ending it ourselves, if we are: the status message to show. */
  killedBecause: string | undefined;
  paused: boolean;
  resume(): void;
}

export class FfmpegFrameSource implements FrameSource {
  readonly cameraId: string;
  readonly #opts: FfmpegFrameSourceOptions;
  readonly #timers: Timers;
  readonly #spawn: SpawnFn;
  readonly #redact: (text: string) => string;
  readonly #isNetwork: boolean;
  readonly #log: Logger;
  readonly #backoff: Backoff;
  readonly #stop = new AbortController();
  /** Buffers of frames released or dropped, for the next ones (issue #4). */
  readonly #pool = new FramePool();
  readonly #alloc = (bytes: number): Buffer => this.#pool.take(bytes);
  #mailbox: Mailbox<Frame> | undefined;
  #supervisor: Promise<void> | undefined;
  #stopping: Promise<void> | undefined;
  #current: ChildRun | undefined;
  #watchdog: unknown;
  #state: CameraState = 'idle';
  #framesIn = 0;
  #restarts = 0;
  #seq = 0;
  #lastError: string | undefined;

  constructor(opts: FfmpegFrameSourceOptions) {
    this.cameraId = opts.cameraId;
    this.#opts = opts;
    this.#timers = opts.timers ?? systemTimers;
    this.#spawn = opts.spawn ?? spawnProcess;
    this.#redact = redactorFor(opts.url);
    this.#isNetwork = isNetworkUrl(opts.url);
    const base = opts.logger ?? pino({ enabled: false });
    const bound = base.bindings();
    // Bind only what the caller has not bound already (a repeated key shows twice in pino's JSON).
    this.#log = base.child({ ...(bound['module'] ? {} : { module: 'camera' }), ...(bound['cameraId'] ? {} : { cameraId: opts.cameraId }) });
    this.#backoff = new Backoff(opts.backoff);
  }

  /** The URL as it may be shown: password masked. */
  get displayUrl(): string {
    return this.#redact(this.#opts.url);
  }

  status(): CameraStatus {
    return {
      cameraId: this.cameraId,
      state: this.#state,
      framesIn: this.#framesIn,
      framesDropped: this.#mailbox?.dropped ?? 0,
      restarts: this.#restarts,
      ...(this.#lastError !== undefined ? { lastError: this.#lastError } : {}),
    };
  }

  frames(): AsyncIterable<Frame> {
    if (this.#mailbox) throw new Error(`camera ${this.cameraId}: frames() can be iterated only once`);
    const policy = this.#opts.handoff ?? (!this.#isNetwork && !this.#opts.realtime ? 'backpressure' : 'latest');
    const mailbox = new Mailbox<Frame>(policy, () => this.#current?.resume(), (frame) => frame.release?.());
    this.#mailbox = mailbox;
    return mailboxIterable(mailbox, () => {
      this.#supervisor ??= this.#supervise();
    }, () => this.stop());
  }

  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      this.#stop.abort();
      this.#mailbox?.close({ discard: true });
      const run = this.#current;
      if (run) {
        // A paused reader would leave ffmpeg blocked on a full pipe, deaf to 'q'.
        run.output?.resume();
        const stage = await stopChild(run.child, run.exited, this.#timers, this.#opts.stopTimeouts);
        this.#log.info({ stage }, 'ffmpeg stopped');
        if (stage === 'unkillable') this.#log.error({ pid: run.child.pid }, 'ffmpeg did not exit after SIGKILL');
      }
      await this.#supervisor;
      this.#state = 'stopped';
    })();
    return this.#stopping;
  }

  async #supervise(): Promise<void> {
    let fileFailures = 0;
    try {
      while (!this.#stop.signal.aborted) {
        const framesBefore = this.#framesIn;
        const channel = (this.#opts.socketOutput ?? this.#opts.spawn === undefined) ? await this.#openOutput() : undefined;
        if (this.#stop.signal.aborted) {
          channel?.socket.childEnd.destroy();
          channel?.socket.reader.destroy();
          return;
        }
        const run = this.#startChild(channel);
        const outcome = await this.#awaitChild(run);
        if (outcome === 'stopped' || this.#stop.signal.aborted) return;
        if (outcome === 'ended' && !this.#isNetwork && !this.#opts.loop) {
          this.#log.info('end of file');
          this.#state = 'stopped';
          this.#mailbox?.close();
          return;
        }
        if (run.streamingSince !== undefined && this.#timers.now() - run.streamingSince >= (this.#opts.stableAfterMs ?? 30_000)) {
          this.#backoff.reset();
        }
        fileFailures = this.#framesIn > framesBefore ? 0 : fileFailures + 1;
        this.#state = 'failed';
        if (!this.#isNetwork && fileFailures >= (this.#opts.maxFileFailures ?? 3)) {
          const message = `camera ${this.cameraId}: giving up on ${this.displayUrl} after ${fileFailures} failed starts: ${this.#lastError?.split('\n')[0] ?? 'unknown error'}`;
          this.#log.error(message);
          this.#mailbox?.close({ error: new CameraError(this.cameraId, message, run.stderr.lines().map(this.#redact)) });
          return;
        }
        const wait = this.#backoff.next();
        this.#log.info({ delayMs: wait, attempt: this.#backoff.attempt }, 'restarting ffmpeg after backoff');
        if (!(await delay(this.#timers, wait, this.#stop.signal))) return;
        this.#restarts++;
      }
    } catch (err) {
      // A bug in the supervisor itself: fail the iteration rather than leave the consumer hanging.
      this.#state = 'failed';
      this.#lastError = this.#redact(String(err));
      this.#log.error({ err: this.#lastError }, 'camera supervisor failed');
      this.#mailbox?.close({ error: err });
    }
  }

  /** An output socket for the next child; undefined (the child's stdout pipe is read) if none can be made. */
  async #openOutput(): Promise<OutputChannel | undefined> {
    try {
      const routing = { route: (_chunk: Uint8Array): void => undefined };
      const socket = await openOutputSocket((chunk) => routing.route(chunk));
      return Object.assign(routing, { socket });
    } catch (err) {
      this.#log.warn({ err: String(err) }, 'cannot open an output socket for ffmpeg; reading its stdout pipe');
      return undefined;
    }
  }

  #startChild(channel: OutputChannel | undefined): ChildRun {
    const o = this.#opts;
    const args = buildFfmpegArgs(o);
    this.#state = 'starting';
    this.#log.info({ args: args.map((a) => this.#redact(a)) }, 'starting ffmpeg');
    const child = this.#spawn(o.ffmpegPath ?? 'ffmpeg', args, channel?.socket.childEnd);
    // The child has its own descriptor of the socket now (or never will: spawn failed); ours goes.
    channel?.socket.childEnd.destroy();
    // A stand-in spawner may ignore the socket and bring a stdout of its own: read that then.
    const socket = child.stdout ? undefined : channel?.socket.reader;
    if (!socket) channel?.socket.reader.destroy();
    // A read error ends the socket ('close' follows), and so this child's output; never a crash.
    socket?.on('error', (err) => this.#log.warn({ err: String(err) }, 'ffmpeg output socket failed'));
    const closed = new Promise<void>((resolve) => child.once('close', resolve));
    const run: ChildRun = {
      child,
      exited: watchExit(child),
      output: socket ?? child.stdout ?? undefined,
      // 'close' follows 'exit' once the child's pipes are drained; a socket of ours ends apart.
      drained: socket ? Promise.all([closed, new Promise((resolve) => socket.once('close', resolve))]).then(() => undefined) : closed,
      stderr: new LineRing(STDERR_LINES),
      streamingSince: undefined,
      killedBecause: undefined,
      paused: false,
      resume: () => {
        if (!run.paused) return;
        run.paused = false;
        run.output?.resume();
        if (!hasExited(child)) this.#arm(run, o.stallTimeoutMs ?? 10_000);
      },
    };
    this.#current = run;
    this.#arm(run, o.startTimeoutMs ?? 20_000);

    // The frame size: from the options when fully given, else from ffmpeg's banner for its output.
    let parser: RawFrameParser | undefined;
    let size: { width: number; height: number } | undefined;
    if (o.width !== undefined && o.height !== undefined) {
      size = { width: o.width, height: o.height };
      parser = new RawFrameParser(i420Bytes(o.width, o.height), this.#alloc);
    }
    let early: Buffer[] = [];
    let earlyBytes = 0;
    let inOutputSection = false;

    const deliver = (chunk: Uint8Array): void => {
      if (!parser || !size || this.#stop.signal.aborted) return;
      const frames = parser.push(chunk);
      for (const data of frames) {
        const now = this.#timers.now();
        if (run.streamingSince === undefined) {
          run.streamingSince = now;
          this.#state = 'streaming';
          this.#log.info({ width: size.width, height: size.height, fps: o.fps }, 'streaming');
        }
        this.#framesIn++;
        let released = false;
        this.#mailbox?.put({
          format: 'i420',
          cameraId: this.cameraId,
          width: size.width,
          height: size.height,
          data: new Uint8Array(data.buffer, data.byteOffset, data.length),
          capturedAt: now,
          seq: this.#seq++,
          release: () => {
            if (released) return;
            released = true;
            this.#pool.give(data);
          },
        });
      }
      if (this.#mailbox?.policy === 'backpressure' && this.#mailbox.full) {
        // The consumer is behind: stop reading (ffmpeg then blocks on its pipe) and hold the
        // watchdog, since a slow consumer is not a stalled camera. Mailbox drain resumes us.
        if (!run.paused) {
          run.paused = true;
          run.output?.pause();
          this.#disarm();
        }
      } else if (frames.length > 0) {
        this.#arm(run, o.stallTimeoutMs ?? 10_000);
      }
    };

    const onOutput = (chunk: Uint8Array): void => {
      if (size) {
        deliver(chunk);
        return;
      }
      // A socket read is a view into a buffer reused for the next read: keep a copy.
      early.push(Buffer.from(chunk));
      earlyBytes += chunk.length;
      if (earlyBytes > MAX_EARLY_BYTES) {
        early = [];
        this.#kill(run, 'ffmpeg did not report the output frame size');
      }
    };
    if (socket && channel) channel.route = onOutput;
    else child.stdout?.on('data', onOutput);
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (text: string) => {
      for (const line of run.stderr.push(text)) {
        this.#log.debug({ line: this.#redact(line) }, 'ffmpeg');
        if (size) continue;
        if (line.startsWith('Output #0')) inOutputSection = true;
        const found = inOutputSection ? parseOutputVideoSize(line) : undefined;
        if (found) {
          size = found;
          parser = new RawFrameParser(i420Bytes(found.width, found.height), this.#alloc);
          const held = early;
          early = [];
          for (const chunk of held) deliver(chunk);
        }
      }
    });
    // Writing 'q' may hit a pipe that just closed; the exit status tells what happened.
    child.stdin?.on('error', () => undefined);
    return run;
  }

  /** Waits for the child to exit, then classifies the exit and records it in the status. */
  async #awaitChild(run: ChildRun): Promise<ChildOutcome> {
    const exit = await run.exited;
    this.#disarm();
    if (!exit.spawnError) {
      // On stop, drain what is left so that the output can end; otherwise the consumer reads on.
      // Only once it has are the last frames of a file in.
      if (this.#stop.signal.aborted) run.output?.resume();
      await run.drained;
    }
    this.#current = undefined;
    if (this.#stop.signal.aborted) return 'stopped';

    const tail = run.stderr.lines().map(this.#redact);
    if (run.killedBecause !== undefined) {
      this.#lastError = run.killedBecause;
      return 'failed';
    }
    if (exit.spawnError) {
      this.#lastError = this.#redact(`ffmpeg could not start: ${exit.spawnError.message}`);
      this.#log.error({ err: this.#lastError }, 'ffmpeg could not start');
      return 'failed';
    }
    if (exit.code === 0) {
      if (this.#isNetwork || this.#opts.loop) {
        this.#lastError = `stream from ${this.displayUrl} ended`;
        this.#log.warn('stream ended; reconnecting');
      }
      return 'ended';
    }
    const how = exit.signal ? `signal ${exit.signal}` : `code ${exit.code}`;
    const reason = tail[tail.length - 1];
    this.#lastError = [`ffmpeg exited with ${how}${reason ? `: ${reason}` : ''}`, `--- ffmpeg stderr, last ${tail.length} lines ---`, ...tail].join('\n');
    this.#log.warn({ code: exit.code, signal: exit.signal, stderr: tail }, `ffmpeg exited with ${how}`);
    return 'failed';
  }

  /** (Re)starts the watchdog: no frame within `ms` ends the child, and the supervisor restarts it. */
  #arm(run: ChildRun, ms: number): void {
    this.#disarm();
    this.#watchdog = this.#timers.setTimeout(() => {
      this.#watchdog = undefined;
      const what = run.streamingSince === undefined ? 'no first frame' : 'stream stalled: no frame';
      this.#kill(run, `${what} within ${ms} ms from ${this.displayUrl}; ffmpeg restarted`);
    }, ms);
  }

  #disarm(): void {
    if (this.#watchdog !== undefined) this.#timers.clearTimeout(this.#watchdog);
    this.#watchdog = undefined;
  }

  /** Ends a misbehaving child; its exit is then reported as `reason`. */
  #kill(run: ChildRun, reason: string): void {
    if (run.killedBecause !== undefined) return;
    run.killedBecause = reason;
    this.#log.warn(reason);
    // Quick stages: a stalled ffmpeg rarely answers 'q', and the camera is down meanwhile.
    void stopChild(run.child, run.exited, this.#timers, { quitMs: 500, termMs: 2000, killMs: 2000 });
  }
}
