/** Turns a hit detection into the hit message and publishes it on the device's hits topic. */
import type { Logger } from 'pino';
import type { HitSink } from '../pipeline.ts';
import type { Detection, DetectionImages } from '../types.ts';
import { buildHitMessage } from './hit-message.ts';
import type { MqttPublisher } from './mqtt-publisher.ts';
import { topics, type DeviceAddress } from './topics.ts';

export class HitPublisher implements HitSink {
  constructor(
    private readonly mqtt: MqttPublisher,
    private readonly address: DeviceAddress,
    private readonly now: () => number,
    private readonly log: Logger,
  ) {}

  async publishHit(detection: Detection, images: DetectionImages): Promise<void> {
    const message = buildHitMessage(this.address.agency, detection, images, this.now());
    await this.mqtt.publish(topics.hits(this.address), JSON.stringify(message));
    this.log.info({ hitId: detection.id }, 'hit published');
  }

  /** Logs dispatch's application-level acks (the delivery issue turns these into outbox deletes). */
  listenForAcks(): void {
    this.mqtt.onMessage(topics.acks(this.address), (payload) => {
      try {
        const ack = JSON.parse(payload.toString('utf8')) as { hitId?: unknown };
        this.log.info({ hitId: ack.hitId }, 'hit acknowledged by dispatch');
      } catch {
        this.log.warn('unreadable ack from dispatch');
      }
    });
  }
}
