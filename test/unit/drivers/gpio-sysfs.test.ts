import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { GpioLineError, GpioUnavailableError, openGpio, resolveSysfsLine, SimulatedGpio } from '../../../drivers/gpio/index.ts';
import { OnoffGpioBackend } from '../../../drivers/gpio/onoff-backend.ts';
import { systemTimers } from '../../../drivers/camera/timers.ts';
import { fakeSysfs, PI4_CHIPS, PI5_CHIPS } from './fake-sysfs.ts';
import { captureLog, WARN } from './log.ts';

const roots: string[] = [];
const tree = (chips: Parameters<typeof fakeSysfs>[0]): string => {
  const root = fakeSysfs(chips);
  roots.push(root);
  return root;
};
afterAll(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

describe('sysfs line resolution (chip label + offset)', () => {
  it('BCM 17 on a Pi 4 (kernel 6.6+, base 512) is sysfs GPIO 529', () => {
    expect(resolveSysfsLine(tree(PI4_CHIPS), { chip: 'pinctrl-bcm2711', offset: 17 })).toBe(529);
  });

  it('BCM 17 on a Pi 5 (RP1 at base 571) is sysfs GPIO 588, beside the other chips', () => {
    expect(resolveSysfsLine(tree(PI5_CHIPS), { chip: 'pinctrl-rp1', offset: 17 })).toBe(588);
  });

  it('an older kernel with base 0 gives the BCM number itself', () => {
    expect(resolveSysfsLine(tree([{ base: 0, label: 'pinctrl-bcm2835', ngpio: 54 }]), { chip: 'pinctrl-bcm2835', offset: 4 })).toBe(4);
  });

  it('an unknown label names the chips that are present', () => {
    const root = tree(PI5_CHIPS);
    expect(() => resolveSysfsLine(root, { chip: 'pinctrl-bcm2711', offset: 17 })).toThrow(GpioLineError);
    expect(() => resolveSysfsLine(root, { chip: 'pinctrl-bcm2711', offset: 17 })).toThrow(/no gpiochip labelled "pinctrl-bcm2711".*pinctrl-rp1 \[gpiochip571, base 571\]/);
  });

  it('an offset past the chip is refused with the valid range', () => {
    expect(() => resolveSysfsLine(tree(PI4_CHIPS), { chip: 'pinctrl-bcm2711', offset: 58 })).toThrow(/offset out of range \(pinctrl-bcm2711 has lines 0–57\)/);
  });

  it('a label shared by two chips is refused rather than guessed', () => {
    const root = tree([{ base: 512, label: 'dup', ngpio: 8 }, { base: 520, label: 'dup', ngpio: 8 }]);
    expect(() => resolveSysfsLine(root, { chip: 'dup', offset: 1 })).toThrow(/names 2 chips/);
  });
});

describe('no sysfs GPIO on the machine', () => {
  it('resolution says sysfs GPIO is absent, and how to run without it', () => {
    expect(() => resolveSysfsLine('/nonexistent-sysfs', { chip: 'pinctrl-rp1', offset: 1 })).toThrow(GpioUnavailableError);
    expect(() => resolveSysfsLine('/nonexistent-sysfs', { chip: 'pinctrl-rp1', offset: 1 })).toThrow(/sysfs GPIO is not available.*\/nonexistent-sysfs\/class\/gpio: ENOENT.*"simulated"/);
  });

  it('the onoff backend refuses to start where there is no sysfs GPIO', async () => {
    await expect(OnoffGpioBackend.create('/nonexistent-sysfs')).rejects.toThrow(GpioUnavailableError);
  });

  it('config backend sysfs without simulateIfAbsent: boot fails with the clear error', async () => {
    const { log } = captureLog();
    await expect(openGpio({ backend: 'sysfs', sysfsRoot: '/nonexistent-sysfs', simulateIfAbsent: false, debounceMs: 20 }, { log, timers: systemTimers }))
      .rejects.toThrow(/sysfs GPIO is not available/);
  });

  it('config asks for the twin when absent: the simulated backend runs, with a warning', async () => {
    const { log, lines } = captureLog();
    const gpio = await openGpio({ backend: 'sysfs', sysfsRoot: '/nonexistent-sysfs', simulateIfAbsent: true, debounceMs: 20 }, { log, timers: systemTimers });
    expect(gpio.backend).toBeInstanceOf(SimulatedGpio);
    const warning = lines.find((l) => l.level === WARN);
    expect(warning?.msg).toMatch(/SIMULATED twin/);
    expect(String(warning?.['reason'])).toMatch(/not available/);
  });

  it('backend simulated by config also warns', async () => {
    const { log, lines } = captureLog();
    const gpio = await openGpio({ backend: 'simulated', sysfsRoot: '/sys', simulateIfAbsent: false, debounceMs: 20 }, { log, timers: systemTimers });
    expect(gpio.backend.kind).toBe('simulated');
    expect(lines.some((l) => l.level === WARN && /SIMULATED/.test(l.msg))).toBe(true);
  });

  it('a wrong line is not hidden by simulateIfAbsent: only absence falls back', async () => {
    const { log } = captureLog();
    const root = tree(PI4_CHIPS);
    const sysfs = async (): Promise<never> => {
      throw new GpioLineError('GPIO line x: no gpiochip labelled "x"');
    };
    await expect(openGpio({ backend: 'sysfs', sysfsRoot: root, simulateIfAbsent: true, debounceMs: 20 }, { log, timers: systemTimers, sysfs })).rejects.toThrow(GpioLineError);
  });
});
