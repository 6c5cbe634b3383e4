/**
 * Contracts shared across the gateway, delivery and dispatch. Declared here once and imported
 * everywhere else (ARCHITECTURE.md, "Contracts several parts share").
 */
import type { Candidate, PlateRead } from '../models/types.ts';

export type { Candidate, PlateRead };

export type HotlistType = 'stolen-vehicle' | 'stolen-plate' | 'amber' | 'silver' | 'wanted' | 'missing' | 'suspended' | 'bolo' | 'partial';

export const HOTLIST_TYPES: readonly HotlistType[] = [
  'stolen-vehicle', 'stolen-plate', 'amber', 'silver', 'wanted', 'missing', 'suspended', 'bolo', 'partial',
];

/** One hot-list entry. The personal data travels sealed; the device never opens `sealed`. */
export interface HotlistEntry {
  readonly id: string;
  /** Normalised plate: upper-case A–Z 0–9 (wildcards `*`/`?` arrive with the hot-list issue). */
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

/** Why a read hit an entry. */
export interface Match {
  readonly entryId: string;
  readonly listId: string;
  readonly listVersion: string;
  readonly kind: MatchKind;
  readonly distance: number;
  /** e.g. [{position: 2, read: '0', listed: 'O'}] */
  readonly substitutions: readonly { position: number; read: string; listed: string }[];
  readonly entry: HotlistEntry;
  readonly nextBest?: string;
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
}

export interface DetectionImages {
  readonly plate: Uint8Array;
  readonly overview?: Uint8Array;
}
