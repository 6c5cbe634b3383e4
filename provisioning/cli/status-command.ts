/**
 * `alpr status`: one screen for the field technician. Cameras, hot list, outbox and GPS come from
 * the retained status the running gateway publishes (so they are as fresh as its last publish);
 * the certificate, disk and clock are read here, on the device.
 */
import { parseArgs } from 'node:util';
import type { CliIo } from '../../models/eval/cli-io.ts';
import { topics } from '../../gateway/delivery/topics.ts';
import { certificateStatus, type CertificateStatus } from '../expiry.ts';
import { withFieldContext } from '../field/context.ts';
import { probeClock, probeDisk, readRetainedStatus, serverClockOffset, systemClockSynced, type ProbeResult } from '../field/probes.ts';

export const STATUS_USAGE = `usage: alpr status [--timeout-ms 5000] [--json]

One screen: cameras and fps, certificate expiry, hot-list age, outbox depth, disk, clock and GPS.
Reads the device's configuration from its environment and the gateway's retained status from the broker.`;

export interface StatusReport {
  readonly device: { id: string; agency: string; site: string };
  readonly gateway: Record<string, unknown> | undefined;
  readonly certificate: CertificateStatus | { state: 'error'; detail: string };
  readonly disk: ProbeResult;
  readonly clock: ProbeResult;
}

const obj = (v: unknown): Record<string, unknown> | undefined => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined);
const age = (ms: number): string => (ms < 90_000 ? `${Math.round(ms / 1000)} s` : ms < 5_400_000 ? `${Math.round(ms / 60_000)} min` : ms < 172_800_000 ? `${(ms / 3_600_000).toFixed(1)} h` : `${(ms / 86_400_000).toFixed(1)} days`);

/** The screen, as text lines; pure so tests can check it from a report. */
export function renderStatus(r: StatusReport, now: number, configuredFps: ReadonlyMap<string, number>): string[] {
  const g = r.gateway;
  const lines = [`device   ${r.device.id} (${r.device.agency}, ${r.device.site})`];
  if (!g) lines.push('gateway  no retained status on the broker (gateway never connected, or broker unreachable)');
  else lines.push(`gateway  ${String(g['state'] ?? '?')}${typeof g['at'] === 'number' ? `, status published ${age(now - g['at'])} ago` : ''}`);
  const cams = Array.isArray(g?.['cameras']) ? (g['cameras'] as unknown[]).map(obj).filter((c) => c !== undefined) : [];
  if (cams.length === 0) lines.push('cameras  n/a');
  for (const c of cams) {
    const id = String(c['cameraId'] ?? c['id'] ?? '?');
    const fps = typeof c['fps'] === 'number' ? `${c['fps'].toFixed(1)} fps` : configuredFps.has(id) ? `${configuredFps.get(id)} fps configured` : 'fps n/a';
    lines.push(`camera   ${id}: ${String(c['state'] ?? '?')}, ${fps}, ${String(c['framesIn'] ?? '?')} frames in, ${String(c['framesDropped'] ?? 0)} dropped, ${String(c['restarts'] ?? 0)} restarts${c['lastError'] ? `, last error: ${String(c['lastError'])}` : ''}`);
  }
  const cert = r.certificate;
  if (cert.state === 'error') lines.push(`cert     unreadable: ${cert.detail}`);
  else if (cert.state === 'unprovisioned' || cert.state === 'expired') lines.push(`cert     ${cert.state.toUpperCase()}${cert.serial ? ` ${cert.serial}` : ''}: ${cert.action ?? ''}`);
  else lines.push(`cert     ${cert.serial}, expires ${new Date(cert.notAfter ?? 0).toISOString().slice(0, 10)} (${cert.daysLeft} days)${cert.alarm !== 'none' ? `  ALARM ${cert.alarm}` : ''}, renewal due ${new Date(cert.renewAt ?? 0).toISOString().slice(0, 10)}`);
  const hot = obj(g?.['hotlist']);
  lines.push(`hotlist  ${hot ? `${String(hot['version'] ?? '?')}, ${typeof hot['ageMs'] === 'number' ? `${age(hot['ageMs'])} old` : 'age n/a'}${hot['stale'] ? '  STALE' : ''}` : 'n/a'}`);
  const outbox = obj(g?.['outbox']);
  lines.push(`outbox   ${outbox ? `${String(outbox['depth'] ?? '?')} waiting${typeof outbox['oldestAgeMs'] === 'number' && outbox['oldestAgeMs'] > 0 ? `, oldest ${age(outbox['oldestAgeMs'])}` : ''}` : 'n/a'}`);
  lines.push(`disk     ${r.disk.ok ? '' : 'PROBLEM '}${r.disk.detail}`);
  lines.push(`clock    ${r.clock.ok ? '' : 'PROBLEM '}${r.clock.detail}`);
  const gps = obj(g?.['gps']) ?? obj(g?.['location']);
  lines.push(`gps      ${gps ? Object.entries(gps).map(([k, v]) => `${k} ${typeof v === 'number' ? +v.toFixed(6) : String(v)}`).join(', ') : 'n/a (no GPS in the gateway status)'}`);
  return lines;
}

export async function statusCommand(argv: readonly string[], io: CliIo, env: NodeJS.ProcessEnv = process.env, seams: { systemClockSynced?: () => Promise<boolean | undefined> } = {}): Promise<number> {
  let v;
  try {
    v = parseArgs({ args: [...argv], options: { 'timeout-ms': { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } }).values;
  } catch (err) {
    io.stderr.write(`alpr status: ${(err as Error).message}\n\n${STATUS_USAGE}\n`);
    return 64;
  }
  if (v.help) {
    io.stdout.write(`${STATUS_USAGE}\n`);
    return 0;
  }
  const timeoutMs = Number(v['timeout-ms'] ?? 5_000);
  return withFieldContext(env, io.stderr, 'status', async (ctx) => {
    const { config } = ctx;
    const address = { agency: config.device.agency, device: config.device.id };
    const [gateway, certificate, disk, clock] = await Promise.all([
      ctx.broker(timeoutMs).then((b) => readRetainedStatus(b, topics.status(address))).catch(() => undefined),
      ctx.identity.read().then(
        (id) => certificateStatus(id?.leaf, Date.now(), config.provisioning.renewAtFraction, config.provisioning.alarmDays),
        (err: unknown) => ({ state: 'error' as const, detail: (err as Error).message }),
      ),
      probeDisk(config.dataDir, config.store.minFreePercent),
      (async () => {
        const trust = await ctx.estTrust().catch(() => undefined);
        const url = config.provisioning.estUrl;
        return probeClock({ systemSynced: seams.systemClockSynced ?? systemClockSynced, maxOffsetMs: 5_000, ...(url && trust ? { serverOffsetMs: () => serverClockOffset(url, trust, timeoutMs) } : {}) });
      })(),
    ]);
    const report: StatusReport = { device: { id: config.device.id, agency: config.device.agency, site: config.device.site }, gateway, certificate, disk, clock };
    if (v.json) io.stdout.write(`${JSON.stringify(report)}\n`);
    else io.stdout.write(`${renderStatus(report, Date.now(), new Map(config.cameras.map((c) => [c.id, c.fps]))).join('\n')}\n`);
    return 0;
  });
}
