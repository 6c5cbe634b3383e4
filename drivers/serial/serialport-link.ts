/**
 * SerialLink on serialport's stream over any binding: the native one on the pole
 * (`@serialport/bindings-cpp`), `@serialport/binding-mock` for the twin and tests — the same code
 * path either way, so the twin exercises the real reconnect logic.
 *
 * serialport reports an unplugged device as a `close` event carrying an error with
 * `disconnected: true` (a read failed with something other than a cancel). That, a failed open
 * and an `error` event all lead to the same place: close what is left, wait `backoff.next()`,
 * open again. The backoff resets once a frame has arrived on the new connection — a device that
 * opens and drops at once keeps backing off.
 *
 * A device node that exists when the port opens is also watched (`presenceCheckMs`): udev removes
 * it when the adapter is unplugged, and a port whose node is gone is closed as a disconnect even if
 * the binding never reports the loss (see the hang-up note in attempt()).
 */
import { existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { BindingInterface } from '@serialport/bindings-interface';
import { SerialPortStream } from '@serialport/stream';
import type { Logger } from 'pino';
import { Backoff, type BackoffOptions } from '../camera/backoff.ts';
import type { Timers } from '../camera/timers.ts';
import { SerialNotOpenError, type Framer, type LinkState, type SerialLink, type SerialStatus } from './types.ts';

export interface SerialPortLinkOptions<F> {
  readonly name: string;
  readonly path: string;
  readonly baudRate: number;
  readonly binding: BindingInterface;
  readonly framer: Framer<F>;
  readonly timers: Timers;
  readonly log: Logger;
  /** Reconnect delays; default 500 ms doubling to 30 s. */
  readonly backoff?: BackoffOptions;
  /**
   * While open, how often to check that the device path still exists (real time, independent of
   * `timers`); default 1000 ms, 0 turns it off. Only paths that exist on disk at open are watched.
   */
  readonly presenceCheckMs?: number;
}

export class SerialPortLink<F> implements SerialLink<F> {
  readonly name: string;
  private port: SerialPortStream | undefined;
  private state: LinkState = 'closed';
  private readonly backoff: Backoff;
  private retry: unknown;
  private retryAt: number | undefined;
  private presence: ReturnType<typeof setInterval> | undefined;
  private counters = { opens: 0, disconnects: 0, bytesIn: 0, framesIn: 0 };
  private lastFrameAt: number | undefined;
  private lastError: string | undefined;
  private framedSinceOpen = false;
  private readonly frameListeners = new Set<(frame: F, at: number) => void>();
  private readonly stateListeners = new Set<(state: LinkState, status: SerialStatus) => void>();
  private readonly log: Logger;

  constructor(private readonly options: SerialPortLinkOptions<F>) {
    this.name = options.name;
    this.backoff = new Backoff(options.backoff);
    this.log = options.log.child({ module: 'serial', link: options.name });
  }

  async open(): Promise<void> {
    if (this.state !== 'closed') return;
    await this.attempt();
  }

  onFrame(listener: (frame: F, at: number) => void): () => void {
    this.frameListeners.add(listener);
    return () => this.frameListeners.delete(listener);
  }

  onState(listener: (state: LinkState, status: SerialStatus) => void): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  write(data: Uint8Array | string): Promise<void> {
    const port = this.port;
    if (this.state !== 'open' || !port) return Promise.reject(new SerialNotOpenError(`${this.name} (${this.options.path}): not connected (${this.state})`));
    return new Promise((resolve, reject) => {
      port.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : Buffer.from(data), (err) => {
        if (err) reject(err);
        else port.drain((e) => (e ? reject(e) : resolve()));
      });
    });
  }

  async close(): Promise<void> {
    if (this.state === 'stopped') return;
    this.setState('stopped');
    if (this.retry !== undefined) this.options.timers.clearTimeout(this.retry);
    this.retry = undefined;
    this.retryAt = undefined;
    await this.closePort();
  }

  status(): SerialStatus {
    return {
      name: this.name,
      path: this.options.path,
      state: this.state,
      ...this.counters,
      ...(this.lastFrameAt !== undefined ? { lastFrameAt: this.lastFrameAt } : {}),
      ...(this.lastError !== undefined ? { lastError: this.lastError } : {}),
      ...(this.retryAt !== undefined ? { retryAt: this.retryAt } : {}),
    };
  }

  private async attempt(): Promise<void> {
    this.retry = undefined;
    this.retryAt = undefined;
    this.setState('opening');
    const port = new SerialPortStream({ binding: this.options.binding, path: this.options.path, baudRate: this.options.baudRate, autoOpen: false });
    try {
      await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
    } catch (err) {
      this.failed(err as Error, 'open failed');
      return;
    }
    if (this.state === 'stopped') {
      // close() ran while the open was in flight.
      await closeQuietly(port);
      return;
    }
    this.port = port;
    this.counters.opens++;
    this.framedSinceOpen = false;
    this.options.framer.reset();
    port.on('data', (chunk: Buffer) => this.data(chunk));
    port.on('close', (err: (Error & { disconnected?: boolean }) | null) => {
      this.lost(port, err ?? new Error('port closed'), 'device went away', false);
    });
    port.on('error', (err: Error) => this.lost(port, err, 'port error'));
    // serialport's read loop retries a 0-byte read at once, and a hung-up tty (an unplugged USB
    // adapter, a pty whose other end closed) reads 0 bytes for ever: the stream would spin and
    // never report the loss. The native binding's poller sees the hang-up; listen to it too, and
    // watch the device node, which udev removes on an unplug.
    hangupOf(port)?.once('disconnect', (err) => {
      if (err?.canceled) return;
      this.lost(port, err ?? new Error('the device hung up'), 'device went away');
    });
    this.watchPresence(port);
    this.lastError = undefined;
    this.log.info({ path: this.options.path, baudRate: this.options.baudRate, opens: this.counters.opens }, 'serial port open');
    this.setState('open');
  }

  private data(chunk: Buffer): void {
    this.counters.bytesIn += chunk.length;
    const frames = this.options.framer.push(chunk);
    if (!frames.length) return;
    const at = this.options.timers.now();
    if (!this.framedSinceOpen) {
      this.framedSinceOpen = true;
      this.backoff.reset();
    }
    for (const frame of frames) {
      this.counters.framesIn++;
      this.lastFrameAt = at;
      for (const listener of [...this.frameListeners]) {
        try {
          listener(frame, at);
        } catch (err) {
          // A consumer's bug must not take the port down with it; it is logged, the stream goes on.
          this.log.error({ err: (err as Error).message }, 'frame listener failed');
        }
      }
    }
  }

  /** `port` is gone (once per port): count it, close what is left, and wait to reopen. */
  private lost(port: SerialPortStream, err: Error, what: string, close = true): void {
    if (this.port !== port || this.state === 'stopped') return;
    this.port = undefined;
    this.stopPresence();
    this.counters.disconnects++;
    if (close) void closeQuietly(port);
    this.failed(err, what);
  }

  private watchPresence(port: SerialPortStream): void {
    const every = this.options.presenceCheckMs ?? 1000;
    this.stopPresence();
    // A path with no node on disk (the binding-mock's, say) has nothing to watch.
    if (every <= 0 || !existsSync(this.options.path)) return;
    let checking = false;
    this.presence = setInterval(() => {
      if (checking) return;
      checking = true;
      stat(this.options.path).then(
        () => (checking = false),
        (err: NodeJS.ErrnoException) => {
          checking = false;
          if (err.code === 'ENOENT') this.lost(port, new Error(`${this.options.path} is gone (device unplugged)`), 'device went away');
        },
      );
    }, every);
    this.presence.unref();
  }

  private stopPresence(): void {
    if (this.presence !== undefined) clearInterval(this.presence);
    this.presence = undefined;
  }

  private failed(err: Error, what: string): void {
    if (this.state === 'stopped') return;
    const delay = this.backoff.next();
    this.lastError = err.message;
    this.retryAt = this.options.timers.now() + delay;
    this.log.warn({ path: this.options.path, err: err.message, retryInMs: delay, attempt: this.backoff.attempt }, `serial ${what}; retrying`);
    this.setState('waiting');
    this.retry = this.options.timers.setTimeout(() => void this.attempt(), delay);
  }

  private async closePort(): Promise<void> {
    this.stopPresence();
    const port = this.port;
    this.port = undefined;
    if (port) await closeQuietly(port);
  }

  private setState(state: LinkState): void {
    if (state === this.state) return;
    this.state = state;
    const status = this.status();
    for (const listener of [...this.stateListeners]) listener(state, status);
  }
}

/** The native binding's fd poller (@serialport/bindings-cpp's LinuxPortBinding/DarwinPortBinding); the mock has none. */
function hangupOf(port: SerialPortStream): { once(event: 'disconnect', cb: (err: (Error & { canceled?: boolean }) | null) => void): unknown } | undefined {
  const poller = (port.port as { poller?: unknown } | undefined)?.poller;
  return poller && typeof (poller as { once?: unknown }).once === 'function' ? (poller as ReturnType<typeof hangupOf>) : undefined;
}

function closeQuietly(port: SerialPortStream): Promise<void> {
  return new Promise((resolve) => {
    if (!port.isOpen) {
      resolve();
      return;
    }
    // An error closing a port that is already gone changes nothing for us: it is closed either way.
    port.close(() => resolve());
  });
}
