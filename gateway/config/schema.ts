/**
 * The gateway's one configuration schema. Every source (embedded defaults, config file,
 * environment) is merged and then validated here; unknown keys are errors at every level.
 */
import { z } from 'zod';

const id = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'lower-case letters, digits and dashes, at most 63, starting with a letter or digit');

/** A rectangle in fractions of the frame (0–1), so it survives a change of resolution. */
const regionSchema = z.strictObject({
  x: z.number().min(0).max(1),
  y: z.number().min(0).max(1),
  width: z.number().gt(0).max(1),
  height: z.number().gt(0).max(1),
}).refine((r) => r.x + r.width <= 1.0001 && r.y + r.height <= 1.0001, 'the region reaches past the frame (x + width and y + height must be ≤ 1)');

export const cameraSchema = z.strictObject({
  id,
  /** rtsp://… or a file path (a file plays as a camera: the demo and tests). */
  url: z.string().min(1),
  /** Frames per second handed to recognition. */
  fps: z.number().positive().max(30).default(4),
  /** Scale frames to this width before recognition (keeps aspect); omit for native size. */
  width: z.number().int().min(160).max(7680).optional(),
  /** For files: play at the clip's own speed (as a camera would) rather than as fast as possible. */
  realtime: z.boolean().default(true),
  /** For files: start again at the end. */
  loop: z.boolean().default(false),
  /** ffmpeg decoder preset: software everywhere, or the device family's hardware decoder. */
  decoder: z.enum(['software', 'rpi', 'jetson']).default('software'),
  /** Where plates are looked for; the rest of the frame is never read. Default: the whole frame. */
  zone: regionSchema.optional(),
  /** Painted black before anything sees the frame (recognition, stored overviews, live view). */
  privacyMasks: z.array(regionSchema).max(16).default([]),
  /** With no motion and no vehicle in view, analyse only every Nth frame. */
  idleEvery: z.number().int().min(1).max(100).default(4),
});

/** A GPIO line by its chip's label and the offset on it (drivers/gpio resolves the sysfs number at boot). */
const gpioLineSchema = z.strictObject({
  /** e.g. pinctrl-bcm2711 (Pi 4), pinctrl-rp1 (Pi 5). */
  chip: z.string().min(1).max(64),
  offset: z.number().int().min(0).max(1023),
  activeLow: z.boolean().default(false),
});

const serialPortSchema = z.strictObject({
  /** Prefer /dev/serial/by-id/…: the name survives a replug into another USB port. */
  path: z.string().min(1),
  baudRate: z.number().int().min(300).max(921_600).default(9600),
  backend: z.enum(['serialport', 'simulated']).default('serialport'),
});

const speedUnit = z.enum(['km/h', 'mph', 'knots', 'm/s']);

/**
 * The pole's hardware (drivers/, issue 10). Every device is optional: absent means not fitted,
 * and the default is a pole with none. GPIO on a machine without sysfs GPIO is a boot error
 * unless gpio.backend is "simulated" or gpio.simulateIfAbsent is true (both warn).
 */
export const hardwareSchema = z.strictObject({
  gpio: z.strictObject({
    backend: z.enum(['sysfs', 'simulated']).default('sysfs'),
    sysfsRoot: z.string().min(1).default('/sys'),
    simulateIfAbsent: z.boolean().default(false),
    debounceMs: z.number().int().min(0).max(1_000).default(30),
  }).prefault({}),
  /** The site, for the illuminator's sun times; default: the GPS receiver's fix. */
  position: z.strictObject({ latitude: z.number().min(-90).max(90), longitude: z.number().min(-180).max(180) }).optional(),
  illuminator: z.strictObject({
    line: gpioLineSchema,
    control: z.enum(['schedule', 'brightness']).default('schedule'),
    /** Sun altitude at which it is dark: a name, or degrees (negative: below the horizon). */
    darkAt: z.union([z.enum(['sunset', 'civil', 'nautical']), z.number().min(-18).max(10)]).default('civil'),
    brightness: z.strictObject({
      onBelow: z.number().min(0).max(255).default(40),
      offAbove: z.number().min(0).max(255).default(90),
      holdSeconds: z.number().int().min(0).max(3_600).default(120),
      staleSeconds: z.number().int().min(1).max(3_600).default(300),
    }).refine((b) => b.offAbove > b.onBelow, { message: 'must be above onBelow (the lamp brightens the picture it is judged by)', path: ['offAbove'] }).prefault({}),
  }).optional(),
  tamper: z.strictObject({
    /** Logical true = enclosure open (set activeLow for a switch that closes to ground when shut). */
    line: gpioLineSchema,
    /** An opening outside an announced maintenance window: raise an alarm, or also lock the console until an administrator clears it. */
    policy: z.enum(['alarm', 'lock-console']).default('alarm'),
    /** Planned visits; more are announced by the maintenance-window command. */
    maintenance: z.array(z.strictObject({
      from: z.iso.datetime({ offset: true }),
      to: z.iso.datetime({ offset: true }),
      by: z.string().min(1).max(100),
      reason: z.string().min(1).max(200),
    })).max(20).default([]),
  }).optional(),
  statusLed: z.strictObject({ line: gpioLineSchema }).optional(),
  /** Inductive loop or radar presence output: logical true = vehicle present. */
  trigger: z.strictObject({
    line: gpioLineSchema,
    /** Cameras it covers; default all. */
    cameras: z.array(id).min(1).optional(),
    holdMs: z.number().int().min(0).max(60_000).default(1_000),
    stuckAfterSeconds: z.number().int().min(5).max(3_600).default(120),
  }).optional(),
  gps: z.strictObject({
    serial: serialPortSchema,
    /** Feed the trusted clock from GPS time. */
    feedClock: z.boolean().default(true),
  }).optional(),
  radar: z.strictObject({
    serial: serialPortSchema,
    /** A built-in line format (drivers/radar/formats.ts) or a custom one. */
    format: z.union([
      z.enum(['icoms-1', 'icoms-2', 'signed', 'digits']),
      z.strictObject({ pattern: z.string().min(1).max(200), unit: speedUnit.optional(), units: z.record(z.string(), speedUnit).optional(), directions: z.record(z.string(), z.enum(['approaching', 'receding', 'unknown'])).optional() }),
    ]).default('icoms-1'),
    /** For formats whose lines carry no unit. */
    unit: speedUnit.optional(),
    /** Readings this long before and after a pass still belong to it. */
    slackMs: z.number().int().min(0).max(10_000).default(1_500),
  }).optional(),
}).superRefine((h, ctx) => {
  // Two devices on one line would fight over it (sysfs refuses the second export anyway).
  const seen = new Map<string, string>();
  for (const name of ['illuminator', 'tamper', 'statusLed', 'trigger'] as const) {
    const line = h[name]?.line;
    if (!line) continue;
    const key = `${line.chip}:${line.offset}`;
    const other = seen.get(key);
    if (other) ctx.addIssue({ code: 'custom', message: `GPIO line ${key} is already hardware.${other}.line`, path: [name, 'line'] });
    seen.set(key, name);
  }
});

export const configSchema = z.strictObject({
  device: z.strictObject({
    id,
    agency: id,
    site: z.string().min(1).max(200),
    firmwareVersion: z.string().min(1).default('0.1.0'),
  }),
  dataDir: z.string().min(1),
  cameras: z.array(cameraSchema).min(1, 'at least one camera is required').refine(
    (cams) => new Set(cams.map((c) => c.id)).size === cams.length,
    'camera ids must be unique',
  ),
  recognizer: z.strictObject({
    kind: z.enum(['onnx', 'scripted']).default('onnx'),
    /** Longer side of the detector input, pixels (multiple of 32). */
    detMaxSide: z.number().int().min(320).max(2048).multipleOf(32).default(960),
    /** ONNX Runtime intra-op threads of the plate recognisers' sessions. */
    threads: z.number().int().min(1).max(16).default(1),
    /** …and of the text detector's session; unset: 2 where the unit has 2 cores or more (models/onnx-recognizer.ts). */
    detectorThreads: z.number().int().min(1).max(16).optional(),
    inWorker: z.boolean().default(true),
    /**
     * ONNX Runtime's memory arena. Unset: off when the gateway runs on jemalloc (the boot shim's
     * default when libjemalloc2 is installed), on with glibc's malloc (models/allocator.ts).
     */
    memArena: z.boolean().optional(),
    /** Reads below this confidence are ignored. */
    minConfidence: z.number().min(0).max(1).default(0.5),
  }).prefault({}),
  hotlist: z.strictObject({
    /** The list in force: a `*.hotlist` file from `alpr hotlist import`, or a development CSV of public columns. */
    path: z.string().min(1),
    /** P3: past this age the list is stale (event raised, hits flagged). */
    maxAgeHours: z.number().positive().max(24 * 30).default(24),
    /** A read whose state differs from the entry's: no hit, or a hit ranked last and flagged. */
    stateMismatch: z.enum(['exclude', 'demote']).default('exclude'),
    /** Look-alike classes, e.g. ["O0DQ", "I1"]; default gateway/hotlist/equivalence.ts. */
    equivalence: z.array(z.string().regex(/^[A-Z0-9]{2,36}$/, 'two or more of A–Z, 0–9')).optional(),
  }),
  mqtt: z.strictObject({
    url: z.string().regex(/^(mqtts?|wss?|tcp):\/\//, 'expected an mqtt://, mqtts://, ws:// or wss:// URL'),
    username: z.string().optional(),
    password: z.string().optional(),
    /** 5 in production; 4 for brokers without MQTT 5. */
    protocolVersion: z.union([z.literal(4), z.literal(5)]).default(5),
    /** Device key, certificate chain (leaf first) and agency CA bundle (PEM); default {dataDir}/identity/{device.key.pem, device.crt.pem, ca-bundle.pem}. Re-read at every connect. */
    keyPath: z.string().min(1).optional(),
    certPath: z.string().min(1).optional(),
    caPath: z.string().min(1).optional(),
    keepaliveS: z.number().int().min(5).max(3600).default(30),
    connectTimeoutMs: z.number().int().min(1_000).max(120_000).default(15_000),
    /** Reconnect backoff: doubles from the first delay up to the cap, with jitter. */
    reconnectInitialMs: z.number().int().min(100).max(60_000).default(1_000),
    reconnectMaxMs: z.number().int().min(1_000).max(3_600_000).default(60_000),
    /** How long the broker keeps the device's session (and dispatch's acks) while it is away. */
    sessionExpiryS: z.number().int().min(0).max(30 * 86_400).default(7 * 86_400),
  }).refine((m) => m.reconnectInitialMs <= m.reconnectMaxMs, { message: 'cannot exceed reconnectMaxMs', path: ['reconnectInitialMs'] }),
  /** Hit delivery to dispatch (gateway/delivery; docs/delivery.md). */
  delivery: z.strictObject({
    /** Dispatch's encryption certificate (P-256): hits are encrypted to it. Default {dataDir}/identity/dispatch-encryption.crt.pem. */
    dispatchCertPath: z.string().min(1).optional(),
    /** Subject CN of the certificate dispatch signs acks and commands with. */
    dispatchIdentity: z.string().min(1).max(200).default('dispatch'),
    /** Entries sent and awaiting an ack at once (flow control on reconnect). */
    window: z.number().int().min(1).max(1_000).default(32),
    /** First re-send after this long without dispatch's ack; doubles per attempt up to maxBackoffMs. */
    ackTimeoutMs: z.number().int().min(100).max(600_000).default(10_000),
    maxBackoffMs: z.number().int().min(1_000).max(3_600_000).default(300_000),
    /** An entry unacknowledged this long raises a `delivery.unacked` event. */
    escalateAfterMs: z.number().int().min(1_000).max(7 * 86_400_000).default(900_000),
    /** Where the pole stands, sent with every hit (a GPS fix, when fitted, takes precedence). */
    location: z.strictObject({ lat: z.number().min(-90).max(90), lon: z.number().min(-180).max(180), accuracyM: z.number().nonnegative().optional() }).optional(),
  }).refine((d) => d.ackTimeoutMs <= d.maxBackoffMs, { message: 'cannot exceed maxBackoffMs', path: ['ackTimeoutMs'] }).prefault({}),
  tracking: z.strictObject({
    /** A vehicle's pass ends when its plate has not been read for this long. */
    expiryMs: z.number().int().min(100).max(60_000).default(2_000),
  }).prefault({}),
  /** How long each class of data is kept (P6); `auditDays` at least a year (CJIS). */
  retention: z.strictObject({
    readsDays: z.number().int().min(1).max(3650).default(30),
    hitsDays: z.number().int().min(1).max(3650).default(30),
    /** Images of reads (hits keep theirs as long as the hit). */
    imagesDays: z.number().int().min(1).max(3650).default(30),
    auditDays: z.number().int().min(365, 'audit records are kept at least 365 days (CJIS)').max(3650).default(365),
  }).refine((r) => r.imagesDays <= r.readsDays, { message: 'cannot exceed readsDays (an image outliving its read could not be found)', path: ['imagesDays'] }).prefault({}),
  store: z.strictObject({
    /** Below this share of free disk, the oldest reads are purged and an alarm raised. */
    minFreePercent: z.number().min(1).max(90).default(10),
    /** The largest forward clock step accepted soon after boot (the device was switched off). */
    maxClockJumpHours: z.number().min(0).max(24 * 365).default(72),
    /** Release purposes this agency forbids (P11), matched case-insensitively. */
    forbiddenReleasePurposes: z.array(z.string().min(3).max(100)).max(50).default(['immigration']),
  }).prefault({}),
  /** The pole's local console and API (gateway/api; docs/console.md). Off unless enabled. */
  api: z.strictObject({
    enabled: z.boolean().default(false),
    host: z.string().min(1).default('0.0.0.0'),
    port: z.number().int().min(0).max(65535).default(8443),
    /** TLS certificate and key (PEM); default the device certificate under {dataDir}/identity, else a local self-signed one. */
    tlsCertPath: z.string().min(1).optional(),
    tlsKeyPath: z.string().min(1).optional(),
    /** CJIS: a session idle this long is locked until its user signs in again. */
    sessionIdleMinutes: z.number().int().min(1).max(30, 'at most 30 minutes (CJIS session lock)').default(30),
    minPasswordLength: z.number().int().min(8).max(128).default(12),
    /** Failed sign-ins within lockoutWindowMinutes that lock an account until an admin releases it. */
    lockoutThreshold: z.number().int().min(3).max(10).default(5),
    lockoutWindowMinutes: z.number().int().min(1).max(1440).default(15),
  }).refine((a) => (a.tlsCertPath === undefined) === (a.tlsKeyPath === undefined), { message: 'tlsCertPath and tlsKeyPath go together', path: ['tlsKeyPath'] }).prefault({}),
  /** Device identity, enrolment and renewal (provisioning/; docs/provisioning.md). */
  provisioning: z.strictObject({
    /** The EST server (RFC 7030), https://host:port; without it the device neither enrols nor renews. */
    estUrl: z.string().regex(/^https:\/\//, 'expected an https:// URL').optional(),
    /** The CA the EST server's certificate chains to: PEM text (\\n escapes allowed) or a file path. */
    estCa: z.string().min(1).optional(),
    /** One-time enrolment token from security staff (`alpr ca issue-token`); used once, when there is no valid certificate. */
    enrolmentToken: z.string().min(8).optional(),
    /** Renew when this share of the certificate's lifetime has passed. */
    renewAtFraction: z.number().gt(0).lt(1).default(2 / 3),
    /** A new key at each renewal (otherwise the same key is certified again). */
    rekey: z.boolean().default(true),
    /** How long dispatch has to confirm the new serial before a rotation is rolled back. */
    certSeenTimeoutMs: z.number().int().min(1_000).max(600_000).default(60_000),
    /** Expiry alarms, in days before the certificate's notAfter. */
    alarmDays: z.array(z.number().int().min(1).max(365)).min(1).max(5).default([30, 7, 1]),
  }).prefault({}),
  security: z.strictObject({
    /** CJIS: refuse to start unless Node's crypto runs in FIPS mode (an OpenSSL FIPS provider). */
    requireFips: z.boolean().default(false),
  }).prefault({}),
  /** Over-the-air updates through TUF (ota/); absent or enabled: false leaves the agent off. */
  ota: z.strictObject({
    enabled: z.boolean().default(false),
    /** The update repository: metadata under <url>/metadata/, targets under <url>/targets/. */
    repositoryUrl: z.string().regex(/^https:\/\//, 'expected an https:// URL').optional(),
    /** The root.json shipped with the firmware: where trust starts on first boot. */
    trustedRoot: z.string().min(1).optional(),
    /** PEM CA bundle the repository's server certificate must chain to (the agency CA). */
    caFile: z.string().min(1).optional(),
    checkIntervalMinutes: z.number().min(1).max(24 * 60).default(60),
    hotlist: z.boolean().default(true),
    hotlistTarget: z.string().min(1).optional(),
    models: z.boolean().default(false),
    firmware: z.boolean().default(false),
    /** A new firmware must pass its self-test and reach dispatch within this, or it is rolled back. */
    healthTimeoutSeconds: z.number().int().min(10).max(3600).default(300),
    /** Times an update state may be entered (crash loops) before the update is abandoned or rolled back. */
    maxAttempts: z.number().int().min(1).max(10).default(3),
    /** On balena: hold the supervisor's update lock and let through only releases the repository signs. */
    balenaGate: z.boolean().default(false),
  }).refine((o) => !o.enabled || (o.repositoryUrl !== undefined && o.trustedRoot !== undefined), {
    message: 'repositoryUrl and trustedRoot are required when OTA is enabled',
    path: ['repositoryUrl'],
  }).optional(),
  hardware: hardwareSchema.prefault({}),
  /** How often the retained status (cameras, counters, hot list) is republished. */
  statusIntervalMs: z.number().int().min(1_000).max(3_600_000).default(30_000),
  log: z.strictObject({
    level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  }).prefault({}),
});

export type GatewayConfig = z.infer<typeof configSchema>;
export type CameraConfig = z.infer<typeof cameraSchema>;
export type HardwareConfig = z.infer<typeof hardwareSchema>;
/** What a config file or the environment may hold: everything optional until merged. */
export type ConfigInput = z.input<typeof configSchema>;
