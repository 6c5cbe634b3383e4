import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DispositionBook } from '../../../gateway/delivery/dispositions.ts';
import { loadConfig } from '../../../gateway/config/load.ts';
import { createDb, type Db } from '../../../gateway/store/db.ts';

describe('dispositions: per-list false-hit statistics', () => {
  let dir: string;
  let db: Db;
  let t = 1_800_000_000_000;
  const now = (): number => t;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dispo-'));
    db = createDb(join(dir, 'db'));
    await db.open();
  });
  afterEach(async () => {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('counts each hit by its latest disposition, ignores repeats and unknown hits, and survives a restart', async () => {
    let book = await DispositionBook.open(db, now);
    for (const [id, list] of [['h1', 'ncic'], ['h2', 'ncic'], ['h3', 'local']] as const) await db.batch(book.hitQueuedOps(id, list), { sync: true });
    expect(await book.apply('h1', 'visually-verified')).toMatchObject({ listId: 'ncic', changed: true });
    expect(await book.apply('h1', 'confirmed')).toMatchObject({ changed: true, previous: 'visually-verified' });
    expect(await book.apply('h2', 'misread')).toMatchObject({ changed: true });
    expect(await book.apply('h2', 'misread')).toMatchObject({ changed: false });
    expect(await book.apply('nope', 'misread')).toBeUndefined();
    expect(book.report()).toEqual({
      ncic: { hits: 2, visuallyVerified: 0, misread: 1, confirmed: 1, falseHitRate: 0.5 },
      local: { hits: 1, visuallyVerified: 0, misread: 0, confirmed: 0, falseHitRate: null },
    });
    book = await DispositionBook.open(db, now);
    expect(book.report()['ncic']).toMatchObject({ misread: 1, confirmed: 1 });
    // Old hit records are pruned; the counts stay.
    t += 31 * 86_400_000;
    expect(await book.prune()).toBe(3);
    expect(await book.apply('h3', 'misread')).toBeUndefined();
    expect(book.report()['ncic']?.hits).toBe(2);
  });
});

describe('delivery config', () => {
  const base = { device: { id: 'pole-1', agency: 'pd', site: 'x' }, dataDir: '/d', cameras: [{ id: 'c', url: '/x.mp4' }], hotlist: { path: '/h.csv' }, mqtt: { url: 'mqtts://b:8883' } };

  it('has defaults, reads ALPR_DELIVERY_* and ALPR_MQTT_* variables, and names what is wrong', () => {
    const c = loadConfig({ ALPR_DELIVERY_LOCATION: '37.8, -122.27, 5', ALPR_DELIVERY_WINDOW: '8', ALPR_MQTT_CERT: '/id/c.pem' }, base);
    expect(c.delivery).toMatchObject({ dispatchIdentity: 'dispatch', window: 8, ackTimeoutMs: 10_000, escalateAfterMs: 900_000, location: { lat: 37.8, lon: -122.27, accuracyM: 5 } });
    expect(c.mqtt).toMatchObject({ certPath: '/id/c.pem', protocolVersion: 5, reconnectMaxMs: 60_000 });
    expect(() => loadConfig({ ALPR_DELIVERY_LOCATION: 'north' }, base)).toThrow(/ALPR_DELIVERY_LOCATION: expected "lat,lon"/);
    expect(() => loadConfig({ ALPR_DELIVERY_ACK_TIMEOUT_MS: '900000', ALPR_DELIVERY_MAX_BACKOFF_MS: '60000' }, base)).toThrow(/delivery.ackTimeoutMs: cannot exceed maxBackoffMs/);
    expect(() => loadConfig({}, { ...base, delivery: { windw: 3 } })).toThrow(/delivery/);
  });
});
