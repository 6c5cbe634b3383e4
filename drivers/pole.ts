/**
 * The pole's hardware, built from the `hardware` config section: the facade the gateway starts.
 * It opens only what is fitted (no section, no device), wires each device to the gateway through
 * the functions in `PoleDeps` (events, audit, the pipeline's trigger hook, the trusted clock),
 * and stops everything in reverse order. A device that cannot be built fails boot with an error
 * naming its config path; whatever was already opened is closed first.
 *
 * What the gateway gets back: `status()` for the retained status message, `commands` for the
 * signed command bus, `consoleLocked()` / `clearLock(by)` for the local console, `speedFor()` for
 * vehicle passes, `gpsFix()` for detections, `brightness()` for the illuminator, `indicate()` for
 * the status LED.
 */
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { z } from 'zod';
import type { EventSink } from '../gateway/events.ts';
import type { HardwareConfig } from '../gateway/config/schema.ts';
import type { AuditRecord } from '../gateway/store/audit-log.ts';
import type { BackoffOptions } from './camera/backoff.ts';
import { systemTimers, type Timers } from './camera/timers.ts';
import { openGpio, type Gpio, type GpioBackend, type SimulatedGpio } from './gpio/index.ts';
import { describeLine, type LineSpec } from './gpio/types.ts';
import type { GpsFixQuality } from './gps/decode.ts';
import { NmeaFramer, type NmeaSentence } from './gps/nmea.ts';
import { GpsReceiver, type GpsStatus } from './gps/receiver.ts';
import { NmeaSimulator } from './gps/simulator.ts';
import { BrightnessControl } from './illuminator/brightness.ts';
import { irOverrideArgsSchema, irOverrideCommand } from './illuminator/command.ts';
import { Illuminator, type IlluminatorStatus } from './illuminator/illuminator.ts';
import type { SitePosition } from './illuminator/schedule.ts';
import type { LedPattern } from './led/patterns.ts';
import { StatusLed, type LedStatus } from './led/status-led.ts';
import { customFormat, RADAR_FORMATS, type RadarFormat } from './radar/formats.ts';
import { RadarParser } from './radar/parser.ts';
import { Radar, type RadarStatus } from './radar/radar.ts';
import { SpeedBuffer, type PassSpeed } from './radar/speed-buffer.ts';
import { createSerialLink, LineFramer, type PluggableMockBinding, type SerialLink, type SerialStatus } from './serial/index.ts';
import { maintenanceArgsSchema, maintenanceCommand } from './tamper/commands.ts';
import { FileLockStore } from './tamper/lock-store.ts';
import { MaintenanceWindows } from './tamper/maintenance.ts';
import { TamperMonitor, type TamperStatus } from './tamper/tamper.ts';
import { VehicleTrigger, type TriggerStatus } from './trigger/vehicle-trigger.ts';

export class PoleConfigError extends Error {
  override readonly name = 'PoleConfigError';
}

export interface PoleDeps {
  readonly log: Logger;
  readonly events: EventSink;
  /** Appends to the audit log (AuditLog.append). */
  readonly audit: (record: AuditRecord) => Promise<void>;
  /** Pipeline.setVehiclePresent. */
  readonly setVehiclePresent: (cameraId: string, present: boolean) => void;
  /** The configured camera ids (the trigger covers all of them unless told otherwise). */
  readonly cameraIds: readonly string[];
  /** TrustedClock.gpsTime: GPS UTC for the trusted clock. */
  readonly gpsTime?: (utcMs: number, monoAt: number) => boolean;
  /** The data directory: the console lock is kept there. */
  readonly dataDir: string;
  /** Another source of the site's position (e.g. the delivery location), after hardware.position, before GPS. */
  readonly sitePosition?: () => SitePosition | undefined;
  readonly timers?: Timers;
  readonly monotonic?: () => number;
  /** Test and demo seams: the simulated GPIO to drive, the sysfs backend factory, the mock serial device end. */
  readonly gpio?: { readonly simulated?: SimulatedGpio; readonly sysfs?: (root: string) => Promise<GpioBackend> };
  readonly serialMock?: PluggableMockBinding;
  readonly serialBackoff?: BackoffOptions;
}

/** A command for the signed command bus: register it as `bus.register(name, schema, handler)`. */
export interface PoleCommand<S extends z.ZodType> {
  readonly name: string;
  readonly schema: S;
  readonly handler: (args: z.infer<S>) => Promise<unknown>;
}

export interface PoleCommands {
  readonly irOverride?: PoleCommand<typeof irOverrideArgsSchema>;
  readonly maintenanceWindow?: PoleCommand<typeof maintenanceArgsSchema>;
}

/** The bus as the pole needs it (gateway/delivery/commands.ts CommandBus fits). */
export interface CommandRegistry {
  register<S extends z.ZodType>(name: string, schema: S, handler: (args: z.infer<S>) => Promise<unknown>): void;
}

export interface PoleStatus {
  readonly gpio?: { readonly backend: string };
  readonly led?: LedStatus;
  readonly tamper?: TamperStatus;
  readonly illuminator?: IlluminatorStatus;
  readonly trigger?: TriggerStatus;
  readonly gps?: GpsStatus & { readonly link: SerialStatus };
  readonly radar?: RadarStatus;
}

interface Parts {
  gpio?: Gpio;
  led?: StatusLed;
  tamper?: TamperMonitor;
  windows?: MaintenanceWindows;
  illuminator?: Illuminator;
  trigger?: VehicleTrigger;
  gps?: { link: SerialLink<NmeaSentence>; receiver: GpsReceiver; simulator?: NmeaSimulator };
  radar?: Radar;
}

export class Pole {
  readonly commands: PoleCommands;
  private started = false;

  private constructor(private readonly parts: Parts, private readonly deps: PoleDeps, private readonly closers: (() => void)[]) {
    const now = (): number => (deps.timers ?? systemTimers).now();
    const commands: { irOverride?: PoleCommand<typeof irOverrideArgsSchema>; maintenanceWindow?: PoleCommand<typeof maintenanceArgsSchema> } = {};
    if (parts.illuminator) {
      const run = irOverrideCommand(parts.illuminator, now);
      commands.irOverride = {
        name: 'ir-override', schema: irOverrideArgsSchema,
        handler: async (args) => {
          void this.audit({ user: args.by, source: 'dispatch-command', action: 'illuminator.override', terms: { state: args.state, durationMinutes: args.durationMinutes }, outcome: 'ok', ...(args.reason ? { detail: args.reason } : {}) });
          return run(args);
        },
      };
    }
    if (parts.windows) {
      const windows = parts.windows;
      commands.maintenanceWindow = {
        name: 'maintenance-window', schema: maintenanceArgsSchema,
        handler: maintenanceCommand(windows, now, (what, w) => {
          deps.events.emit({ type: 'maintenance.window', at: now(), what, id: w.id, from: w.from, to: w.to, by: w.by, reason: w.reason });
          void this.audit({ user: w.by, source: 'dispatch-command', action: `maintenance.${what.startsWith('announced') ? 'announce' : 'cancel'}`, terms: { id: w.id, from: new Date(w.from).toISOString(), to: new Date(w.to).toISOString() }, outcome: 'ok', detail: w.reason });
        }),
      };
    }
    this.commands = commands;
  }

  /** Builds the fitted hardware (nothing is started). Throws PoleConfigError, GpioUnavailableError or GpioLineError. */
  static async create(config: HardwareConfig, deps: PoleDeps): Promise<Pole> {
    const log = deps.log.child({ module: 'pole' });
    const timers = deps.timers ?? systemTimers;
    const parts: Parts = {};
    const closers: (() => void)[] = [];
    const fail = (err: unknown): never => {
      for (const close of closers.reverse()) close();
      throw err;
    };
    try {
      const triggerCameras = config.trigger?.cameras ?? deps.cameraIds;
      const unknown = triggerCameras.filter((c) => !deps.cameraIds.includes(c));
      if (unknown.length) throw new PoleConfigError(`hardware.trigger.cameras: no camera ${unknown.map((c) => JSON.stringify(c)).join(', ')} (configured: ${deps.cameraIds.join(', ')})`);

      const needsGpio = config.illuminator || config.tamper || config.statusLed || config.trigger;
      if (needsGpio) {
        parts.gpio = await openGpio(config.gpio, { log, timers, ...(deps.gpio?.simulated ? { simulated: deps.gpio.simulated } : {}), ...(deps.gpio?.sysfs ? { sysfs: deps.gpio.sysfs } : {}) });
      }
      const gpio = parts.gpio;
      const line = (path: string, spec: LineSpec): LineSpec => {
        log.debug({ path, line: describeLine(spec) }, 'GPIO line');
        return spec;
      };
      const withPath = <T>(path: string, build: () => T): T => {
        try {
          return build();
        } catch (err) {
          throw new PoleConfigError(`${path}: ${(err as Error).message}`, { cause: err });
        }
      };

      if (config.statusLed && gpio) {
        const ledLine = config.statusLed.line;
        const output = withPath('hardware.statusLed.line', () => gpio.output('status-led', line('statusLed', ledLine), false));
        closers.push(() => output.close());
        parts.led = new StatusLed(output, timers);
        closers.push(() => parts.led?.stop());
      }

      if (config.tamper && gpio) {
        const tamperConfig = config.tamper;
        const input = withPath('hardware.tamper.line', () => gpio.input('tamper', line('tamper', tamperConfig.line)));
        closers.push(() => input.close());
        const windows = new MaintenanceWindows(() => timers.now());
        for (const [i, w] of tamperConfig.maintenance.entries()) {
          const from = Date.parse(w.from);
          const to = Date.parse(w.to);
          if (to <= timers.now()) continue; // a past visit in a config file is not an error
          withPath(`hardware.tamper.maintenance.${i}`, () => windows.announce({ from, to, by: w.by, reason: w.reason, source: 'config' }));
        }
        parts.windows = windows;
        parts.tamper = new TamperMonitor({
          input, events: deps.events, audit: deps.audit, ...(parts.led ? { led: parts.led } : {}), windows, policy: tamperConfig.policy,
          lockStore: new FileLockStore(join(deps.dataDir, 'console-lock.json')), now: () => timers.now(), log: log.child({ device: 'tamper' }),
        });
        closers.push(() => parts.tamper?.stop());
      }

      if (config.illuminator && gpio) {
        const ir = config.illuminator;
        const output = withPath('hardware.illuminator.line', () => gpio.output('ir-illuminator', line('illuminator', ir.line), false));
        closers.push(() => output.close());
        const position = (): SitePosition | undefined => config.position ?? deps.sitePosition?.() ?? parts.gps?.receiver.lastPosition();
        parts.illuminator = new Illuminator({
          output, timers, events: deps.events, log: log.child({ device: 'illuminator' }), control: ir.control, darkAt: ir.darkAt, position,
          brightness: new BrightnessControl({ onBelow: ir.brightness.onBelow, offAbove: ir.brightness.offAbove, holdMs: ir.brightness.holdSeconds * 1000, staleMs: ir.brightness.staleSeconds * 1000 }),
        });
        closers.push(() => parts.illuminator?.stop());
      }

      if (config.trigger && gpio) {
        const trig = config.trigger;
        const input = withPath('hardware.trigger.line', () => gpio.input('vehicle-trigger', line('trigger', trig.line)));
        closers.push(() => input.close());
        parts.trigger = new VehicleTrigger({
          input, cameras: triggerCameras, setVehiclePresent: deps.setVehiclePresent, timers, events: deps.events, log: log.child({ device: 'trigger' }),
          holdMs: trig.holdMs, stuckAfterMs: trig.stuckAfterSeconds * 1000,
        });
        closers.push(() => parts.trigger?.stop());
      }

      const serialDeps = { log, timers, ...(deps.serialMock ? { mock: deps.serialMock } : {}), ...(deps.serialBackoff ? { backoff: deps.serialBackoff } : {}) };
      if (config.gps) {
        const gpsConfig = config.gps;
        const { link, twin } = await createSerialLink('gps', gpsConfig.serial, new NmeaFramer(), serialDeps);
        const receiver = new GpsReceiver({
          timers, monotonic: deps.monotonic ?? (() => performance.now()), log: log.child({ device: 'gps' }), events: deps.events,
          ...(gpsConfig.feedClock && deps.gpsTime ? { clock: (utc: number, mono: number) => void deps.gpsTime?.(utc, mono) } : {}),
        });
        link.onFrame((s) => receiver.handle(s));
        const simulatedAt = config.position ?? deps.sitePosition?.() ?? { latitude: 37.8044, longitude: -122.2712 };
        const simulator = twin ? new NmeaSimulator((bytes) => void twin.send(gpsConfig.serial.path, bytes), timers, simulatedAt) : undefined;
        parts.gps = { link, receiver, ...(simulator ? { simulator } : {}) };
      }

      if (config.radar) {
        const radarConfig = config.radar;
        const format: RadarFormat = typeof radarConfig.format === 'string' ? RADAR_FORMATS[radarConfig.format] : withPath('hardware.radar.format', () => customFormat(radarConfig.format as Exclude<typeof radarConfig.format, string>));
        if (!format.unit && !format.units && !radarConfig.unit) throw new PoleConfigError(`hardware.radar.unit: the "${format.name}" format carries no unit; give one (km/h, mph, knots, m/s)`);
        const { link } = await createSerialLink('radar', radarConfig.serial, new LineFramer(64), serialDeps);
        parts.radar = new Radar(link, new RadarParser(format, radarConfig.unit), new SpeedBuffer({ slackMs: radarConfig.slackMs }));
      }
    } catch (err) {
      return fail(err);
    }
    return new Pole(parts, deps, closers);
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    const { parts } = this;
    parts.led?.start();
    await parts.tamper?.start();
    parts.illuminator?.start();
    parts.trigger?.start();
    if (parts.gps) this.watchLink('gps', parts.gps.link);
    if (parts.radar) this.watchLink('radar', parts.radar.link);
    if (parts.gps) {
      await parts.gps.link.open();
      parts.gps.simulator?.start();
    }
    await parts.radar?.start();
  }

  /** Stops every device and closes every line and port, in reverse order of building. */
  async stop(): Promise<void> {
    const { parts } = this;
    parts.gps?.simulator?.stop();
    parts.gps?.receiver.stop();
    await parts.gps?.link.close();
    await parts.radar?.stop();
    await parts.tamper?.flush();
    for (const close of this.closers.reverse()) {
      try {
        close();
      } catch (err) {
        // Stopping goes on: one line failing to close must not keep the others open.
        this.deps.log.warn({ err: (err as Error).message }, 'closing a hardware line failed');
      }
    }
    this.closers.length = 0;
  }

  status(): PoleStatus {
    const { parts } = this;
    return {
      ...(parts.gpio ? { gpio: { backend: parts.gpio.backend.kind } } : {}),
      ...(parts.led ? { led: parts.led.status() } : {}),
      ...(parts.tamper ? { tamper: parts.tamper.status() } : {}),
      ...(parts.illuminator ? { illuminator: parts.illuminator.status() } : {}),
      ...(parts.trigger ? { trigger: parts.trigger.status() } : {}),
      ...(parts.gps ? { gps: { ...parts.gps.receiver.status(), link: parts.gps.link.status() } } : {}),
      ...(parts.radar ? { radar: parts.radar.status() } : {}),
    };
  }

  /** Registers the pole's signed commands on the bus. */
  registerCommands(bus: CommandRegistry): string[] {
    const names: string[] = [];
    if (this.commands.irOverride) {
      bus.register(this.commands.irOverride.name, this.commands.irOverride.schema, this.commands.irOverride.handler);
      names.push(this.commands.irOverride.name);
    }
    if (this.commands.maintenanceWindow) {
      bus.register(this.commands.maintenanceWindow.name, this.commands.maintenanceWindow.schema, this.commands.maintenanceWindow.handler);
      names.push(this.commands.maintenanceWindow.name);
    }
    return names;
  }

  /** The console's data pages are locked after an unannounced enclosure opening (policy lock-console). */
  consoleLocked(): boolean {
    return this.parts.tamper?.consoleLocked() ?? false;
  }

  /** An administrator clears the console lock; false when it was not locked (or no tamper switch is fitted). */
  async clearLock(by: string): Promise<boolean> {
    return (await this.parts.tamper?.clearLock(by)) ?? false;
  }

  /** The radar's speed for a vehicle seen from firstSeen to lastSeen; undefined without a radar or a reading. */
  speedFor(firstSeen: number, lastSeen: number): PassSpeed | undefined {
    return this.parts.radar?.speedFor(firstSeen, lastSeen);
  }

  /** The GPS fix quality now; undefined when no receiver is fitted. */
  gpsFix(): GpsFixQuality | undefined {
    return this.parts.gps?.receiver.fix();
  }

  /** A camera's mean frame brightness (0–255), for the illuminator under brightness control. */
  brightness(cameraId: string, value: number): void {
    this.parts.illuminator?.brightness(cameraId, value);
  }

  /** Shows (or, with undefined, withdraws) a condition on the status LED, e.g. indicate('camera:north', 'degraded'). */
  indicate(source: string, pattern: LedPattern | undefined): void {
    if (pattern) this.parts.led?.raise(source, pattern);
    else this.parts.led?.clear(source);
  }

  private watchLink(name: string, link: SerialLink<unknown>): void {
    let wasOpen = false;
    let down = false;
    link.onState((state, status) => {
      const at = (this.deps.timers ?? systemTimers).now();
      if (state === 'open') {
        if (down) this.deps.events.emit({ type: 'serial.reconnected', at, link: name, path: status.path, opens: status.opens });
        down = false;
        wasOpen = true;
        this.parts.led?.clear(`serial:${name}`);
      } else if (state === 'waiting' && !down) {
        down = true;
        this.deps.events.emit({ type: wasOpen ? 'serial.disconnected' : 'serial.unavailable', at, link: name, path: status.path, ...(status.lastError ? { error: status.lastError } : {}) });
        this.parts.led?.raise(`serial:${name}`, 'degraded');
      }
    });
  }

  private async audit(record: AuditRecord): Promise<void> {
    try {
      await this.deps.audit(record);
    } catch (err) {
      this.deps.log.error({ err: (err as Error).message, action: record.action }, 'audit entry could not be written');
    }
  }
}
