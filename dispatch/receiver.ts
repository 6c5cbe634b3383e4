/**
 * The reference dispatch-center receiver (issue #7, contract 4). One of several sharing the load
 * through an MQTT 5 shared subscription; per hit it decrypts the JWE, verifies the JWS with the
 * x5c leaf, the chain up to the agency CA at the signed publish time and revocation against the
 * CRL, checks that the certificate, the topic and the message name the same device, drops
 * duplicates by hitId (durably), stores the hit (synced), acks it signed, and tells listeners.
 * A message that fails any check is logged with its reason, counted, and not acked: the device
 * keeps it and escalates.
 */
import { createPrivateKey, randomUUID, type KeyObject, type X509Certificate } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { parseTopic } from '../gateway/delivery/topics.ts';
import { parsePemBundle } from '../provisioning/chain.ts';
import { HitIndex } from './dedupe.ts';
import { recordPartsOfSigned } from './hit-record.ts';
import { HitStore, type DeviceEventRecord, type DispositionRecord, type StoredHit, type UnsentDisposition } from './hit-store.ts';
import { hitState, nextDispositions } from './hit-view.ts';
import { LatencyWindow } from './latency.ts';
import { openRecord, parsePeerRecord, parseReplicaTopic, recordKey, replicaTopics, sealRecord, verifyPeerDisposition, type ReplicaTopics } from './replication.ts';
import { createDispatchSigner, DISPOSITIONS, EVENT_TYP, type Disposition, type DispatchSigner } from './signer.ts';
import { Verifier, type CommandResult, type Rejection } from './verify.ts';
import { ReceiverError, type ReceivedHit, type Receiver, type ReceiverEvents, type ReceiverOptions, type ReceiverStats } from './receiver-api.ts';

export type { CommandResult, Rejection };
export type { DispositionEvent, ReceivedHit, Receiver, ReceiverEvents, ReceiverOptions, ReceiverStats } from './receiver-api.ts';
export { ReceiverError } from './receiver-api.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const SEGMENT = /^[a-z0-9][a-z0-9-]*$/;
const DEFAULT_MAX_AGE_MS = 24 * 3600_000;
const DEFAULT_MAX_SKEW_MS = 5 * 60_000;
/** Messages handled at once before the receiver stops reading from the broker (see start()). */
const IN_HAND = 64;

export async function startReceiver(opts: ReceiverOptions): Promise<Receiver> {
  if (!SEGMENT.test(opts.agency)) throw new ReceiverError(`agency ${JSON.stringify(opts.agency)}: lower-case letters, digits and dashes only`);
  const anchors = parsePemBundle(opts.trustAnchorsPem, 'trust anchors');
  let decryptionKey: KeyObject;
  try {
    decryptionKey = createPrivateKey(opts.decryptionKeyPem);
  } catch (err) {
    throw new ReceiverError(`decryption key: not a usable private key (${(err as Error).message})`);
  }
  if (decryptionKey.asymmetricKeyType !== 'ec' || decryptionKey.asymmetricKeyDetails?.namedCurve !== 'prime256v1') throw new ReceiverError('decryption key: expected an EC P-256 private key');
  const kid = opts.decryptionCertPem ? certThumbprint(parsePemBundle(opts.decryptionCertPem, 'decryption certificate')[0] as X509Certificate) : undefined;
  const signer = createDispatchSigner(opts.signingKeyPem, opts.signingChainPem);
  const store = await HitStore.open(join(opts.dataDir, 'hits'));
  const verifier = new Verifier({ agency: opts.agency, anchors, decryptionKey, kid, crl: opts.crl, maxAgeMs: opts.maxAgeMs ?? DEFAULT_MAX_AGE_MS, maxSkewMs: opts.maxSkewMs ?? DEFAULT_MAX_SKEW_MS });
  const receiver = new MqttReceiver(opts, { verifier, signer, store, recordKey: recordKey(decryptionKey, opts.agency, opts.shareGroup ?? 'dispatch') });
  try {
    await receiver.start();
  } catch (err) {
    await receiver.stop();
    throw err;
  }
  return receiver;
}

/** base64url SHA-256 of the certificate's DER: the `kid` the device puts on the JWE. */
export function certThumbprint(cert: X509Certificate): string {
  return Buffer.from(cert.fingerprint256.replace(/:/g, ''), 'hex').toString('base64url');
}

interface Parts {
  readonly verifier: Verifier;
  readonly signer: DispatchSigner;
  readonly store: HitStore;
  /** Seals and opens the records receivers of the group pass each other (replication.ts). */
  readonly recordKey: Buffer;
}

class MqttReceiver extends EventEmitter<ReceiverEvents> implements Receiver {
  private client: MqttClient | undefined;
  private index = new HitIndex([]);
  private readonly recent = new Map<string, ReceivedHit>();
  private readonly statuses = new Map<string, Record<string, unknown>>();
  private readonly certSeenSending = new Map<string, string>();
  private readonly latency = new LatencyWindow();
  private readonly transit = new LatencyWindow();
  private readonly counts = { received: 0, duplicates: 0, rejected: {} as Record<string, number> };
  /** Messages being verified and stored: what the read pause (IN_HAND) counts. */
  private readonly working = new Set<Promise<void>>();
  /** Publishes waiting for the broker (acks, commands, copies to peers): never awaited by a message's handling, whose PUBACKs they need read. */
  private readonly sending = new Set<Promise<void>>();
  private readonly now: () => number;
  private stopped = false;
  private disposing: Promise<void> = Promise.resolve();
  private readonly replicas: ReplicaTopics | undefined;

  constructor(private readonly opts: ReceiverOptions, private readonly parts: Parts) {
    super();
    this.now = opts.now ?? Date.now;
    const v5 = (opts.protocolVersion ?? 5) === 5;
    this.replicas = v5 && (opts.replicate ?? true) ? replicaTopics(opts.agency, opts.shareGroup ?? 'dispatch') : undefined;
  }

  private get log(): Logger {
    return this.opts.log;
  }

  async start(): Promise<void> {
    // The dedupe index needs only the keys; the console list only the newest hits. Reading every
    // stored hit (~150 KB each) made the start time grow with the store.
    const keep = this.opts.keep ?? 500;
    const { store } = this.parts;
    this.index = new HitIndex(await store.hitIds());
    const unreadable = (hitId: string, err: Error): void => this.log.error({ hitId, err: err.message }, 'stored hit unreadable: left in the store, not shown');
    for (const hit of await store.latest(keep, unreadable)) this.remember(hit, keep);

    const { opts } = this;
    const v5 = (opts.protocolVersion ?? 5) === 5;
    const client = mqtt.connect(opts.url, {
      protocolVersion: opts.protocolVersion ?? 5,
      clientId: opts.clientId ?? `dispatch-${opts.shareGroup ?? 'dispatch'}-${randomUUID().slice(0, 8)}`,
      clean: true,
      reconnectPeriod: 2_000,
      connectTimeout: 10_000,
      ...(opts.tls ? { ca: opts.tls.ca, cert: opts.tls.cert, key: opts.tls.key, rejectUnauthorized: true } : {}),
    });
    this.client = client;
    client.on('error', (err) => this.log.warn({ err: err.message }, 'mqtt error'));
    client.on('offline', () => this.log.warn('mqtt offline'));
    client.on('message', (topic, payload) => this.hold(this.working, this.onMessage(topic, payload)));
    // mqtt.js PUBACKs and reads the next packet when handleMessage calls back. Calling back at
    // once up to IN_HAND messages being handled, and later beyond, bounds the memory a burst of
    // large hits can take here: the broker holds the rest (its in-flight window fills).
    client.handleMessage = (_packet, callback) => {
      if (this.working.size <= IN_HAND) {
        callback();
        return;
      }
      void Promise.race(this.working).then(() => callback());
    };
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
    const prefix = v5 ? `$share/${opts.shareGroup ?? 'dispatch'}/` : '';
    const subs = ['hits', 'status', 'events', 'cmd-result'].map((kind) => `${prefix}alpr/v1/${opts.agency}/+/${kind}`);
    const granted = await client.subscribeAsync(subs, { qos: 1 });
    const refused = granted.filter((g) => g.qos > 2);
    if (refused.length) throw new ReceiverError(`broker refused subscriptions: ${refused.map((g) => g.topic).join(', ')}`);
    if (this.replicas) {
      // No local: a receiver does not take back what it passed on.
      const [peer] = await client.subscribeAsync(this.replicas.all, { qos: 1, nl: true });
      if (!peer || peer.qos > 2) throw new ReceiverError(`broker refused the peer subscription ${this.replicas.all}`);
      subs.push(this.replicas.all);
    }
    this.log.info({ subscriptions: subs }, 'dispatch receiver subscribed');
    const unsent = await this.parts.store.unsent();
    if (unsent.length) this.log.info({ count: unsent.length }, 'sending dispositions recorded before the restart');
    for (const d of unsent) this.send(this.sendDisposition(d));
  }

  private hold(set: Set<Promise<void>>, p: Promise<void>): void {
    set.add(p);
    void p.finally(() => set.delete(p));
  }

  /** Publishes in the background; a failure is logged (the device re-sends, a disposition stays in the store). */
  private send(p: Promise<void>, what = 'publish'): void {
    this.hold(this.sending, p.catch((err: unknown) => this.log.warn({ err: (err as Error).message }, `${what} failed`)));
  }

  private remember(hit: ReceivedHit, keep = this.opts.keep ?? 500): void {
    this.recent.delete(hit.hitId);
    this.recent.set(hit.hitId, hit);
    while (this.recent.size > keep) this.recent.delete(this.recent.keys().next().value as string);
  }

  private reject(r: Rejection): void {
    this.counts.rejected[r.reason] = (this.counts.rejected[r.reason] ?? 0) + 1;
    this.log.warn({ reason: r.reason, device: r.device, detail: r.detail }, 'hit rejected');
    this.emit('rejected', r);
  }

  private async onMessage(topic: string, payload: Buffer): Promise<void> {
    try {
      const peer = this.replicas ? parseReplicaTopic(topic, this.opts.agency, this.opts.shareGroup ?? 'dispatch') : undefined;
      if (peer?.kind === 'records') {
        await this.onPeerRecord(peer.device, topic, payload);
        return;
      }
      if (peer?.kind === 'hits') {
        await this.onHit(peer.device, payload, true);
        return;
      }
      if (peer?.kind === 'status') {
        await this.onStatus(peer.device, payload, true);
        return;
      }
      if (peer?.kind === 'dispositions') {
        await this.onPeerDisposition(payload);
        return;
      }
      const from = parseTopic(topic);
      if (!from || from.agency !== this.opts.agency) return;
      switch (from.kind) {
        case 'hits':
          await this.onHit(from.device, payload);
          return;
        case 'status':
          await this.onStatus(from.device, payload);
          return;
        case 'events':
          await this.onEvent(from.device, payload);
          return;
        case 'cmd-result':
          await this.onCommandResult(from.device, payload);
          return;
        default:
          return;
      }
    } catch (err) {
      // Not a verdict on the message (the store or the broker failed): no ack, so the device re-sends.
      this.log.error({ err: (err as Error).message, topic }, 'message handling failed');
    }
  }

  /** `fromPeer`: a receiver from before sealed records (replication.ts) stored and acked it, and passed on the envelope; verified in full, not acked here. */
  private async onHit(device: string, payload: Buffer, fromPeer = false): Promise<void> {
    const verdict = await this.parts.verifier.hit(device, payload, this.now());
    if (!verdict.ok) {
      if (verdict.rejection.reason === 'crl-unavailable') this.log.error({ detail: verdict.rejection.detail }, 'no usable CRL: hits are refused until one is available (fail closed)');
      this.reject(fromPeer ? { ...verdict.rejection, detail: `${verdict.rejection.detail ?? ''} (passed on by a peer receiver)` } : verdict.rejection);
      return;
    }
    const { message, leaf, signed } = verdict;
    const receivedAt = this.now();
    const stored: StoredHit = {
      v: 1,
      hitId: message.hitId,
      agency: message.agency,
      device,
      hit: message,
      receivedAt,
      latencyMs: receivedAt - message.capturedAt,
      transitMs: receivedAt - message.publishedAt,
      signer: { cn: device, serial: leaf.serialNumber },
      dispositions: [],
    };
    // From the signed bytes as they came: stored, and sealed (framed) to pass on to the peers.
    const admission = await this.index.admit(message.hitId, () => this.parts.store.putSigned(stored, signed));
    if (admission === 'duplicate' && fromPeer) return; // both receivers took a copy: each shows it once
    if (admission === 'duplicate') {
      // The device re-sends until it hears an ack; a lost ack means a second copy. Ack again,
      // and repeat any disposition it may have missed, but do not show the hit twice.
      this.counts.duplicates++;
      this.counts.rejected['replayed'] = (this.counts.rejected['replayed'] ?? 0) + 1;
      this.log.info({ reason: 'replayed', device, hitId: message.hitId }, 'duplicate hit: acked again, not shown twice');
      this.emit('rejected', { reason: 'replayed', device, detail: `hitId ${message.hitId} already stored` });
      const known = this.recent.get(message.hitId) ?? (await this.parts.store.get(message.hitId));
      const at = known?.receivedAt ?? receivedAt;
      this.send((async () => {
        await this.ack(device, message.hitId, at);
        for (const d of known?.dispositions ?? []) await this.ack(device, message.hitId, at, d);
      })(), 'ack');
      return;
    }
    this.remember(stored);
    // Stored, so shown at once; the ack follows (a broker away delays the ack, not the dispatcher).
    this.emit('hit', stored);
    if (fromPeer) {
      this.log.info({ device, hitId: message.hitId }, 'hit received from a peer receiver');
      return;
    }
    this.counts.received++;
    this.latency.add(stored.latencyMs);
    this.transit.add(stored.transitMs);
    this.log.info({ device, hitId: message.hitId, latencyMs: stored.latencyMs }, 'hit received');
    const replicas = this.replicas;
    this.send((async () => {
      await this.ack(device, message.hitId, receivedAt);
      if (replicas) await this.passOn(replicas.records(device), sealRecord(this.parts.recordKey, replicas.records(device), recordPartsOfSigned(stored, signed)), message.hitId);
    })(), 'ack');
  }

  /**
   * A hit another receiver of the group verified, stored and acked, passed on as its sealed
   * record (replication.ts): stored and shown here, not acked, the envelope not checked again.
   */
  private async onPeerRecord(device: string, topic: string, payload: Buffer): Promise<void> {
    const refuse = (reason: Rejection['reason'], detail: string): void => this.reject({ reason, device, detail: `${detail} (record passed on by a peer receiver)` });
    let record: Buffer;
    let stored: StoredHit;
    try {
      record = openRecord(this.parts.recordKey, topic, payload);
    } catch (err) {
      refuse('tampered', (err as Error).message);
      return;
    }
    try {
      stored = parsePeerRecord(record, device, this.opts.agency);
    } catch (err) {
      refuse('invalid-hit', (err as Error).message);
      return;
    }
    // As old as a device's envelope may be (dedupe forgets nothing younger): a record kept and replayed later is stale.
    const now = this.now();
    if (stored.receivedAt < now - (this.opts.maxAgeMs ?? DEFAULT_MAX_AGE_MS) || stored.receivedAt > now + (this.opts.maxSkewMs ?? DEFAULT_MAX_SKEW_MS)) {
      refuse('stale', `stored by the peer at ${new Date(stored.receivedAt).toISOString()}`);
      return;
    }
    const admission = await this.index.admit(stored.hitId, () => this.parts.store.put(stored, record));
    if (admission === 'duplicate') return; // both receivers took a copy: each shows it once
    this.remember(stored);
    this.emit('hit', stored);
    this.log.info({ device, hitId: stored.hitId }, 'hit received from a peer receiver');
  }

  private async ack(device: string, hitId: string, receivedAt: number, d?: DispositionRecord): Promise<void> {
    const client = this.client;
    if (!client) throw new ReceiverError('receiver stopped');
    const jws = await this.parts.signer.signAck({ hitId, device, receivedAt, ...(d ? { disposition: d.disposition, reason: d.reason, by: d.by, at: d.at } : {}) });
    await client.publishAsync(`alpr/v1/${this.opts.agency}/${device}/acks`, jws, { qos: 1 });
  }

  /**
   * A device event (tamper, camera down, stale list, certificate expiry, …): stored durably, then
   * acked, so the device's outbox lets it go only once dispatch has it (not on the broker's PUBACK).
   * A re-sent event is stored again under its id and acked again.
   */
  private async onEvent(device: string, payload: Buffer): Promise<void> {
    let event: DeviceEventRecord;
    try {
      // Signed by the device of the topic (chain and CRL as for hits): an alarm dispatch acts on.
      const e = await this.parts.verifier.deviceSigned(device, payload, EVENT_TYP, this.now());
      if (typeof e['id'] !== 'string' || !UUID.test(e['id'])) throw new Error('id: expected a UUID');
      if (typeof e['type'] !== 'string' || e['type'] === '') throw new Error('type: expected a non-empty string');
      if (e['device'] !== device) throw new Error(`device: ${JSON.stringify(e['device'])} published on ${device}'s topic`);
      event = { ...e, id: e['id'], type: e['type'], device, receivedAt: this.now() };
    } catch (err) {
      this.log.warn({ device, err: (err as Error).message }, 'event refused');
      return;
    }
    await this.parts.store.putEvent(device, event);
    this.emit('event', event);
    const client = this.client;
    if (!client) return;
    this.send((async () => {
      const jws = await this.parts.signer.signEventAck({ eventId: event.id, device, receivedAt: event.receivedAt });
      await client.publishAsync(`alpr/v1/${this.opts.agency}/${device}/acks`, jws, { qos: 1 });
    })(), 'ack');
  }

  /** `fromPeer`: the receiver that got it from the device has sent any cert-seen already. */
  private async onStatus(device: string, payload: Buffer, fromPeer = false): Promise<void> {
    let status: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(payload.toString('utf8'));
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not a JSON object');
      status = parsed as Record<string, unknown>;
    } catch (err) {
      this.log.warn({ device, err: (err as Error).message }, 'status unreadable');
      return;
    }
    this.statuses.set(device, status);
    this.emit('status', { device, status });
    if (this.replicas && !fromPeer) this.send(this.passOn(this.replicas.status(device), payload));
    const cert = status['certificate'] as { serial?: unknown } | undefined;
    if (status['state'] !== 'online' || typeof cert?.serial !== 'string' || cert.serial === '') return;
    const serial = cert.serial;
    if ((await this.parts.store.certSerial(device)) === serial) return;
    if (fromPeer) {
      await this.parts.store.setCertSerial(device, serial);
      return;
    }
    // The device finishes a certificate rotation once dispatch has seen the new serial. Recorded
    // once the broker took the command (else the next status tries again); a second status
    // while it is on its way does not send it twice.
    if (this.certSeenSending.get(device) === serial) return;
    this.certSeenSending.set(device, serial);
    this.log.info({ device, serial }, 'new device certificate seen');
    this.send((async () => {
      try {
        await this.sendCommand(device, 'cert-seen', { serial });
        await this.parts.store.setCertSerial(device, serial);
      } finally {
        if (this.certSeenSending.get(device) === serial) this.certSeenSending.delete(device);
      }
    })(), 'cert-seen');
  }

  /** To the peers; a refusal (a broker ACL without the alpr-dispatch/ topics) costs them the copy, not this receiver its work. */
  private async passOn(topic: string, payload: string | Buffer, hitId?: string): Promise<void> {
    try {
      await this.client?.publishAsync(topic, payload, { qos: 1 });
    } catch (err) {
      this.log.warn({ err: (err as Error).message, topic, ...(hitId ? { hitId } : {}) }, 'not passed on to the peer receivers');
    }
  }

  private async onPeerDisposition(payload: Buffer): Promise<void> {
    const now = this.now();
    let d;
    try {
      d = await verifyPeerDisposition(payload.toString('utf8').trim(), this.parts.verifier.anchors, this.parts.verifier.crls(now), this.parts.signer.commonName, now);
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'disposition from a peer refused');
      return;
    }
    const record: DispositionRecord = { disposition: d.disposition, reason: d.reason, by: d.by, at: d.at };
    const apply = async (): Promise<void> => {
      const hit = this.recent.get(d.hitId) ?? (await this.parts.store.get(d.hitId));
      if (!hit) {
        this.log.warn({ hitId: d.hitId }, 'disposition from a peer for a hit not stored here');
        return;
      }
      if (hit.dispositions.some((x) => x.at === record.at && x.disposition === record.disposition)) return;
      const updated: StoredHit = { ...hit, dispositions: [...hit.dispositions, record].sort((a, b) => a.at - b.at) };
      await this.parts.store.putDispositions(updated);
      this.remember(updated);
      this.emit('disposition', { ...record, hitId: d.hitId, device: hit.device });
    };
    // In turn with local dispositions, so the two cannot overwrite each other's record.
    const turn = this.disposing.then(apply);
    this.disposing = turn.catch(() => undefined);
    await turn;
  }

  private async onCommandResult(device: string, payload: Buffer): Promise<void> {
    let result: CommandResult;
    try {
      result = await this.parts.verifier.commandResult(device, payload, this.now());
    } catch (err) {
      this.log.warn({ device, err: (err as Error).message }, 'command result refused');
      return;
    }
    this.log.info({ device, id: result.id, name: result.name, ok: result.ok, error: result.error }, 'command result');
    this.emit('command-result', result);
  }

  list(): ReceivedHit[] {
    return [...this.recent.values()].sort((a, b) => b.receivedAt - a.receivedAt);
  }

  get(hitId: string): ReceivedHit | undefined {
    return this.recent.get(hitId);
  }

  devices(): Record<string, Record<string, unknown>> {
    return Object.fromEntries(this.statuses);
  }

  events(device: string): Promise<DeviceEventRecord[]> {
    return this.parts.store.events(device);
  }

  async dispose(hitId: string, disposition: Disposition, reason: string, by: string): Promise<void> {
    if (!DISPOSITIONS.includes(disposition)) throw new ReceiverError(`disposition ${JSON.stringify(disposition)}: expected one of ${DISPOSITIONS.join(', ')}`);
    if (typeof reason !== 'string' || reason.trim() === '') throw new ReceiverError('a disposition needs a reason');
    if (typeof by !== 'string' || by.trim() === '') throw new ReceiverError('a disposition needs the dispatcher who made it');
    // One disposition at a time, so two dispatchers cannot both move the same hit on from one state.
    const turn = this.disposing.then(() => this.disposeNow(hitId, disposition, reason, by));
    this.disposing = turn.catch(() => undefined);
    return turn;
  }

  private async disposeNow(hitId: string, disposition: Disposition, reason: string, by: string): Promise<void> {
    const hit = this.recent.get(hitId) ?? (await this.parts.store.get(hitId));
    if (!hit) throw new ReceiverError(`no hit ${hitId}`);
    if (!nextDispositions(hit).includes(disposition)) {
      const now = hitState(hit);
      const left = nextDispositions(hit);
      throw new ReceiverError(`hit ${hitId} is already ${now}${left.length ? `; it can still be ${left.join(' or ')}` : ''}`);
    }
    const record: DispositionRecord = { disposition, reason: reason.trim(), by: by.trim(), at: this.now() };
    const updated: StoredHit = { ...hit, dispositions: [...hit.dispositions, record] };
    // Recorded with the duty to send it, in one batch: if the broker is away or the process dies
    // before the broker takes the ack, it is sent on reconnect or after the restart.
    await this.parts.store.putDisposition(updated, record);
    this.remember(updated);
    this.log.info({ hitId, device: hit.device, disposition, by: record.by }, 'hit disposed');
    this.emit('disposition', { ...record, hitId, device: hit.device });
    this.send(this.sendDisposition({ hitId, device: hit.device, receivedAt: hit.receivedAt, record }));
  }

  private async sendDisposition(d: UnsentDisposition): Promise<void> {
    try {
      await this.ack(d.device, d.hitId, d.receivedAt, d.record);
      await this.parts.store.markSent(d.hitId, d.record);
      if (this.replicas) {
        const jws = await this.parts.signer.signAck({ hitId: d.hitId, device: d.device, receivedAt: d.receivedAt, disposition: d.record.disposition, reason: d.record.reason, by: d.record.by, at: d.record.at });
        await this.passOn(this.replicas.dispositions, jws, d.hitId);
      }
    } catch (err) {
      this.log.warn({ err: (err as Error).message, hitId: d.hitId }, 'disposition not sent yet; sent again after a restart');
    }
  }

  async sendCommand(device: string, name: string, args: unknown, ttlMs = 60_000): Promise<void> {
    if (!SEGMENT.test(device)) throw new ReceiverError(`device ${JSON.stringify(device)}: not a device id`);
    if (!SEGMENT.test(name)) throw new ReceiverError(`command ${JSON.stringify(name)}: lower-case letters, digits and dashes only`);
    if (!Number.isFinite(ttlMs) || ttlMs <= 0) throw new ReceiverError(`command ttl ${ttlMs}: expected a positive number of ms`);
    const client = this.client;
    if (!client) throw new ReceiverError('receiver stopped');
    const { jws, payload } = await this.parts.signer.signCommand(device, name, args, this.now(), ttlMs);
    await client.publishAsync(`alpr/v1/${this.opts.agency}/${device}/cmd/${name}`, jws, { qos: 1 });
    this.log.info({ device, name, id: payload.id }, 'command sent');
  }

  stats(): ReceiverStats {
    return {
      received: this.counts.received,
      duplicates: this.counts.duplicates,
      rejected: { ...this.counts.rejected },
      latencyMs: { p50: this.latency.percentile(50), p99: this.latency.percentile(99) },
      transitMs: { p50: this.transit.percentile(50), p99: this.transit.percentile(99) },
    };
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const client = this.client;
    client?.removeAllListeners('message');
    // Let messages in hand finish (store + ack) before the link and the database close, but not
    // forever: with the broker away an ack waits in mqtt.js's queue. What is cut short is safe:
    // an unacked hit is re-sent by its device, an unsent disposition is in the store.
    let timer: NodeJS.Timeout | undefined;
    const settled = await Promise.race([
      Promise.allSettled([...this.working]).then(() => Promise.allSettled([...this.sending])).then(() => true),
      new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), this.opts.stopGraceMs ?? 5_000))),
    ]);
    clearTimeout(timer);
    this.client = undefined;
    await client?.endAsync(!settled);
    await this.parts.store.close();
  }
}
