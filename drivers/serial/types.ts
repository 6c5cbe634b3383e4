/**
 * The serial contract. A `SerialLink` owns one port: it opens it, cuts the byte stream into
 * frames with a `Framer` (the protocol's own parser: NMEA sentences, radar lines), writes, and
 * when the device goes away (a USB receiver unplugged, a cable knocked) closes, waits with capped
 * backoff and opens again — for as long as it runs. Nothing above it sees a port object.
 */

/** Cuts bytes into frames. Must never throw on any input; keeps a partial frame between calls. */
export interface Framer<F> {
  push(chunk: Uint8Array): F[];
  /** Forget a partial frame (the port was reopened: its bytes belonged to another connection). */
  reset(): void;
}

/**
 * closed: not started · opening: an open is in flight · open: connected · waiting: the device is
 * gone or failed to open; the next attempt is scheduled · stopped: close() called.
 */
export type LinkState = 'closed' | 'opening' | 'open' | 'waiting' | 'stopped';

export interface SerialStatus {
  readonly name: string;
  readonly path: string;
  readonly state: LinkState;
  /** Successful opens, the first included. */
  readonly opens: number;
  /** Times the link found the device gone and started reconnecting. */
  readonly disconnects: number;
  readonly bytesIn: number;
  readonly framesIn: number;
  readonly lastFrameAt?: number;
  readonly lastError?: string;
  /** When the next open attempt is due (state `waiting`). */
  readonly retryAt?: number;
}

export interface SerialLink<F> {
  readonly name: string;
  /** Starts the link. Resolves after the first attempt; a device that is absent is retried with backoff, not an error. */
  open(): Promise<void>;
  onFrame(listener: (frame: F, at: number) => void): () => void;
  /** Called on every state change (for status and events). */
  onState(listener: (state: LinkState, status: SerialStatus) => void): () => void;
  /** Rejects with SerialNotOpenError while the device is not connected. */
  write(data: Uint8Array | string): Promise<void>;
  close(): Promise<void>;
  status(): SerialStatus;
}

export class SerialNotOpenError extends Error {
  override readonly name = 'SerialNotOpenError';
}
