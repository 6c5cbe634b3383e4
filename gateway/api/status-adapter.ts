/**
 * Builds the console's status provider from the gateway's own parts, so the health page shows
 * real numbers: camera state and drops from each frame source, frames per second from the change
 * in frames received between two looks (no second counter to keep in step), the hot list in
 * force, outbox depth, free disk (statfs of the data folder, read-only — never the store's purging
 * disk check), the trusted clock, GPS and the latest frame of each camera. Every source is
 * optional: what is not wired shows "n/a".
 */
import type { CameraStatus } from '../../drivers/camera/types.ts';
import { statfsProbe, type DiskProbe } from '../store/disk-pressure.ts';
import type { CameraHealth, StatusProvider, StatusSnapshot } from './types.ts';

export interface GatewayStatusSources {
  /** Each frame source's status (`sources.map((s) => s.status())`). */
  readonly cameras: () => readonly CameraStatus[];
  readonly hotlist?: () => { readonly version: string; readonly generatedAt: number; readonly stale?: boolean } | undefined;
  readonly outboxDepth?: () => number | undefined;
  /** The data folder, for free space. */
  readonly dataDir?: string;
  readonly diskProbe?: DiskProbe;
  readonly clock?: () => { readonly now: number; readonly status?: string };
  readonly gps?: () => StatusSnapshot['gps'];
  readonly versions?: Readonly<Record<string, string>>;
  /** The latest frame of a camera as JPEG (privacy masks applied). */
  readonly thumbnail?: (cameraId: string) => Uint8Array | undefined | Promise<Uint8Array | undefined>;
  readonly now?: () => number;
}

/** Frames per second from two readings of a camera's frames-received counter. */
export class FrameRates {
  private readonly last = new Map<string, { at: number; frames: number; fps?: number }>();

  /** The rate since the previous reading at least `minGapMs` ago (the last rate in between). */
  update(cameraId: string, framesIn: number, at: number, minGapMs = 1_000): number | undefined {
    const prev = this.last.get(cameraId);
    if (!prev || framesIn < prev.frames) {
      this.last.set(cameraId, { at, frames: framesIn }); // first look, or the counter restarted
      return undefined;
    }
    if (at - prev.at < minGapMs) return prev.fps;
    const fps = ((framesIn - prev.frames) * 1000) / (at - prev.at);
    this.last.set(cameraId, { at, frames: framesIn, fps });
    return fps;
  }
}

export function gatewayStatus(src: GatewayStatusSources): StatusProvider {
  const rates = new FrameRates();
  const now = src.now ?? Date.now;
  const probe = src.diskProbe ?? statfsProbe;
  return {
    async snapshot(): Promise<StatusSnapshot> {
      const t = now();
      const cameras: CameraHealth[] = src.cameras().map((c) => {
        const fps = rates.update(c.cameraId, c.framesIn, t);
        return { id: c.cameraId, state: c.state, framesDropped: c.framesDropped, ...(fps !== undefined ? { fps } : {}) };
      });
      const list = src.hotlist?.();
      let disk: StatusSnapshot['disk'];
      if (src.dataDir !== undefined) {
        try {
          disk = await probe(src.dataDir);
        } catch {
          disk = undefined; // shown as n/a; the store's own disk check raises the alarm
        }
      }
      const outbox = src.outboxDepth?.();
      const gps = src.gps?.();
      return {
        cameras,
        ...(list ? { hotlist: { version: list.version, ageMs: t - list.generatedAt, ...(list.stale !== undefined ? { stale: list.stale } : {}) } } : {}),
        ...(outbox !== undefined ? { outboxDepth: outbox } : {}),
        ...(disk ? { disk } : {}),
        ...(src.clock ? { clock: src.clock() } : {}),
        ...(gps ? { gps } : {}),
        ...(src.versions ? { versions: src.versions } : {}),
      };
    },
    ...(src.thumbnail ? { thumbnail: src.thumbnail } : {}),
  };
}
