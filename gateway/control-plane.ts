/**
 * The parts beside the frame pipeline that the composition root starts from config: the pole's
 * hardware (drivers/pole.ts: IR illuminator, tamper switch, vehicle trigger, status LED, GPS,
 * radar) and the over-the-air update agent (ota/agent.ts). Each is optional; absent config means
 * not fitted / not enabled, and the gateway runs without it.
 */
import type { Logger } from 'pino';
import { z } from 'zod';
import { Pole, type CommandRegistry } from '../drivers/pole.ts';
import { otaCommandHandler, startOtaAgent, type OtaAgent } from '../ota/agent.ts';
import { otaConfigFrom } from '../ota/config.ts';
import { recognizerSelfTest } from '../ota/model-selftest.ts';
import type { SwitchOutcome } from '../models/packs/switcher.ts';
import type { PlateRecognizer } from '../models/types.ts';
import type { GatewayConfig } from './config/schema.ts';
import type { EventSink } from './events.ts';
import type { HotlistService } from './hotlist/service.ts';
import type { DetectionStore } from './store/detection-store.ts';

export interface HardwareDeps {
  readonly log: Logger;
  readonly events: EventSink;
  readonly store: DetectionStore;
  /** Late-bound: the pipeline is built after the pole (it asks the pole for GPS fix and speed). */
  readonly setVehiclePresent: (cameraId: string, present: boolean) => void;
  readonly commands: CommandRegistry;
}

/** Builds and starts the fitted hardware; with none configured the pole has no parts and costs nothing. */
export async function startHardware(config: GatewayConfig, deps: HardwareDeps): Promise<Pole> {
  const location = config.delivery.location;
  const pole = await Pole.create(config.hardware, {
    log: deps.log,
    events: deps.events,
    audit: (record) => deps.store.recordEvent(record),
    setVehiclePresent: deps.setVehiclePresent,
    cameraIds: config.cameras.map((c) => c.id),
    gpsTime: (utcMs, monoAt) => deps.store.gpsTime(utcMs, monoAt),
    dataDir: config.dataDir,
    ...(location ? { sitePosition: () => ({ latitude: location.lat, longitude: location.lon }) } : {}),
  });
  pole.registerCommands(deps.commands);
  await pole.start();
  return pole;
}

export interface OtaDeps {
  readonly log: Logger;
  readonly events: EventSink;
  readonly hotlist: HotlistService;
  readonly recognizer: PlateRecognizer;
  /** Puts the model pack unpacked in `dir` in service (SwitchablePlateRecognizer, self-test probe first). */
  readonly switchPack: (pack: string, dir: string) => Promise<SwitchOutcome>;
  readonly commands: CommandRegistry;
  /** Whether the link to dispatch is up now (the firmware health gate). */
  readonly dispatchConnected: () => boolean;
  /**
   * Restart into the new firmware slot: the gateway stops cleanly and exits with
   * EXIT_RESTART (ota/firmware/boot.ts), and the boot shim starts the slot chooseLaunch() picks.
   */
  readonly restart: () => Promise<void>;
}

/** Starts the update agent when `ota.enabled`, with a repository and a trusted root; otherwise undefined. */
export async function startOta(config: GatewayConfig, deps: OtaDeps): Promise<OtaAgent | undefined> {
  const otaConfig = otaConfigFrom(config.ota);
  if (!otaConfig) return undefined;
  const agent = await startOtaAgent(otaConfig, {
    dataDir: config.dataDir,
    events: deps.events,
    log: deps.log,
    now: Date.now,
    hotlist: { listPath: config.hotlist.path, maxAgeHours: config.hotlist.maxAgeHours, install: (file) => deps.hotlist.install(file) },
    models: { switchTo: deps.switchPack },
    firmware: {
      factoryVersion: config.device.firmwareVersion,
      runningVersion: () => config.device.firmwareVersion,
      health: { selfTest: recognizerSelfTest(deps.recognizer), dispatchConnected: async () => deps.dispatchConnected() },
      activate: () => deps.restart(),
    },
    ...balenaFromEnv(process.env),
  });
  deps.commands.register('refresh-hotlist', z.object({}).passthrough().optional(), otaCommandHandler(agent));
  return agent;
}

/** The balena supervisor's variables, when the container runs under balena with the supervisor API label. */
function balenaFromEnv(env: NodeJS.ProcessEnv): { balena?: NonNullable<Parameters<typeof startOtaAgent>[1]['balena']> } {
  const { BALENA_SUPERVISOR_ADDRESS: supervisorAddress, BALENA_SUPERVISOR_API_KEY: supervisorApiKey } = env;
  if (!supervisorAddress || !supervisorApiKey) return {};
  return {
    balena: {
      supervisorAddress,
      supervisorApiKey,
      ...(env.BALENA_API_URL ? { apiUrl: env.BALENA_API_URL } : {}),
      ...(env.BALENA_API_KEY ? { apiKey: env.BALENA_API_KEY } : {}),
      ...(env.BALENA_DEVICE_UUID ? { deviceUuid: env.BALENA_DEVICE_UUID } : {}),
    },
  };
}
