/**
 * A device for OTA tests: a data folder, the gateway's real HotlistService on a development
 * CSV list, and an OtaAgent pointed at a test repository. Timers never fire on their own: tests
 * call checkNow().
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { GatewayEvent } from '../../gateway/events.ts';
import { HotlistService } from '../../gateway/hotlist/service.ts';
import { OtaAgent, type OtaAgentDeps, type OtaConfig } from '../../ota/agent.ts';

export const quietLog = { info: () => undefined, warn: () => undefined, error: () => undefined };

export const idleTimers = { setTimeout: () => 0, clearTimeout: () => undefined };

export function csvList(plates: readonly string[]): string {
  return `plate,state,list_type,priority\n${plates.map((p) => `${p},ca,stolen-vehicle,90`).join('\n')}\n`;
}

export interface TestDevice {
  readonly dataDir: string;
  readonly events: GatewayEvent[];
  readonly hotlist: HotlistService;
  readonly agent: OtaAgent;
  readonly listPath: string;
  stop(): Promise<void>;
}

export async function makeDevice(repoUrl: string, trustedRoot: string, ca: string, extra: Partial<OtaAgentDeps> = {}, config: Partial<OtaConfig> = {}): Promise<TestDevice> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'ota-device-'));
  const listPath = path.join(dataDir, 'hotlist.csv');
  await writeFile(listPath, csvList(['FACT001']));
  const events: GatewayEvent[] = [];
  const sink = { emit: (e: GatewayEvent) => void events.push(e) };
  const hotlist = new HotlistService({ path: listPath, maxAgeHours: 24 }, { events: sink, log: quietLog, now: Date.now, timers: { setInterval: () => 0, clearInterval: () => undefined } });
  await hotlist.load();
  const agent = new OtaAgent(
    {
      enabled: true, repositoryUrl: repoUrl, trustedRoot, checkIntervalMinutes: 60, hotlist: true, models: false, firmware: false,
      healthTimeoutSeconds: 5, maxAttempts: 3, balenaGate: false, ...config,
    },
    {
      dataDir, events: sink, log: quietLog, now: Date.now, timers: idleTimers, sleep: async () => undefined,
      hotlist: { listPath, maxAgeHours: 24, install: (f) => hotlist.install(f) },
      ...extra,
    },
    ca,
  );
  await agent.start();
  return { dataDir, events, hotlist, agent, listPath, stop: async () => { await agent.stop(); await hotlist.stop(); } };
}
