/**
 * What a dispatch receiver is to its users (the console, the demo, tests): its options, the events
 * it emits and the Receiver interface. The MQTT implementation is receiver.ts.
 */
import type { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { DeviceEventRecord, DispositionRecord, StoredHit } from './hit-store.ts';
import type { Disposition } from './signer.ts';
import type { CommandResult, Rejection } from './verify.ts';

export type { CommandResult, Rejection };

export interface ReceiverOptions {
  /** mqtts://host:port (mqtt:// for a broker without TLS, e.g. the demo's embedded one). */
  readonly url: string;
  /** PEM contents: the receiver's client certificate for the broker, and the broker's CA. */
  readonly tls?: { readonly ca: string; readonly cert: string; readonly key: string };
  /** Subscribes $share/{shareGroup}/alpr/v1/{agency}/+/hits, …/+/status, …/+/events and …/+/cmd-result. */
  readonly agency: string;
  readonly shareGroup?: string;
  /** Agency CA bundle that device certificates must chain to. */
  readonly trustAnchorsPem: string;
  /** The current CRL (PEM), read per message; a configured source that yields nothing fails closed. */
  readonly crl?: () => string | undefined;
  /** Dispatch P-256 private key (PKCS#8 PEM) the hits are encrypted to. */
  readonly decryptionKeyPem: string;
  /** When given, a JWE whose kid is not this certificate's SHA-256 thumbprint is refused. */
  readonly decryptionCertPem?: string;
  readonly signingKeyPem: string;
  readonly signingChainPem: string;
  /** Durable hit store and dedupe index (survives restarts). */
  readonly dataDir: string;
  /** 5 (default) for shared subscriptions; 4 subscribes without $share (one receiver only). */
  readonly protocolVersion?: 4 | 5;
  readonly clientId?: string;
  readonly log: Logger;
  readonly now?: () => number;
  /** How old a publishedAt may be before the envelope counts as a replay (default 24 h). */
  readonly maxAgeMs?: number;
  /** How far ahead of this clock a publishedAt may be (default 5 min). */
  readonly maxSkewMs?: number;
  /**
   * Pass every hit and disposition on to the other receivers of the share group, and take
   * theirs (replication.ts). Default on with MQTT 5; MQTT 4 has no shared subscriptions.
   */
  readonly replicate?: boolean;
  /** How long stop() lets messages in hand and their acks finish (default 5 s). */
  readonly stopGraceMs?: number;
  /** Hits kept in memory for list()/get(), images included (default 500; all stay on disk). */
  readonly keep?: number;
}

export type ReceivedHit = StoredHit;

export interface DispositionEvent extends DispositionRecord {
  readonly hitId: string;
  readonly device: string;
}

export interface ReceiverStats {
  /** Hits this receiver took from devices (not those a peer passed on). */
  received: number;
  duplicates: number;
  rejected: Record<string, number>;
  /** Capture → stored at dispatch (device clock vs ours). */
  latencyMs: { p50: number; p99: number };
  /** Publish (each send) → stored at dispatch: the network and crypto part. */
  transitMs: { p50: number; p99: number };
}

/** What a receiver tells its listeners (the console, the log, tests). */
export interface ReceiverEvents {
  hit: [ReceivedHit];
  rejected: [Rejection];
  disposition: [DispositionEvent];
  'command-result': [CommandResult];
  /** A device published its status (contract 3); the last one is in devices(). */
  status: [{ device: string; status: Record<string, unknown> }];
  /** A device event (`.../events`), stored and acked. */
  event: [DeviceEventRecord];
}

export interface Receiver extends EventEmitter<ReceiverEvents> {
  list(): ReceivedHit[];
  get(hitId: string): ReceivedHit | undefined;
  dispose(hitId: string, disposition: Disposition, reason: string, by: string): Promise<void>;
  sendCommand(device: string, name: string, args: unknown, ttlMs?: number): Promise<void>;
  /** Last status each device published (online/offline, outbox, certificate…). */
  devices(): Record<string, Record<string, unknown>>;
  /** The events a device published that this receiver stored, oldest first. */
  events(device: string): Promise<DeviceEventRecord[]>;
  stats(): ReceiverStats;
  stop(): Promise<void>;
}

export class ReceiverError extends Error {
  override readonly name = 'ReceiverError';
}
