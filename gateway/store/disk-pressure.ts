/**
 * Disk pressure: below `minFreePercent` free space, purge the oldest days' reads (records, their
 * images and index) until there is room again — never hits (among them every hit not yet
 * delivered), never held records (they are copies under their hold's key), never today's reads.
 * The first check below the threshold raises `store.disk-pressure`; running out of reads to purge
 * raises `store.disk-critical`; getting back above raises `store.disk-ok`.
 */
import { statfs } from 'node:fs/promises';
import type { StoreCore } from './core.ts';
import { dayOf } from './layout.ts';
import { presentPartitions, purgePartitions, type DeletionReceipt } from './retention.ts';

export interface DiskSpace {
  readonly freeBytes: number;
  readonly totalBytes: number;
}

export type DiskProbe = (path: string) => Promise<DiskSpace>;

export const statfsProbe: DiskProbe = async (path) => {
  const s = await statfs(path);
  return { freeBytes: s.bavail * s.bsize, totalBytes: s.blocks * s.bsize };
};

export interface DiskCheck {
  readonly freePercent: number;
  readonly purged: readonly DeletionReceipt[];
  readonly state: 'ok' | 'pressure' | 'critical';
}

const percent = (s: DiskSpace): number => (s.totalBytes > 0 ? (100 * s.freeBytes) / s.totalBytes : 100);

export class DiskPressure {
  private alarmed = false;

  constructor(private readonly core: StoreCore, private readonly probe: DiskProbe = statfsProbe) {}

  async check(): Promise<DiskCheck> {
    const { core } = this;
    let free = percent(await this.probe(core.dataDir));
    if (free < core.minFreePercent && core.reaper.busy) {
      // Files of an earlier purge still being freed in the background: free them first, so
      // space that is already on its way back does not cost a day of reads.
      await core.reaper.drain();
      free = percent(await this.probe(core.dataDir));
    }
    if (free >= core.minFreePercent) {
      if (this.alarmed) core.events.emit({ type: 'store.disk-ok', at: core.clock.now(), freePercent: round(free) });
      this.alarmed = false;
      return { freePercent: free, purged: [], state: 'ok' };
    }
    if (!this.alarmed) core.events.emit({ type: 'store.disk-pressure', at: core.clock.now(), freePercent: round(free), threshold: core.minFreePercent });
    this.alarmed = true;
    const today = dayOf(core.clock.now());
    const purged: DeletionReceipt[] = [];
    while (free < core.minFreePercent) {
      const reads = (await presentPartitions(core)).filter((p) => (p.cls === 'read' || p.cls === 'image') && p.day < today);
      const oldest = reads.map((p) => p.day).sort()[0];
      if (oldest === undefined) {
        core.events.emit({ type: 'store.disk-critical', at: core.clock.now(), freePercent: round(free), threshold: core.minFreePercent, detail: 'no reads older than today are left to purge' });
        return { freePercent: free, purged, state: 'critical' };
      }
      // Images first: they are most of the bytes, and a read without its image is still a read.
      purged.push(...await purgePartitions(core, (['image', 'read'] as const).flatMap((cls) => reads.filter((r) => r.day === oldest && r.cls === cls)), 'disk-pressure'));
      // The space is wanted now, not at the background pace.
      await core.reaper.drain();
      free = percent(await this.probe(core.dataDir));
    }
    return { freePercent: free, purged, state: 'pressure' };
  }
}

const round = (n: number): number => Math.round(n * 10) / 10;
