/**
 * Contracts shared across the gateway, delivery and dispatch. Declared here once and imported
 * everywhere else (ARCHITECTURE.md, "Contracts several parts share").
 */
import type { PassSpeed } from '../drivers/radar/speed-buffer.ts';
import type { Candidate, PlateRead } from '../models/types.ts';

export type { Candidate, PassSpeed, PlateRead };

export type HotlistType = 'stolen-vehicle' | 'stolen-plate' | 'amber' | 'silver' | 'wanted' | 'missing' | 'suspended' | 'bolo' | 'partial';

export const HOTLIST_TYPES: readonly HotlistType[] = [
  'stolen-vehicle', 'stolen-plate', 'amber', 'silver', 'wanted', 'missing', 'suspended', 'bolo', 'partial',
];

/** One hot-list entry. The personal data travels sealed; the device never opens `sealed`. */
export interface HotlistEntry {
  readonly id: string;
  /** Normalised plate: upper-case A–Z 0–9; a partial plate may hold `?` (one character) and `*` (any run). */
  readonly plate: string;
  readonly state?: string;
  readonly listType: HotlistType;
  /** 0–100, higher first. */
  readonly priority: number;
  /** ms since epoch */
  readonly effective?: number;
  readonly expires?: number;
  readonly covert?: boolean;
  /** Opaque sealed blob (JWE to the dispatch key) holding entering member, case number, synopsis. */
  readonly sealed?: string;
}

export type MatchKind = 'exact' | 'ocr-equivalent' | 'edit-distance' | 'wildcard';

/**
 * One difference between the read and the listed plate. `position` is the read's character
 * index (for a dropped character: where it is missing). `read` is '' for a dropped listed
 * character, `listed` is '' for an extra read character.
 */
export interface Substitution {
  readonly position: number;
  readonly read: string;
  readonly listed: string;
  readonly op?: 'lookalike' | 'substituted' | 'dropped' | 'extra';
}

/** Why a read hit an entry. */
export interface Match {
  readonly entryId: string;
  readonly listId: string;
  readonly listVersion: string;
  readonly kind: MatchKind;
  /**
   * Edits after look-alike equivalence: 0 for exact, OCR-equivalent and wildcard matches, 1…k
   * for edit-distance matches (what the matcher compares with k).
   */
  readonly distance: number;
  /** e.g. [{position: 2, read: '0', listed: 'O', op: 'lookalike'}] */
  readonly substitutions: readonly Substitution[];
  readonly entry: HotlistEntry;
  /** Id of the runner-up entry, when the read hit more than one. */
  readonly nextBest?: string;
  /** The candidate text that hit, and its rank among the read's candidates (0 = voted text). */
  readonly read?: string;
  readonly candidateRank?: number;
  /** The read's state differs from the entry's (kept, ranked last, under `stateMismatch: demote`). */
  readonly stateMismatch?: boolean;
  /** Freshness of the list at match time (P3): generation time, age, and whether past the policy age. */
  readonly listGeneratedAt?: number;
  readonly listAgeMs?: number;
  readonly listStale?: boolean;
}

/**
 * Something the device reports on its events topic (ARCHITECTURE.md: tamper, camera down, stale
 * hot list, …). Until the delivery issue publishes them, main.ts logs them.
 */
export interface GatewayEvent {
  readonly type: string;
  /** ms since epoch */
  readonly at: number;
  readonly [field: string]: unknown;
}

export interface EventSink {
  emit(event: GatewayEvent): void;
}

export type Direction = 'left' | 'right' | 'toward' | 'away' | 'unknown';

/** One vehicle, assembled from the reads of several frames. */
export interface VehiclePass {
  readonly cameraId: string;
  readonly text: string;
  readonly confidence: number;
  readonly candidates: readonly Candidate[];
  readonly firstSeen: number;
  readonly lastSeen: number;
  readonly frames: number;
  readonly bestRead: PlateRead;
  /** JPEG of the whole frame the best read came from. */
  readonly overview?: Uint8Array;
  readonly direction: Direction;
  readonly state?: string;
}

export interface Versions {
  readonly model: string;
  readonly firmware: string;
  readonly config: string;
}

/** What the device keeps about one vehicle. A hit is a detection with a `match`. */
export interface Detection {
  /** UUIDv7: time-ordered, unique per device. */
  readonly id: string;
  /** Capture time of the best frame, ms since epoch. */
  readonly capturedAt: number;
  /** When the plate was read (recogniser finished). */
  readonly readAt: number;
  readonly cameraId: string;
  readonly deviceId: string;
  readonly site: string;
  readonly plate: string;
  readonly state?: string;
  readonly confidence: number;
  readonly candidates: readonly Candidate[];
  readonly box: PlateRead['box'];
  readonly firstSeen: number;
  readonly lastSeen: number;
  readonly frames: number;
  readonly direction: Direction;
  readonly match?: Match;
  readonly matchedAt?: number;
  readonly versions: Versions;
  /** 'unsynchronised' until the clock work (evidence store issue) lands a trusted clock. */
  readonly clock: 'system' | 'trusted' | 'unsynchronised';
  /**
   * The GPS receiver's fix quality when the detection was made (drivers/gps), on a pole with a
   * receiver; absent without one. 'none' means the receiver has no fix: the clock then rests on
   * the other sources alone.
   */
  readonly gpsFix?: 'none' | 'gps' | 'dgps' | 'pps' | 'rtk' | 'float-rtk' | 'estimated' | 'manual' | 'simulation';
  /** The radar's speed over the pass (drivers/radar), on a pole with a radar that measured it. */
  readonly speed?: PassSpeed;
}

export interface DetectionImages {
  readonly plate: Uint8Array;
  readonly overview?: Uint8Array;
}
