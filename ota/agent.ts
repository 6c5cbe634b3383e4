/**
 * The update agent main.ts starts: checks the repository every `checkIntervalMinutes` (and at
 * once when nudged by the refresh command), then hands what TUF now vouches for to the
 * installers — hot lists, model packs, firmware (A/B), and the balena gate. One check runs at a
 * time; a nudge during a check runs one more afterwards. Every refusal is an `ota-refused`
 * event naming the target and the reason; the running versions are untouched by any of them.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { EventSink } from '../gateway/events.ts';
import type { SwitchOutcome } from '../models/packs/switcher.ts';
import { BalenaCloud, BalenaGate, SupervisorClient, UpdateLock, DEFAULT_LOCK_FILE } from './balena.ts';
import { OtaError } from './errors.ts';
import { FirmwareUpdater, type HealthChecks } from './firmware/updater.ts';
import type { UpdateState } from './firmware/journal.ts';
import { HotlistInstaller, newest } from './hotlist-installer.ts';
import { InstalledVersions } from './installed.ts';
import { ModelInstaller } from './model-installer.ts';
import { ProgressTracker, type OtaStatus } from './progress.ts';
import { RepoClient, type AvailableTarget, type RefreshResult } from './tuf/client.ts';
import { mkdir } from 'node:fs/promises';

export interface OtaConfig {
  readonly enabled: boolean;
  /** https://host/path — metadata under metadata/, targets under targets/ */
  readonly repositoryUrl: string;
  /** The root.json shipped with the firmware (trust on first boot). */
  readonly trustedRoot: string;
  /** PEM CA bundle for the repository's server; default Node's public roots. */
  readonly caFile?: string;
  readonly checkIntervalMinutes: number;
  readonly hotlist: boolean;
  /** Take only this hot-list target (several lists in one repository); default the newest. */
  readonly hotlistTarget?: string;
  readonly models: boolean;
  readonly firmware: boolean;
  readonly healthTimeoutSeconds: number;
  readonly maxAttempts: number;
  readonly balenaGate: boolean;
}

export interface OtaLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface OtaAgentDeps {
  readonly dataDir: string;
  readonly events: EventSink;
  readonly log: OtaLog;
  readonly now: () => number;
  readonly timers?: Timers;
  readonly sleep?: (ms: number) => Promise<void>;
  /** From HotlistService: the list path and its install(). */
  readonly hotlist?: { readonly listPath: string; readonly maxAgeHours: number; install(file: string): Promise<unknown> };
  /** From the SwitchablePlateRecognizer (built with probe: selfTestProbe()). */
  readonly models?: { switchTo(name: string, dir: string): Promise<SwitchOutcome> };
  readonly firmware?: {
    readonly factoryVersion: string;
    readonly health: HealthChecks;
    /** Restart into `slotDir` (undefined: the factory image); see FirmwareUpdaterDeps.activate. */
    activate?(slotDir: string | undefined, version: string): Promise<void>;
    /** The version this process runs (config device.firmwareVersion). */
    runningVersion?(): string;
  };
  /** BALENA_SUPERVISOR_ADDRESS / _API_KEY, and optionally BALENA_API_URL / BALENA_API_KEY / BALENA_DEVICE_UUID. */
  readonly balena?: { readonly supervisorAddress: string; readonly supervisorApiKey: string; readonly lockFile?: string; readonly apiUrl?: string; readonly apiKey?: string; readonly deviceUuid?: string };
  /** Kill tests: called on entering each firmware state and when its work is done. */
  readonly firmwareHook?: (state: UpdateState, phase: 'enter' | 'done') => Promise<void> | void;
}

export interface CheckReport {
  readonly ok: boolean;
  readonly refused: readonly { readonly kind: string; readonly reason: string; readonly message: string }[];
  readonly installed: readonly { readonly kind: string; readonly version: number }[];
}

const realTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export class OtaAgent {
  readonly progress: ProgressTracker;
  readonly installed: InstalledVersions;
  readonly client: RepoClient;
  readonly firmware: FirmwareUpdater | undefined;
  private readonly hotlists: HotlistInstaller | undefined;
  private readonly models: ModelInstaller | undefined;
  private readonly gate: BalenaGate | undefined;
  private running: Promise<CheckReport> | undefined;
  private again = false;
  private timer: unknown;
  private stopped = false;
  private readonly stateDir: string;

  constructor(private readonly config: OtaConfig, private readonly deps: OtaAgentDeps, ca?: string) {
    this.stateDir = path.join(deps.dataDir, 'ota');
    this.progress = new ProgressTracker(deps.events, deps.now);
    this.installed = new InstalledVersions(this.stateDir);
    const base = config.repositoryUrl.replace(/\/+$/, '');
    this.client = new RepoClient({
      metadataUrl: `${base}/metadata/`,
      targetsUrl: `${base}/targets/`,
      metadataDir: path.join(this.stateDir, 'metadata'),
      trustedRoot: config.trustedRoot,
      ...(ca ? { ca } : {}),
      onBytes: (_url, received) => {
        const total = this.progress.snapshot().activity?.bytesTotal;
        this.progress.bytes(received, total && total > received ? total : received);
      },
    });
    const download = async (t: AvailableTarget, dest: string): Promise<void> => {
      this.progress.bytes(0, t.length);
      await this.client.download(t, dest);
    };
    const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
    const work = path.join(this.stateDir, 'work');
    if (config.hotlist && deps.hotlist) {
      const h = deps.hotlist;
      this.hotlists = new HotlistInstaller({
        listPath: h.listPath, install: (f) => h.install(f), download, installed: this.installed, events: deps.events, now: deps.now,
        maxAgeMs: h.maxAgeHours * 3600_000, workDir: work, progress: this.progress,
      });
    }
    if (config.models && deps.models) {
      const m = deps.models;
      this.models = new ModelInstaller({ packsDir: path.join(this.stateDir, 'packs'), download, switchTo: (n, d) => m.switchTo(n, d), installed: this.installed, events: deps.events, now: deps.now, progress: this.progress });
    }
    if (config.firmware && deps.firmware) {
      const fw = deps.firmware;
      this.firmware = new FirmwareUpdater(
        { dir: path.join(this.stateDir, 'firmware'), factoryVersion: fw.factoryVersion, healthTimeoutMs: config.healthTimeoutSeconds * 1000, maxAttempts: config.maxAttempts },
        {
          // On resume the target is looked up again by name and must still carry the journal's hash.
          fetch: async (jt, dest) => {
            const found = (await this.client.refresh()).targets.find((t) => t.name === jt.name && t.sha256 === jt.sha256);
            if (!found) throw new OtaError('invalid', `${jt.name} with sha256 ${jt.sha256.slice(0, 12)}… is no longer listed by the repository`, jt.name);
            await download(found, dest);
          },
          health: fw.health, events: deps.events, now: deps.now, sleep, log: deps.log, progress: this.progress,
          ...(fw.activate ? { activate: (d: string | undefined, v: string) => fw.activate!(d, v) } : {}),
          ...(fw.runningVersion ? { runningVersion: () => fw.runningVersion!() } : {}),
          ...(deps.firmwareHook ? { at: deps.firmwareHook } : {}),
        },
      );
    }
    if (config.balenaGate && deps.balena && deps.firmware) {
      const b = deps.balena;
      const health = deps.firmware.health;
      const limitMs = config.healthTimeoutSeconds * 1000;
      this.gate = new BalenaGate({
        supervisor: new SupervisorClient(b.supervisorAddress, b.supervisorApiKey),
        lock: new UpdateLock(b.lockFile ?? DEFAULT_LOCK_FILE),
        ...(b.apiUrl && b.apiKey && b.deviceUuid ? { cloud: new BalenaCloud(b.apiUrl, b.apiKey, b.deviceUuid) } : {}),
        stateFile: path.join(this.stateDir, 'balena.json'),
        healthy: () => pollHealthy(health, deps.now, sleep, limitMs),
        events: deps.events,
        now: deps.now,
      });
    }
  }

  /** Boot: finish an interrupted firmware update, judge a balena release, then check on schedule. */
  async start(): Promise<void> {
    await mkdir(path.join(this.stateDir, 'work'), { recursive: true });
    await mkdir(path.join(this.stateDir, 'packs'), { recursive: true });
    this.progress.update({ installed: await this.installedSummary() });
    // Neither may fail the boot: a gateway that cannot finish an update still reads plates
    // (no boot loop over a damaged journal or an unreachable supervisor); the event says why.
    if (this.firmware) {
      try {
        const outcome = await this.firmware.recover();
        if (outcome) this.deps.log.info({ ...outcome }, 'interrupted firmware update finished');
      } catch (err) {
        this.bootProblem('firmware', err);
      }
    }
    if (this.gate) {
      try {
        const outcome = await this.gate.onBoot();
        if (outcome.action !== 'none') this.deps.log.info({ ...outcome }, 'balena release judged');
      } catch (err) {
        this.bootProblem('balena-release', err);
      }
    }
    this.schedule(0);
  }

  private bootProblem(kind: string, err: unknown): void {
    const e = err instanceof OtaError ? err : new OtaError('invalid', (err as Error).message);
    this.deps.log.error({ kind, err: e.message }, 'update state could not be resumed at boot');
    this.deps.events.emit({ type: 'ota-refused', at: this.deps.now(), kind, reason: e.reason, message: `at boot: ${e.message}` });
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    const timers = this.deps.timers ?? realTimers;
    if (this.timer !== undefined) timers.clearTimeout(this.timer);
    this.timer = timers.setTimeout(() => {
      this.timer = undefined;
      this.checkNow('schedule').catch((err: unknown) => this.deps.log.error({ err: (err as Error).message }, 'update check crashed'));
    }, ms);
  }

  /** One check now (or the one running, plus one more after it). */
  checkNow(trigger: string): Promise<CheckReport> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    const run = this.check(trigger).finally(() => {
      this.running = undefined;
      if (this.again && !this.stopped) {
        this.again = false;
        this.checkNow('nudge-during-check').catch(() => undefined); // its report goes to events
      } else {
        this.schedule(this.config.checkIntervalMinutes * 60_000);
      }
    });
    this.running = run;
    return run;
  }

  private async check(trigger: string): Promise<CheckReport> {
    const refused: { kind: string; reason: string; message: string }[] = [];
    const installed: { kind: string; version: number }[] = [];
    const refuse = (kind: string, err: unknown): void => {
      const e = err instanceof OtaError ? err : new OtaError('invalid', (err as Error).message);
      refused.push({ kind, reason: e.reason, message: e.message });
      this.deps.events.emit({ type: 'ota-refused', at: this.deps.now(), kind, reason: e.reason, message: e.message, ...(e.target ? { target: e.target } : {}) });
      this.progress.update({ lastError: { reason: e.reason, message: e.message, at: this.deps.now(), ...(e.target ? { target: e.target } : {}) } });
      this.deps.log.warn({ kind, reason: e.reason, err: e.message }, 'update refused');
    };
    this.deps.log.info({ trigger }, 'checking for updates');
    let repo: RefreshResult;
    try {
      repo = await this.client.refresh();
    } catch (err) {
      refuse('metadata', err);
      if (err instanceof OtaError && err.reason === 'expired' && this.deps.hotlist) {
        // The repository stopped vouching for freshness (or someone replays frozen metadata): the list in force ages from here.
        this.deps.events.emit({ type: 'hotlist-stale', at: this.deps.now(), source: 'ota', reason: 'the repository timestamp is expired; no newer list can be trusted', message: err.message });
      }
      this.progress.update({ lastCheckAt: this.deps.now(), lastCheckOk: false });
      return { ok: false, refused, installed };
    }
    this.progress.update({ timestampExpires: repo.timestampExpires });
    if (this.hotlists) {
      try {
        const r = await this.hotlists.apply(repo.targets, this.config.hotlistTarget);
        if (r.installed) installed.push({ kind: 'hotlist', version: r.version });
      } catch (err) {
        refuse('hotlist', err);
      }
    }
    if (this.models) {
      try {
        const r = await this.models.apply(repo.targets);
        if (r.installed) installed.push({ kind: 'model-pack', version: r.version });
      } catch (err) {
        refuse('model-pack', err);
      }
    }
    if (this.firmware) {
      try {
        const r = await this.applyFirmware(repo.targets);
        if (r) installed.push({ kind: 'firmware', version: r });
      } catch (err) {
        refuse('firmware', err);
      }
    }
    if (this.gate) {
      try {
        const t = newest(repo.targets, 'balena-release');
        const commit = t?.custom.commit;
        if (t && typeof commit === 'string') await this.gate.approve(commit, t.version);
      } catch (err) {
        refuse('balena-release', err);
      }
    }
    this.progress.update({ lastCheckAt: this.deps.now(), lastCheckOk: refused.length === 0, installed: await this.installedSummary() });
    return { ok: refused.length === 0, refused, installed };
  }

  private async applyFirmware(targets: readonly AvailableTarget[]): Promise<number | undefined> {
    const fw = this.firmware!;
    const t = newest(targets, 'firmware');
    if (!t) return undefined;
    const cur = await this.installed.get('firmware');
    if (cur && cur.version === t.version && cur.sha256 === t.sha256) return undefined;
    await this.installed.assertNewer('firmware', t.name, t.version);
    const last = (await fw.journal()).last;
    // A release that failed or was rolled back is not retried on every check: a newer one must come.
    if (last && last.target === t.name && last.version === t.version && last.outcome !== 'committed') {
      throw new OtaError(last.outcome === 'rolled-back' ? 'health' : 'invalid', `${t.name} v${t.version} already ${last.outcome}: ${last.reason ?? ''}`, t.name);
    }
    const outcome = await fw.update({ name: t.name, version: t.version, sha256: t.sha256, length: t.length });
    if (outcome.outcome === 'committed') {
      await this.installed.record('firmware', { target: t.name, version: t.version, sha256: t.sha256, installedAt: this.deps.now() });
      return t.version;
    }
    throw new OtaError(outcome.outcome === 'rolled-back' ? 'health' : 'invalid', `${t.name} v${t.version} ${outcome.outcome}: ${outcome.reason ?? ''}`, t.name);
  }

  private async installedSummary(): Promise<Record<string, { version: number; target: string }>> {
    const out: Record<string, { version: number; target: string }> = {};
    for (const [k, v] of Object.entries(await this.installed.all())) out[k] = { version: v.version, target: v.target };
    return out;
  }

  status(): OtaStatus {
    return this.progress.snapshot();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) (this.deps.timers ?? realTimers).clearTimeout(this.timer);
    await this.running?.catch(() => undefined);
  }
}

async function pollHealthy(health: HealthChecks, now: () => number, sleep: (ms: number) => Promise<void>, limitMs: number): Promise<boolean> {
  const deadline = now() + limitMs;
  for (;;) {
    const ok = (await health.selfTest().catch(() => false)) && (await health.dispatchConnected().catch(() => false));
    if (ok) return true;
    if (now() + 1000 > deadline) return false;
    await sleep(1000);
  }
}

/** Builds and starts the agent; main.ts calls this when config.ota is enabled. */
export async function startOtaAgent(config: OtaConfig, deps: OtaAgentDeps): Promise<OtaAgent> {
  const ca = config.caFile ? await readFile(config.caFile, 'utf8') : undefined;
  const agent = new OtaAgent(config, deps, ca);
  await agent.start();
  return agent;
}

/** What the command bus replies to a `refresh-hotlist` (or `ota-check`) command. */
export interface OtaCommandReply {
  readonly accepted: true;
  readonly finished: boolean;
  readonly report?: CheckReport;
}

/**
 * The handler the signed command bus registers for `refresh-hotlist` / `ota-check`: starts a
 * check at once and replies with its report if it ends within `replyWithinMs`, else says it
 * is running (its outcome then arrives as events).
 */
export function otaCommandHandler(agent: Pick<OtaAgent, 'checkNow'>, replyWithinMs = 20_000): (args?: unknown) => Promise<OtaCommandReply> {
  return async () => {
    const check = agent.checkNow('command');
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), replyWithinMs);
      timer.unref();
    });
    try {
      const report = await Promise.race([check, late]);
      return report ? { accepted: true, finished: true, report } : { accepted: true, finished: false };
    } finally {
      clearTimeout(timer);
    }
  };
}
