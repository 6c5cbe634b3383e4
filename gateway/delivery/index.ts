/**
 * Builds hit delivery from config: identity files, the outbox in the device database, the MQTT
 * link, the sender, the command bus. main.ts, the delivery fault tests' child process and the
 * bench all start delivery through here, so they exercise the same assembly.
 */
import { randomInt } from 'node:crypto';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { GatewayConfig } from '../config/schema.ts';
import type { GatewayEvent } from '../events.ts';
import type { AuditRecord } from '../store/audit-log.ts';
import { DispositionBook } from './dispositions.ts';
import type { HitLocation } from './hit-message.ts';
import { installFastBase64 } from './fast-base64.ts';
import { loadDispatchRecipient, loadIdentity, type DeviceIdentity, type DispatchRecipient, type IdentityPaths } from './identity.ts';
import { MqttLink } from './mqtt-link.ts';
import { ReplayBook } from './replay-book.ts';
import { Outbox, type OutboxDb } from './outbox.ts';
import { realTimers, type Timers } from './sender.ts';
import { DeliveryService } from './service.ts';
import { topics, type DeviceAddress } from './topics.ts';

export { DeliveryService } from './service.ts';
export type { CommandHandler, CommandResult, Command } from './commands.ts';

/** Where the identity files are: the config's paths, else `{dataDir}/identity/…` as provisioning writes them. */
export function identityPaths(config: Pick<GatewayConfig, 'dataDir' | 'mqtt' | 'delivery'>): IdentityPaths & { dispatchCertFile: string } {
  const dir = join(config.dataDir, 'identity');
  return {
    keyFile: config.mqtt.keyPath ?? join(dir, 'device.key.pem'),
    certFile: config.mqtt.certPath ?? join(dir, 'device.crt.pem'),
    caFile: config.mqtt.caPath ?? join(dir, 'ca-bundle.pem'),
    dispatchCertFile: config.delivery.dispatchCertPath ?? join(dir, 'dispatch-encryption.crt.pem'),
  };
}

export interface DeliveryStartOptions {
  readonly config: Pick<GatewayConfig, 'dataDir' | 'mqtt' | 'delivery' | 'device'>;
  readonly db: OutboxDb;
  /** 32-byte key for the outbox entries. */
  readonly outboxKey: Uint8Array;
  readonly audit: (record: AuditRecord) => Promise<void>;
  readonly newId: (ms: number) => string;
  readonly logEvent: (event: GatewayEvent) => void;
  readonly log: Logger;
  readonly location?: () => HitLocation | undefined;
  readonly now?: () => number;
  readonly timers?: Timers;
}

export interface Delivery {
  readonly service: DeliveryService;
  readonly link: MqttLink;
  readonly outbox: Outbox;
  readonly dispositions: DispositionBook;
  /** The identity last read from disk. */
  identity(): DeviceIdentity;
}

/**
 * Opens the outbox and builds the service; call `service.start()` to connect. The identity is
 * read at every connect: a pole that is not enrolled yet (no certificate, or a broken file) still
 * starts, reads plates and queues its hits, and the link keeps retrying until the files are there.
 */
export async function createDelivery(opts: DeliveryStartOptions): Promise<Delivery> {
  const { config, log } = opts;
  installFastBase64();
  const now = opts.now ?? Date.now;
  const timers = opts.timers ?? realTimers;
  const random = (): number => randomInt(0, 1_000_000) / 1_000_000;
  const address: DeviceAddress = { agency: config.device.agency, device: config.device.id };
  const paths = identityPaths(config);
  let identity: DeviceIdentity | undefined;
  let recipient: DispatchRecipient | undefined;
  try {
    identity = await loadIdentity(paths);
    recipient = await loadDispatchRecipient(paths.dispatchCertFile);
  } catch (err) {
    log.error({ err: (err as Error).message }, 'no usable identity yet: hits are queued and the link retries until the device is enrolled');
  }
  // Used only once the link has connected, which needs both read successfully.
  const current = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`${what} not loaded yet (the device is not enrolled)`);
    return value;
  };
  // Bounded so an event storm cannot fill the disk; hits are never refused (outbox.ts).
  // Bodies in segment files beside the database (outbox.ts, segment-log.ts), pointers in it.
  const outbox = await Outbox.open({ db: opts.db, key: opts.outboxKey, now, maxEntries: 100_000, dir: join(config.dataDir, 'outbox') });
  if (outbox.dropped.length) log.warn({ count: outbox.dropped.length }, 'outbox records whose segment was gone dropped: delivered before a power cut lost their deletes');
  const dispositions = await DispositionBook.open(opts.db, now);
  const replay = await ReplayBook.open(opts.db, now());
  const tls = /^(mqtts|wss):/.test(config.mqtt.url);
  const { mqtt: m, delivery: d } = config;
  const link = new MqttLink({
    url: m.url,
    clientId: `alpr-${address.agency}-${address.device}`,
    protocolVersion: m.protocolVersion,
    credentials: async () => {
      // Read afresh at every connect: a rotated certificate is used from the next connect on,
      // and hits are signed with the identity the link last connected with.
      identity = await loadIdentity(paths);
      recipient = await loadDispatchRecipient(paths.dispatchCertFile);
      return {
        ...(tls ? { key: identity.keyPem, cert: identity.certPem, ca: identity.caPem } : {}),
        ...(m.username ? { username: m.username } : {}),
        ...(m.password ? { password: m.password } : {}),
      };
    },
    will: { topic: topics.status(address), payload: JSON.stringify({ state: 'offline', device: address.device }) },
    subscriptions: [topics.acks(address), topics.allCmds(address)],
    backoff: { initialMs: m.reconnectInitialMs, maxMs: m.reconnectMaxMs },
    connectTimeoutMs: m.connectTimeoutMs,
    keepaliveS: m.keepaliveS,
    sessionExpiryS: m.sessionExpiryS,
    log: log.child({ part: 'mqtt' }),
    timers,
    random,
  });
  const service = new DeliveryService({
    address, outbox, dispositions, link,
    identity: () => current(identity, 'device identity'),
    recipient: () => current(recipient, 'dispatch encryption certificate'),
    audit: opts.audit,
    newId: opts.newId,
    ...(opts.location ? { location: opts.location } : d.location ? { location: () => ({ ...d.location!, source: 'configured' as const }) } : {}),
    dispatchCn: d.dispatchIdentity,
    replay,
    sender: { window: d.window, ackTimeoutMs: d.ackTimeoutMs, maxBackoffMs: d.maxBackoffMs, escalateAfterMs: d.escalateAfterMs },
    now, timers, random, log,
    logEvent: opts.logEvent,
  });
  return { service, link, outbox, dispositions, identity: () => current(identity, 'device identity') };
}
