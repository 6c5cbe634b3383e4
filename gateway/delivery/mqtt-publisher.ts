/**
 * The device's MQTT link to dispatch (mqtt.js, MQTT 5, QoS 1). Publishes a retained status with
 * an "offline" last will, and hits on .../hits. The delivery issue puts a durable outbox and
 * application-level acks in front of this; for now mqtt.js's in-memory queue covers a short outage.
 */
import mqtt, { type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { topics, type DeviceAddress } from './topics.ts';

export interface PublisherOptions {
  readonly url: string;
  readonly username?: string;
  readonly password?: string;
  readonly address: DeviceAddress;
  readonly protocolVersion: 4 | 5;
  readonly log: Logger;
}

export class MqttPublisher {
  private client: MqttClient | undefined;

  constructor(private readonly opts: PublisherOptions) {}

  /** Connects; resolves on the first CONNACK. Keeps reconnecting in the background afterwards. */
  async start(signal?: AbortSignal): Promise<void> {
    const { url, username, password, address, log, protocolVersion } = this.opts;
    const status = topics.status(address);
    const client = mqtt.connect(url, {
      protocolVersion,
      clientId: `alpr-${address.agency}-${address.device}`,
      clean: false,
      ...(protocolVersion === 5 ? { properties: { sessionExpiryInterval: 3600 } } : {}),
      reconnectPeriod: 2_000,
      connectTimeout: 10_000,
      ...(username ? { username } : {}),
      ...(password ? { password } : {}),
      will: { topic: status, payload: Buffer.from(JSON.stringify({ state: 'offline' })), qos: 1, retain: true },
    });
    this.client = client;
    client.on('error', (err) => log.warn({ err: err.message }, 'mqtt error'));
    client.on('offline', () => log.warn('mqtt offline'));
    client.on('connect', () => {
      log.info({ url: redactUrl(url) }, 'mqtt connected');
      this.sendStatus();
    });
    await new Promise<void>((resolve, reject) => {
      const onAbort = (): void => reject(new Error('mqtt connect aborted'));
      signal?.addEventListener('abort', onAbort, { once: true });
      client.once('connect', () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      });
    });
  }

  /**
   * The device's retained status: "online" plus whatever health summary the gateway gives
   * (cameras, pipeline counters, hot-list version and age). Sent on every (re)connect and when
   * the summary is updated; the last will says "offline".
   */
  setStatus(summary: Record<string, unknown>): void {
    this.summary = summary;
    this.sendStatus();
  }

  private summary: Record<string, unknown> = {};

  private sendStatus(): void {
    const client = this.client;
    if (!client?.connected) return; // sent again on connect
    const payload = JSON.stringify({ ...this.summary, state: 'online', at: Date.now() });
    client.publish(topics.status(this.opts.address), payload, { qos: 1, retain: true }, (err) => {
      if (err) this.opts.log.warn({ err: err.message }, 'status publish failed');
    });
  }

  /** Publishes at QoS 1; resolves on PUBACK. */
  async publish(topic: string, payload: string | Uint8Array): Promise<void> {
    const client = this.client;
    if (!client) throw new Error('MqttPublisher.publish before start()');
    await client.publishAsync(topic, Buffer.from(payload), { qos: 1 });
  }

  onMessage(topic: string, handler: (payload: Buffer) => void): void {
    const client = this.client;
    if (!client) throw new Error('MqttPublisher.onMessage before start()');
    client.subscribe(topic, { qos: 1 });
    client.on('message', (t, payload) => {
      if (t === topic) handler(payload);
    });
  }

  /** Publishes "offline" (retained) and disconnects cleanly. */
  async stop(): Promise<void> {
    const client = this.client;
    if (!client) return;
    this.client = undefined;
    if (client.connected) {
      await client.publishAsync(topics.status(this.opts.address), JSON.stringify({ state: 'offline', at: Date.now() }), { qos: 1, retain: true }).catch(() => {
        // Shutting down: if the broker is gone the last will says "offline" for us.
      });
    }
    await client.endAsync();
  }
}

/** mqtt://user:secret@host → mqtt://user:***@host */
export function redactUrl(url: string): string {
  return url.replace(/(\/\/[^:/@]+):[^@/]*@/, '$1:***@');
}
