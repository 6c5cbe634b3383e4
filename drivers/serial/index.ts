/**
 * The serial front door: a link for one configured port, on the native binding or on the twin.
 * The native binding is imported only when asked for (it loads a compiled addon).
 */
import type { BindingInterface } from '@serialport/bindings-interface';
import type { Logger } from 'pino';
import type { BackoffOptions } from '../camera/backoff.ts';
import type { Timers } from '../camera/timers.ts';
import { PluggableMockBinding } from './mock-binding.ts';
import { SerialPortLink } from './serialport-link.ts';
import type { Framer, SerialLink } from './types.ts';

export type { Framer, LinkState, SerialLink, SerialStatus } from './types.ts';
export { SerialNotOpenError } from './types.ts';
export { LineFramer } from './line-framer.ts';
export { PluggableMockBinding } from './mock-binding.ts';

export interface SerialSettings {
  /** `/dev/ttyACM0`, `/dev/serial/by-id/…` (stable across replugs), or any name for the twin. */
  readonly path: string;
  readonly baudRate: number;
  readonly backend: 'serialport' | 'simulated';
}

export interface SerialDeps {
  readonly log: Logger;
  readonly timers: Timers;
  /** The twin's device end (tests and simulators feed it); default a fresh one. */
  readonly mock?: PluggableMockBinding;
  readonly backoff?: BackoffOptions;
}

export async function nativeBinding(): Promise<BindingInterface> {
  const { autoDetect } = await import('@serialport/bindings-cpp');
  return autoDetect() as unknown as BindingInterface;
}

export interface OpenedLink<F> {
  readonly link: SerialLink<F>;
  /** The device end when simulated: send bytes as the device, unplug, plug. */
  readonly twin?: PluggableMockBinding;
}

export async function createSerialLink<F>(name: string, settings: SerialSettings, framer: Framer<F>, deps: SerialDeps): Promise<OpenedLink<F>> {
  let binding: BindingInterface;
  let twin: PluggableMockBinding | undefined;
  if (settings.backend === 'simulated') {
    twin = deps.mock ?? new PluggableMockBinding();
    twin.plug(settings.path);
    binding = twin;
    deps.log.warn({ link: name, path: settings.path }, 'serial device is SIMULATED (backend "simulated"): no real receiver is read');
  } else {
    binding = await nativeBinding();
  }
  const link = new SerialPortLink<F>({ name, path: settings.path, baudRate: settings.baudRate, binding, framer, timers: deps.timers, log: deps.log, ...(deps.backoff ? { backoff: deps.backoff } : {}) });
  return twin ? { link, twin } : { link };
}
