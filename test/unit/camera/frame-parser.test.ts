import { describe, expect, it } from 'vitest';
import { FramePool } from '../../../drivers/camera/frame-pool.ts';
import { RawFrameParser } from '../../../drivers/camera/frame-parser.ts';

/** n frames of `size` bytes, frame i filled with byte values (i * 31 + offset) & 0xff. */
function stream(n: number, size: number): Buffer {
  const b = Buffer.alloc(n * size);
  for (let i = 0; i < b.length; i++) b[i] = (Math.floor(i / size) * 31 + (i % size)) & 0xff;
  return b;
}

function frameOf(all: Buffer, i: number, size: number): Buffer {
  return all.subarray(i * size, (i + 1) * size);
}

describe('RawFrameParser', () => {
  it('yields whole frames when chunks split them anywhere, one byte at a time included', () => {
    const size = 12;
    const all = stream(3, size);
    for (const chunkSize of [1, 5, 7, 12, 13, 36]) {
      const parser = new RawFrameParser(size);
      const out: Buffer[] = [];
      for (let i = 0; i < all.length; i += chunkSize) out.push(...parser.push(all.subarray(i, i + chunkSize)));
      expect(out.map((f) => [...f]), `chunk size ${chunkSize}`).toEqual([0, 1, 2].map((i) => [...frameOf(all, i, size)]));
      expect(parser.pendingBytes).toBe(0);
    }
  });

  it('yields several frames from one glued chunk, and keeps the partial tail for the next', () => {
    const size = 10;
    const all = stream(4, size);
    const parser = new RawFrameParser(size);
    const first = parser.push(all.subarray(0, 25)); // frames 0 and 1, half of 2
    expect(first).toHaveLength(2);
    expect(parser.pendingBytes).toBe(5);
    const second = parser.push(all.subarray(25)); // rest of 2, all of 3
    expect([...first, ...second].map((f) => [...f])).toEqual([0, 1, 2, 3].map((i) => [...frameOf(all, i, size)]));
  });

  it('returns frames that do not alias the input chunk (the stream may reuse it)', () => {
    const parser = new RawFrameParser(4);
    const chunk = Buffer.from([1, 2, 3, 4]);
    const [frame] = parser.push(chunk);
    chunk.fill(0);
    expect([...(frame ?? [])]).toEqual([1, 2, 3, 4]);
  });

  it('gives each frame its own ArrayBuffer, safe to transfer to a worker', () => {
    const parser = new RawFrameParser(4);
    const frames = parser.push(Buffer.from([1, 2, 3, 4, 5, 6, 7, 8]));
    expect(frames.map((f) => [f.byteOffset, f.buffer.byteLength])).toEqual([
      [0, 4],
      [0, 4],
    ]);
  });

  it('drops a partial frame on reset (a restarted child begins on a frame boundary)', () => {
    const parser = new RawFrameParser(4);
    parser.push(Buffer.from([9, 9]));
    parser.reset();
    expect(parser.push(Buffer.from([1, 2, 3, 4])).map((f) => [...f])).toEqual([[1, 2, 3, 4]]);
  });

  it('rejects a frame size that is not a positive integer', () => {
    expect(() => new RawFrameParser(0)).toThrow(RangeError);
    expect(() => new RawFrameParser(1.5)).toThrow(RangeError);
  });
});

describe('FramePool', () => {
  it('gives back buffers it was given, up to maxSpares, and nothing of another size or twice', () => {
    const pool = new FramePool(2);
    const a = pool.take(12);
    const b = pool.take(12);
    const c = pool.take(12);
    expect([a.byteOffset, a.buffer.byteLength]).toEqual([0, 12]); // its own ArrayBuffer: transferable
    pool.give(a);
    pool.give(a);
    pool.give(new Uint8Array(b.buffer)); // another view of the same buffer
    pool.give(c);
    expect(pool.spares).toBe(2);
    pool.give(new Uint8Array(10));
    expect(pool.spares).toBe(2);
    const reused = [pool.take(12), pool.take(12)].map((x) => x.buffer);
    expect(reused).toEqual(expect.arrayContaining([a.buffer, b.buffer]));
    expect(pool.take(12).buffer).not.toBe(c.buffer); // c was one too many
  });

  it('empties itself when the frame size changes (the stream was restarted at another size)', () => {
    const pool = new FramePool();
    pool.give(pool.take(12));
    expect(pool.spares).toBe(1);
    expect(pool.take(24).byteLength).toBe(24);
    expect(pool.spares).toBe(0);
  });

  it('feeds the parser: a given-back frame carries the next one', () => {
    const pool = new FramePool();
    const parser = new RawFrameParser(4, (n) => pool.take(n));
    const [first] = parser.push(new Uint8Array([1, 1, 1, 1]));
    pool.give(first!);
    const [second] = parser.push(new Uint8Array([2, 2, 2, 2]));
    expect(second!.buffer).toBe(first!.buffer);
    expect([...second!]).toEqual([2, 2, 2, 2]);
  });
});
