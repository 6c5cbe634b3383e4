/** A fake sysfs tree: `{root}/class/gpio/gpiochipN/{base,label,ngpio}`, as Raspberry Pi kernels lay it out. */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface FakeChip {
  readonly base: number;
  readonly label: string;
  readonly ngpio: number;
}

export function fakeSysfs(chips: readonly FakeChip[]): string {
  const root = mkdtempSync(join(tmpdir(), 'alpr-sysfs-'));
  const gpio = join(root, 'class', 'gpio');
  mkdirSync(gpio, { recursive: true });
  writeFileSync(join(gpio, 'export'), '');
  for (const chip of chips) {
    const dir = join(gpio, `gpiochip${chip.base}`);
    mkdirSync(dir);
    writeFileSync(join(dir, 'base'), `${chip.base}\n`);
    writeFileSync(join(dir, 'label'), `${chip.label}\n`);
    writeFileSync(join(dir, 'ngpio'), `${chip.ngpio}\n`);
  }
  return root;
}

/** Raspberry Pi 4, kernel 6.6+: the SoC's 58 lines now start at 512 (they started at 0 before). */
export const PI4_CHIPS: FakeChip[] = [
  { base: 512, label: 'pinctrl-bcm2711', ngpio: 58 },
  { base: 570, label: 'raspberrypi-exp-gpio', ngpio: 8 },
];

/** Raspberry Pi 5, kernel 6.6+: the header lines are on the RP1, whose chip sits at 571. */
export const PI5_CHIPS: FakeChip[] = [
  { base: 512, label: 'gpio-brcmstb@107d508500', ngpio: 32 },
  { base: 544, label: 'gpio-brcmstb@107d508520', ngpio: 4 },
  { base: 548, label: 'gpio-brcmstb@107d517c00', ngpio: 17 },
  { base: 565, label: 'gpio-brcmstb@107d517c20', ngpio: 6 },
  { base: 571, label: 'pinctrl-rp1', ngpio: 54 },
];
