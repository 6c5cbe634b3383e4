/**
 * Cuts ffmpeg's raw video output (a byte stream of back-to-back frames with no headers) into
 * frames of exactly `frameBytes` each, whatever the pipe's chunk boundaries: a chunk may hold part
 * of a frame, several frames, or the end of one and the start of the next.
 */
export class RawFrameParser {
  readonly frameBytes: number;
  readonly #alloc: (bytes: number) => Buffer;
  #current: Buffer | undefined;
  #filled = 0;

  /**
   * `alloc` gives the buffer for each frame (a FramePool's take); by default a new one, not from
   * Node's shared pool: each frame owns its ArrayBuffer (byteOffset 0), so a consumer may
   * transfer it to a worker thread without taking other data along.
   */
  constructor(frameBytes: number, alloc: (bytes: number) => Buffer = (n) => Buffer.allocUnsafeSlow(n)) {
    if (!Number.isInteger(frameBytes) || frameBytes <= 0) throw new RangeError(`frameBytes ${frameBytes}: expected a positive integer`);
    this.frameBytes = frameBytes;
    this.#alloc = alloc;
  }

  /** Bytes of an incomplete frame held back, waiting for the next chunk. */
  get pendingBytes(): number {
    return this.#filled;
  }

  /**
   * Feeds one chunk; returns the frames it completed, oldest first. Each frame is a buffer from
   * `alloc` the caller owns (never a view into `chunk`, which the stream may reuse).
   */
  push(chunk: Uint8Array): Buffer[] {
    const out: Buffer[] = [];
    let offset = 0;
    while (offset < chunk.length) {
      if (!this.#current) {
        this.#current = this.#alloc(this.frameBytes);
        this.#filled = 0;
      }
      const n = Math.min(this.frameBytes - this.#filled, chunk.length - offset);
      this.#current.set(chunk.subarray(offset, offset + n), this.#filled);
      this.#filled += n;
      offset += n;
      if (this.#filled === this.frameBytes) {
        out.push(this.#current);
        this.#current = undefined;
        this.#filled = 0;
      }
    }
    return out;
  }

  /** Drops a partial frame (after the child restarts, its stream begins on a frame boundary). */
  reset(): void {
    this.#current = undefined;
    this.#filled = 0;
  }
}
