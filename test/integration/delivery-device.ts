/**
 * The device's delivery stack for the fault tests, as main.ts assembles it (createDelivery) but
 * without cameras or recognition: LevelDB on disk, the outbox key kept in a file beside it (the
 * gateway derives it from the store's master key), audit records collected in memory.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { GatewayConfig } from '../../gateway/config/schema.ts';
import { buildHitDraft, type HitDraft } from '../../gateway/delivery/hit-message.ts';
import { createDelivery, type Delivery } from '../../gateway/delivery/index.ts';
import type { AuditRecord } from '../../gateway/store/audit-log.ts';
import { createDb, type Db } from '../../gateway/store/db.ts';
import { createUuidV7 } from '../../gateway/ids.ts';
import type { Detection } from '../../gateway/types.ts';

export interface TestDevice extends Delivery {
  readonly db: Db;
  readonly audit: AuditRecord[];
  readonly events: { type: string; [k: string]: unknown }[];
  close(): Promise<void>;
}

export async function startDevice(config: Pick<GatewayConfig, 'dataDir' | 'mqtt' | 'delivery' | 'device'>, log: Logger): Promise<TestDevice> {
  const keyFile = join(config.dataDir, 'outbox.key');
  if (!existsSync(keyFile)) writeFileSync(keyFile, randomBytes(32), { mode: 0o600 });
  const db = createDb(join(config.dataDir, 'db'));
  await db.open();
  const audit: AuditRecord[] = [];
  const events: { type: string; [k: string]: unknown }[] = [];
  const delivery = await createDelivery({
    config, db, outboxKey: readFileSync(keyFile),
    audit: async (r) => void audit.push(r),
    newId: createUuidV7(),
    logEvent: (e) => void events.push(e),
    log,
  });
  delivery.service.start();
  return {
    ...delivery, db, audit, events,
    close: async () => {
      await delivery.service.stop();
      await db.close();
    },
  };
}

/** A small JPEG-looking image: the loops need many hits, not big ones. */
export const SMALL_JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(200, 7), Buffer.from([0xff, 0xd9])]);

/** A hit as the pipeline would hand it over, for plate `plate` with id `id`. */
export function testHit(id: string, device: string, plate: string, image: Buffer = SMALL_JPEG, at = Date.now()): HitDraft {
  const detection: Detection = {
    id, capturedAt: at, readAt: at + 30, matchedAt: at + 31, cameraId: 'north', deviceId: device, site: 'Test Site', plate,
    confidence: 0.91, candidates: [{ text: plate, score: 0.91 }], box: { x: 1, y: 2, width: 90, height: 30 },
    firstSeen: at - 400, lastSeen: at, frames: 5, direction: 'toward',
    match: {
      entryId: `stolen-vehicle:${plate}`, listId: 'ncic', listVersion: 'v1', kind: 'exact', distance: 0, substitutions: [],
      entry: { id: `stolen-vehicle:${plate}`, plate, listType: 'stolen-vehicle', priority: 90 },
      listGeneratedAt: at - 60_000, listAgeMs: 60_000, listStale: false,
    },
    versions: { model: 'test', firmware: '0.1.0', config: 'test' },
    clock: 'system',
  };
  return buildHitDraft('test-pd', detection, { plate: image, overview: image });
}
