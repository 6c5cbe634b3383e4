/**
 * The SerialLink contract, run against every device end that can run here: the binding-mock twin
 * and a real pseudo-terminal through serialport's native binding (python3 pty). Reconnect timers
 * are manual, so backoff is asserted exactly; I/O waits use vi.waitFor on observable state.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SerialPortLink } from '../../../drivers/serial/serialport-link.ts';
import { LineFramer, PluggableMockBinding, SerialNotOpenError, type LinkState } from '../../../drivers/serial/index.ts';
import { captureLog } from './log.ts';
import { ManualTimers } from './manual-timers.ts';
import { mockDevice, ptyDevice, type DeviceEnd } from './serial-devices.ts';

const ends: [string, () => Promise<DeviceEnd>][] = [
  ['binding-mock twin', async () => mockDevice()],
  ['native binding on a pty', ptyDevice],
];

const waitOpts = { timeout: 15_000, interval: 10 };

for (const [name, make] of ends) {
  describe(`SerialLink contract: ${name}`, () => {
    let device: DeviceEnd;
    let timers: ManualTimers;
    let link: SerialPortLink<string>;
    let frames: string[];
    let states: LinkState[];

    beforeEach(async () => {
      device = await make();
      timers = new ManualTimers();
      link = new SerialPortLink({
        name: 'gps', path: device.path, baudRate: 9600, binding: device.binding, framer: new LineFramer(), timers, log: captureLog().log,
        backoff: { initialMs: 100, maxMs: 400, jitter: 0 },
      });
      frames = [];
      states = [];
      link.onFrame((f) => frames.push(f));
      link.onState((s) => states.push(s));
    });

    afterEach(async () => {
      await link.close();
      await device.dispose();
    });

    it('opens, frames split and glued bytes, and writes to the device', async () => {
      await device.plug();
      await link.open();
      expect(link.status().state).toBe('open');
      // The first bytes may be a line's tail (opened mid-line): dropped up to the first terminator.
      await device.send('45\r');
      await device.send('+0');
      await device.send('12\r\n+013\r+0');
      await device.send('14\r');
      await vi.waitFor(() => expect(frames).toEqual(['+012', '+013', '+014']), waitOpts);
      await link.write('R+\r');
      await vi.waitFor(() => expect(device.received().toString('latin1')).toBe('R+\r'), waitOpts);
      expect(link.status()).toMatchObject({ opens: 1, framesIn: 3, disconnects: 0 });
    });

    it('a device absent at start is retried with capped exponential backoff until it appears', async () => {
      await link.open();
      expect(link.status().state).toBe('waiting');
      expect(link.status().lastError).toMatch(/ENOENT|No such file/i);
      for (let i = 0; i < 4; i++) {
        timers.fireAll();
        await vi.waitFor(() => expect(link.status().state).toBe('waiting'), waitOpts);
        await vi.waitFor(() => expect(timers.count).toBe(1), waitOpts);
      }
      expect(timers.delays).toEqual([100, 200, 400, 400, 400]);
      await device.plug();
      timers.fireAll();
      await vi.waitFor(() => expect(link.status().state).toBe('open'), waitOpts);
      await expect(link.write('x')).resolves.toBeUndefined();
    });

    it('unplug → waiting with backoff, writes refused; replug → reconnects and frames flow again', async () => {
      await device.plug();
      await link.open();
      await device.send('\r+020\r+0');
      await vi.waitFor(() => expect(frames).toEqual(['+020']), waitOpts);

      await device.unplug();
      await vi.waitFor(() => expect(link.status().state).toBe('waiting'), waitOpts);
      expect(link.status().disconnects).toBe(1);
      await expect(link.write('x')).rejects.toBeInstanceOf(SerialNotOpenError);
      // Still gone: each attempt fails and waits longer.
      timers.fireAll();
      await vi.waitFor(() => expect(timers.delays).toHaveLength(2), waitOpts);
      timers.fireAll();
      await vi.waitFor(() => expect(timers.delays).toHaveLength(3), waitOpts);
      expect(timers.delays).toEqual([100, 200, 400]);

      await device.plug();
      timers.fireAll();
      await vi.waitFor(() => expect(link.status().state).toBe('open'), waitOpts);
      // The half line from before the unplug ('+0') is not glued to the new connection's bytes.
      await device.send('\r+021\r');
      await vi.waitFor(() => expect(frames).toEqual(['+020', '+021']), waitOpts);
      expect(link.status().opens).toBe(2);
      expect(states).toEqual(['opening', 'open', 'waiting', 'opening', 'waiting', 'opening', 'waiting', 'opening', 'open']);

      // A frame on the new connection resets the backoff: the next outage starts at 100 ms again.
      await device.unplug();
      await vi.waitFor(() => expect(link.status().state).toBe('waiting'), waitOpts);
      expect(timers.delays.at(-1)).toBe(100);
    });

    it('close() while waiting cancels the retry; nothing opens afterwards', async () => {
      await link.open();
      expect(timers.count).toBe(1);
      await link.close();
      expect(timers.count).toBe(0);
      await device.plug();
      timers.fireAll();
      expect(link.status().state).toBe('stopped');
    });
  });
}

describe('SerialLink device-node watch', () => {
  it('a port whose device node disappears is closed as a disconnect even when the binding reports nothing', async () => {
    // The binding-mock port stays "plugged" (it never fails a read): only the node on disk goes,
    // as when udev removes /dev/ttyUSB0 while a hung-up tty keeps reading 0 bytes.
    const dir = mkdtempSync(join(tmpdir(), 'alpr-serial-node-'));
    const path = join(dir, 'ttyUSB0');
    writeFileSync(path, '');
    const binding = new PluggableMockBinding();
    binding.plug(path);
    const timers = new ManualTimers();
    const link = new SerialPortLink({
      name: 'radar', path, baudRate: 9600, binding, framer: new LineFramer(), timers, log: captureLog().log,
      backoff: { initialMs: 100, maxMs: 400, jitter: 0 }, presenceCheckMs: 20,
    });
    try {
      await link.open();
      expect(link.status().state).toBe('open');
      await new Promise((r) => setTimeout(r, 100));
      expect(link.status().state).toBe('open'); // the node is there: nothing happens
      rmSync(path);
      await vi.waitFor(() => expect(link.status().state).toBe('waiting'), { timeout: 2_000, interval: 10 });
      expect(link.status()).toMatchObject({ disconnects: 1, lastError: expect.stringContaining('is gone') });
      expect(timers.delays).toEqual([100]);
    } finally {
      await link.close();
      binding.unplug(path);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a path with no node on disk (the mock twin) is not watched', async () => {
    const binding = new PluggableMockBinding();
    const path = `/dev/mock-serial-node-${process.pid}`;
    binding.plug(path);
    const link = new SerialPortLink({
      name: 'gps', path, baudRate: 9600, binding, framer: new LineFramer(), timers: new ManualTimers(), log: captureLog().log, presenceCheckMs: 10,
    });
    try {
      await link.open();
      await new Promise((r) => setTimeout(r, 80));
      expect(link.status()).toMatchObject({ state: 'open', disconnects: 0 });
    } finally {
      await link.close();
      binding.unplug(path);
    }
  });
});
