/**
 * The gateway's one configuration schema. Every source (embedded defaults, config file,
 * environment) is merged and then validated here; unknown keys are errors at every level.
 */
import { z } from 'zod';

const id = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'lower-case letters, digits and dashes, at most 63, starting with a letter or digit');

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
    /** ONNX Runtime intra-op threads per session. */
    threads: z.number().int().min(1).max(16).default(1),
    inWorker: z.boolean().default(true),
    /** Reads below this confidence are ignored. */
    minConfidence: z.number().min(0).max(1).default(0.5),
  }).prefault({}),
  hotlist: z.strictObject({
    /** CSV file with a header: plate,state,list_type,priority,… */
    path: z.string().min(1),
  }),
  mqtt: z.strictObject({
    url: z.string().regex(/^(mqtts?|wss?|tcp):\/\//, 'expected an mqtt://, mqtts://, ws:// or wss:// URL'),
    username: z.string().optional(),
    password: z.string().optional(),
    /** 5 in production; 4 for brokers without MQTT 5 (the demo's embedded aedes). */
    protocolVersion: z.union([z.literal(4), z.literal(5)]).default(5),
  }),
  tracking: z.strictObject({
    /** A vehicle's pass ends when its plate has not been read for this long. */
    expiryMs: z.number().int().min(100).max(60_000).default(2_000),
  }).prefault({}),
  log: z.strictObject({
    level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  }).prefault({}),
});

export type GatewayConfig = z.infer<typeof configSchema>;
export type CameraConfig = z.infer<typeof cameraSchema>;
/** What a config file or the environment may hold: everything optional until merged. */
export type ConfigInput = z.input<typeof configSchema>;
