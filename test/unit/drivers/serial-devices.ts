/**
 * Device ends for the SerialLink contract: the binding-mock twin, and a real pseudo-terminal
 * (python3's pty) opened through serialport's native binding. Both can be unplugged and plugged
 * back at the same path.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BindingInterface } from '@serialport/bindings-interface';
import { nativeBinding, PluggableMockBinding } from '../../../drivers/serial/index.ts';

export interface DeviceEnd {
  readonly path: string;
  readonly binding: BindingInterface;
  plug(): Promise<void>;
  unplug(): Promise<void>;
  send(data: Uint8Array | string): Promise<void>;
  /** Bytes the link has written so far (on the current connection for the mock, all for the pty). */
  received(): Buffer;
  dispose(): Promise<void>;
}

let mockSerial = 0;

export function mockDevice(): DeviceEnd {
  const binding = new PluggableMockBinding();
  const path = `/dev/mock-serial-${process.pid}-${++mockSerial}`;
  return {
    path,
    binding,
    plug: async () => binding.plug(path),
    unplug: async () => binding.unplug(path),
    send: async (data) => {
      if (!binding.send(path, data)) throw new Error('mock device: no link has the port open');
    },
    received: () => binding.received(path),
    dispose: async () => binding.unplug(path),
  };
}

const script = fileURLToPath(new URL('./pty_device.py', import.meta.url));

export async function ptyDevice(): Promise<DeviceEnd> {
  const dir = mkdtempSync(join(tmpdir(), 'alpr-pty-'));
  const path = join(dir, 'ttyGPS');
  const binding = await nativeBinding();
  let child: ChildProcessWithoutNullStreams | undefined;
  let received = Buffer.alloc(0);
  const stop = async (): Promise<void> => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null) return;
    const gone = new Promise((resolve) => c.once('exit', resolve));
    c.kill('SIGKILL');
    await gone;
    // A dangling link, as udev leaves none: remove it so opens fail with ENOENT until replugged.
    rmSync(path, { force: true });
  };
  return {
    path,
    binding,
    plug: async () => {
      const c = spawn('python3', [script, path], { stdio: ['pipe', 'pipe', 'pipe'] });
      child = c;
      let out = '';
      await new Promise<void>((resolve, reject) => {
        c.once('error', reject);
        c.once('exit', (code) => reject(new Error(`pty device exited (${code})`)));
        c.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          let nl;
          while ((nl = out.indexOf('\n')) >= 0) {
            const line = out.slice(0, nl);
            out = out.slice(nl + 1);
            if (line === 'READY') resolve();
            else if (line.startsWith('R ')) received = Buffer.concat([received, Buffer.from(line.slice(2), 'hex')]);
          }
        });
      });
    },
    unplug: stop,
    send: async (data) => {
      if (!child) throw new Error('pty device: not plugged');
      child.stdin.write(`${Buffer.from(typeof data === 'string' ? Buffer.from(data, 'latin1') : data).toString('hex')}\n`);
    },
    received: () => received,
    dispose: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
