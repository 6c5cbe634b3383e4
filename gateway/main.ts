/**
 * The gateway's composition root: builds every part from the validated config and hands each a
 * typed deps object. Run as a process (`npm run gateway`) or started in-process by the demo.
 */
import { mkdir } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { pino, type Logger } from 'pino';
import { createFrameSource } from '../drivers/camera/index.ts';
import { LiveViewRelay } from '../drivers/camera/live-view.ts';
import { encodeJpeg } from '../models/image.ts';
import { createRecognizer, SwitchablePlateRecognizer } from '../models/index.ts';
import { selfTestProbe } from '../ota/model-selftest.ts';
import { EXIT_RESTART } from '../ota/firmware/boot.ts';
import { writeHeartbeat } from '../provisioning/healthcheck.ts';
import { ProvisioningService } from '../provisioning/service.ts';
import { ConfigError, configVersion, loadConfig } from './config/load.ts';
import { AccountFileError, gatewayStatus, startApi, withDetectionTee, type RunningApi } from './api/index.ts';
import { startHardware, startOta } from './control-plane.ts';
import type { GatewayConfig } from './config/schema.ts';
import { createDelivery, type DeliveryService } from './delivery/index.ts';
import type { EventSink, GatewayEvent } from './events.ts';
import { HotlistError } from './hotlist/csv.ts';
import { storeScan } from './hotlist/rematch.ts';
import { HotlistService } from './hotlist/service.ts';
import { createUuidV7 } from './ids.ts';
import { Pipeline } from './pipeline.ts';
import { openDetectionStore } from './store/open.ts';

export interface RunningGateway {
  readonly pipeline: Pipeline;
  /** The list in force; `hotlist.install(file)` replaces it (the previous stays on any failure). */
  readonly hotlist: HotlistService;
  /**
   * Hit delivery: the outbox, the MQTT link (`delivery.reconnect()` after a certificate
   * rotation), the command bus (`delivery.commands.register(name, schema, handler)`).
   */
  readonly delivery: DeliveryService;
  /** The local console's address when `api.enabled` (and its account file was readable). */
  readonly console?: { readonly url: string };
  /** Graceful stop: cameras, open tracks flushed to the store, "offline" published, store closed. */
  stop(): Promise<void>;
}

export interface GatewayHooks {
  /**
   * The OTA agent switched firmware slots (or rolled back) and the application must start again
   * from the other slot: the process entry stops the gateway and exits with EXIT_RESTART for the
   * boot shim. Without it (the demo, tests) a switch is only logged.
   */
  readonly restart?: () => Promise<void>;
}

export async function startGateway(config: GatewayConfig, log: Logger, hooks: GatewayHooks = {}): Promise<RunningGateway> {
  const eventLog = log.child({ module: 'events' });
  // Every event is logged, and queued in the outbox for .../events once delivery is up.
  // Routine records (checkpoints, receipts, installs) at info; everything else is an alarm.
  const routine = new Set(['audit.checkpoint', 'store.purge-receipt', 'store.keys-created', 'hotlist-installed', 'hotlist-fresh', 'store.disk-ok']);
  const logEvent = (event: GatewayEvent): void => (routine.has(event.type) || (event.type === 'camera-health' && event['state'] === 'cleared') ? eventLog.info({ event }, `device event: ${event.type}`) : eventLog.warn({ event }, `device event: ${event.type}`));
  // The store and the hot list raise events before the outbox (which lives in the store's
  // database) exists: those wait here, in order, and go into the outbox when it opens.
  let delivery: DeliveryService | undefined;
  const early: GatewayEvent[] = [];
  const events: EventSink = {
    emit: (event) => {
      if (delivery) return delivery.emit(event);
      logEvent(event);
      if (early.length < 1_000) early.push(event);
    },
  };
  const hotlist = new HotlistService(config.hotlist, { events, log: log.child({ module: 'hotlist' }), now: Date.now });
  await hotlist.load();

  await mkdir(config.dataDir, { recursive: true });
  const store = await openDetectionStore({
    dataDir: config.dataDir,
    deviceId: config.device.id,
    events,
    retention: config.retention,
    minFreePercent: config.store.minFreePercent,
    forbiddenReleasePurposes: config.store.forbiddenReleasePurposes,
    clockOptions: { maxBootJumpMs: config.store.maxClockJumpHours * 3_600_000 },
  });
  // Chain heads signed each minute, audit checkpoints, hourly retention purge, disk checks.
  store.start();

  // Undone in reverse: the re-match is stopped before the store it reads is closed.
  const cleanup: (() => Promise<void>)[] = [() => store.close(), () => hotlist.stop()];
  hotlist.attachHistory(storeScan(store));
  const undo = async (): Promise<void> => {
    for (const step of cleanup.reverse()) await step().catch(() => undefined);
  };
  try {
    const recognizerOptions = {
      kind: config.recognizer.kind,
      inWorker: config.recognizer.inWorker,
      detMaxSide: config.recognizer.detMaxSide,
      threads: config.recognizer.threads,
      ...(config.recognizer.detectorThreads !== undefined && { detectorThreads: config.recognizer.detectorThreads }),
      ...(config.recognizer.memArena !== undefined && { memArena: config.recognizer.memArena }),
    } as const;
    // Switchable: an OTA model pack replaces the one in service only after reading the built-in
    // test plates (selfTestProbe); frames in flight finish on the recogniser they started on.
    const recognizer = new SwitchablePlateRecognizer(await createRecognizer(recognizerOptions), {
      probe: selfTestProbe(),
      onError: (err) => log.warn({ err: err.message }, 'retired recogniser did not close cleanly'),
    });
    cleanup.push(() => recognizer.close());
    const loadPack = (pack: string, dir: string) => () => createRecognizer({ ...recognizerOptions, pack, packDirs: [dir] });

    // Identity before anything connects: FIPS check, an interrupted rotation repaired, the key
    // made on first boot, enrolment with the one-time token when there is no valid certificate.
    const provisioning = new ProvisioningService(config, {
      events, log: log.child({ module: 'provisioning' }), now: Date.now,
      timers: { setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout) },
    });
    const identity = await provisioning.boot();
    if (identity.problem) log.error({ problem: identity.problem }, 'no usable device certificate: hits stay in the outbox until the device is enrolled');
    cleanup.push(async () => provisioning.stop());

    const built = await createDelivery({
      config,
      db: store.database,
      outboxKey: store.deriveKey('delivery.outbox'),
      audit: (record) => store.recordEvent(record),
      newId: createUuidV7(),
      logEvent,
      log: log.child({ module: 'delivery' }),
    });
    const hits = built.service;
    // Stopped before the store closes the database the outbox lives in; events raised after
    // that (the store's last checkpoint) are logged only.
    cleanup.push(async () => {
      await hits.stop();
      delivery = undefined;
    });
    for (const event of early.splice(0)) hits.queueEvent(event);
    delivery = hits;
    hits.start();
    // cert-seen and rotate-cert on the command bus; renewal at 2/3 of the lifetime through the link.
    provisioning.attach({ reconnect: () => hits.reconnect() }, hits.commands);
    if (built.outbox.depth) log.info({ depth: built.outbox.depth }, 'outbox holds entries from before; draining once connected');

    // The pole's hardware before the pipeline, which asks it for the GPS fix and the radar speed;
    // the vehicle trigger reaches the pipeline once it exists.
    const late: { pipeline?: Pipeline; api?: RunningApi } = {};
    const pole = await startHardware(config, {
      log, events, store, commands: hits.commands,
      setVehiclePresent: (cameraId, present) => void late.pipeline?.setVehiclePresent(cameraId, present),
    });
    cleanup.push(() => pole.stop());

    const sources = config.cameras.map((camera) => createFrameSource({ ...camera, preset: camera.decoder }, log.child({ module: 'camera', cameraId: camera.id })));
    // The local console (gateway/api) sees each detection as it is stored: reads per hour, commissioning.
    const pipelineStore = withDetectionTee(store, (d, images) => late.api?.observeDetection(d, images), (err) => log.warn({ err }, 'console detection feed'));
    const pipeline = new Pipeline({
      sources,
      cameras: config.cameras.map((c) => ({ id: c.id, zone: c.zone, privacyMasks: c.privacyMasks, idleEvery: c.idleEvery })),
      events,
      recognizer,
      matcher: () => hotlist.current(),
      store: pipelineStore,
      clockStatus: () => store.clockStatus(),
      hits,
      log: log.child({ module: 'pipeline' }),
      now: Date.now,
      newId: createUuidV7(),
      encodeJpeg: (image) => encodeJpeg(image, 80),
      device: { id: config.device.id, site: config.device.site },
      // A getter: after a model-pack switch, detections name the pack that read them.
      versions: { get model() { return recognizer.modelVersion; }, firmware: config.device.firmwareVersion, config: configVersion(config) },
      minConfidence: config.recognizer.minConfidence,
      expiryMs: config.tracking.expiryMs,
      gpsFix: () => pole.gpsFix(),
      speedFor: (first, last) => pole.speedFor(first, last),
    });
    late.pipeline = pipeline;
    pipeline.start();

    const ota = await startOta(config, {
      log: log.child({ module: 'ota' }), events, hotlist, recognizer, commands: hits.commands,
      switchPack: (pack, dir) => recognizer.switchTo(loadPack(pack, dir)),
      dispatchConnected: () => built.link.connected,
      restart: hooks.restart ?? (async () => log.warn('firmware slot switched: restart the gateway to run it')),
    });
    if (ota) cleanup.push(() => ota.stop());

    if (config.api.enabled) {
      const relays = new Map(config.cameras.map((c) => [c.id, new LiveViewRelay({ cameraId: c.id, url: c.url, loop: c.loop, logger: log })]));
      cleanup.push(async () => void (await Promise.all([...relays.values()].map((r) => r.stop()))));
      try {
        late.api = await startApi(config, {
          store, tamper: pole, logger: log.child({ module: 'api' }),
          liveView: (cameraId) => relays.get(cameraId),
          status: gatewayStatus({
            cameras: () => sources.map((source) => source.status()),
            hotlist: () => hotlist.current(),
            outboxDepth: () => built.outbox.depth,
            dataDir: config.dataDir,
            clock: () => ({ now: Date.now(), status: store.clockStatus() }),
            gps: () => {
              const gps = pole.status().gps;
              return gps ? { fix: gps.fix !== 'none', ...(gps.position ? { lat: gps.position.latitude, lon: gps.position.longitude } : {}), ...(gps.lastFixAt !== undefined ? { at: gps.lastFixAt } : {}) } : undefined;
            },
            versions: { model: recognizer.modelVersion, firmware: config.device.firmwareVersion },
          }),
        });
        const api = late.api;
        cleanup.push(() => api.close());
        log.info({ url: api.url }, 'local console listening');
      } catch (err) {
        // An unreadable account file must not take the pole off the road: run without the console.
        if (!(err instanceof AccountFileError)) throw err;
        log.error({ err: err.message }, 'local console not started');
      }
    }
    log.info({ cameras: sources.map((s) => s.cameraId) }, 'gateway running');
    // The retained status dispatch and technicians see: each camera's state and counters, the
    // health conditions raised, the pipeline's counters and the hot list in force.
    const publishStatus = (): void => {
      const analysis = new Map(pipeline.cameraStatus().map((c) => [c.cameraId, c]));
      const list = hotlist.current();
      hits.setStatus({
        cameras: sources.map((s) => ({ ...s.status(), ...analysis.get(s.cameraId) })),
        pipeline: pipeline.stats,
        hotlist: { version: list.version, ageMs: Date.now() - list.generatedAt },
        versions: { model: recognizer.modelVersion, firmware: config.device.firmwareVersion },
        certificateState: provisioning.certificate(),
        hardware: pole.status(),
        ...(ota ? { ota: ota.status() } : {}),
      });
    };
    // The container's healthcheck reads the heartbeat the status publication leaves behind.
    const heartbeat = (): void => {
      publishStatus();
      writeHeartbeat(config.dataDir, Date.now()).catch((err: unknown) => log.warn({ err: (err as Error).message }, 'heartbeat not written'));
    };
    const statusTimer = setInterval(heartbeat, config.statusIntervalMs);
    cleanup.push(async () => clearInterval(statusTimer));
    heartbeat();
    let stopped: Promise<void> | undefined;
    return {
      pipeline,
      hotlist,
      delivery: hits,
      ...(late.api ? { console: { url: late.api.url } } : {}),
      stop: () => (stopped ??= (async () => {
        await pipeline.stop();
        await undo();
        log.info(pipeline.stats, 'gateway stopped');
      })()),
    };
  } catch (err) {
    await undo();
    throw err;
  }
}

/** Process entry: config from the environment, stop on SIGTERM/SIGINT, exit non-zero on a bad boot. */
async function main(): Promise<void> {
  let config: GatewayConfig;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`alpr-gateway: ${err.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
  const log = pino({ level: config.log.level, base: { service: 'gateway', device: config.device.id } });
  let gateway: RunningGateway;
  try {
    gateway = await startGateway(config, log, {
      // A firmware slot switch: stop cleanly, then ask the boot shim for a fresh start.
      restart: async () => {
        log.info('restarting into the new firmware slot');
        await gateway.stop();
        process.exit(EXIT_RESTART);
      },
    });
  } catch (err) {
    log.fatal({ err: (err as Error).message }, 'gateway failed to start');
    process.exitCode = err instanceof HotlistError ? 65 : 1;
    return;
  }
  const shutdown = (signal: string): void => {
    log.info({ signal }, 'stopping');
    gateway.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err: (err as Error).message }, 'unclean stop');
        process.exit(1);
      },
    );
  };
  // SIGHUP re-reads the list file in place (after a manual copy); a bad file changes nothing.
  process.on('SIGHUP', () => {
    gateway.hotlist.install(config.hotlist.path).catch(() => undefined); // rejection is logged and raised as an event
  });
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((err: unknown) => {
    process.stderr.write(`alpr-gateway: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
}
