/**
 * What the local console and API are given (a typed deps object, built in gateway/main.ts) and
 * the shapes it shares with its pages. The console holds no config or clients of its own.
 */
import type { Logger } from 'pino';
import type { LiveViewRelay } from '../../drivers/camera/live-view.ts';
import type { GatewayConfig } from '../config/schema.ts';
import type { DetectionStore } from '../store/detection-store.ts';

export const ROLES = ['technician', 'investigator', 'auditor', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** One camera as the health page shows it; any field the gateway cannot tell yet is left out ("n/a"). */
export interface CameraHealth {
  readonly id: string;
  readonly state?: string;
  readonly fps?: number;
  readonly framesDropped?: number;
  /** Reads per hour for the last hours, oldest first (the chart). */
  readonly readsPerHour?: readonly number[];
}

/** The technician's health snapshot (P13). Every field optional: what is not known shows "n/a". */
export interface StatusSnapshot {
  readonly cameras: readonly CameraHealth[];
  readonly hotlist?: { readonly version?: string; readonly ageMs?: number; readonly stale?: boolean };
  readonly certificate?: { readonly subject?: string; readonly notAfter?: number; readonly source?: string; readonly note?: string };
  readonly outboxDepth?: number;
  readonly disk?: { readonly freeBytes: number; readonly totalBytes: number };
  readonly clock?: { readonly now: number; readonly status?: string };
  readonly gps?: { readonly fix: boolean; readonly lat?: number; readonly lon?: number; readonly at?: number };
  readonly versions?: Readonly<Record<string, string>>;
}

export interface StatusProvider {
  snapshot(): StatusSnapshot | Promise<StatusSnapshot>;
  /** A recent JPEG frame of the camera (privacy masks applied), if the gateway keeps one. */
  thumbnail?(cameraId: string): Uint8Array | undefined | Promise<Uint8Array | undefined>;
}

/**
 * The drivers' tamper switch: while `consoleLocked()` is true, data pages are refused until an
 * admin clears it (the enclosure was opened; the person at the pole may not be who they say).
 * The lock itself (kept across reboots, LED, events) is the drivers' (drivers/tamper).
 */
export interface TamperLock {
  consoleLocked(): boolean;
  /** Clears the lock; false when it was not set. `drivers/pole.ts`'s Pole has this shape. */
  clearLock(by: string): boolean | Promise<boolean>;
}

export interface Clock {
  now(): number;
}

export interface ApiDeps {
  readonly store: DetectionStore;
  readonly status: StatusProvider;
  readonly tamper: TamperLock;
  /** The relay of a camera for the live view; none means live view is unavailable. */
  readonly liveView?: (cameraId: string) => LiveViewRelay | undefined;
  readonly logger?: Logger;
  /** Wall clock for sessions, lockouts and TOTP (tests inject a fake one). */
  readonly clock?: Clock;
  /** Random bytes (session tokens, TOTP secrets); default node:crypto. */
  readonly random?: (n: number) => Uint8Array;
}

export type ApiConfig = GatewayConfig['api'];

/** The parts of the gateway config the console reads. */
export interface ApiSettings {
  readonly dataDir: string;
  readonly deviceId: string;
  readonly site: string;
  readonly cameras: readonly string[];
  readonly api: ApiConfig;
}

export function apiSettings(config: GatewayConfig): ApiSettings {
  return { dataDir: config.dataDir, deviceId: config.device.id, site: config.device.site, cameras: config.cameras.map((c) => c.id), api: config.api };
}
