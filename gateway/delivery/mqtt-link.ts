/**
 * The device's MQTT connection (mqtt.js): MQTT 5 (4 for brokers without it) over TLS with the
 * device certificate, QoS 1, a persistent session (dispatch's acks wait at the broker while the
 * pole is away), the retained-status last will "offline", and reconnection with capped,
 * jittered exponential backoff.
 *
 * mqtt.js's own reconnect is off (`reconnectPeriod: 0`): it would reconnect with the TLS
 * material it was created with, and a rotated certificate must be used from the next connect
 * on. Each attempt here builds a fresh client from credentials read from disk just then.
 * Nothing is queued in mqtt.js while offline — the durable outbox is the queue.
 */
import { EventEmitter } from 'node:events';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import type { Timers } from './sender.ts';

export interface LinkCredentials {
  readonly key?: string;
  readonly cert?: string;
  readonly ca?: string;
  readonly username?: string;
  readonly password?: string;
}

export interface LinkOptions {
  readonly url: string;
  readonly clientId: string;
  readonly protocolVersion: 4 | 5;
  /** Read at every connect attempt (TLS files may have been rotated). */
  readonly credentials: () => Promise<LinkCredentials>;
  readonly will: { readonly topic: string; readonly payload: string };
  /** Subscribed on every connect, QoS 1. */
  readonly subscriptions: readonly string[];
  readonly backoff: { readonly initialMs: number; readonly maxMs: number };
  readonly connectTimeoutMs: number;
  readonly keepaliveS: number;
  /** MQTT 5 session expiry: how long the broker keeps our session (and queued acks) while we are away. */
  readonly sessionExpiryS: number;
  readonly log: Logger;
  readonly timers: Timers;
  readonly random: () => number;
}

export class LinkError extends Error {
  override readonly name = 'LinkError';
}

export class MqttLink extends EventEmitter<{ connect: []; disconnect: []; message: [topic: string, payload: Buffer] }> {
  private client: MqttClient | undefined;
  private live = false;
  private stopped = false;
  private failures = 0;
  private retryTimer: unknown;
  /** The attempt under way, shared by start(), retries and reconnect(). */
  private attempt: Promise<void> | undefined;
  readonly counters = { connects: 0, failures: 0 };

  constructor(private readonly opts: LinkOptions) {
    super();
  }

  get connected(): boolean {
    return this.live && this.client?.connected === true;
  }

  /** Starts connecting in the background; `connect` is emitted each time a session is up. */
  start(): void {
    this.stopped = false;
    void this.tryConnect().catch(() => undefined); // failures schedule their own retry
  }

  /** Resolves at the next connect (at once when connected); rejects on abort. */
  waitConnected(signal?: AbortSignal): Promise<void> {
    if (this.connected) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        this.off('connect', onConnect);
        reject(new LinkError('not connected before the deadline'));
      };
      const onConnect = (): void => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      this.once('connect', onConnect);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /**
   * Drops the current connection and connects again with credentials read from disk now.
   * Resolves when connected; rejects on failure or timeout (the background retry goes on).
   * Certificate rotation calls this after writing the new certificate.
   */
  async reconnect(timeoutMs = this.opts.connectTimeoutMs): Promise<void> {
    if (this.stopped) throw new LinkError('link stopped');
    if (this.retryTimer !== undefined) this.opts.timers.clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    await this.attempt?.catch(() => undefined);
    await this.drop();
    this.failures = 0;
    const attempt = this.tryConnect();
    let timer: unknown;
    const timeout = new Promise<never>((_, reject) => {
      timer = this.opts.timers.setTimeout(() => reject(new LinkError(`reconnect: not connected within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      await Promise.race([attempt, timeout]);
    } finally {
      this.opts.timers.clearTimeout(timer);
    }
  }

  /**
   * QoS 1; resolves on PUBACK. Rejects at once when offline: the outbox keeps the message.
   * At most the broker's Receive Maximum (MQTT 5 CONNACK; mosquitto's max_inflight_messages)
   * PUBLISHes await their PUBACK at once: mqtt.js does not hold outgoing QoS 1 to it, and a
   * client that exceeds it is in protocol error (MQTT 5 §4.9). Further ones wait their turn here.
   */
  async publish(topic: string, payload: string | Buffer, retain = false): Promise<void> {
    const client = this.client;
    if (!client || !this.connected) throw new LinkError('offline');
    if (this.unacked >= this.receiveMaximum || this.waiting.length) {
      // In line behind the others (order kept); a PUBACK hands its slot straight to the first.
      await new Promise<void>((resolve) => this.waiting.push(resolve));
      if (this.client !== client || !this.connected) throw new LinkError('offline');
    } else {
      this.unacked++;
    }
    try {
      await new Promise<void>((resolve, reject) => {
        client.publish(topic, payload, { qos: 1, retain }, (err) => (err ? reject(err) : resolve()));
      });
    } finally {
      this.release(client);
    }
  }

  /** PUBLISHes sent and not yet PUBACKed on the current connection, and the broker's limit. */
  private unacked = 0;
  private receiveMaximum = 65_535;
  private readonly waiting: (() => void)[] = [];

  private release(client: MqttClient): void {
    if (this.client !== client) return; // that connection's count was reset with it
    const next = this.waiting.shift();
    if (next) next();
    else this.unacked = Math.max(0, this.unacked - 1);
  }

  /** A new connection: nothing of the old one is in flight; whoever waited retries (and fails). */
  private resetFlow(receiveMaximum: number | undefined): void {
    this.unacked = 0;
    this.receiveMaximum = receiveMaximum && receiveMaximum > 0 ? receiveMaximum : 65_535;
    for (const wake of this.waiting.splice(0)) wake();
  }

  /** Publishes the retained "offline" status and closes; no reconnect afterwards. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer !== undefined) this.opts.timers.clearTimeout(this.retryTimer);
    await this.attempt?.catch(() => undefined);
    if (this.connected) {
      await Promise.race([
        this.publish(this.opts.will.topic, this.opts.will.payload, true).catch(() => undefined),
        new Promise((r) => setTimeout(r, 2_000)),
      ]);
    }
    await this.drop();
  }

  private tryConnect(): Promise<void> {
    this.attempt ??= this.connectOnce().finally(() => {
      this.attempt = undefined;
    });
    return this.attempt;
  }

  private async connectOnce(): Promise<void> {
    const { opts } = this;
    let creds: LinkCredentials;
    try {
      creds = await opts.credentials();
    } catch (err) {
      this.failed(err as Error);
      throw err;
    }
    const options: IClientOptions = {
      protocolVersion: opts.protocolVersion,
      clientId: opts.clientId,
      clean: false,
      reconnectPeriod: 0,
      connectTimeout: opts.connectTimeoutMs,
      keepalive: opts.keepaliveS,
      queueQoSZero: false,
      resubscribe: false,
      ...(opts.protocolVersion === 5 ? { properties: { sessionExpiryInterval: opts.sessionExpiryS } } : {}),
      will: { topic: opts.will.topic, payload: Buffer.from(opts.will.payload), qos: 1, retain: true },
      ...(creds.key ? { key: creds.key } : {}),
      ...(creds.cert ? { cert: creds.cert } : {}),
      ...(creds.ca ? { ca: creds.ca, rejectUnauthorized: true } : {}),
      ...(creds.username ? { username: creds.username } : {}),
      ...(creds.password ? { password: creds.password } : {}),
    };
    const client = mqtt.connect(opts.url, options);
    this.client = client;
    try {
      await new Promise<void>((resolve, reject) => {
        const fail = (err: Error): void => {
          cleanup();
          reject(err);
        };
        const onClose = (): void => fail(new LinkError('connection closed before CONNACK'));
        const onConnect = (connack: { properties?: { receiveMaximum?: number } }): void => {
          cleanup();
          this.resetFlow(connack.properties?.receiveMaximum);
          resolve();
        };
        const cleanup = (): void => {
          client.off('error', fail);
          client.off('close', onClose);
          client.off('connect', onConnect);
        };
        client.on('error', fail);
        client.on('close', onClose);
        client.on('connect', onConnect);
      });
      if (this.client !== client) throw new LinkError('superseded');
      if (opts.subscriptions.length) await client.subscribeAsync([...opts.subscriptions], { qos: 1 });
    } catch (err) {
      client.removeAllListeners();
      client.on('error', () => undefined); // late socket errors of a client being discarded
      client.end(true);
      if (this.client === client) this.client = undefined;
      this.failed(err as Error);
      throw err;
    }
    this.failures = 0;
    this.live = true;
    this.counters.connects++;
    client.on('message', (topic, payload) => this.emit('message', topic, payload));
    client.on('error', (err) => opts.log.warn({ err: err.message }, 'mqtt error'));
    client.once('close', () => {
      if (this.client !== client) return;
      this.live = false;
      this.client = undefined;
      this.resetFlow(undefined);
      client.removeAllListeners('message');
      client.end(true);
      opts.log.warn('mqtt connection lost');
      this.emit('disconnect');
      this.scheduleRetry();
    });
    opts.log.info({ url: redactUrl(opts.url), attempt: this.counters.connects }, 'mqtt connected');
    this.emit('connect');
  }

  private failed(err: Error): void {
    this.failures++;
    this.counters.failures++;
    this.opts.log.warn({ err: err.message, failures: this.failures }, 'mqtt connect failed');
    this.scheduleRetry();
  }

  /** Capped exponential backoff with ±20 % jitter, so a fleet does not reconnect in step. */
  retryDelayMs(failures: number): number {
    const { initialMs, maxMs } = this.opts.backoff;
    const base = Math.min(maxMs, initialMs * 2 ** Math.max(0, failures - 1));
    return Math.round(base * (0.8 + 0.4 * this.opts.random()));
  }

  private scheduleRetry(): void {
    if (this.stopped || this.retryTimer !== undefined) return;
    this.retryTimer = this.opts.timers.setTimeout(() => {
      this.retryTimer = undefined;
      if (!this.stopped && !this.connected) void this.tryConnect().catch(() => undefined); // failures schedule their own retry
    }, this.retryDelayMs(this.failures));
  }

  private async drop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    const wasLive = this.live;
    this.live = false;
    if (!client) return;
    client.removeAllListeners();
    client.on('error', () => undefined); // a discarded client's late socket errors
    await new Promise<void>((resolve) => client.end(true, {}, () => resolve()));
    if (wasLive) this.emit('disconnect');
  }
}

/** mqtt://user:secret@host → mqtt://user:***@host */
export function redactUrl(url: string): string {
  return url.replace(/(\/\/[^:/@]+):[^@/]*@/, '$1:***@');
}
