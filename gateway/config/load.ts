/**
 * Builds the gateway config from embedded defaults, an optional JSON file and environment
 * variables (balena device/fleet variables), in that order of precedence, then validates it
 * against the one schema. Environment strings are coerced on purpose, per variable.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { type ZodError } from 'zod';
import { configSchema, type ConfigInput, type GatewayConfig } from './schema.ts';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
  }
}

type Coerce = (raw: string, name: string) => unknown;

const str: Coerce = (raw) => raw;
const int: Coerce = (raw, name) => {
  if (!/^-?\d+$/.test(raw.trim())) throw new ConfigError([`${name}: expected an integer, got ${JSON.stringify(raw)}`]);
  return Number(raw);
};
const num: Coerce = (raw, name) => {
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n)) throw new ConfigError([`${name}: expected a number, got ${JSON.stringify(raw)}`]);
  return n;
};
const bool: Coerce = (raw, name) => {
  const v = raw.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['0', 'false', 'no', 'off'].includes(v)) return false;
  throw new ConfigError([`${name}: expected true/false, got ${JSON.stringify(raw)}`]);
};
/** A comma-separated list; blanks dropped. */
const list: Coerce = (raw) => raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
/** `ALPR_CAMERAS`: a JSON array, or the shorthand `id=url;id=url`. */
const cameras: Coerce = (raw, name) => {
  const text = raw.trim();
  if (text.startsWith('[')) {
    try {
      return JSON.parse(text) as unknown;
    } catch (err) {
      throw new ConfigError([`${name}: not valid JSON (${(err as Error).message})`]);
    }
  }
  return text.split(';').filter((s) => s.trim() !== '').map((item, i) => {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new ConfigError([`${name}: item ${i + 1} ${JSON.stringify(item)} is not id=url`]);
    return { id: item.slice(0, eq).trim(), url: item.slice(eq + 1).trim() };
  });
};

/** `ALPR_DELIVERY_LOCATION`: `lat,lon` or `lat,lon,accuracyM`. */
const location: Coerce = (raw, name) => {
  const parts = raw.split(',').map((p) => p.trim());
  const nums = parts.map(Number);
  if ((parts.length !== 2 && parts.length !== 3) || parts.some((p) => p === '') || nums.some((n) => !Number.isFinite(n))) {
    throw new ConfigError([`${name}: expected "lat,lon" or "lat,lon,accuracyM", got ${JSON.stringify(raw)}`]);
  }
  return { lat: nums[0], lon: nums[1], ...(nums.length === 3 ? { accuracyM: nums[2] } : {}) };
};

/** A JSON object (a hardware device's whole section: line, options). */
const json: Coerce = (raw, name) => {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (err) {
    throw new ConfigError([`${name}: not valid JSON (${(err as Error).message})`]);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new ConfigError([`${name}: expected a JSON object`]);
  return parsed;
};

/** `ALPR_HARDWARE_POSITION`: `latitude,longitude` in degrees. */
const position: Coerce = (raw, name) => {
  const parts = raw.split(',').map((p) => p.trim());
  const nums = parts.map(Number);
  if (parts.length !== 2 || parts.some((p) => p === '') || nums.some((n) => !Number.isFinite(n))) {
    throw new ConfigError([`${name}: expected "latitude,longitude", got ${JSON.stringify(raw)}`]);
  }
  return { latitude: nums[0], longitude: nums[1] };
};

/** Every environment variable the gateway reads, the config path it sets and its coercion. */
export const ENV_VARS: Readonly<Record<string, readonly [path: string, coerce: Coerce]>> = {
  ALPR_DEVICE_ID: ['device.id', str],
  ALPR_AGENCY: ['device.agency', str],
  ALPR_SITE: ['device.site', str],
  ALPR_FIRMWARE_VERSION: ['device.firmwareVersion', str],
  ALPR_DATA_DIR: ['dataDir', str],
  ALPR_CAMERAS: ['cameras', cameras],
  ALPR_RECOGNIZER_KIND: ['recognizer.kind', str],
  ALPR_RECOGNIZER_DET_MAX_SIDE: ['recognizer.detMaxSide', int],
  ALPR_RECOGNIZER_THREADS: ['recognizer.threads', int],
  ALPR_RECOGNIZER_DETECTOR_THREADS: ['recognizer.detectorThreads', int],
  ALPR_RECOGNIZER_IN_WORKER: ['recognizer.inWorker', bool],
  ALPR_RECOGNIZER_MEM_ARENA: ['recognizer.memArena', bool],
  ALPR_RECOGNIZER_MIN_CONFIDENCE: ['recognizer.minConfidence', num],
  ALPR_HOTLIST_PATH: ['hotlist.path', str],
  ALPR_HOTLIST_MAX_AGE_HOURS: ['hotlist.maxAgeHours', num],
  ALPR_HOTLIST_STATE_MISMATCH: ['hotlist.stateMismatch', str],
  ALPR_MQTT_URL: ['mqtt.url', str],
  ALPR_MQTT_USERNAME: ['mqtt.username', str],
  ALPR_MQTT_PASSWORD: ['mqtt.password', str],
  ALPR_MQTT_PROTOCOL_VERSION: ['mqtt.protocolVersion', int],
  ALPR_MQTT_KEY: ['mqtt.keyPath', str],
  ALPR_MQTT_CERT: ['mqtt.certPath', str],
  ALPR_MQTT_CA: ['mqtt.caPath', str],
  ALPR_MQTT_KEEPALIVE_S: ['mqtt.keepaliveS', int],
  ALPR_MQTT_CONNECT_TIMEOUT_MS: ['mqtt.connectTimeoutMs', int],
  ALPR_MQTT_RECONNECT_INITIAL_MS: ['mqtt.reconnectInitialMs', int],
  ALPR_MQTT_RECONNECT_MAX_MS: ['mqtt.reconnectMaxMs', int],
  ALPR_MQTT_SESSION_EXPIRY_S: ['mqtt.sessionExpiryS', int],
  ALPR_DELIVERY_DISPATCH_CERT: ['delivery.dispatchCertPath', str],
  ALPR_DELIVERY_DISPATCH_IDENTITY: ['delivery.dispatchIdentity', str],
  ALPR_DELIVERY_WINDOW: ['delivery.window', int],
  ALPR_DELIVERY_ACK_TIMEOUT_MS: ['delivery.ackTimeoutMs', int],
  ALPR_DELIVERY_MAX_BACKOFF_MS: ['delivery.maxBackoffMs', int],
  ALPR_DELIVERY_ESCALATE_AFTER_MS: ['delivery.escalateAfterMs', int],
  ALPR_DELIVERY_LOCATION: ['delivery.location', location],
  ALPR_TRACKING_EXPIRY_MS: ['tracking.expiryMs', int],
  ALPR_RETENTION_READS_DAYS: ['retention.readsDays', int],
  ALPR_RETENTION_HITS_DAYS: ['retention.hitsDays', int],
  ALPR_RETENTION_IMAGES_DAYS: ['retention.imagesDays', int],
  ALPR_RETENTION_AUDIT_DAYS: ['retention.auditDays', int],
  ALPR_STORE_MIN_FREE_PERCENT: ['store.minFreePercent', num],
  ALPR_STORE_MAX_CLOCK_JUMP_HOURS: ['store.maxClockJumpHours', num],
  ALPR_STORE_FORBIDDEN_RELEASE_PURPOSES: ['store.forbiddenReleasePurposes', list],
  ALPR_API_ENABLED: ['api.enabled', bool],
  ALPR_API_HOST: ['api.host', str],
  ALPR_API_PORT: ['api.port', int],
  ALPR_API_TLS_CERT: ['api.tlsCertPath', str],
  ALPR_API_TLS_KEY: ['api.tlsKeyPath', str],
  ALPR_API_SESSION_IDLE_MINUTES: ['api.sessionIdleMinutes', int],
  ALPR_API_MIN_PASSWORD_LENGTH: ['api.minPasswordLength', int],
  ALPR_API_LOCKOUT_THRESHOLD: ['api.lockoutThreshold', int],
  ALPR_API_LOCKOUT_WINDOW_MINUTES: ['api.lockoutWindowMinutes', int],
  ALPR_EST_URL: ['provisioning.estUrl', str],
  ALPR_EST_CA: ['provisioning.estCa', str],
  ALPR_ENROLMENT_TOKEN: ['provisioning.enrolmentToken', str],
  ALPR_CERT_RENEW_AT_FRACTION: ['provisioning.renewAtFraction', num],
  ALPR_CERT_REKEY: ['provisioning.rekey', bool],
  ALPR_CERT_SEEN_TIMEOUT_MS: ['provisioning.certSeenTimeoutMs', int],
  ALPR_CERT_ALARM_DAYS: ['provisioning.alarmDays', (raw, name) => (list(raw, name) as string[]).map((d) => int(d, name))],
  ALPR_REQUIRE_FIPS: ['security.requireFips', bool],
  ALPR_HARDWARE_GPIO_BACKEND: ['hardware.gpio.backend', str],
  ALPR_HARDWARE_GPIO_SIMULATE_IF_ABSENT: ['hardware.gpio.simulateIfAbsent', bool],
  ALPR_HARDWARE_GPIO_SYSFS_ROOT: ['hardware.gpio.sysfsRoot', str],
  ALPR_HARDWARE_GPIO_DEBOUNCE_MS: ['hardware.gpio.debounceMs', int],
  ALPR_HARDWARE_POSITION: ['hardware.position', position],
  ALPR_HARDWARE_ILLUMINATOR: ['hardware.illuminator', json],
  ALPR_HARDWARE_TAMPER: ['hardware.tamper', json],
  ALPR_HARDWARE_STATUS_LED: ['hardware.statusLed', json],
  ALPR_HARDWARE_TRIGGER: ['hardware.trigger', json],
  ALPR_HARDWARE_GPS: ['hardware.gps', json],
  ALPR_HARDWARE_RADAR: ['hardware.radar', json],
  ALPR_STATUS_INTERVAL_MS: ['statusIntervalMs', int],
  ALPR_OTA_ENABLED: ['ota.enabled', bool],
  ALPR_OTA_REPOSITORY_URL: ['ota.repositoryUrl', str],
  ALPR_OTA_TRUSTED_ROOT: ['ota.trustedRoot', str],
  ALPR_OTA_CA_FILE: ['ota.caFile', str],
  ALPR_OTA_CHECK_INTERVAL_MINUTES: ['ota.checkIntervalMinutes', num],
  ALPR_OTA_HOTLIST: ['ota.hotlist', bool],
  ALPR_OTA_HOTLIST_TARGET: ['ota.hotlistTarget', str],
  ALPR_OTA_MODELS: ['ota.models', bool],
  ALPR_OTA_FIRMWARE: ['ota.firmware', bool],
  ALPR_OTA_HEALTH_TIMEOUT_SECONDS: ['ota.healthTimeoutSeconds', int],
  ALPR_OTA_MAX_ATTEMPTS: ['ota.maxAttempts', int],
  ALPR_OTA_BALENA_GATE: ['ota.balenaGate', bool],
  ALPR_LOG_LEVEL: ['log.level', str],
};
/** Read by the loader itself, not part of the schema. */
export const ENV_CONFIG_FILE = 'ALPR_CONFIG_FILE';
/**
 * Not configuration, passed over without complaint: the firmware slot the boot shim started
 * (ota/firmware/boot.ts), the allocator it started it on (models/allocator.ts) and the test
 * harness's long-loop switch (`make soak`).
 */
export const ENV_NOT_CONFIG: ReadonlySet<string> = new Set(['ALPR_FIRMWARE_SLOT', 'ALPR_ALLOCATOR', 'ALPR_SOAK']);

type Plain = Record<string, unknown>;
const isPlain = (v: unknown): v is Plain => typeof v === 'object' && v !== null && !Array.isArray(v);

function setPath(target: Plain, path: string, value: unknown): void {
  const keys = path.split('.');
  let node = target;
  for (const key of keys.slice(0, -1)) {
    const next = node[key];
    if (!isPlain(next)) node[key] = {};
    node = node[key] as Plain;
  }
  node[keys[keys.length - 1] as string] = value;
}

/** Deep merge of plain objects; arrays and scalars in `over` replace those in `base`. */
export function mergeConfig(base: Plain, over: Plain): Plain {
  const out: Plain = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] = isPlain(b) && isPlain(v) ? mergeConfig(b, v) : v;
  }
  return out;
}

export function configFromEnv(env: NodeJS.ProcessEnv): Plain {
  const out: Plain = {};
  const problems: string[] = [];
  for (const [name, raw] of Object.entries(env)) {
    // An empty variable counts as unset: balena keeps variables that were cleared, with value ''.
    if (!name.startsWith('ALPR_') || name === ENV_CONFIG_FILE || ENV_NOT_CONFIG.has(name) || raw === undefined || raw === '') continue;
    const spec = ENV_VARS[name];
    if (!spec) {
      problems.push(`${name}: unknown environment variable (known: ${Object.keys(ENV_VARS).join(', ')}, ${ENV_CONFIG_FILE})`);
      continue;
    }
    try {
      setPath(out, spec[0], spec[1](raw, name));
    } catch (err) {
      if (err instanceof ConfigError) problems.push(...err.problems);
      else throw err;
    }
  }
  if (problems.length) throw new ConfigError(problems);
  return out;
}

export function readConfigFile(path: string): Plain {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError([`${ENV_CONFIG_FILE}: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`]);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new ConfigError([`${path}: not valid JSON (${(err as Error).message})`]);
  }
  if (!isPlain(parsed)) throw new ConfigError([`${path}: expected a JSON object at the top level`]);
  return parsed;
}

function describe(error: ZodError): string[] {
  return error.issues.map((issue) => {
    const path = issue.path.length ? issue.path.join('.') : '(top level)';
    return `${path}: ${issue.message}`;
  });
}

export function parseConfig(input: ConfigInput | Plain): GatewayConfig {
  const result = configSchema.safeParse(input);
  if (!result.success) throw new ConfigError(describe(result.error));
  return result.data;
}

/** defaults < file (ALPR_CONFIG_FILE) < environment. */
export function loadConfig(env: NodeJS.ProcessEnv, defaults: Plain = {}): GatewayConfig {
  const file = env[ENV_CONFIG_FILE];
  let merged = defaults;
  if (file) merged = mergeConfig(merged, readConfigFile(file));
  merged = mergeConfig(merged, configFromEnv(env));
  return parseConfig(merged);
}

/** A short, stable fingerprint of the effective config (secrets excluded), stamped into detections. */
export function configVersion(config: GatewayConfig): string {
  const { mqtt, provisioning, ...rest } = config;
  // the one-time enrolment token is a secret, and spending it must not change the config version
  const { enrolmentToken: _secret, ...enrolment } = provisioning;
  const canonical = JSON.stringify({ ...rest, provisioning: enrolment, mqtt: { url: mqtt.url } }, (_k, v: unknown) =>
    isPlain(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b))) : v,
  );
  return createHash('sha256').update(canonical).digest('hex').slice(0, 12);
}
