/**
 * Hit-delivery bench: `npm run bench -- delivery [--json] [--hits=1000] [--latency-hits=200] [--rate=20] [--receivers=2] [--producers=4]`.
 * On loopback through mosquitto with mutual TLS (a throw-away PKI, as the demo makes), the
 * device's delivery stack (outbox in LevelDB, sign, encrypt, MQTT 5 QoS 1) to the real dispatch
 * receiver (decrypt, verify chain and signature, dedupe, store, signed ack):
 *   latency     capture → hit decrypted and stored at dispatch, p50/p99, `latency-hits` hits
 *               offered at `rate`/s (a busy pole, not a flood)
 *   throughput  `hits` hits with a 100 KB overview and an 8 KB plate crop handed over by
 *               `producers` cameras at once (each waits for its hit to be on disk, as the
 *               pipeline does): hits/s until the last is at dispatch and the outbox is empty
 *   device      the same, to a minimal acker that only decrypts and signs acks (no checks, no
 *               storage): what the pole itself can push (deviceHitsPerSec)
 *   baseline    the same messages published unsigned and unencrypted (JSON, QoS 1) by a bare
 *               mqtt.js client to a bare subscriber on the same broker: cryptoOverheadRatio is
 *               baseline hits/s ÷ delivery hits/s
 * Dispatch runs in `receivers` processes of its own (default 2) sharing the hits through the
 * MQTT 5 shared subscription, as it scales out in production; the device and dispatch do not
 * share one process's time. Both use installFastBase64 (fast-base64.ts).
 * CPU per hit in the throughput phase (user + system, all threads; less sensitive than hits/s
 * to what else the machine runs): `dispatchCpuMsPerHit` all receivers together,
 * `deviceCpuMsPerHit` this process (the pole's delivery stack, plus the bench's bookkeeping),
 * `brokerCpuMsPerHit` mosquitto (TLS both ways, the hits and the receivers' copies to each other).
 * `BENCH_PROF=dir` writes a CPU profile of each dispatch child there (node --cpu-prof).
 * Goals (issue #7): p99 ≤ 300 ms, ≥ 200 hits/s.
 */
import { fork } from 'node:child_process';
import { X509Certificate, createPrivateKey, randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { chmodSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { pino } from 'pino';
import { startReceiver } from '../dispatch/receiver.ts';
import { configSchema } from '../gateway/config/schema.ts';
import { startDemoBroker } from '../gateway/demo-broker.ts';
import { createDemoPki } from '../gateway/demo-pki.ts';
import { buildHitDraft, stampHit, stampHitParts, type HitDraft } from '../gateway/delivery/hit-message.ts';
import { ACK_TYP, sealHitBytes, signJson } from '../gateway/delivery/envelope.ts';
import { loadDispatchRecipient } from '../gateway/delivery/identity.ts';
import { createDelivery, identityPaths } from '../gateway/delivery/index.ts';
import { installFastBase64 } from '../gateway/delivery/fast-base64.ts';
import { decryptJwe, parseJwe } from '../gateway/delivery/jose-compact.ts';
import { createUuidV7 } from '../gateway/ids.ts';
import { createDb } from '../gateway/store/db.ts';
import type { Detection } from '../gateway/types.ts';
import type { Bench } from './run.ts';

const AGENCY = 'bench-pd';
const DEVICE = 'pole-bench';

function arg(args: readonly string[], name: string, fallback: number): number {
  const hit = args.find((a) => a.startsWith(`--${name}=`));
  const v = hit ? Number(hit.slice(name.length + 3)) : fallback;
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name}: expected a positive number`);
  return v;
}

/**
 * CPU time (ms, user + system) of this process's mosquitto child so far, from /proc (Linux);
 * NaN where that cannot be read. The broker shares the machine's cores with the pole and
 * dispatch, so its share per hit is part of what bounds hits/s here.
 */
function brokerCpuMs(): number {
  try {
    const tick = 100; // USER_HZ: 100 on every Linux this runs on (sysconf is not reachable from Node)
    for (const name of readdirSync('/proc')) {
      if (!/^\d+$/.test(name)) continue;
      let stat: string;
      try {
        stat = readFileSync(`/proc/${name}/stat`, 'latin1');
      } catch {
        continue; // exited meanwhile
      }
      // pid (comm) state ppid … utime(14) stime(15): split after the comm, which may hold spaces.
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (comm !== 'mosquitto' || Number(f[1]) !== process.pid) continue;
      return ((Number(f[11]) + Number(f[12])) * 1000) / tick;
    }
  } catch {
    // no /proc: not Linux
  }
  return NaN;
}

function percentile(sorted: readonly number[], p: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

function draft(id: string, plate: string, overview: Buffer, crop: Buffer, at: number): HitDraft {
  const detection: Detection = {
    id, capturedAt: at, readAt: at, matchedAt: at, cameraId: 'north', deviceId: DEVICE, site: 'Bench St', plate,
    confidence: 0.9, candidates: [{ text: plate, score: 0.9 }], box: { x: 1, y: 1, width: 100, height: 30 },
    firstSeen: at, lastSeen: at, frames: 4, direction: 'toward',
    match: {
      entryId: `stolen-vehicle:${plate}`, listId: 'ncic', listVersion: 'v1', kind: 'exact', distance: 0, substitutions: [],
      entry: { id: `stolen-vehicle:${plate}`, plate, listType: 'stolen-vehicle', priority: 90 }, listAgeMs: 0, listGeneratedAt: at, listStale: false,
    },
    versions: { model: 'bench', firmware: '0.1.0', config: 'bench' },
    clock: 'system',
  };
  return buildHitDraft(AGENCY, detection, { plate: crop, overview });
}

export const run: Bench = async ({ print, args }) => {
  const hits = arg(args, 'hits', 1000);
  const latencyHits = arg(args, 'latency-hits', 200);
  const rate = arg(args, 'rate', 20);
  const receivers = arg(args, 'receivers', 2);
  const producers = arg(args, 'producers', 4);
  const dir = mkdtempSync(join(tmpdir(), 'alpr-bench-delivery-'));
  // mosquitto started as root drops to its own user, which must reach the PKI folder inside.
  chmodSync(dir, 0o755);
  const log = pino({ level: 'silent' });
  const dataDir = join(dir, 'device');
  const pki = await createDemoPki(join(dir, 'pki'), DEVICE, dataDir, AGENCY);
  const broker = await startDemoBroker(join(dir, 'pki'), pki);
  if (broker.kind !== 'mosquitto') throw new Error('the delivery bench needs mosquitto (/usr/sbin/mosquitto; make deps)');
  const tls = { ca: pki.caPem, cert: pki.dispatch.certPem, key: pki.dispatch.keyPem };
  const arrived = new Map<string, number>();
  // Receivers share the load through the MQTT 5 shared subscription, as dispatch scales out.
  const spawnDispatch = async (i: number, mode: '--dispatch-child' | '--light-acker'): Promise<ReturnType<typeof fork>> => {
    const child = fork(new URL(import.meta.url).pathname, [mode], {
      execArgv: ['--import', 'tsx', ...(process.env.BENCH_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROF}`] : [])],
      env: { ...process.env, BENCH_DISPATCH: JSON.stringify({ url: broker.url, tls, dataDir: join(dir, `dispatch-${i}`) }) },
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    await new Promise<void>((resolve, reject) => {
      child.on('message', (m: { ready?: boolean; hitId?: string; latencyMs?: number; cpuMs?: number }) => {
        if (m.ready) resolve();
        else if (m.cpuMs !== undefined) cpuReplies.get(child)?.(m.cpuMs);
        else if (m.hitId !== undefined && !arrived.has(m.hitId)) arrived.set(m.hitId, m.latencyMs as number);
      });
      child.once('exit', (code) => reject(new Error(`dispatch child exited (${code})`)));
    });
    return child;
  };
  const cpuReplies = new Map<ReturnType<typeof fork>, (ms: number) => void>();
  /** CPU time the dispatch children have used so far, all together (ms). */
  const dispatchCpuMs = async (): Promise<number> => {
    const each = await Promise.all(dispatchers.map((child) => new Promise<number>((resolve) => {
      cpuReplies.set(child, resolve);
      child.send({ cpu: true });
    })));
    return each.reduce((a, b) => a + b, 0);
  };
  const ownCpuMs = (): number => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  let dispatchers = await Promise.all(Array.from({ length: receivers }, (_, i) => spawnDispatch(i, '--dispatch-child')));
  const stopDispatchers = async (): Promise<void> => {
    for (const child of dispatchers) {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
    dispatchers = [];
  };
  const db = createDb(join(dataDir, 'db'));
  await db.open();
  const config = {
    dataDir,
    device: { id: DEVICE, agency: AGENCY, site: 'Bench St', firmwareVersion: '0.1.0' },
    mqtt: configSchema.shape.mqtt.parse({ url: broker.url }),
    delivery: configSchema.shape.delivery.parse({ window: 64 }),
  };
  const delivery = await createDelivery({
    config,
    db, outboxKey: randomBytes(32), audit: async () => undefined, newId: createUuidV7(), logEvent: () => undefined, log,
  });
  delivery.service.start();
  await delivery.link.waitConnected(AbortSignal.timeout(30_000));
  const newId = createUuidV7();
  /** `producers` cameras handing hits over at once, each waiting for its hit to be on disk. */
  const handOver = async (list: readonly HitDraft[]): Promise<void> => {
    let next = 0;
    await Promise.all(Array.from({ length: producers }, async () => {
      while (next < list.length) await delivery.service.queueHit(list[next++] as HitDraft);
    }));
  };
  const waitFor = async (ids: readonly string[], what: string): Promise<void> => {
    const deadline = Date.now() + 600_000;
    // A cursor over ids (they arrive nearly in order): not a scan of every id every 5 ms, which
    // the device's CPU figure would count.
    let seen = 0;
    const allIn = (): boolean => {
      while (seen < ids.length && arrived.has(ids[seen] as string)) seen++;
      return seen === ids.length;
    };
    while (!allIn() || delivery.outbox.depth > 0) {
      if (Date.now() > deadline) throw new Error(`${what}: ${ids.filter((id) => arrived.has(id)).length}/${ids.length} at dispatch after 10 min`);
      await new Promise((r) => setTimeout(r, 5));
    }
  };

  try {
    const overview = randomBytes(100 * 1024);
    const crop = randomBytes(8 * 1024);
    // Latency: a busy pole's pace; capture time is when the hit is handed to delivery.
    print(`latency: ${latencyHits} hits at ${rate}/s …`);
    const latIds: string[] = [];
    for (let i = 0; i < latencyHits; i++) {
      const at = Date.now();
      const d = draft(newId(at), `L${String(i).padStart(6, '0')}`, overview, crop, at);
      latIds.push(d.hitId);
      await delivery.service.queueHit(d);
      await new Promise((r) => setTimeout(r, Math.max(0, 1000 / rate - (Date.now() - at))));
    }
    await waitFor(latIds, 'latency phase');
    const lat = latIds.map((id) => arrived.get(id) as number).sort((a, b) => a - b);

    // Throughput: everything queued at once (an outage's backlog, or a flood of hits).
    print(`throughput: ${hits} hits, 100 KB overview + 8 KB crop each …`);
    const drafts = Array.from({ length: hits }, (_, i) => draft(newId(Date.now()), `T${String(i).padStart(6, '0')}`, overview, crop, Date.now()));
    const [c0, own0, broker0] = [await dispatchCpuMs(), ownCpuMs(), brokerCpuMs()];
    const t0 = performance.now();
    await handOver(drafts);
    await waitFor(drafts.map((d) => d.hitId), 'throughput phase');
    const hitsPerSec = hits / ((performance.now() - t0) / 1000);
    const deviceCpuMsPerHit = (ownCpuMs() - own0) / hits;
    const dispatchCpuMsPerHit = ((await dispatchCpuMs()) - c0) / hits;
    const brokerCpuMsPerHit = (brokerCpuMs() - broker0) / hits;

    // The device's side alone: dispatch replaced by an acker that only decrypts and signs the
    // ack (no chain or CRL check, no storage), so the figure is what the pole can push.
    print(`device side: ${hits} hits to a minimal acker …`);
    await stopDispatchers();
    dispatchers = [await spawnDispatch(99, '--light-acker')];
    const deviceDrafts = Array.from({ length: hits }, (_, i) => draft(newId(Date.now()), `D${String(i).padStart(6, '0')}`, overview, crop, Date.now()));
    const d0 = performance.now();
    await handOver(deviceDrafts);
    await waitFor(deviceDrafts.map((d) => d.hitId), 'device-side phase');
    const deviceHitsPerSec = hits / ((performance.now() - d0) / 1000);
    await stopDispatchers();

    // Baseline: the same messages, plain JSON, bare publish → bare subscriber, QoS 1.
    print('baseline: unsigned, unencrypted publish of the same messages …');
    const pub = await mqtt.connectAsync(broker.url, { protocolVersion: 5, ...tls, clientId: 'bench-plain-pub' });
    const sub = await mqtt.connectAsync(broker.url, { protocolVersion: 5, ...tls, clientId: 'bench-plain-sub' });
    let got = 0;
    const allIn = new Promise<void>((resolve) => sub.on('message', (_t, payload) => {
      JSON.parse(payload.toString('utf8'));
      if (++got === hits) resolve();
    }));
    await sub.subscribeAsync('bench/plain', { qos: 1 });
    const b0 = performance.now();
    let inflight: Promise<unknown>[] = [];
    for (const d of drafts) {
      inflight.push(pub.publishAsync('bench/plain', JSON.stringify(stampHit(d, Date.now(), 1)), { qos: 1 }));
      if (inflight.length >= 64) {
        await Promise.all(inflight);
        inflight = [];
      }
    }
    await Promise.all(inflight);
    await allIn;
    const plainHitsPerSec = hits / ((performance.now() - b0) / 1000);
    await pub.endAsync();
    await sub.endAsync();

    // The device's own share: stamping, signing and encrypting one 110 KB hit, on this core.
    const sealN = 200;
    const recipient = await loadDispatchRecipient(identityPaths(config).dispatchCertFile);
    // As the pole sends: the draft's JSON as the outbox keeps it, stamped on its UTF-8 bytes, sealed to bytes.
    const draftJson = drafts.slice(0, 16).map((d) => JSON.stringify(d));
    const s0 = performance.now();
    for (let i = 0; i < sealN; i++) sealHitBytes(stampHitParts(Buffer.from(draftJson[i % draftJson.length] as string, 'utf8'), Date.now(), 1), delivery.identity(), recipient);
    const sealPerSec = sealN / ((performance.now() - s0) / 1000);

    const result = {
      latencyP50Ms: percentile(lat, 50),
      latencyP99Ms: percentile(lat, 99),
      latencyMaxMs: lat.at(-1) ?? NaN,
      hitsPerSec: Math.round(hitsPerSec * 10) / 10,
      plainHitsPerSec: Math.round(plainHitsPerSec * 10) / 10,
      cryptoOverheadRatio: Math.round((plainHitsPerSec / hitsPerSec) * 100) / 100,
      sealPerSec: Math.round(sealPerSec),
      deviceHitsPerSec: Math.round(deviceHitsPerSec * 10) / 10,
      dispatchCpuMsPerHit: Math.round(dispatchCpuMsPerHit * 100) / 100,
      deviceCpuMsPerHit: Math.round(deviceCpuMsPerHit * 100) / 100,
      brokerCpuMsPerHit: Math.round(brokerCpuMsPerHit * 100) / 100,
      hits,
      latencyHits,
      rate,
      receivers,
      producers,
      imageBytes: overview.length + crop.length,
      resent: delivery.service.sender.stats.resent,
      reconnects: delivery.link.counters.connects - 1,
      goalP99: percentile(lat, 99) <= 300,
      goalThroughput: hitsPerSec >= 200,
    };
    print(`latency p50 ${result.latencyP50Ms} ms, p99 ${result.latencyP99Ms} ms (goal ≤ 300); ${result.hitsPerSec} hits/s (goal ≥ 200); plain publish ${result.plainHitsPerSec}/s; ratio ${result.cryptoOverheadRatio}; sign+encrypt alone ${result.sealPerSec}/s; device side to a minimal acker ${result.deviceHitsPerSec}/s; CPU per hit: dispatch ${result.dispatchCpuMsPerHit} ms, device ${result.deviceCpuMsPerHit} ms, broker ${result.brokerCpuMsPerHit} ms`);
    return result;
  } finally {
    await delivery.service.stop();
    await db.close();
    await stopDispatchers();
    await broker.stop();
    rmSync(dir, { recursive: true, force: true });
  }
};

/** The dispatch side, in its own process: the real receiver; reports each new hit's latency. */
async function dispatchChild(): Promise<void> {
  installFastBase64();
  const o = JSON.parse(process.env.BENCH_DISPATCH ?? '{}') as { url: string; tls: { ca: string; cert: string; key: string }; dataDir: string };
  const receiver = await startReceiver({
    url: o.url, tls: o.tls, agency: AGENCY, trustAnchorsPem: o.tls.ca, decryptionKeyPem: o.tls.key, decryptionCertPem: o.tls.cert,
    signingKeyPem: o.tls.key, signingChainPem: o.tls.cert, dataDir: o.dataDir, log: pino({ level: 'silent' }), keep: 100,
  });
  receiver.on('hit', (h) => process.send?.({ hitId: h.hitId, latencyMs: Date.now() - h.hit.capturedAt }));
  process.on('message', (m: { cpu?: boolean }) => {
    if (!m.cpu) return;
    const u = process.cpuUsage();
    process.send?.({ cpuMs: (u.user + u.system) / 1000 });
  });
  process.once('SIGTERM', () => {
    receiver.stop().then(() => process.exit(0), () => process.exit(1));
  });
  process.send?.({ ready: true });
}

/** A stand-in for dispatch that only opens the JWE and acks, signed: the device side's ceiling. */
async function lightAcker(): Promise<void> {
  installFastBase64();
  const o = JSON.parse(process.env.BENCH_DISPATCH ?? '{}') as { url: string; tls: { ca: string; cert: string; key: string } };
  const key = createPrivateKey(o.tls.key);
  const signer = { key, x5c: [new X509Certificate(o.tls.cert).raw.toString('base64')] };
  const client = await mqtt.connectAsync(o.url, { protocolVersion: 5, ...o.tls, clientId: `bench-acker-${process.pid}` });
  let stopping = false;
  client.on('message', (topic, payload) => {
    void (async () => {
      // Opened as dispatch opens it (node:crypto): with jose's slower path the acker, not the pole, set the pace.
      const plaintext = decryptJwe(parseJwe(payload), key);
      const body = plaintext.toString('latin1').split('.')[1] ?? '';
      const hit = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as { hitId: string; device: string; capturedAt: number };
      const ack = await signJson(ACK_TYP, { hitId: hit.hitId, device: hit.device, receivedAt: Date.now() }, signer);
      await client.publishAsync(topic.replace(/\/hits$/, '/acks'), ack, { qos: 1 });
      process.send?.({ hitId: hit.hitId, latencyMs: Date.now() - hit.capturedAt });
    })().catch((err: unknown) => {
      // A hit still arriving as the bench stops this acker: its ack cannot go out (the device's phase is over).
      if (!stopping) process.stderr.write(`bench acker: ${(err as Error).message}\n`);
    });
  });
  await client.subscribeAsync(`alpr/v1/${AGENCY}/+/hits`, { qos: 1 });
  process.once('SIGTERM', () => {
    stopping = true;
    client.endAsync().then(() => process.exit(0), () => process.exit(1));
  });
  process.send?.({ ready: true });
}

if (process.argv[2] === '--light-acker' && import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  lightAcker().catch((err: unknown) => {
    process.stderr.write(`bench acker child: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
}

if (process.argv[2] === '--dispatch-child' && import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  dispatchChild().catch((err: unknown) => {
    process.stderr.write(`bench dispatch child: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
}
