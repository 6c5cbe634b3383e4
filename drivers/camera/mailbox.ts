/**
 * The bounded hand-off between the ffmpeg reader (producer) and the consumer of frames().
 *
 * - 'latest': holds at most one item; a new one replaces an unread one, which is counted as
 *   dropped. For live sources: the consumer always gets the newest frame and ffmpeg is never
 *   blocked (a blocked ffmpeg falls behind the camera and its RTSP buffers overflow).
 * - 'backpressure': never drops; `full` tells the producer to pause reading until `onDrain`.
 *   For files read as fast as possible, where every frame should be seen (evaluation, tests).
 *
 * Items dropped unread (replaced, or discarded at close) go to `onDrop`, so their buffers can be
 * reused at once.
 */
export type HandoffPolicy = 'latest' | 'backpressure';

export class Mailbox<T> {
  readonly policy: HandoffPolicy;
  #items: T[] = [];
  #waiter: { resolve: (r: IteratorResult<T>) => void; reject: (e: unknown) => void } | undefined;
  #closed = false;
  #error: unknown;
  #dropped = 0;
  #onDrain: (() => void) | undefined;
  #onDrop: ((item: T) => void) | undefined;

  constructor(policy: HandoffPolicy, onDrain?: () => void, onDrop?: (item: T) => void) {
    this.policy = policy;
    this.#onDrain = onDrain;
    this.#onDrop = onDrop;
  }

  get dropped(): number {
    return this.#dropped;
  }

  get size(): number {
    return this.#items.length;
  }

  /** True while the consumer has something unread (the producer should pause under backpressure). */
  get full(): boolean {
    return this.#items.length > 0;
  }

  get closed(): boolean {
    return this.#closed;
  }

  put(item: T): void {
    if (this.#closed) return;
    const waiter = this.#waiter;
    if (waiter) {
      this.#waiter = undefined;
      waiter.resolve({ value: item, done: false });
      return;
    }
    if (this.policy === 'latest' && this.#items.length > 0) {
      this.#dropped += this.#items.length;
      this.#discard();
    }
    this.#items.push(item);
  }

  /** The next item; waits for one. After close: remaining items (unless discarded), then done or the error. */
  take(): Promise<IteratorResult<T>> {
    const item = this.#items.shift();
    if (item !== undefined) {
      if (this.#items.length === 0) this.#onDrain?.();
      return Promise.resolve({ value: item, done: false });
    }
    if (this.#closed) {
      return this.#error === undefined ? Promise.resolve({ value: undefined, done: true }) : Promise.reject(this.#error);
    }
    if (this.#waiter) return Promise.reject(new Error('mailbox: one consumer at a time'));
    // The consumer is waiting with nothing queued: that is a drain too (the producer may resume).
    this.#onDrain?.();
    return new Promise((resolve, reject) => {
      this.#waiter = { resolve, reject };
    });
  }

  #discard(): void {
    const items = this.#items;
    this.#items = [];
    for (const item of items) this.#onDrop?.(item);
  }

  /**
   * No more items. `discard` drops what is queued (stop: the consumer wants no stale frames);
   * `error` is thrown to the consumer once the queue is empty.
   */
  close(opts: { discard?: boolean; error?: unknown } = {}): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#error = opts.error;
    if (opts.discard) this.#discard();
    const waiter = this.#waiter;
    this.#waiter = undefined;
    if (waiter) {
      if (opts.error === undefined) waiter.resolve({ value: undefined, done: true });
      else waiter.reject(opts.error);
    }
  }
}

/**
 * The single-consumer async iterable over a mailbox that both frame sources hand out: the first
 * next() starts the producer; leaving a for-await loop early (return()) stops the source.
 */
export function mailboxIterable<T>(mailbox: Mailbox<T>, start: () => void, stop: () => Promise<void>): AsyncIterable<T> {
  const iterator: AsyncIterableIterator<T> = {
    next: () => {
      start();
      return mailbox.take();
    },
    return: async () => {
      await stop();
      return { value: undefined, done: true };
    },
    [Symbol.asyncIterator]: () => iterator,
  };
  return { [Symbol.asyncIterator]: () => iterator };
}
