/**
 * Hit delivery, assembled: hits and events go into the durable outbox, the sender drains it over
 * the MQTT link, dispatch's signed acks take hits out, dispositions become per-list statistics
 * and audit entries, signed commands go to the command bus, and the retained status says how
 * the pole is doing (outbox depth and age, certificate serial and expiry, false-hit rates).
 *
 * The pipeline sees a `HitSink`, every part an `EventSink`; main.ts builds one of these.
 */
import type { X509Certificate } from 'node:crypto';
import { decodeProtectedHeader } from 'jose';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { AuditRecord } from '../store/audit-log.ts';
import type { EventSink, GatewayEvent } from '../events.ts';
import type { HitSink } from '../pipeline.ts';
import type { Detection, DetectionImages } from '../types.ts';
import { CommandBus, type CommandResult } from './commands.ts';
import type { DispositionBook, Disposition } from './dispositions.ts';
import { ACK_TYP, CMD_RESULT_TYP, EVENT_ACK_TYP, EVENT_TYP, ChainCache, EnvelopeError, sealHitBytes, signJson, verifySigned } from './envelope.ts';
import { buildHitDraft, stampHitParts, type HitDraft, type HitLocation } from './hit-message.ts';
import type { DeviceIdentity, DispatchRecipient } from './identity.ts';
import type { MqttLink } from './mqtt-link.ts';
import type { ReplayBook } from './replay-book.ts';
import type { Outbox, OutboxEntry, OutboxEntryMeta } from './outbox.ts';
import { OutboxSender, type SenderOptions, type Timers } from './sender.ts';
import { parseTopic, topics, type DeviceAddress } from './topics.ts';

export const ackSchema = z.object({
  hitId: z.uuid(),
  device: z.string(),
  receivedAt: z.number(),
  disposition: z.enum(['visually-verified', 'misread', 'confirmed']).optional(),
  reason: z.string().max(2000).optional(),
  by: z.string().max(200).optional(),
  at: z.number().optional(),
});

export type Ack = z.infer<typeof ackSchema>;

/** Dispatch's ack of a device event (typ EVENT_ACK_TYP), on the same topic as hit acks. */
export const eventAckSchema = z.object({ eventId: z.uuid(), device: z.string(), receivedAt: z.number() });

/** The protected header's `typ` of a compact JWS, without verifying anything (routing only). */
function headerTyp(jws: string): string | undefined {
  try {
    return decodeProtectedHeader(jws).typ;
  } catch {
    return undefined;
  }
}

export interface DeliveryDeps {
  readonly address: DeviceAddress;
  readonly outbox: Outbox;
  readonly dispositions: DispositionBook;
  readonly link: MqttLink;
  /** The identity the link last connected with (signing key, chain, anchors). */
  readonly identity: () => DeviceIdentity;
  readonly recipient: () => DispatchRecipient;
  /** Appends to the store's audit log (dispositions are recorded there). */
  readonly audit: (record: AuditRecord) => Promise<void>;
  readonly newId: (ms: number) => string;
  readonly location?: () => HitLocation | undefined;
  readonly dispatchCn: string;
  /** Command ids already seen, on disk (replay-book.ts). */
  readonly replay?: ReplayBook;
  readonly sender: SenderOptions;
  readonly now: () => number;
  readonly timers: Timers;
  readonly random: () => number;
  readonly log: Logger;
  /** Where device events also go (the log, with the routine/alarm split main.ts makes). */
  readonly logEvent: (event: GatewayEvent) => void;
}

export interface DeliveryStats {
  queued: number;
  acked: number;
  dispositions: number;
  rejectedAcks: number;
}

export class DeliveryService implements HitSink, EventSink {
  readonly sender: OutboxSender;
  readonly commands: CommandBus;
  readonly stats: DeliveryStats = { queued: 0, acked: 0, dispositions: 0, rejectedAcks: 0 };
  private summary: Record<string, unknown> = {};
  private readonly chains = new ChainCache();
  private started = false;

  constructor(private readonly deps: DeliveryDeps) {
    const { address, outbox, link, log } = deps;
    this.sender = new OutboxSender({
      outbox,
      link: { get connected() { return link.connected; }, publish: (topic, payload) => link.publish(topic, payload) },
      encode: (entry, attempt) => this.encode(entry, attempt),
      onEscalate: (entry, attempts, ageMs) => this.escalate(entry, attempts, ageMs),
      onUnreadable: (entry, err) => {
        log.error({ id: entry.id, kind: entry.kind, err: err.message }, 'outbox entry unreadable; kept on disk, not sent');
        this.emit({ type: 'delivery.entry-unreadable', at: deps.now(), id: entry.id, kind: entry.kind, error: err.message });
      },
      now: deps.now,
      timers: deps.timers,
      random: deps.random,
      log,
    }, deps.sender);
    this.commands = new CommandBus({
      device: address.device,
      dispatchCn: deps.dispatchCn,
      anchors: () => deps.identity().anchors,
      reply: (result) => this.reply(result),
      now: deps.now,
      log: log.child({ part: 'commands' }),
      ...(deps.replay ? { replay: deps.replay } : {}),
    });
    link.on('message', (topic, payload) => this.onMessage(topic, payload));
    link.on('connect', () => {
      this.publishStatus();
      this.sender.onConnect();
    });
  }

  /** Connects (in the background) and starts draining; resolves at once. */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.sender.start();
    this.deps.link.start();
  }

  /** HitSink: the hit is on disk in the outbox when this resolves. */
  async publishHit(detection: Detection, images: DetectionImages): Promise<void> {
    const draft = buildHitDraft(this.deps.address.agency, detection, images, this.deps.location?.());
    await this.queueHit(draft);
  }

  /** Queues a ready-made draft (the pipeline goes through publishHit; tests and the bench use this). */
  async queueHit(draft: HitDraft): Promise<void> {
    await this.deps.outbox.add('hit', draft.hitId, draft, () => this.deps.dispositions.hitQueuedOps(draft.hitId, draft.match.listId));
    this.stats.queued++;
    this.deps.log.info({ hitId: draft.hitId, depth: this.deps.outbox.depth }, 'hit queued for dispatch');
    this.sender.pump();
  }

  /** EventSink: logged now, queued for `.../events` behind the hits. */
  emit(event: GatewayEvent): void {
    this.deps.logEvent(event);
    this.queueEvent(event);
  }

  /** Queues an event already logged (those raised before delivery was up). */
  queueEvent(event: GatewayEvent): void {
    const id = this.deps.newId(this.deps.now());
    this.deps.outbox.add('event', id, event).then(() => this.sender.pump(), (err: unknown) => {
      this.deps.log.error({ type: event.type, err: (err as Error).message }, 'event not queued');
    });
  }

  /** The retained status: whatever main.ts summarises, plus delivery's own state. */
  setStatus(summary: Record<string, unknown>): void {
    this.summary = summary;
    this.publishStatus();
  }

  status(): Record<string, unknown> {
    const id = this.deps.identity();
    return {
      ...this.summary,
      state: 'online',
      device: this.deps.address.device,
      at: this.deps.now(),
      certificate: { serial: id.serial, notAfter: id.notAfter },
      outbox: { depth: this.deps.outbox.depth, oldestAgeMs: this.deps.outbox.oldestAgeMs(), inFlight: this.sender.pending },
      delivery: { ...this.stats, ...this.sender.stats },
      falseHits: this.deps.dispositions.report(),
    };
  }

  /** Reconnects with credentials read from disk now (certificate rotation). */
  reconnect(timeoutMs?: number): Promise<void> {
    return this.deps.link.reconnect(timeoutMs);
  }

  /** Stops sending, publishes "offline", closes the link; the outbox keeps what is unacked. */
  async stop(): Promise<void> {
    this.sender.stop();
    await this.deps.link.stop();
    await this.deps.outbox.close();
  }

  private publishStatus(): void {
    if (!this.deps.link.connected) return; // sent again on connect
    this.deps.link.publish(topics.status(this.deps.address), JSON.stringify(this.status()), true).catch((err: unknown) => {
      this.deps.log.debug({ err: (err as Error).message }, 'status not published');
    });
  }

  private async encode(entry: OutboxEntry, attempt: number): Promise<{ topic: string; payload: string | Buffer }> {
    const { address } = this.deps;
    switch (entry.kind) {
      case 'hit': {
        // The draft's JSON as queued, as UTF-8 bytes stamped in two parts (hit-message.ts
        // stampHitParts): not flattened into a new 150 KB string, nor copied into one buffer.
        // The outbox keeps text, not bytes: buffers that live past a scavenge made V8 run a full
        // collection every ~30 ms (external memory), costing more than the encoding saved.
        // Read back from disk, the body is bytes already (outbox.ts OutboxEntry.bytes).
        const draft = entry.bytes ?? Buffer.from(entry.json, 'utf8');
        return { topic: topics.hits(address), payload: sealHitBytes(stampHitParts(draft, this.deps.now(), attempt), this.deps.identity(), this.deps.recipient()) };
      }
      case 'event':
        // Signed: a tamper alarm or a camera-down event must be provably from this pole.
        return { topic: topics.events(address), payload: await signJson(EVENT_TYP, { id: entry.id, device: address.device, seq: entry.seq, ...(entry.body as object) }, this.deps.identity()) };
      case 'status':
        return { topic: topics.status(address), payload: JSON.stringify(entry.body) };
    }
  }

  private escalate(entry: OutboxEntryMeta, attempts: number, ageMs: number): void {
    this.deps.log.error({ id: entry.id, kind: entry.kind, attempts, ageMs }, 'delivery escalation: entry unacknowledged too long');
    // An escalation about an event is not itself queued (a dead link would feed on itself).
    if (entry.kind === 'hit') this.emit({ type: 'delivery.unacked', at: this.deps.now(), hitId: entry.id, attempts, ageMs, queuedAt: entry.queuedAt });
  }

  private onMessage(topic: string, payload: Buffer): void {
    const t = parseTopic(topic);
    const { address, log } = this.deps;
    if (!t || t.agency !== address.agency || t.device !== address.device) return;
    if (t.kind === 'acks') {
      this.onAck(payload).catch((err: unknown) => log.error({ err: (err as Error).message }, 'ack handling failed'));
    } else if (t.kind === 'cmd' && t.name) {
      this.commands.handle(t.name, payload).catch((err: unknown) => log.error({ err: (err as Error).message }, 'command handling failed'));
    }
  }

  private async onAck(payload: Buffer): Promise<void> {
    const { log, address } = this.deps;
    const text = payload.toString('utf8');
    if (headerTyp(text) === EVENT_ACK_TYP) return this.onEventAck(text);
    let ack: Ack;
    try {
      const raw = await verifySigned(payload.toString('utf8'), ACK_TYP, this.deps.identity().anchors as X509Certificate[], this.deps.dispatchCn, this.deps.now(), this.chains);
      const parsed = ackSchema.safeParse(raw);
      if (!parsed.success) throw new EnvelopeError(`ack malformed at ${parsed.error.issues[0]?.path.join('.') ?? '?'}`);
      ack = parsed.data;
      if (ack.device !== address.device) throw new EnvelopeError(`ack is for device ${ack.device}`);
    } catch (err) {
      this.stats.rejectedAcks++;
      log.warn({ reason: (err as Error).message }, 'ack ignored: not a valid ack from dispatch');
      return;
    }
    const removed = await this.sender.ack(ack.hitId);
    if (removed) {
      this.stats.acked++;
      log.info({ hitId: ack.hitId, depth: this.deps.outbox.depth }, 'hit acknowledged by dispatch');
    }
    if (ack.disposition) await this.onDisposition(ack, ack.disposition);
  }

  /** An event leaves the outbox once dispatch has stored it. */
  private async onEventAck(text: string): Promise<void> {
    const { log, address } = this.deps;
    let eventId: string;
    try {
      const raw = await verifySigned(text, EVENT_ACK_TYP, this.deps.identity().anchors as X509Certificate[], this.deps.dispatchCn, this.deps.now(), this.chains);
      const parsed = eventAckSchema.safeParse(raw);
      if (!parsed.success) throw new EnvelopeError(`event ack malformed at ${parsed.error.issues[0]?.path.join('.') ?? '?'}`);
      if (parsed.data.device !== address.device) throw new EnvelopeError(`event ack is for device ${parsed.data.device}`);
      eventId = parsed.data.eventId;
    } catch (err) {
      this.stats.rejectedAcks++;
      log.warn({ reason: (err as Error).message }, 'event ack ignored: not a valid ack from dispatch');
      return;
    }
    if (await this.sender.ack(eventId)) log.debug({ eventId, depth: this.deps.outbox.depth }, 'event acknowledged by dispatch');
  }

  private async onDisposition(ack: Ack, disposition: Disposition): Promise<void> {
    const applied = await this.deps.dispositions.apply(ack.hitId, disposition);
    if (!applied?.changed) return; // unknown hit, or the same disposition again
    this.stats.dispositions++;
    await this.deps.audit({
      user: ack.by ?? 'dispatch',
      source: 'dispatch',
      action: 'hit.disposition',
      terms: { hitId: ack.hitId, listId: applied.listId, disposition, ...(applied.previous ? { previous: applied.previous } : {}), ...(ack.at ? { at: ack.at } : {}) },
      purpose: 'hit verification (P5)',
      outcome: 'ok',
      ...(ack.reason ? { detail: ack.reason } : {}),
    }).catch((err: unknown) => this.deps.log.error({ hitId: ack.hitId, err: (err as Error).message }, 'disposition not written to the audit log'));
    this.deps.log.info({ hitId: ack.hitId, disposition, listId: applied.listId }, 'hit disposition from dispatch');
    this.publishStatus();
  }

  private async reply(result: CommandResult): Promise<void> {
    const jws = await signJson(CMD_RESULT_TYP, result, this.deps.identity());
    await this.deps.link.publish(topics.cmdResult(this.deps.address), jws);
  }
}
