import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { systemTimers } from '../../../drivers/camera/timers.ts';
import { DebouncedInput } from '../../../drivers/gpio/digital.ts';
import { SimulatedGpio } from '../../../drivers/gpio/simulated.ts';
import { VehicleTrigger } from '../../../drivers/trigger/vehicle-trigger.ts';
import type { GatewayEvent } from '../../../gateway/events.ts';
import { captureLog } from './log.ts';

const LOOP = { chip: 'pinctrl-rp1', offset: 27, activeLow: true };

function rig(opts: { presentAtBoot?: boolean } = {}) {
  const gpio = new SimulatedGpio();
  gpio.drive(LOOP, opts.presentAtBoot ? 0 : 1);
  const input = new DebouncedInput(gpio.openInput(LOOP), { name: 'loop', activeLow: true, debounceMs: 20, timers: systemTimers });
  const calls: string[] = [];
  const events: GatewayEvent[] = [];
  const trigger = new VehicleTrigger({
    input, cameras: ['cam-north', 'cam-south'], setVehiclePresent: (id, p) => void calls.push(`${id}:${p}`),
    timers: systemTimers, events: { emit: (e) => void events.push(e) }, log: captureLog().log, holdMs: 1_000, stuckAfterMs: 60_000,
  });
  const loop = (present: boolean): void => {
    gpio.drive(LOOP, present ? 0 : 1);
    vi.advanceTimersByTime(20);
  };
  return { trigger, calls, events, loop };
}

describe('VehicleTrigger', () => {
  beforeEach(() => vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] }));
  afterEach(() => vi.useRealTimers());

  it('raises every covered camera while a vehicle is on the loop, and for holdMs after', () => {
    const { trigger, calls, loop } = rig();
    trigger.start();
    loop(true);
    expect(calls).toEqual(['cam-north:true', 'cam-south:true']);
    loop(false);
    vi.advanceTimersByTime(999);
    expect(calls).toHaveLength(2);
    vi.advanceTimersByTime(1);
    expect(calls).toEqual(['cam-north:true', 'cam-south:true', 'cam-north:false', 'cam-south:false']);
    expect(trigger.status()).toMatchObject({ present: false, raised: false, activations: 1 });
  });

  it('a second vehicle within the hold keeps the rate raised without a gap', () => {
    const { trigger, calls, loop } = rig();
    trigger.start();
    loop(true);
    loop(false);
    vi.advanceTimersByTime(500);
    loop(true);
    vi.advanceTimersByTime(5_000);
    expect(calls).toEqual(['cam-north:true', 'cam-south:true']);
    expect(trigger.status().activations).toBe(2);
  });

  it('a loop stuck on present is withdrawn with an event, and recovers when it clears', () => {
    const { trigger, calls, events, loop } = rig();
    trigger.start();
    loop(true);
    vi.advanceTimersByTime(60_000);
    expect(events.map((e) => e.type)).toEqual(['trigger.stuck']);
    expect(calls.slice(-2)).toEqual(['cam-north:false', 'cam-south:false']);
    expect(trigger.status()).toMatchObject({ present: true, raised: false, stuck: true });
    loop(false);
    expect(events.map((e) => e.type)).toEqual(['trigger.stuck', 'trigger.cleared']);
    loop(true);
    expect(calls.slice(-2)).toEqual(['cam-north:true', 'cam-south:true']);
  });

  it('a vehicle already on the loop at start raises at once; stop lowers', () => {
    const { trigger, calls } = rig({ presentAtBoot: true });
    trigger.start();
    expect(calls).toEqual(['cam-north:true', 'cam-south:true']);
    trigger.stop();
    expect(calls.slice(-2)).toEqual(['cam-north:false', 'cam-south:false']);
  });
});
