/**
 * Evidence-store bench: `npm run bench -- store [--json] [--scale=0.1] [--rate=500] [--ingest-seconds=10] [--trace]`
 * (`--trace`: p99 and max of the puts per second of the purge phase, and which part of it ran).
 *   ingest   detections with 30 KB of images (27 KB overview, 3 KB plate crop) offered at `rate`
 *            per second while the purge of a full day runs: ingestPerSec, putP99Ms (and without)
 *   purge    one day of `100000 × scale` detections, settled first as a 31-day-old day would be
 *            (fully compacted): shred the keys, drop the day's database, sign the receipts
 *            (purgeMs); the files then freed in the background (freeMs, from the purge's start);
 *            the puts beside it are measured until both are done
 *   search   partial-plate patterns over 30 days × `50000 × scale` reads per day (searchMs:
 *            median of the first pattern; searchWorstMs over all of them)
 * Baselines measured in the same run: the plain store this one replaced (one synced LevelDB batch
 * per detection, values in the clear, no index) for ingest, and a full scan of that plain store's
 * JSON records for search. The search dataset is bulk-loaded into the sealed index through the
 * store's own IndexBook (writing 1.5 M full records would take the bench half an hour); the
 * search path measured is the store's, minus the single audit append each search also makes.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Level } from 'level';
import { mulberry32 } from '../drivers/camera/prng.ts';
import { createUuidV7 } from '../gateway/ids.ts';
import { FixedClock } from '../gateway/store/clock.ts';
import { systemRandom } from '../gateway/store/crypto.ts';
import { createDb } from '../gateway/store/db.ts';
import { DataDb } from '../gateway/store/days.ts';
import { IndexBook } from '../gateway/store/index-book.ts';
import { Keyring } from '../gateway/store/keyring.ts';
import { dayOf } from '../gateway/store/layout.ts';
import { openDetectionStore } from '../gateway/store/open.ts';
import type { IndexEntry } from '../gateway/store/plate-index.ts';
import { checkQuery, search } from '../gateway/store/search.ts';
import type { Detection, DetectionImages } from '../gateway/types.ts';
import type { Bench } from './run.ts';

const DAY_MS = 86_400_000;
const D0 = Date.parse('2026-10-01T00:00:00Z');
const CHARS = 'ABCDEFGHJKLMNPRSTUVWXYZ0123456789';
const PATTERNS = ['*AB1*', '7?C*', '??X12??', '*K*9*', 'Z8*'];

const quantile = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
};
const round = (n: number, d = 1): number => Math.round(n * 10 ** d) / 10 ** d;

function plateGen(seed: number): () => string {
  const rng = mulberry32(seed);
  return () => Array.from({ length: rng.int(6, 7) }, () => CHARS[rng.int(0, CHARS.length - 1)]).join('');
}

function detectionAt(id: string, at: number, plate: string, camera: string): Detection {
  return {
    id, capturedAt: at, readAt: at + 80, cameraId: camera, deviceId: 'bench-pole', site: 'Bench Ave & 1st', plate, state: 'CA',
    confidence: 0.91, candidates: [{ text: plate, score: 0.91 }, { text: `${plate.slice(0, -1)}8`, score: 0.05 }],
    box: { x: 812, y: 544, width: 182, height: 61 }, firstSeen: at - 900, lastSeen: at + 700, frames: 7, direction: 'toward',
    versions: { model: 'ppocr-v4-plates', firmware: '0.1.0', config: 'abcdef123456' }, clock: 'trusted',
  };
}

const IMAGES: DetectionImages = { plate: randomBytes(3_000), overview: randomBytes(27_000) };

/** `writers` concurrent loops calling `put` as fast as they can until `until()` (the fill). */
async function flood(put: (d: Detection) => Promise<unknown>, writers: number, until: () => boolean, at: () => number): Promise<{ perSec: number; n: number }> {
  const newId = createUuidV7();
  const plate = plateGen(99);
  let n = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: writers }, async (_, w) => {
    while (!until()) {
      const t = at();
      await put(detectionAt(newId(t), t, plate(), `cam${w % 4}`));
      n++;
    }
  }));
  return { perSec: n / ((performance.now() - t0) / 1000), n };
}

/**
 * Offered load: puts start on a fixed schedule (`rate` per second, spread over four cameras),
 * whether or not earlier ones have finished, until `until()` — as cameras would. Each latency is
 * measured from the put's scheduled start, so a stall counts against every put it delays.
 */
async function paced(put: (d: Detection) => Promise<unknown>, rate: number, until: () => boolean, at: () => number): Promise<{ perSec: number; p99: number; max: number; n: number; t0: number; samples: [number, number][] }> {
  const newId = createUuidV7();
  const plate = plateGen(99);
  const lat: number[] = [];
  const samples: [number, number][] = [];
  const pending: Promise<void>[] = [];
  const t0 = performance.now();
  let i = 0;
  while (!until()) {
    const due = t0 + (i * 1000) / rate;
    const now = performance.now();
    if (due > now) {
      await new Promise((r) => setTimeout(r, Math.max(1, due - now)));
      continue;
    }
    const t = at();
    const d = detectionAt(newId(t), t, plate(), `cam${i % 4}`);
    pending.push(put(d).then(() => {
      lat.push(performance.now() - due);
      samples.push([due, performance.now() - due]);
    }));
    i++;
  }
  await Promise.all(pending);
  const secs = (performance.now() - t0) / 1000;
  return { perSec: lat.length / secs, p99: quantile(lat, 0.99), max: Math.max(...lat), n: lat.length, t0, samples };
}

/** The store this one replaced: JSON and JPEG in the clear, one synced batch per detection. */
function plainStore(dir: string): { put: (d: Detection) => Promise<void>; db: Level<string, Uint8Array> } {
  const db = new Level<string, Uint8Array>(dir, { valueEncoding: 'view' });
  const enc = new TextEncoder();
  return {
    db,
    put: async (d) => {
      const key = `${dayOf(d.capturedAt)}!${d.id}`;
      await db.batch([
        { type: 'put', key: `!det!${key}`, value: enc.encode(JSON.stringify(d)) },
        { type: 'put', key: `!img!${key}!plate`, value: IMAGES.plate },
        { type: 'put', key: `!img!${key}!overview`, value: IMAGES.overview as Uint8Array },
      ], { sync: true } as never);
    },
  };
}

export const run: Bench = async ({ print, args }) => {
  const arg = (name: string, d: number): number => Number(args.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? d);
  const scale = arg('scale', 1);
  const rate = arg('rate', 500);
  const minIngestMs = arg('ingest-seconds', 10) * 1000;
  const purgeRecords = Math.round(100_000 * scale);
  const days = 30;
  const perDay = Math.round(50_000 * scale);
  const root = mkdtempSync(join(tmpdir(), 'alpr-bench-store-'));
  try {
    // 1. Baseline ingest: the plain store, same writers, same records.
    print(`baseline: plain store, ${rate} detections/s offered for ${minIngestMs / 1000} s…`);
    const plain = plainStore(join(root, 'plain'));
    await plain.db.open();
    const tEnd = performance.now() + minIngestMs;
    const base = await paced(plain.put, rate, () => performance.now() > tEnd, () => Date.now());
    await plain.db.close();
    print(`  ${round(base.perSec)} /s, p99 ${round(base.p99, 2)} ms`);

    // 2. Fill the day to be purged (its capture and storage day is D0).
    const clock = new FixedClock(D0 + 3_600_000);
    const openStore = () => openDetectionStore({ dataDir: join(root, 'store'), deviceId: 'bench-pole', events: { emit: () => undefined }, clock, diskProbe: async () => ({ freeBytes: 1, totalBytes: 1 }) });
    let store = await openStore();
    print(`filling one day with ${purgeRecords} detections (27 KB overview + 3 KB plate crop)…`);
    let filled = 0;
    const tf = performance.now();
    const fill = await flood((d) => store.put(d, IMAGES), 64, () => filled++ >= purgeRecords, () => D0 + 3_600_000 + filled);
    print(`  ${fill.n} in ${round((performance.now() - tf) / 1000)} s (${round(fill.perSec)} /s flat out, 64 writers)`);

    // A day 31 days old has long been compacted to the bottom of the tree; bring the fresh day there
    // too, so the purge (and the ingest beside it) meets the layout it would on a device.
    const tc = performance.now();
    await store.close();
    for (const location of [join(root, 'store', 'db'), ...readdirSync(join(root, 'store', 'days')).map((d) => join(root, 'store', 'days', d))]) {
      const raw = createDb(location);
      await raw.open();
      await raw.compactRange('', '\xff');
      await raw.close();
    }
    store = await openStore();
    print(`  settled (full compaction) in ${round((performance.now() - tc) / 1000)} s`);

    // 3. Ingest without a purge, then while the day is purged.
    clock.t = D0 + 31 * DAY_MS + 3_600_000;
    const quietEnd = performance.now() + minIngestMs;
    const quiet = await paced((d) => store.put(d, IMAGES), rate, () => performance.now() > quietEnd, () => clock.t++);
    print(`store ingest, no purge: ${round(quiet.perSec)} /s, p99 ${round(quiet.p99, 2)} ms`);
    print('purging the full day while ingesting…');
    let purgeMs = 0;
    let freeMs = 0;
    let purged = 0;
    const tp = performance.now();
    // The puts are measured until the purged files are freed too (in the background: reaper.ts).
    const purge = store.purge().then(async (receipts) => {
      purgeMs = performance.now() - tp;
      purged = receipts.find((r) => r.class === 'read')?.counts.det ?? 0;
      await store.settled();
      freeMs = performance.now() - tp;
    });
    let purging = true;
    void purge.finally(() => (purging = false));
    const busyEnd = performance.now() + minIngestMs;
    const busy = await paced((d) => store.put(d, IMAGES), rate, () => !purging && performance.now() > busyEnd, () => clock.t++);
    await purge;
    if (args.includes('--trace')) {
      // Per second of the busy phase: p99 and max of the puts scheduled in it, and what ran.
      for (let sec = 0; sec * 1000 < busy.samples.length * (1000 / rate) + 1000; sec++) {
        const from = busy.t0 + sec * 1000;
        const lat = busy.samples.filter(([due]) => due >= from && due < from + 1000).map(([, l]) => l);
        if (!lat.length) continue;
        const phase = from - tp < purgeMs ? 'purge' : from - tp < freeMs ? 'freeing' : 'after';
        print(`  t=${String(sec).padStart(3)} s ${phase.padEnd(7)} p99 ${round(quantile(lat, 0.99), 1)} ms, max ${round(Math.max(...lat), 1)} ms`);
      }
    }
    print(`  purge ${round(purgeMs)} ms (${purged} records), files freed after ${round(freeMs)} ms; ingest meanwhile ${round(busy.perSec)} /s, p99 ${round(busy.p99, 2)} ms, max ${round(busy.max)} ms`);
    await store.close();

    // 4. Search over 30 days of reads in the sealed index.
    print(`search: loading ${days} days × ${perDay} reads into the sealed index…`);
    // The store's own layout: one database per day (days.ts), routed as the store routes them.
    const db = new DataDb(createDb(join(root, 'index', 'db')), join(root, 'index'), () => D0, () => undefined);
    await db.main.open();
    const keyring = new Keyring(join(root, 'index-keys.json'), randomBytes(32), systemRandom, () => D0);
    const index = new IndexBook(db, keyring, systemRandom, 1024, (e) => print(`index error ${String(e)}`));
    const newId = createUuidV7();
    const plate = plateGen(7);
    const plainDb = new Level<string, string>(join(root, 'plain-search'), { valueEncoding: 'utf8' });
    for (let d = 0; d < days; d++) {
      const entries: IndexEntry[] = [];
      const batch: { type: 'put'; key: string; value: string }[] = [];
      for (let i = 0; i < perDay; i++) {
        const at = D0 + d * DAY_MS + Math.floor((i * DAY_MS) / perDay);
        const e = { id: newId(at), plate: plate(), camera: `cam${i % 4}` };
        entries.push(e);
        batch.push({ type: 'put', key: `!det!${dayOf(at)}!${e.id}`, value: JSON.stringify(detectionAt(e.id, at, e.plate, e.camera)) });
      }
      await index.bulkLoad('read', dayOf(D0 + d * DAY_MS), entries);
      for (let i = 0; i < batch.length; i += 5_000) await plainDb.batch(batch.slice(i, i + 5_000));
    }
    const q = (pattern: string) => checkQuery({ plate: pattern, from: D0, to: D0 + days * DAY_MS - 1, limit: 10_000 });
    const times: Record<string, number[]> = {};
    const found: Record<string, number> = {};
    for (let rep = 0; rep < 5; rep++) {
      for (const p of PATTERNS) {
        const t = performance.now();
        const r = await search(index, q(p));
        (times[p] ??= []).push(performance.now() - t);
        found[p] = r.hits.length;
      }
    }
    const searchMs = quantile(times[PATTERNS[0] as string] ?? [], 0.5);
    const searchWorstMs = Math.max(...Object.values(times).flat());
    for (const p of PATTERNS) print(`  ${p.padEnd(8)} ${found[p]} hits, median ${round(quantile(times[p] ?? [], 0.5))} ms`);
    await db.close();
    // Baseline: the plain store has no index; a partial-plate search reads every record.
    const re = new RegExp(`^${(PATTERNS[0] as string).replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
    const tb = performance.now();
    let baseHits = 0;
    for await (const v of plainDb.values()) if (re.test((JSON.parse(v) as Detection).plate)) baseHits++;
    const baselineSearchMs = performance.now() - tb;
    await plainDb.close();
    print(`  baseline full scan of the plain store: ${round(baselineSearchMs)} ms (${baseHits} hits)`);

    return {
      ingestPerSec: round(busy.perSec), putP99Ms: round(busy.p99, 2), purgeMs: round(purgeMs), searchMs: round(searchMs),
      searchWorstMs: round(searchWorstMs), purgeRecords: purged, searchDays: days, searchReadsPerDay: perDay, searchHits: found[PATTERNS[0] as string] ?? 0,
      freeMs: round(freeMs), putMaxMs: round(busy.max, 1), offeredPerSec: rate, fillPerSec: round(fill.perSec),
      ingestNoPurgePerSec: round(quiet.perSec), putNoPurgeP99Ms: round(quiet.p99, 2),
      baselineIngestPerSec: round(base.perSec), baselinePutP99Ms: round(base.p99, 2), baselineSearchMs: round(baselineSearchMs),
      ingestVsBaseline: round(busy.perSec / base.perSec, 2), putP99VsBaseline: round(busy.p99 / base.p99, 2),
      searchSpeedupVsBaseline: round(baselineSearchMs / searchMs, 1), scale,
    };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
};
