/** Capped exponential backoff for restarts: initial, ×factor per consecutive failure, up to max. */
export interface BackoffOptions {
  /** First delay, ms (default 500). */
  readonly initialMs?: number;
  /** Ceiling, ms (default 30 000). */
  readonly maxMs?: number;
  /** Growth per failure (default 2). */
  readonly factor?: number;
  /** ± fraction of random spread so that many cameras do not reconnect in step (default 0.1). */
  readonly jitter?: number;
  readonly random?: () => number;
}

export class Backoff {
  readonly #initial: number;
  readonly #max: number;
  readonly #factor: number;
  readonly #jitter: number;
  readonly #random: () => number;
  #attempt = 0;

  constructor(opts: BackoffOptions = {}) {
    this.#initial = opts.initialMs ?? 500;
    this.#max = opts.maxMs ?? 30_000;
    this.#factor = opts.factor ?? 2;
    this.#jitter = opts.jitter ?? 0.1;
    this.#random = opts.random ?? Math.random;
    if (!(this.#initial > 0 && this.#max >= this.#initial && this.#factor >= 1)) {
      throw new RangeError('backoff: expected 0 < initialMs <= maxMs and factor >= 1');
    }
  }

  /** Consecutive failures so far. */
  get attempt(): number {
    return this.#attempt;
  }

  /** The delay before the next attempt; each call counts one more failure. */
  next(): number {
    const base = Math.min(this.#max, this.#initial * this.#factor ** this.#attempt);
    this.#attempt++;
    const spread = 1 + this.#jitter * (2 * this.#random() - 1);
    return Math.round(Math.min(this.#max, base * spread));
  }

  reset(): void {
    this.#attempt = 0;
  }
}
