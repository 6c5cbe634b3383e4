/**
 * The DigitalInput / DigitalOutput contract, run against every backend that can run here. The
 * simulated twin always can. The sysfs (onoff) backend needs a real board with one line wired to
 * another: on a Pi set ALPR_GPIO_LOOPBACK="chip:driver:input:spare" (e.g. pinctrl-rp1:20:21:26,
 * the spare a free line for the output tests) to run it there; on this machine there is no
 * /sys/class/gpio, so it is skipped and says why.
 */
import { existsSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { systemTimers } from '../../../drivers/camera/timers.ts';
import { Gpio, SimulatedGpio, type GpioBackend, type LineSpec } from '../../../drivers/gpio/index.ts';
import { OnoffGpioBackend } from '../../../drivers/gpio/onoff-backend.ts';
import { captureLog } from './log.ts';

interface Harness {
  readonly name: string;
  readonly available: string | true;
  backend(): Promise<GpioBackend>;
  /** The input line under test and a function setting its electrical level (called before and after the input opens). */
  input(backend: GpioBackend): { line: LineSpec; drive(level: 0 | 1): void; release(): void };
  outputLine(): LineSpec;
  /** Lets the backend deliver edges: sysfs edges arrive through epoll on the event loop, not at once. */
  settle(): Promise<void>;
}

const turns = async (n: number): Promise<void> => {
  for (let i = 0; i < n; i++) await new Promise<void>((resolve) => setImmediate(resolve));
};

const sim = new SimulatedGpio();
// chip:driverOffset:inputOffset:spareOffset — the driver line wired to the input line, the spare free.
const loopback = process.env['ALPR_GPIO_LOOPBACK']?.split(':');

const harnesses: Harness[] = [
  {
    name: 'simulated twin',
    available: true,
    backend: async () => sim,
    input: () => ({ line: { chip: 'pinctrl-rp1', offset: 5 }, drive: (level) => sim.drive({ chip: 'pinctrl-rp1', offset: 5 }, level), release: () => undefined }),
    outputLine: () => ({ chip: 'pinctrl-rp1', offset: 6 }),
    settle: async () => undefined,
  },
  {
    name: 'sysfs via onoff (loopback wired on a Pi)',
    available: !existsSync('/sys/class/gpio') ? 'no /sys/class/gpio on this machine' : loopback?.length !== 4 ? 'ALPR_GPIO_LOOPBACK=chip:driver:input:spare not set' : true,
    backend: () => OnoffGpioBackend.create('/sys'),
    input: (backend) => {
      const [chip, driverOffset, inputOffset] = loopback as [string, string, string, string];
      const driver = backend.openOutput({ chip, offset: Number(driverOffset) }, 0);
      return { line: { chip, offset: Number(inputOffset) }, drive: (level) => driver.write(level), release: () => driver.close() };
    },
    outputLine: () => ({ chip: (loopback as string[])[0] as string, offset: Number((loopback as string[])[3]) }),
    settle: () => turns(5),
  },
];

for (const h of harnesses) {
  describe.skipIf(h.available !== true)(`GPIO contract: ${h.name}${h.available === true ? '' : ` (skipped: ${h.available})`}`, () => {
    let gpio: Gpio;
    let releases: (() => void)[] = [];
    /** The wired input; `drive` sets the level and waits until the backend has delivered the edge. */
    const wired = (): { line: LineSpec; drive(level: 0 | 1): Promise<void> } => {
      const end = h.input(gpio.backend);
      releases.push(end.release);
      return {
        line: end.line,
        drive: async (level) => {
          end.drive(level);
          await h.settle();
        },
      };
    };
    beforeEach(async () => {
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
      gpio = new Gpio(await h.backend(), { log: captureLog().log, timers: systemTimers }, 30);
    });
    afterEach(() => {
      for (const release of releases) release();
      releases = [];
      vi.useRealTimers();
    });

    it('a bouncing switch gives one change, only after it has been quiet for debounceMs', async () => {
      const { line, drive } = wired();
      await drive(0);
      const input = gpio.input('door', line);
      const seen: [boolean, number][] = [];
      const t0 = Date.now();
      input.onChange((v, at) => seen.push([v, at - t0]));
      for (const level of [1, 0, 1, 0, 1] as const) {
        await drive(level);
        vi.advanceTimersByTime(5);
      }
      expect(seen).toEqual([]);
      expect(input.value()).toBe(false);
      vi.advanceTimersByTime(24);
      expect(seen).toEqual([]);
      vi.advanceTimersByTime(1);
      expect(seen).toEqual([[true, 50]]);
      expect(input.value()).toBe(true);
      input.close();
    });

    it('a glitch shorter than debounceMs that returns to the old level is no change at all', async () => {
      const { line, drive } = wired();
      await drive(0);
      const input = gpio.input('loop', line);
      const seen: boolean[] = [];
      input.onChange((v) => seen.push(v));
      await drive(1);
      vi.advanceTimersByTime(10);
      await drive(0);
      vi.advanceTimersByTime(100);
      expect(seen).toEqual([]);
      input.close();
    });

    it('active-low: a line pulled to ground reads as asserted', async () => {
      const { line, drive } = wired();
      await drive(1);
      const input = gpio.input('tamper', { ...line, activeLow: true });
      expect(input.value()).toBe(false);
      const seen: boolean[] = [];
      input.onChange((v) => seen.push(v));
      await drive(0);
      vi.advanceTimersByTime(30);
      await drive(1);
      vi.advanceTimersByTime(30);
      expect(seen).toEqual([true, false]);
      input.close();
    });

    it('after close no listener is called and the line can be opened again', async () => {
      const { line, drive } = wired();
      await drive(0);
      const input = gpio.input('x', line);
      const seen: boolean[] = [];
      input.onChange((v) => seen.push(v));
      await drive(1);
      input.close();
      vi.advanceTimersByTime(100);
      expect(seen).toEqual([]);
      const again = gpio.input('x', line);
      expect(again.value()).toBe(true);
      again.close();
    });

    it('outputs start at the initial value and follow set(), active-low inverted on the wire', async () => {
      const line = h.outputLine();
      const out = gpio.output('led', line, true);
      expect(out.value()).toBe(true);
      out.set(false);
      expect(out.value()).toBe(false);
      out.close();
      const inverted = gpio.output('ir', { ...line, activeLow: true }, false);
      expect(inverted.value()).toBe(false);
      if (h.available === true && gpio.backend instanceof SimulatedGpio) expect(gpio.backend.level(line)).toBe(1);
      inverted.set(true);
      if (gpio.backend instanceof SimulatedGpio) expect(gpio.backend.level(line)).toBe(0);
      inverted.close();
      expect(() => inverted.set(true)).toThrow(/closed/);
    });
  });
}

describe('simulated twin specifics', () => {
  it('refuses a line that is already open, and unknown chips when chips are declared', () => {
    const twin = new SimulatedGpio({ chips: { 'pinctrl-rp1': 54 } });
    twin.openInput({ chip: 'pinctrl-rp1', offset: 3 });
    expect(() => twin.openInput({ chip: 'pinctrl-rp1', offset: 3 })).toThrow(/already in use/);
    expect(() => twin.openInput({ chip: 'pinctrl-bcm2711', offset: 3 })).toThrow(/no chip labelled/);
    expect(() => twin.openOutput({ chip: 'pinctrl-rp1', offset: 54 }, 0)).toThrow(/offset out of range/);
  });
});
