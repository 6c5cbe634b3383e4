/**
 * `make demo`: the whole chain on one machine with embedded defaults — a generated sample clip
 * played as a camera, a throw-away agency PKI made at start by provisioning's reference CA (demo-pki.ts), mosquitto with mutual
 * TLS standing in for the dispatch center's broker (aedes, MQTT 3.1.1 without TLS, where
 * mosquitto is not installed), the dispatch receiver and console, a small hot list. Hits travel
 * as in production: signed by the pole, encrypted to dispatch, acked back.
 * Ctrl-C stops everything; no process is left behind.
 *
 * Environment: DEMO_HTTP_PORT (console port, default 8080; 0 = any free port),
 * DEMO_DURATION_S (stop by itself after this long), and any ALPR_* variable to override a default.
 */
import { mkdir, writeFile, rename } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pino } from 'pino';
import { ensureSampleClip, type SampleClipManifest } from '../drivers/camera/sample-clip.ts';
import { formatHit, startDispatch } from '../dispatch/main.ts';
import { mulberry32 } from '../drivers/camera/prng.ts';
import { ConfigError, loadConfig } from './config/load.ts';
import { startDemoBroker } from './demo-broker.ts';
import { createDemoPki } from './demo-pki.ts';
import { startGateway } from './main.ts';

const DEMO_DIR = resolve('var/demo');

/** Every other vehicle of the clip is on the list, among made-up plates that never pass. */
export function sampleHotlistCsv(manifest: SampleClipManifest, seed = 11): string {
  const types = ['stolen-vehicle', 'amber', 'wanted'];
  const rows = ['plate,state,list_type,priority,covert'];
  manifest.vehicles.forEach((v, i) => {
    if (i % 2 === 0) rows.push(`${v.plateNormalized},,${types[(i / 2) % types.length]},${90 - i},false`);
  });
  const rng = mulberry32(seed);
  const letters = 'ABCDEFGHJKLMNPRSTUVWXYZ';
  for (let i = 0; i < 25; i++) {
    const pick = (s: string): string => s[Math.floor(rng.next() * s.length)] ?? 'A';
    rows.push(`${pick('123456789')}${pick(letters)}${pick(letters)}${pick(letters)}${pick('0123456789')}${pick('0123456789')}${pick('0123456789')},ca,stolen-vehicle,50,false`);
  }
  return rows.join('\n') + '\n';
}

async function main(): Promise<void> {
  const startedAt = Date.now();
  const out = (line: string): boolean => process.stdout.write(`${line}\n`);
  await mkdir(DEMO_DIR, { recursive: true });
  out('alpr-gateway demo: generating the sample clip (first run only)…');
  const clip = await ensureSampleClip(join(DEMO_DIR, 'clips'), { seed: 7, vehicleCount: 6 });
  const hotlistPath = join(DEMO_DIR, 'hotlist.csv');
  await writeFile(`${hotlistPath}.tmp`, sampleHotlistCsv(clip));
  await rename(`${hotlistPath}.tmp`, hotlistPath);
  const listed = clip.vehicles.filter((_, i) => i % 2 === 0).map((v) => v.plateNormalized);
  out(`  clip: ${clip.path} (${clip.durationSec.toFixed(0)} s, ${clip.vehicles.length} vehicles, looped)`);
  out(`  plates in the clip: ${clip.vehicles.map((v) => v.plateNormalized).join(' ')}`);
  out(`  on the hot list:    ${listed.join(' ')} (+25 that never pass)`);

  const log = pino({ level: process.env.ALPR_LOG_LEVEL ?? 'warn', base: { service: 'demo' } }, pino.destination(2));
  const dataDir = join(DEMO_DIR, 'data');
  const deviceId = 'pole-demo';
  const agency = 'demo-pd';
  const pki = await createDemoPki(join(DEMO_DIR, 'pki'), deviceId, dataDir, agency);
  const broker = await startDemoBroker(join(DEMO_DIR, 'pki'), pki);
  const mqttUrl = broker.url;
  out(`  broker: ${broker.kind === 'mosquitto' ? `mosquitto, MQTT 5 over mutual TLS, at ${mqttUrl}` : `embedded aedes (mosquitto not installed: MQTT 3.1.1, no TLS) at ${mqttUrl}`}`);
  out('  hits: signed by the pole (ES256, x5c), encrypted to dispatch (ECDH-ES+A256KW/A256GCM), acked back signed');

  let config;
  try {
    config = loadConfig(process.env, {
      device: { id: deviceId, agency, site: 'Demo Ave & 1st St' },
      dataDir,
      cameras: [{ id: 'approach-north', url: clip.path, fps: 4, realtime: true, loop: true }],
      hotlist: { path: hotlistPath },
      // aedes speaks MQTT 3.1.1 only.
      mqtt: { url: mqttUrl, protocolVersion: broker.protocolVersion, reconnectInitialMs: 500, reconnectMaxMs: 5_000 },
      delivery: { location: { lat: 37.8044, lon: -122.2712 } },
      // The pole's own console (technicians, investigators, auditors) on a port of its own.
      api: { enabled: true, host: '127.0.0.1', port: Number(process.env.DEMO_API_PORT ?? '0') },
      // The pole's hardware as simulated twins: status LED, vehicle trigger, a GPS at the site.
      hardware: {
        gpio: { backend: 'simulated' },
        statusLed: { line: { chip: 'demo', offset: 22 } },
        trigger: { line: { chip: 'demo', offset: 27 } },
        gps: { serial: { path: '/dev/demo-gps', backend: 'simulated' } },
      },
      log: { level: 'warn' },
    });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`demo: ${err.message}\n`);
      await broker.stop();
      process.exit(78);
    }
    throw err;
  }

  const port = Number(process.env.DEMO_HTTP_PORT ?? '8080');
  const dispatchOptions = {
    mqttUrl,
    protocolVersion: broker.protocolVersion,
    ...(broker.kind === 'mosquitto' ? { tls: { ca: pki.caPem, cert: pki.dispatch.certPem, key: pki.dispatch.keyPem } } : {}),
    agency,
    trustAnchorsPem: pki.caPem,
    // Every hit's device is checked against the agency CA's revocation list.
    crl: () => pki.crlPem,
    decryptionKeyPem: pki.dispatch.keyPem,
    decryptionCertPem: pki.dispatch.certPem,
    signingKeyPem: pki.dispatch.keyPem,
    signingChainPem: pki.dispatch.certPem,
    dataDir: join(DEMO_DIR, 'dispatch'),
    log,
    onHit: (h: Parameters<typeof formatHit>[0]) => void out(formatHit(h)),
  };
  const dispatch = await startDispatch({ ...dispatchOptions, httpPort: port }).catch(async (err: unknown) => {
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      out(`  port ${port} is busy; using a free port (set DEMO_HTTP_PORT to choose)`);
      return startDispatch({ ...dispatchOptions, httpPort: 0 });
    }
    throw err;
  });
  out(`\nDispatch console: ${dispatch.console.url}`);
  out('Loading the recogniser and starting the camera… hits appear below within seconds. Ctrl-C stops.\n');
  const gateway = await startGateway(config, log);
  if (gateway.console) out(`Pole console: ${gateway.console.url}  (self-signed certificate; the first visit creates the administrator)\n`);

  let stopping = false;
  const stop = async (why: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    out(`\n${why}: stopping…`);
    await gateway.stop();
    await dispatch.stop();
    await broker.stop();
    const s = gateway.pipeline.stats;
    out(`stopped cleanly: ${s.framesAnalysed} frames analysed, ${s.detections} detections stored, ${s.hits} hits sent, ${dispatch.receiver.list().filter((h) => h.receivedAt >= startedAt).length} hits at dispatch.`);
  };
  const onSignal = (sig: string): void => {
    stop(sig).then(() => process.exit(0), (err: unknown) => {
      process.stderr.write(`demo: unclean stop: ${(err as Error).message}\n`);
      process.exit(1);
    });
  };
  process.once('SIGINT', () => onSignal('SIGINT'));
  process.once('SIGTERM', () => onSignal('SIGTERM'));
  const duration = Number(process.env.DEMO_DURATION_S ?? '0');
  if (duration > 0) setTimeout(() => onSignal(`${duration} s elapsed`), duration * 1000).unref();
}

main().catch((err: unknown) => {
  process.stderr.write(`demo failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
