/**
 * Reusable pixel buffers for one camera's frames (issue #4). A 1080p rgb24 frame is 6 MB and a
 * camera delivers several a second, most of them dropped unread by the latest-frame slot: left to
 * the garbage collector they pile up (V8 collects ArrayBuffers only after some 64 MB of them) and
 * churn through malloc's heap, whose holes stay resident. A frame handed back (Frame.release, or
 * dropped by the mailbox) carries a later frame instead.
 */
export class FramePool {
  readonly maxSpares: number;
  readonly #spares: Buffer[] = [];
  #frameBytes = 0;

  /** `maxSpares`: buffers kept for later frames; more given back are left to the collector. */
  constructor(maxSpares = 3) {
    this.maxSpares = maxSpares;
  }

  /** Buffers waiting for a frame. */
  get spares(): number {
    return this.#spares.length;
  }

  /**
   * A buffer of `frameBytes`: a spare, or a new one with an ArrayBuffer of its own (byteOffset 0,
   * not Node's shared pool) so a consumer may transfer it to a worker. A new size empties the pool.
   */
  take(frameBytes: number): Buffer {
    if (frameBytes !== this.#frameBytes) {
      this.#spares.length = 0;
      this.#frameBytes = frameBytes;
    }
    return this.#spares.pop() ?? Buffer.allocUnsafeSlow(frameBytes);
  }

  /**
   * Takes back a buffer from take() whose frame nobody reads any more. One of another size (the
   * stream changed), a detached one (transferred away), or one already here is ignored.
   */
  give(buffer: Uint8Array): void {
    if (buffer.byteLength !== this.#frameBytes || buffer.byteOffset !== 0 || buffer.buffer.byteLength !== this.#frameBytes) return;
    if (this.#spares.length >= this.maxSpares || this.#spares.some((b) => b.buffer === buffer.buffer)) return;
    this.#spares.push(Buffer.from(buffer.buffer, 0, buffer.byteLength));
  }
}
