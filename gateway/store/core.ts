/** What the store's parts share: built once by `openDetectionStore`, passed to each part. */
import type { EventSink } from '../events.ts';
import type { RandomSource } from '../ids.ts';
import type { AuditLog } from './audit-log.ts';
import type { BlobStore } from './blobs.ts';
import type { ChainBook } from './chain-book.ts';
import type { Clock } from './clock.ts';
import type { Db } from './db.ts';
import type { DataDb } from './days.ts';
import type { IndexBook } from './index-book.ts';
import type { Keyring } from './keyring.ts';
import type { Reaper } from './reaper.ts';
import type { DeviceSigner } from './signer.ts';
import type { Writer } from './writer.ts';

export interface RetentionDays {
  readonly readsDays: number;
  readonly hitsDays: number;
  readonly imagesDays: number;
  readonly auditDays: number;
}

export const DEFAULT_RETENTION: RetentionDays = { readsDays: 30, hitsDays: 30, imagesDays: 30, auditDays: 365 };

export interface StoreCore {
  readonly dataDir: string;
  /** The device database: metadata, audit, holds, receipts, checkpoints (and delivery's outbox). */
  readonly db: Db;
  /** Every key, routed: a storage day's records, index and chains to that day's database (days.ts). */
  readonly data: DataDb;
  /** Image bytes (blobs.ts); the database holds pointers. */
  readonly blobs: BlobStore;
  /** Frees purged files in the background (reaper.ts). */
  readonly reaper: Reaper;
  readonly master: Buffer;
  readonly keyring: Keyring;
  readonly signer: DeviceSigner;
  readonly clock: Clock;
  readonly chains: ChainBook;
  readonly index: IndexBook;
  readonly writer: Writer;
  readonly audit: AuditLog;
  readonly events: EventSink;
  readonly random: RandomSource;
  readonly newId: (ms: number) => string;
  readonly retention: RetentionDays;
  /** Below this share of free space, the oldest reads go (0–100). */
  readonly minFreePercent: number;
  /** Release purposes refused (P11), matched case-insensitively as substrings. */
  readonly forbiddenReleasePurposes: readonly string[];
  /** Where a non-fatal failure in the background is reported. */
  readonly onError: (err: unknown, what: string) => void;
}
