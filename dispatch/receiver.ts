/**
 * The reference dispatch-center receiver: subscribes to every device's hits, checks each message
 * against the hit schema, drops duplicates by hitId, keeps the hits, acknowledges them to the
 * device, and tells listeners (the console, the log). Signature and decryption checks arrive
 * with the delivery issue.
 */
import { EventEmitter } from 'node:events';
import mqtt, { type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { HitMessageError, parseHitMessage, type HitMessage } from '../gateway/delivery/hit-message.ts';
import { parseTopic, topics } from '../gateway/delivery/topics.ts';

export interface ReceivedHit {
  readonly hit: HitMessage;
  readonly receivedAt: number;
  /** receivedAt − capture time, ms. */
  readonly latencyMs: number;
}

export interface ReceiverOptions {
  readonly url: string;
  /** Limits the subscription to one agency; default every agency. */
  readonly agency?: string;
  readonly log: Logger;
  /** 5 in production; 4 for brokers without MQTT 5 (the demo's embedded aedes). */
  readonly protocolVersion?: 4 | 5;
  readonly now?: () => number;
  /** How many hits to keep in memory for the console. */
  readonly keep?: number;
}

export class HitReceiver extends EventEmitter<{ hit: [ReceivedHit]; rejected: [string] }> {
  private client: MqttClient | undefined;
  private readonly hits = new Map<string, ReceivedHit>();
  private readonly now: () => number;

  constructor(private readonly opts: ReceiverOptions) {
    super();
    this.now = opts.now ?? Date.now;
  }

  async start(): Promise<void> {
    const { log } = this.opts;
    const client = mqtt.connect(this.opts.url, { protocolVersion: this.opts.protocolVersion ?? 5, clientId: `dispatch-${process.pid}-${Date.now().toString(36)}`, reconnectPeriod: 2_000 });
    this.client = client;
    client.on('error', (err) => log.warn({ err: err.message }, 'mqtt error'));
    client.on('message', (topic, payload) => this.onMessage(topic, payload));
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
    await client.subscribeAsync(topics.allHits(this.opts.agency), { qos: 1 });
    log.info({ topic: topics.allHits(this.opts.agency) }, 'dispatch receiver subscribed');
  }

  list(): ReceivedHit[] {
    return [...this.hits.values()].sort((a, b) => b.receivedAt - a.receivedAt);
  }

  get(hitId: string): ReceivedHit | undefined {
    return this.hits.get(hitId);
  }

  private onMessage(topic: string, payload: Buffer): void {
    const { log } = this.opts;
    const from = parseTopic(topic);
    if (!from || from.kind !== 'hits') return;
    let hit: HitMessage;
    try {
      hit = parseHitMessage(payload);
    } catch (err) {
      const reason = err instanceof HitMessageError ? err.message : 'unreadable hit';
      log.warn({ topic, reason }, 'hit rejected');
      this.emit('rejected', reason);
      return;
    }
    if (hit.deviceId !== from.device || hit.agency !== from.agency) {
      log.warn({ topic, deviceId: hit.deviceId }, 'hit rejected: device in message differs from topic');
      this.emit('rejected', 'device mismatch');
      return;
    }
    // Ack even a duplicate: the device re-sends until it hears an ack.
    this.ack(from, hit.hitId);
    if (this.hits.has(hit.hitId)) return;
    const receivedAt = this.now();
    const received: ReceivedHit = { hit, receivedAt, latencyMs: receivedAt - hit.times.captured };
    this.hits.set(hit.hitId, received);
    const keep = this.opts.keep ?? 500;
    while (this.hits.size > keep) this.hits.delete(this.hits.keys().next().value as string);
    this.emit('hit', received);
  }

  private ack(from: { agency: string; device: string }, hitId: string): void {
    this.client?.publish(topics.acks(from), JSON.stringify({ hitId, receivedAt: this.now() }), { qos: 1 }, (err) => {
      if (err) this.opts.log.warn({ err: err.message, hitId }, 'ack publish failed');
    });
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    await client?.endAsync();
  }
}
