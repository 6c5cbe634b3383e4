/** Shared fixtures for the evidence-store tests: temp folders, detections, a settable clock. */
import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AccessContext } from '../../../gateway/store/access.ts';
import { FixedClock } from '../../../gateway/store/clock.ts';
import type { DetectionStore } from '../../../gateway/store/detection-store.ts';
import { openDetectionStore, type StoreOptions } from '../../../gateway/store/open.ts';
import { MemoryEventSink } from './store-events.ts';
import type { Detection, Match } from '../../../gateway/types.ts';

export const DAY_MS = 86_400_000;
export const T0 = Date.parse('2026-11-20T12:00:00.000Z');

export const INVESTIGATOR: AccessContext = { user: 'j.rivera', source: '10.20.0.7', purpose: 'stolen vehicle investigation', caseNumber: 'VPD-26-0142' };
export const SUPERVISOR: AccessContext = { user: 'sgt.okafor', source: '10.20.0.9', purpose: 'evidence management' };

const dirs: string[] = [];
export function tempDir(prefix = 'alpr-store-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
}
export function removeTempDirs(): void {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

export function detection(id: string, capturedAt: number, plate: string, extra: Partial<Detection> = {}): Detection {
  return {
    id, capturedAt, readAt: capturedAt + 50, cameraId: 'north', deviceId: 'pole-1', site: 'Main & 1st', plate,
    confidence: 0.93, candidates: [{ text: plate, score: 0.93 }], box: { x: 1, y: 2, width: 3, height: 4 },
    firstSeen: capturedAt - 500, lastSeen: capturedAt + 500, frames: 4, direction: 'left',
    versions: { model: 'm', firmware: 'f', config: 'c' }, clock: 'trusted', ...extra,
  };
}

export function match(plate: string): Match {
  return {
    entryId: `stolen-vehicle:${plate}`, listId: 'ncic', listVersion: '1', kind: 'exact', distance: 0, substitutions: [],
    entry: { id: `stolen-vehicle:${plate}`, plate, listType: 'stolen-vehicle', priority: 90 },
  };
}

/** A fake JPEG whose bytes after the header spell `marker` many times (the canary test greps them). */
export function jpeg(marker: string, size = 2_000): Uint8Array {
  const b = Buffer.alloc(size, 0);
  b[0] = 0xff;
  b[1] = 0xd8;
  for (let i = 2; i + marker.length < size; i += marker.length + 1) b.write(marker, i, 'latin1');
  return b;
}

export class SettableClock extends FixedClock {
  advance(ms: number): void {
    this.t += ms;
  }
}

export interface TestStore {
  store: DetectionStore;
  events: MemoryEventSink;
  clock: SettableClock;
  dir: string;
}

/** `clock` may be any Clock; the one returned is typed settable for the usual case. */
export async function openTestStore(options: Partial<StoreOptions> & { dir?: string } = {}): Promise<TestStore> {
  const dir = options.dir ?? tempDir();
  const clock = (options.clock ?? new SettableClock(T0)) as SettableClock;
  const events = (options.events as MemoryEventSink | undefined) ?? new MemoryEventSink();
  const store = await openDetectionStore({
    deviceId: 'pole-1', diskProbe: async () => ({ freeBytes: 50, totalBytes: 100 }), ...options, dataDir: dir, clock, events,
  });
  return { store, events, clock, dir };
}

/** The store's device key as a KeyObject, to check its signatures. */
export function deviceKey(store: DetectionStore): KeyObject {
  return createPublicKey({ key: store.publicKey.jwk as JsonWebKey, format: 'jwk' });
}
