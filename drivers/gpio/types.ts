/**
 * The GPIO contract. Two layers: a backend opens raw lines (sysfs through onoff on the pole, or
 * the simulated twin here), and the drivers above see only `DigitalInput` / `DigitalOutput` —
 * logical values (active-low already applied) with debouncing done on injected timers, so every
 * backend debounces the same way and tests drive it with fake time.
 */

/** A line as the hardware names it: the gpiochip's label and the offset on that chip. */
export interface LineSpec {
  /** e.g. `pinctrl-bcm2711` (Pi 4), `pinctrl-rp1` (Pi 5), `pinctrl-bcm2835` (Pi 3 and older). */
  readonly chip: string;
  readonly offset: number;
  /** The line reads 0 when the logical signal is asserted (switch to ground, open-collector loop detector). */
  readonly activeLow?: boolean | undefined;
}

export type Level = 0 | 1;

/** A raw input line as a backend hands it out: electrical levels, every edge, no debouncing. */
export interface RawInputLine {
  read(): Level;
  /** Called on every edge the backend sees (possibly bouncing). */
  watch(listener: (level: Level) => void): void;
  close(): void;
}

export interface RawOutputLine {
  write(level: Level): void;
  read(): Level;
  close(): void;
}

export type GpioBackendKind = 'sysfs' | 'simulated';

export interface GpioBackend {
  readonly kind: GpioBackendKind;
  openInput(line: LineSpec): RawInputLine;
  openOutput(line: LineSpec, initial: Level): RawOutputLine;
}

/** A debounced logical input: `true` means asserted (after active-low). */
export interface DigitalInput {
  readonly name: string;
  value(): boolean;
  /** Called once per settled change; returns an unsubscribe function. */
  onChange(listener: (value: boolean, at: number) => void): () => void;
  close(): void;
}

export interface DigitalOutput {
  readonly name: string;
  value(): boolean;
  set(value: boolean): void;
  close(): void;
}

export function describeLine(line: LineSpec): string {
  return `${line.chip}:${line.offset}${line.activeLow ? ' (active-low)' : ''}`;
}
