import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { systemTimers } from '../../../drivers/camera/timers.ts';
import { LineOutput } from '../../../drivers/gpio/digital.ts';
import { SimulatedGpio } from '../../../drivers/gpio/simulated.ts';
import { StatusLed } from '../../../drivers/led/status-led.ts';

const LINE = { chip: 'pinctrl-rp1', offset: 22 };

/** The LED's level sampled every 25 ms over `ms`, as a string of 1s and 0s. */
function trace(gpio: SimulatedGpio, ms: number): string {
  let out = '';
  for (let t = 0; t < ms; t += 25) {
    out += String(gpio.level(LINE));
    vi.advanceTimersByTime(25);
  }
  return out;
}

describe('StatusLed', () => {
  let gpio: SimulatedGpio;
  let led: StatusLed;
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    gpio = new SimulatedGpio();
    led = new StatusLed(new LineOutput('led', gpio.openOutput(LINE, 0)), systemTimers);
  });
  afterEach(() => {
    led.stop();
    vi.useRealTimers();
  });

  it('ok: a 100 ms blink every 2 s', () => {
    led.start();
    expect(trace(gpio, 4_000)).toBe(('1111' + '0'.repeat(76)).repeat(2));
  });

  it('fault: 125 ms on, 125 ms off', () => {
    led.start();
    led.raise('tamper', 'fault');
    expect(trace(gpio, 1_000)).toBe('11111000001111100000111110000011111000001111100000'.slice(0, 40));
  });

  it('degraded: 1 s on, 1 s off; provisioning: double blink then a pause', () => {
    led.start();
    led.raise('camera', 'degraded');
    expect(trace(gpio, 2_000)).toBe('1'.repeat(40) + '0'.repeat(40));
    led.clear('camera');
    led.raise('provisioning', 'provisioning');
    expect(trace(gpio, 1_500)).toBe('111111' + '000000' + '111111' + '0'.repeat(42));
  });

  it('the most urgent raised condition wins; clearing it falls back to the next', () => {
    led.start();
    led.raise('camera', 'degraded');
    led.raise('tamper', 'fault');
    expect(led.status()).toEqual({ pattern: 'fault', conditions: { camera: 'degraded', tamper: 'fault' } });
    led.clear('tamper');
    expect(led.pattern()).toBe('degraded');
    led.clear('camera');
    expect(led.pattern()).toBe('ok');
  });

  it('stop leaves the LED off and blinking ends', () => {
    led.start();
    led.raise('x', 'fault');
    led.stop();
    expect(gpio.level(LINE)).toBe(0);
    const changes = gpio.history(LINE).length;
    vi.advanceTimersByTime(5_000);
    expect(gpio.history(LINE).length).toBe(changes);
  });
});
