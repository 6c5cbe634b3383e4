import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { openOutputSocket } from '../../../drivers/camera/output-socket.ts';

/**
 * A child that writes `bytes` bytes of a fixed pattern (byte i = i·7 mod 251) to its stdout in
 * writes of `piece` bytes, then reports on stderr what its stdout is (a socket or a pipe).
 */
function writer(bytes: number, piece: number, stdout: Socket): ChildProcess {
  const script = `
    const fs = require('node:fs');
    const piece = ${piece};
    let at = 0;
    const buf = Buffer.alloc(piece);
    while (at < ${bytes}) {
      const n = Math.min(piece, ${bytes} - at);
      for (let i = 0; i < n; i++) buf[i] = ((at + i) * 7) % 251;
      let off = 0;
      while (off < n) { try { off += fs.writeSync(1, buf, off, n - off); } catch (e) { if (e.code !== 'EAGAIN') throw e; } }
      at += n;
    }
    process.stderr.write(fs.readlinkSync('/proc/self/fd/1'));
  `;
  return spawn(process.execPath, ['-e', script], { stdio: ['ignore', stdout, 'pipe'] });
}

function pattern(bytes: number): Buffer {
  const b = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i++) b[i] = (i * 7) % 251;
  return b;
}

describe('openOutputSocket', () => {
  it('hands a child’s whole output over, in order, through one reused buffer, and ends when the child does', async () => {
    const bytes = 6 * 1024 * 1024 + 12_345;
    const hash = createHash('sha256');
    let total = 0;
    const buffers = new Set<ArrayBufferLike>();
    const out = await openOutputSocket((chunk) => {
      hash.update(chunk);
      total += chunk.length;
      buffers.add(chunk.buffer);
    }, 256 * 1024);
    const closed = once(out.reader, 'close');
    const child = writer(bytes, 100_000, out.childEnd);
    out.childEnd.destroy();
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (t: string) => (stderr += t));
    const [code] = (await once(child, 'exit')) as [number | null];
    await closed;
    expect(code).toBe(0);
    expect(total).toBe(bytes);
    expect(hash.digest('hex')).toBe(createHash('sha256').update(pattern(bytes)).digest('hex'));
    // Every read landed in the same buffer: nothing allocated per read.
    expect(buffers.size).toBe(1);
    if (process.platform === 'linux') expect(stderr).toMatch(/^socket:/);
  });

  it('holds the child back while paused and delivers everything once resumed', async () => {
    const bytes = 4 * 1024 * 1024;
    let total = 0;
    const out = await openOutputSocket((chunk) => {
      total += chunk.length;
    });
    out.reader.pause();
    const closed = once(out.reader, 'close');
    const child = writer(bytes, 65_536, out.childEnd);
    out.childEnd.destroy();
    // The child cannot finish while nobody reads: the socket's buffers are far smaller than 4 MB.
    const exited = once(child, 'exit');
    const early = await Promise.race([exited.then(() => 'exited'), new Promise((r) => setTimeout(() => r('blocked'), 500))]);
    expect(early).toBe('blocked');
    expect(total).toBeLessThan(bytes);
    out.reader.resume();
    await exited;
    await closed;
    expect(total).toBe(bytes);
  });

  it('ends at once when the child end is closed without a child ever holding it', async () => {
    const out = await openOutputSocket(() => undefined);
    const closed = once(out.reader, 'close');
    out.childEnd.destroy();
    await closed;
    expect(out.reader.destroyed).toBe(true);
  });
});
