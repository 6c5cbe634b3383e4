/**
 * The real GPIO backend: the kernel's sysfs interface through onoff. onoff itself always works
 * under `/sys/class/gpio`; `sysfsRoot` only moves where lines are resolved (tests use a fake tree).
 * onoff is imported only when this backend is chosen, so machines without it never load epoll.
 */
import type * as OnoffTypes from 'onoff';
import { GpioUnavailableError } from './errors.ts';
import { listGpioChips, resolveSysfsLine } from './sysfs.ts';
import type { GpioBackend, Level, LineSpec, RawInputLine, RawOutputLine } from './types.ts';

type OnoffModule = typeof OnoffTypes;
type OnoffGpio = InstanceType<OnoffModule['Gpio']>;

export class OnoffGpioBackend implements GpioBackend {
  readonly kind = 'sysfs' as const;

  private constructor(private readonly onoff: OnoffModule, private readonly sysfsRoot: string) {}

  /** Throws GpioUnavailableError, naming what is missing, where sysfs GPIO is absent. */
  static async create(sysfsRoot = '/sys'): Promise<OnoffGpioBackend> {
    listGpioChips(sysfsRoot);
    const onoff = await import('onoff');
    if (sysfsRoot === '/sys' && !onoff.Gpio.accessible) {
      throw new GpioUnavailableError(sysfsRoot, 'onoff reports /sys/class/gpio is not accessible (permissions? the container needs privileged mode or the gpio group)');
    }
    return new OnoffGpioBackend(onoff, sysfsRoot);
  }

  openInput(line: LineSpec): RawInputLine {
    const gpio = new this.onoff.Gpio(resolveSysfsLine(this.sysfsRoot, line), 'in', 'both');
    const watchers: ((err: Error | null | undefined, value: Level) => void)[] = [];
    return {
      read: () => gpio.readSync(),
      watch: (listener) => {
        const cb = (err: Error | null | undefined, value: Level): void => {
          // onoff reports a failed poll read as an error with no value; the next edge reads again.
          if (!err) listener(value);
        };
        watchers.push(cb);
        gpio.watch(cb);
      },
      close: () => release(gpio),
    };
  }

  openOutput(line: LineSpec, initial: Level): RawOutputLine {
    // 'high'/'low' sets direction and level in one write: no glitch to the wrong level at boot.
    const gpio = new this.onoff.Gpio(resolveSysfsLine(this.sysfsRoot, line), initial ? 'high' : 'low');
    return {
      read: () => gpio.readSync(),
      write: (level) => gpio.writeSync(level),
      close: () => release(gpio),
    };
  }
}

function release(gpio: OnoffGpio): void {
  gpio.unwatchAll();
  gpio.unexport();
}
