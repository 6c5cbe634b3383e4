/**
 * ffmpeg's raw output through a connected pair of unix stream sockets instead of a pipe
 * (issue #4). Node reads a pipe into a fresh 64 KB buffer per read and leaves each to the garbage
 * collector, which lets some 64 MB of them pile up before it collects (V8's external-memory
 * limit): at two 1080p cameras that was ~30 MB of resident memory and the malloc holes it left.
 * Here ffmpeg's stdout is one end of the pair, and the other end is read with `onread` into a
 * single buffer of our own, reused for every read; the frame parser copies out of it as before.
 *
 * The pair is made by listening on a socket in a fresh private directory (mode 0700, so no other
 * user can connect first: an abstract socket name would be open to every process on the box),
 * connecting to it and taking the accepted end; the listener, the socket file and the directory
 * go at once.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Bytes read at once: a few socket buffers' worth, so one read usually takes all that waits. */
export const OUTPUT_READ_BYTES = 512 * 1024;

export interface OutputSocket {
  /** The end to give the child as its stdout (spawn's stdio[1]); close it once the child has it. */
  readonly childEnd: Socket;
  /** Our end: chunks arrive through the callback given to openOutputSocket, then 'end' and 'close'. */
  readonly reader: Socket;
}

/**
 * Opens a socket pair whose reading end hands each read to `onChunk` as a view into one reused
 * buffer, valid only until onChunk returns (copy what you keep). Rejects if the pair cannot be made.
 */
export async function openOutputSocket(onChunk: (chunk: Uint8Array) => void, readBytes = OUTPUT_READ_BYTES): Promise<OutputSocket> {
  const dir = mkdtempSync(join(tmpdir(), 'alpr-camera-'));
  const path = join(dir, 'out.sock');
  const server = createServer({ pauseOnConnect: true });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve));
    const buffer = Buffer.allocUnsafeSlow(readBytes);
    const reader = connect({
      path,
      onread: {
        buffer,
        callback: (n: number, buf: Uint8Array) => {
          onChunk(buf.subarray(0, n));
          return true;
        },
      },
    });
    try {
      await new Promise<void>((resolve, reject) => {
        reader.once('error', reject);
        reader.once('connect', () => {
          reader.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      reader.destroy();
      throw err;
    }
    // Never read or end childEnd here: ending it (as a socket does on the peer's FIN) would shut
    // down the socket the child shares, not just our descriptor of it.
    const childEnd = await accepted;
    return { childEnd, reader };
  } finally {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
