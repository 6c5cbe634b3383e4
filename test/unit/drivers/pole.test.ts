/** The pole facade: built from config on the simulated twins, wired to fakes of the gateway's parts. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { z } from 'zod';
import { GpioUnavailableError, SimulatedGpio } from '../../../drivers/gpio/index.ts';
import { nmeaEpoch } from '../../../drivers/gps/simulator.ts';
import { NmeaFramer } from '../../../drivers/gps/nmea.ts';
import { decode } from '../../../drivers/gps/decode.ts';
import { Pole, PoleConfigError, type CommandRegistry } from '../../../drivers/pole.ts';
import { PluggableMockBinding } from '../../../drivers/serial/index.ts';
import { hardwareSchema } from '../../../gateway/config/schema.ts';
import type { GatewayEvent } from '../../../gateway/events.ts';
import type { AuditRecord } from '../../../gateway/store/audit-log.ts';
import { captureLog, WARN } from './log.ts';
import { ManualTimers } from './manual-timers.ts';

const wait = { timeout: 10_000, interval: 10 };
let dirs: string[] = [];
let poles: Pole[] = [];
afterEach(async () => {
  for (const p of poles) await p.stop();
  poles = [];
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs = [];
});

const full = (gpsPath: string, radarPath: string) => hardwareSchema.parse({
  gpio: { backend: 'simulated', debounceMs: 20 },
  position: { latitude: 37.8044, longitude: -122.2712 },
  statusLed: { line: { chip: 'pinctrl-rp1', offset: 22 } },
  tamper: { line: { chip: 'pinctrl-rp1', offset: 17, activeLow: true }, policy: 'lock-console' },
  illuminator: { line: { chip: 'pinctrl-rp1', offset: 23 } },
  trigger: { line: { chip: 'pinctrl-rp1', offset: 27, activeLow: true }, cameras: ['north'] },
  gps: { serial: { path: gpsPath, backend: 'simulated' } },
  radar: { serial: { path: radarPath, backend: 'simulated' }, format: 'icoms-2' },
});

let seq = 0;
async function rig(config: z.input<typeof hardwareSchema> | ReturnType<typeof full>, opts: { gpio?: SimulatedGpio } = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), 'alpr-pole-'));
  dirs.push(dataDir);
  const timers = new ManualTimers();
  timers.t = Date.parse('2026-11-22T20:00:00.000Z');
  const gpio = opts.gpio ?? new SimulatedGpio();
  // Door closed (active-low switch held high), no vehicle on the loop.
  gpio.drive({ chip: 'pinctrl-rp1', offset: 17 }, 1);
  gpio.drive({ chip: 'pinctrl-rp1', offset: 27 }, 1);
  const mock = new PluggableMockBinding();
  const events: GatewayEvent[] = [];
  const audits: AuditRecord[] = [];
  const present: string[] = [];
  const clockFeeds: number[] = [];
  const { log, lines } = captureLog();
  const pole = await Pole.create(hardwareSchema.parse(config), {
    log, events: { emit: (e) => void events.push(e) }, audit: async (r) => void audits.push(r),
    setVehiclePresent: (id, p) => void present.push(`${id}:${p}`), cameraIds: ['north', 'south'],
    gpsTime: (utc) => {
      clockFeeds.push(utc);
      return true;
    },
    dataDir, timers, monotonic: () => timers.t, gpio: { simulated: gpio }, serialMock: mock, serialBackoff: { initialMs: 100, maxMs: 400, jitter: 0 },
  });
  poles.push(pole);
  return { pole, timers, gpio, mock, events, audits, present, clockFeeds, lines, dataDir };
}

describe('Pole', () => {
  it('no hardware configured: nothing is opened, status is empty, commands none', async () => {
    const { pole, lines } = await rig({});
    await pole.start();
    expect(pole.status()).toEqual({});
    expect(pole.commands).toEqual({});
    expect(pole.consoleLocked()).toBe(false);
    expect(pole.speedFor(0, 1)).toBeUndefined();
    expect(pole.gpsFix()).toBeUndefined();
    expect(lines.filter((l) => l.level >= WARN)).toEqual([]);
  });

  it('a fully fitted simulated pole: tamper, trigger, LED, illuminator, GPS into the clock, radar speeds', async () => {
    const gpsPath = `/dev/sim-gps-${process.pid}-${++seq}`;
    const radarPath = `/dev/sim-radar-${process.pid}-${seq}`;
    const r = await rig(full(gpsPath, radarPath));
    await r.pole.start();
    expect(r.lines.some((l) => l.level === WARN && /GPIO is SIMULATED/.test(l.msg))).toBe(true);
    expect(r.lines.some((l) => l.level === WARN && /serial device is SIMULATED/.test(l.msg))).toBe(true);

    // GPS: the simulator's first epoch reaches the receiver and the clock.
    await vi.waitFor(() => expect(r.pole.gpsFix()).toBe('gps'), wait);
    expect(r.clockFeeds).toEqual([Date.parse('2026-11-22T20:00:00.000Z')]);
    expect(r.events.map((e) => e.type)).toContain('gps.fix-acquired');

    // Illuminator: daytime in Oakland, off.
    expect(r.pole.status().illuminator).toMatchObject({ on: false, reason: 'schedule' });

    // Trigger: a car on the loop raises the north camera only.
    r.gpio.drive({ chip: 'pinctrl-rp1', offset: 27 }, 0);
    r.timers.fireAllAt(r.timers.t + 20);
    expect(r.present).toEqual(['north:true']);

    // Radar: two readings during the pass.
    const passStart = r.timers.t;
    expect(r.mock.send(radarPath, '\r\n048KI\r\n05')).toBe(true);
    r.mock.send(radarPath, '2KI\r\n');
    await vi.waitFor(() => expect(r.pole.status().radar?.parser.readings).toBe(2), wait);
    expect(r.pole.speedFor(passStart, passStart + 500)).toMatchObject({ kmh: 52, samples: 2, direction: 'approaching' });

    // Tamper: door opened outside any window → alarm, audit, LED fault, console locked.
    r.gpio.drive({ chip: 'pinctrl-rp1', offset: 17 }, 0);
    r.timers.fireAllAt(r.timers.t + 20);
    await vi.waitFor(() => expect(r.events.map((e) => e.type)).toContain('console.locked'), wait);
    expect(r.pole.consoleLocked()).toBe(true);
    expect(r.audits.map((a) => a.action)).toEqual(expect.arrayContaining(['enclosure.open', 'console.lock']));
    expect(r.pole.status().led?.pattern).toBe('fault');
    expect(await r.pole.clearLock('admin.lee')).toBe(true);

    // Status carries every device.
    const status = r.pole.status();
    expect(Object.keys(status).sort()).toEqual(['gpio', 'gps', 'illuminator', 'led', 'radar', 'tamper', 'trigger']);
    expect(status.gps).toMatchObject({ fix: 'gps', link: { state: 'open', opens: 1 } });
  });

  it('GPS receiver unplugged: disconnect event and degraded LED; replugged: reconnected, fix again', async () => {
    const gpsPath = `/dev/sim-gps-${process.pid}-${++seq}`;
    const r = await rig({ gpio: { backend: 'simulated' }, statusLed: { line: { chip: 'pinctrl-rp1', offset: 22 } }, gps: { serial: { path: gpsPath, backend: 'simulated' } } });
    await r.pole.start();
    await vi.waitFor(() => expect(r.pole.gpsFix()).toBe('gps'), wait);
    r.mock.unplug(gpsPath);
    await vi.waitFor(() => expect(r.events.map((e) => e.type)).toContain('serial.disconnected'), wait);
    expect(r.pole.status().led).toMatchObject({ pattern: 'degraded', conditions: { 'serial:gps': 'degraded' } });
    r.mock.plug(gpsPath);
    r.timers.fireAllAt(r.timers.t + 1_000);
    await vi.waitFor(() => expect(r.events.map((e) => e.type)).toContain('serial.reconnected'), wait);
    expect(r.pole.status().led?.pattern).toBe('ok');
    expect(r.pole.status().gps?.link).toMatchObject({ state: 'open', opens: 2, disconnects: 1 });
  });

  it('signed commands: ir-override and maintenance-window register on the bus and are audited', async () => {
    const r = await rig({ gpio: { backend: 'simulated' }, position: { latitude: 37.8044, longitude: -122.2712 }, illuminator: { line: { chip: 'pinctrl-rp1', offset: 23 } }, tamper: { line: { chip: 'pinctrl-rp1', offset: 17, activeLow: true } } });
    await r.pole.start();
    const registered = new Map<string, { schema: z.ZodType; handler: (a: unknown) => Promise<unknown> }>();
    const bus: CommandRegistry = { register: (name, schema, handler) => void registered.set(name, { schema, handler: handler as (a: unknown) => Promise<unknown> }) };
    expect(r.pole.registerCommands(bus)).toEqual(['ir-override', 'maintenance-window']);
    const call = async (name: string, args: unknown): Promise<unknown> => {
      const c = registered.get(name);
      if (!c) throw new Error(`no ${name}`);
      return c.handler(c.schema.parse(args));
    };
    expect(await call('ir-override', { state: 'on', durationMinutes: 15, by: 'tech.jones' })).toMatchObject({ on: true, reason: 'override' });
    expect(r.gpio.level({ chip: 'pinctrl-rp1', offset: 23 })).toBe(1);
    await call('maintenance-window', { action: 'announce', durationMinutes: 60, by: 'tech.jones', reason: 'lens cleaning' });
    // The door opened now is expected.
    r.gpio.drive({ chip: 'pinctrl-rp1', offset: 17 }, 0);
    r.timers.fireAllAt(r.timers.t + 30);
    await vi.waitFor(() => expect(r.events.find((e) => e.type === 'tamper.opened')).toMatchObject({ expected: true }), wait);
    expect(r.pole.consoleLocked()).toBe(false);
    await vi.waitFor(() => expect(r.audits.map((a) => `${a.user} ${a.action}`)).toEqual(['tech.jones illuminator.override', 'tech.jones maintenance.announce', 'system enclosure.open']), wait);
  });

  it('maintenance windows from config: a past one is ignored, a current one makes the opening expected', async () => {
    const r = await rig({
      gpio: { backend: 'simulated' },
      tamper: {
        line: { chip: 'pinctrl-rp1', offset: 17, activeLow: true }, policy: 'lock-console',
        maintenance: [
          { from: '2026-11-01T10:00:00Z', to: '2026-11-01T12:00:00Z', by: 'ops', reason: 'last visit' },
          { from: '2026-11-22T19:30:00Z', to: '2026-11-22T21:00:00Z', by: 'ops', reason: 'pole survey' },
        ],
      },
    });
    await r.pole.start();
    expect(r.pole.status().tamper?.maintenance).toMatchObject({ reason: 'pole survey', source: 'config' });
    r.gpio.drive({ chip: 'pinctrl-rp1', offset: 17 }, 0);
    r.timers.fireAllAt(r.timers.t + 30);
    await vi.waitFor(() => expect(r.events.find((e) => e.type === 'tamper.opened')).toMatchObject({ expected: true, severity: 'info' }), wait);
    expect(r.pole.consoleLocked()).toBe(false);
  });

  it('no sysfs GPIO: boot fails clearly, or runs the twin with a warning when simulateIfAbsent', async () => {
    const tamper = { line: { chip: 'pinctrl-rp1', offset: 17 } };
    await expect(rig({ gpio: { sysfsRoot: '/nonexistent-sysfs' }, tamper })).rejects.toThrow(GpioUnavailableError);
    const r = await rig({ gpio: { sysfsRoot: '/nonexistent-sysfs', simulateIfAbsent: true }, tamper });
    expect(r.pole.status().gpio).toEqual({ backend: 'simulated' });
    expect(r.lines.some((l) => l.level === WARN && /SIMULATED twin/.test(l.msg))).toBe(true);
  });

  it('a bad line fails boot naming its config path, and lines opened before it are closed', async () => {
    const gpio = new SimulatedGpio({ chips: { 'pinctrl-rp1': 54 } });
    await expect(rig({ gpio: { backend: 'simulated' }, statusLed: { line: { chip: 'pinctrl-rp1', offset: 22 } }, tamper: { line: { chip: 'pinctrl-bcm2711', offset: 17 } } }, { gpio }))
      .rejects.toThrow(/^hardware\.tamper\.line: simulated GPIO pinctrl-bcm2711:17: no chip labelled/);
    expect(gpio.isOpen({ chip: 'pinctrl-rp1', offset: 22 })).toBe(false);
  });

  it('trigger cameras must exist; a unit-less radar format needs a unit', async () => {
    await expect(rig({ gpio: { backend: 'simulated' }, trigger: { line: { chip: 'pinctrl-rp1', offset: 27 }, cameras: ['west'] } })).rejects.toThrow(PoleConfigError);
    await expect(rig({ radar: { serial: { path: '/dev/x', backend: 'simulated' }, format: 'digits' } })).rejects.toThrow(/hardware\.radar\.unit: the "digits" format carries no unit/);
  });
});

describe('NMEA simulator', () => {
  it('writes sentences that frame, check and decode to the time and place it was given', () => {
    const framer = new NmeaFramer();
    const at = Date.parse('2026-11-22T20:00:01.000Z');
    const out = framer.push(Buffer.from(nmeaEpoch(at, { latitude: -33.8688, longitude: 151.2093 })));
    expect(out.map((s) => s.type)).toEqual(['RMC', 'GGA', 'ZDA']);
    const rmc = decode(out[0]!);
    expect(rmc.ok && rmc.message.kind === 'RMC' && rmc.message.utc).toBe(at);
    const gga = decode(out[1]!);
    if (!gga.ok || gga.message.kind !== 'GGA') throw new Error('GGA did not decode');
    expect(gga.message.position?.latitude).toBeCloseTo(-33.8688, 4);
    expect(gga.message.position?.longitude).toBeCloseTo(151.2093, 4);
  });
});
