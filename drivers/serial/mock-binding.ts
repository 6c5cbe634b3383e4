/**
 * The serial twin's device end: `@serialport/binding-mock`, plus what it lacks — a device that can
 * be unplugged and plugged back. Unplugging fails the port's pending read with an I/O error (what
 * the native binding reports when a USB serial adapter disappears, so serialport raises its
 * `disconnected` close) and makes opens fail with ENOENT until the device is plugged in again.
 * The mock's port registry is process-wide: use a distinct path per device.
 */
import { MockBinding, type MockPortBinding } from '@serialport/binding-mock';
import type { BindingInterface, BindingPortInterface, OpenOptions, PortInfo, PortStatus, SetOptions, UpdateOptions } from '@serialport/bindings-interface';

class UnpluggablePort implements BindingPortInterface {
  private unplug: ((err: Error) => void) | undefined;
  private readonly unplugged: Promise<never>;
  gone = false;

  constructor(readonly inner: MockPortBinding) {
    this.unplugged = new Promise<never>((_resolve, reject) => {
      this.unplug = reject;
    });
    // Nobody may be reading when the device goes; the rejection is observed by the next read.
    this.unplugged.catch(() => undefined);
  }

  get openOptions(): Required<OpenOptions> {
    return this.inner.openOptions;
  }
  /** Like a real fd, the port stays open after the device has gone, until it is closed: reads on it fail. */
  get isOpen(): boolean {
    return this.gone ? !this.closed : this.inner.isOpen;
  }
  private closed = false;

  pullOut(): void {
    this.gone = true;
    const err = Object.assign(new Error('EIO: i/o error, read (device unplugged)'), { code: 'EIO' });
    this.unplug?.(err);
    if (this.inner.isOpen) void this.inner.close().catch(() => undefined);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.gone) return;
    await this.inner.close();
  }
  read(buffer: Buffer, offset: number, length: number): Promise<{ buffer: Buffer; bytesRead: number }> {
    if (this.gone) return this.unplugged;
    return Promise.race([this.inner.read(buffer, offset, length), this.unplugged]);
  }
  write(buffer: Buffer): Promise<void> {
    if (this.gone) return this.unplugged;
    return Promise.race([this.inner.write(buffer), this.unplugged]);
  }
  update(options: UpdateOptions): Promise<void> {
    return this.inner.update(options);
  }
  set(options: SetOptions): Promise<void> {
    return this.inner.set(options);
  }
  get(): Promise<PortStatus> {
    return this.inner.get();
  }
  getBaudRate(): Promise<{ baudRate: number }> {
    return this.inner.getBaudRate();
  }
  flush(): Promise<void> {
    return this.inner.flush();
  }
  drain(): Promise<void> {
    return this.gone ? this.unplugged : this.inner.drain();
  }
}

export class PluggableMockBinding implements BindingInterface<UnpluggablePort> {
  private readonly present = new Set<string>();
  private readonly open_ = new Map<string, UnpluggablePort>();

  /** Connects a device at `path` (again). */
  plug(path: string): void {
    MockBinding.createPort(path, { record: true });
    this.present.add(path);
  }

  unplug(path: string): void {
    this.present.delete(path);
    this.open_.get(path)?.pullOut();
    this.open_.delete(path);
  }

  /** The device sends bytes; false when no link has the port open. */
  send(path: string, data: Uint8Array | string): boolean {
    const port = this.open_.get(path);
    if (!port?.isOpen || port.gone) return false;
    port.inner.emitData(Buffer.from(typeof data === 'string' ? Buffer.from(data, 'latin1') : data));
    return true;
  }

  /** Everything written to the device on its current connection. */
  received(path: string): Buffer {
    return this.open_.get(path)?.inner.recording ?? Buffer.alloc(0);
  }

  isOpen(path: string): boolean {
    return this.open_.get(path)?.isOpen ?? false;
  }

  async list(): Promise<PortInfo[]> {
    return (await MockBinding.list()).filter((p) => this.present.has(p.path));
  }

  async open(options: OpenOptions): Promise<UnpluggablePort> {
    if (!this.present.has(options.path)) {
      await Promise.resolve();
      throw Object.assign(new Error(`ENOENT: no such file or directory, open '${options.path}'`), { code: 'ENOENT' });
    }
    const port = new UnpluggablePort(await MockBinding.open(options));
    this.open_.set(options.path, port);
    return port;
  }
}
