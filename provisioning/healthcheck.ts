/**
 * The container healthcheck (docker-compose.yml): healthy while the gateway's heartbeat file is
 * fresh. The gateway writes it each time it publishes its status (writeHeartbeat, wired in
 * gateway/main.ts); a gateway that is wedged stops writing, and balena restarts the container.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { writeFileAtomic } from './atomic-file.ts';

export const heartbeatPath = (dataDir: string): string => join(dataDir, 'health', 'heartbeat.json');

export async function writeHeartbeat(dataDir: string, at: number, summary: Record<string, unknown> = {}): Promise<void> {
  await mkdir(join(dataDir, 'health'), { recursive: true });
  await writeFileAtomic(heartbeatPath(dataDir), `${JSON.stringify({ ...summary, at, pid: process.pid })}\n`);
}

/** Whether the heartbeat is younger than `maxAgeMs`; the reason either way. */
export async function checkHeartbeat(dataDir: string, maxAgeMs: number, now: number): Promise<{ ok: boolean; detail: string }> {
  let text: string;
  try {
    text = await readFile(heartbeatPath(dataDir), 'utf8');
  } catch {
    return { ok: false, detail: `no heartbeat at ${heartbeatPath(dataDir)} (gateway not started yet?)` };
  }
  let at: unknown;
  try {
    at = (JSON.parse(text) as { at?: unknown }).at;
  } catch {
    return { ok: false, detail: 'heartbeat file unreadable' };
  }
  if (typeof at !== 'number') return { ok: false, detail: 'heartbeat file has no time' };
  const age = now - at;
  return age <= maxAgeMs ? { ok: true, detail: `heartbeat ${Math.round(age / 1000)} s old` } : { ok: false, detail: `heartbeat ${Math.round(age / 1000)} s old (limit ${maxAgeMs / 1000} s)` };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const dataDir = process.env.ALPR_DATA_DIR || '/data';
  const interval = Number(process.env.ALPR_STATUS_INTERVAL_MS || 30_000);
  const result = await checkHeartbeat(dataDir, Math.max(3 * interval, 60_000), Date.now());
  process.stdout.write(`${result.ok ? 'healthy' : 'unhealthy'}: ${result.detail}\n`);
  process.exitCode = result.ok ? 0 : 1;
}
