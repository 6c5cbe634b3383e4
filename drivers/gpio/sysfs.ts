/**
 * Resolves a line given as chip label + offset to the global number the sysfs interface (and
 * onoff) expects. The global number is the chip's `base` plus the offset, and the base is not
 * fixed: since Linux 6.6 the Raspberry Pi kernels allocate GPIO bases dynamically from 512, so
 * BCM line 17 is sysfs GPIO 529 on a Pi 4 (base 512) and 588 on a Pi 5 (base 571) — the reason a
 * hard-coded BCM number broke (onoff issues #199, #200). Reading `/sys/class/gpio/gpiochip*`
 * keeps the config stable across kernels and boards.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GpioLineError, GpioUnavailableError } from './errors.ts';
import { describeLine, type LineSpec } from './types.ts';

export interface GpioChipInfo {
  readonly name: string;
  readonly label: string;
  readonly base: number;
  readonly ngpio: number;
}

/** The chips sysfs lists under `{root}/class/gpio`; throws GpioUnavailableError when there is no such directory. */
export function listGpioChips(sysfsRoot: string): GpioChipInfo[] {
  const dir = join(sysfsRoot, 'class', 'gpio');
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new GpioUnavailableError(sysfsRoot, `${dir}: ${code}`);
  }
  const chips: GpioChipInfo[] = [];
  for (const name of names.filter((n) => /^gpiochip\d+$/.test(n)).sort()) {
    const read = (file: string): string => readFileSync(join(dir, name, file), 'utf8').trim();
    const base = Number(read('base'));
    const ngpio = Number(read('ngpio'));
    if (!Number.isInteger(base) || !Number.isInteger(ngpio)) throw new GpioLineError(`${join(dir, name)}: unreadable base/ngpio`);
    chips.push({ name, label: read('label'), base, ngpio });
  }
  if (!chips.length) throw new GpioUnavailableError(sysfsRoot, `${dir} lists no gpiochip`);
  return chips;
}

/** The sysfs GPIO number of `line`. */
export function resolveSysfsLine(sysfsRoot: string, line: LineSpec): number {
  const chips = listGpioChips(sysfsRoot);
  const matching = chips.filter((c) => c.label === line.chip);
  if (matching.length === 0) {
    throw new GpioLineError(`GPIO line ${describeLine(line)}: no gpiochip labelled "${line.chip}" (present: ${chips.map((c) => `${c.label} [${c.name}, base ${c.base}]`).join(', ')})`);
  }
  if (matching.length > 1) {
    throw new GpioLineError(`GPIO line ${describeLine(line)}: the label "${line.chip}" names ${matching.length} chips (${matching.map((c) => c.name).join(', ')}); cannot tell which is meant`);
  }
  const chip = matching[0] as GpioChipInfo;
  if (!Number.isInteger(line.offset) || line.offset < 0 || line.offset >= chip.ngpio) {
    throw new GpioLineError(`GPIO line ${describeLine(line)}: offset out of range (${chip.label} has lines 0–${chip.ngpio - 1})`);
  }
  return chip.base + line.offset;
}
