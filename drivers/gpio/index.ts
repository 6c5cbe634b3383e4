/**
 * The GPIO front door: picks the backend from validated config and hands out debounced inputs
 * and outputs. With `backend: 'sysfs'` on a machine without sysfs GPIO, boot fails with
 * GpioUnavailableError — unless `simulateIfAbsent` asks for the twin, which then runs with a
 * warning so nobody mistakes a bench unit for a working pole.
 */
import type { Logger } from 'pino';
import type { Timers } from '../camera/timers.ts';
import { DebouncedInput, LineOutput, levelFor } from './digital.ts';
import { GpioUnavailableError } from './errors.ts';
import { OnoffGpioBackend } from './onoff-backend.ts';
import { SimulatedGpio } from './simulated.ts';
import { describeLine, type DigitalInput, type DigitalOutput, type GpioBackend, type LineSpec } from './types.ts';

export type { DigitalInput, DigitalOutput, GpioBackend, LineSpec, Level } from './types.ts';
export { GpioLineError, GpioUnavailableError } from './errors.ts';
export { SimulatedGpio } from './simulated.ts';
export { resolveSysfsLine, listGpioChips } from './sysfs.ts';

export interface GpioSettings {
  readonly backend: 'sysfs' | 'simulated';
  readonly sysfsRoot: string;
  readonly simulateIfAbsent: boolean;
  readonly debounceMs: number;
}

export interface GpioDeps {
  readonly log: Logger;
  readonly timers: Timers;
  /** The twin to use when simulating (tests pass theirs to drive it); default a fresh one. */
  readonly simulated?: SimulatedGpio;
  /** Builds the real backend (tests replace it). */
  readonly sysfs?: (root: string) => Promise<GpioBackend>;
}

export class Gpio {
  constructor(readonly backend: GpioBackend, private readonly deps: GpioDeps, private readonly debounceMs: number) {}

  input(name: string, line: LineSpec, debounceMs = this.debounceMs): DigitalInput {
    return new DebouncedInput(this.backend.openInput(line), { name, activeLow: line.activeLow, debounceMs, timers: this.deps.timers });
  }

  output(name: string, line: LineSpec, initial = false): DigitalOutput {
    return new LineOutput(name, this.backend.openOutput(line, levelFor(initial, line.activeLow)), line.activeLow);
  }
}

export async function openGpio(settings: GpioSettings, deps: GpioDeps): Promise<Gpio> {
  const log = deps.log.child({ module: 'gpio' });
  const simulated = (): Gpio => new Gpio(deps.simulated ?? new SimulatedGpio({ now: deps.timers.now }), deps, settings.debounceMs);
  if (settings.backend === 'simulated') {
    log.warn('GPIO is SIMULATED (hardware.gpio.backend = "simulated"): no illuminator, tamper switch, trigger or LED is driven');
    return simulated();
  }
  try {
    const backend = await (deps.sysfs ?? ((root) => OnoffGpioBackend.create(root)))(settings.sysfsRoot);
    log.info({ sysfsRoot: settings.sysfsRoot }, 'GPIO through sysfs');
    return new Gpio(backend, deps, settings.debounceMs);
  } catch (err) {
    if (!(err instanceof GpioUnavailableError) || !settings.simulateIfAbsent) throw err;
    log.warn({ reason: err.message }, 'sysfs GPIO is absent; running the SIMULATED twin instead (hardware.gpio.simulateIfAbsent = true): no real line is driven');
    return simulated();
  }
}

export { describeLine };
