import { getTimes } from 'suncalc';
import { describe, expect, it } from 'vitest';
import { LineOutput } from '../../../drivers/gpio/digital.ts';
import { SimulatedGpio } from '../../../drivers/gpio/simulated.ts';
import { BrightnessControl } from '../../../drivers/illuminator/brightness.ts';
import { irOverrideArgsSchema, irOverrideCommand } from '../../../drivers/illuminator/command.ts';
import { Illuminator } from '../../../drivers/illuminator/illuminator.ts';
import { isDark, nextChange, type SitePosition } from '../../../drivers/illuminator/schedule.ts';
import type { GatewayEvent } from '../../../gateway/events.ts';
import { captureLog } from './log.ts';
import { ManualTimers } from './manual-timers.ts';

const OAKLAND: SitePosition = { latitude: 37.8044, longitude: -122.2712 };
const TROMSO: SitePosition = { latitude: 69.6492, longitude: 18.9553 };
const LAMP = { chip: 'pinctrl-rp1', offset: 23 };
const MIN = 60_000;

function rig(opts: { position?: SitePosition; control?: 'schedule' | 'brightness'; at?: string } = {}) {
  const gpio = new SimulatedGpio();
  const timers = new ManualTimers();
  timers.t = Date.parse(opts.at ?? '2026-11-22T20:00:00Z');
  const events: GatewayEvent[] = [];
  let position = opts.position;
  const ir = new Illuminator({
    output: new LineOutput('ir', gpio.openOutput(LAMP, 0)), timers, events: { emit: (e) => void events.push(e) }, log: captureLog().log,
    control: opts.control ?? 'schedule', darkAt: 'civil', position: () => position,
    brightness: new BrightnessControl({ onBelow: 40, offAbove: 90, holdMs: 2 * MIN, staleMs: 5 * MIN }), checkEveryMs: 30_000,
  });
  const at = (iso: string): void => timers.fireAllAt(Date.parse(iso));
  return { gpio, timers, ir, events, at, lamp: () => gpio.level(LAMP), setPosition: (p: SitePosition) => (position = p) };
}

describe('IR schedule from the sun (suncalc)', () => {
  it('Oakland in November: off by day, on from civil dusk, off again after civil dawn', () => {
    const times = getTimes(new Date('2026-11-22T20:00:00Z'), OAKLAND.latitude, OAKLAND.longitude);
    const dusk = (times.dusk as Date).getTime();
    expect(isDark(dusk - MIN, OAKLAND, 'civil')).toBe(false);
    expect(isDark(dusk + MIN, OAKLAND, 'civil')).toBe(true);
    // Sunset comes before civil dusk: with darkAt 'sunset' it is already dark at dusk − 1 min.
    expect(isDark(dusk - MIN, OAKLAND, 'sunset')).toBe(true);
    expect(nextChange(Date.parse('2026-11-22T20:00:00Z'), OAKLAND, 'civil')).toBe(dusk);
    expect(isDark(Date.parse('2026-11-23T15:00:00Z'), OAKLAND, 'civil')).toBe(false);
  });

  it('Tromsø: polar night noon is civil twilight (not dark at -6°, dark at sunset); midsummer midnight is light', () => {
    const noonDec = Date.parse('2026-12-21T11:00:00Z');
    expect(isDark(noonDec, TROMSO, 'civil')).toBe(false);
    expect(isDark(noonDec, TROMSO, 'sunset')).toBe(true);
    expect(isDark(Date.parse('2026-06-21T23:00:00Z'), TROMSO, 'civil')).toBe(false);
    expect(nextChange(Date.parse('2026-06-21T23:00:00Z'), TROMSO, 'civil')).toBeUndefined();
  });
});

describe('Illuminator', () => {
  it('follows the schedule, switching at dusk', () => {
    const { ir, at, lamp } = rig({ position: OAKLAND });
    ir.start();
    expect(lamp()).toBe(0);
    expect(ir.status()).toMatchObject({ on: false, reason: 'schedule', control: 'schedule' });
    expect(ir.status().sunAltitudeDeg).toBeGreaterThan(20);
    at('2026-11-23T01:30:00Z');
    expect(lamp()).toBe(1);
    expect(ir.status()).toMatchObject({ on: true, reason: 'schedule', lastChangeAt: Date.parse('2026-11-23T01:30:00Z') });
  });

  it('without a position the lamp is lit; a GPS position then lets the schedule decide', () => {
    const { ir, at, lamp, setPosition } = rig();
    ir.start();
    expect(lamp()).toBe(1);
    expect(ir.status().reason).toBe('no-position');
    setPosition(OAKLAND);
    at('2026-11-22T20:00:30Z');
    expect(lamp()).toBe(0);
  });

  it('brightness control: dark below onBelow held for holdMs, light only above offAbove', () => {
    const { ir, at, lamp } = rig({ position: OAKLAND, control: 'brightness', at: '2026-11-22T20:00:00Z' });
    ir.start();
    ir.brightness('cam-1', 120);
    ir.brightness('cam-2', 110);
    expect(lamp()).toBe(0);
    // A storm darkens the scene at midday: on after it has lasted two minutes.
    ir.brightness('cam-1', 30);
    ir.brightness('cam-2', 35);
    expect(lamp()).toBe(0);
    at('2026-11-22T20:01:00Z');
    ir.brightness('cam-1', 30);
    ir.brightness('cam-2', 35);
    expect(lamp()).toBe(0);
    at('2026-11-22T20:02:00Z');
    ir.brightness('cam-1', 30);
    ir.brightness('cam-2', 35);
    expect(lamp()).toBe(1);
    expect(ir.status()).toMatchObject({ reason: 'brightness', brightness: 32.5 });
    // The lamp brightens the picture to 70: still below offAbove (90), stays on.
    for (const t of ['20:03', '20:04', '20:05', '20:06']) {
      at(`2026-11-22T${t}:00Z`);
      ir.brightness('cam-1', 70);
      ir.brightness('cam-2', 72);
    }
    expect(lamp()).toBe(1);
    // Reports stop: stale after 5 min, the schedule (midday: off) takes over.
    at('2026-11-22T20:12:00Z');
    expect(lamp()).toBe(0);
    expect(ir.status().reason).toBe('schedule');
  });

  it('override by command: on by day for 30 min, then back to the schedule; auto cancels', async () => {
    const { ir, at, lamp, events, timers } = rig({ position: OAKLAND });
    ir.start();
    const handle = irOverrideCommand(ir, () => timers.now());
    const result = await handle(irOverrideArgsSchema.parse({ state: 'on', durationMinutes: 30, by: 'tech.jones', reason: 'aiming check' }));
    expect(lamp()).toBe(1);
    expect(result).toMatchObject({ on: true, reason: 'override', override: { on: true, by: 'tech.jones', until: Date.parse('2026-11-22T20:30:00Z') } });
    at('2026-11-22T20:29:00Z');
    expect(lamp()).toBe(1);
    at('2026-11-22T20:30:00Z');
    expect(lamp()).toBe(0);
    expect(ir.status().override).toBeUndefined();
    // Off at night, then auto.
    at('2026-11-23T03:00:00Z');
    expect(lamp()).toBe(1);
    await handle(irOverrideArgsSchema.parse({ state: 'off', by: 'ops' }));
    expect(lamp()).toBe(0);
    await handle(irOverrideArgsSchema.parse({ state: 'auto', by: 'ops' }));
    expect(lamp()).toBe(1);
    expect(events.map((e) => [e.type, e['on'] ?? (e['cleared'] ? 'cleared' : '?')])).toEqual([['illuminator.override', true], ['illuminator.override', false], ['illuminator.override', 'cleared']]);
  });

  it('override arguments are checked', () => {
    expect(irOverrideArgsSchema.safeParse({ state: 'dim', by: 'x' }).success).toBe(false);
    expect(irOverrideArgsSchema.safeParse({ state: 'on', by: 'x', durationMinutes: 24 * 60 }).success).toBe(false);
    expect(irOverrideArgsSchema.safeParse({ state: 'on' }).success).toBe(false);
    expect(irOverrideArgsSchema.parse({ state: 'on', by: 'x' }).durationMinutes).toBe(60);
  });

  it('brightness thresholds must leave a gap, and values must be lumas', () => {
    expect(() => new BrightnessControl({ onBelow: 50, offAbove: 50, holdMs: 0, staleMs: 1 })).toThrow(/must be above/);
    expect(() => new BrightnessControl({ onBelow: 40, offAbove: 90, holdMs: 0, staleMs: 1 }).observe('c', 300, 0)).toThrow(/not a 0–255 luma/);
  });
});
