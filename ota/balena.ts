/**
 * The balena split. On balena the supervisor delivers application releases (container images);
 * it has no automatic rollback for them. Our agent gates them:
 *
 *  1. It holds the supervisor's update lock (/tmp/balena/updates.lock), so a downloaded release
 *     waits instead of replacing the running one.
 *  2. A release is let through only when the TUF repository lists it as a signed
 *     `balena-release` target (custom.commit) newer than the one installed: the agent records it
 *     as pending, drops the lock and asks the supervisor to apply (POST /v1/update).
 *  3. The new release's agent, at boot, sees the pending commit running (GET /v1/device), runs
 *     the same health check as the A/B path, and commits — or, on failure, takes the lock again
 *     (no further release goes in unchecked), raises `ota-rolled-back`, and pins the device back
 *     to the previous release through the balena API where a device API key is given (the
 *     supervisor itself cannot downgrade an application).
 */
import { mkdir, open, rm } from 'node:fs/promises';
import path from 'node:path';
import { OtaError } from './errors.ts';
import { readJsonIfExists, writeJsonAtomic } from './atomic-json.ts';

export const DEFAULT_LOCK_FILE = '/tmp/balena/updates.lock';

export interface SupervisorDevice {
  readonly commit?: string;
  readonly status?: string;
  readonly update_pending?: boolean;
  readonly update_downloaded?: boolean;
  readonly update_failed?: boolean;
}

/** The device-local supervisor API (BALENA_SUPERVISOR_ADDRESS, BALENA_SUPERVISOR_API_KEY). */
export class SupervisorClient {
  constructor(private readonly address: string, private readonly apiKey: string, private readonly timeoutMs = 10_000) {}

  private async call(method: 'GET' | 'POST', route: string, body?: unknown): Promise<unknown> {
    const url = new URL(route, this.address);
    url.searchParams.set('apikey', this.apiKey);
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        signal: AbortSignal.timeout(this.timeoutMs),
        ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
      });
    } catch (err) {
      throw new OtaError('download', `supervisor ${method} ${route}: ${(err as Error).message}`);
    }
    const text = await res.text();
    if (!res.ok) throw new OtaError('download', `supervisor ${method} ${route}: HTTP ${res.status} ${text.slice(0, 200)}`);
    if (text === '' || text === 'OK') return undefined;
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return text;
    }
  }

  async device(): Promise<SupervisorDevice> {
    return ((await this.call('GET', '/v1/device')) ?? {}) as SupervisorDevice;
  }

  /** Asks the supervisor to apply its target state now (force overrides an update lock). */
  async update(force = false): Promise<void> {
    await this.call('POST', '/v1/update', { force });
  }
}

/** Pins this device to a release through the balena API (needs the balena-api feature label). */
export class BalenaCloud {
  constructor(private readonly apiUrl: string, private readonly apiKey: string, private readonly deviceUuid: string) {}

  private async call(method: 'GET' | 'PATCH', route: string, body?: unknown): Promise<unknown> {
    const res = await fetch(new URL(route, this.apiUrl), {
      method,
      signal: AbortSignal.timeout(15_000),
      headers: { authorization: `Bearer ${this.apiKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    if (!res.ok) throw new OtaError('download', `balena API ${method} ${route}: HTTP ${res.status} ${text.slice(0, 200)}`);
    return text ? (JSON.parse(text) as unknown) : undefined;
  }

  async pinToCommit(commit: string): Promise<void> {
    if (!/^[0-9a-f]{7,64}$/.test(commit)) throw new OtaError('invalid', `release commit ${JSON.stringify(commit)} is not a hex commit`);
    const found = (await this.call('GET', `/v7/release?$select=id&$filter=commit%20eq%20'${commit}'`)) as { d?: { id: number }[] } | undefined;
    const id = found?.d?.[0]?.id;
    if (id === undefined) throw new OtaError('invalid', `balena API knows no release with commit ${commit}`);
    await this.call('PATCH', `/v7/device(uuid='${encodeURIComponent(this.deviceUuid)}')`, { is_pinned_on__release: id });
  }
}

/** The update lock: present means "do not apply releases" to the supervisor. */
export class UpdateLock {
  constructor(readonly file: string = DEFAULT_LOCK_FILE) {}

  async take(): Promise<void> {
    await mkdir(path.dirname(this.file), { recursive: true });
    try {
      await (await open(this.file, 'wx')).close();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err; // held already (by us, before a restart)
    }
  }

  async release(): Promise<void> {
    await rm(this.file, { force: true });
  }
}

export interface BalenaGateDeps {
  readonly supervisor: SupervisorClient;
  readonly lock: UpdateLock;
  readonly cloud?: BalenaCloud;
  /** <dataDir>/ota/balena.json: the release let through and not yet committed. */
  readonly stateFile: string;
  /** The health check of the A/B path, with its time limit. */
  healthy(): Promise<boolean>;
  readonly events: { emit(e: { type: string; at: number; [k: string]: unknown }): void };
  readonly now: () => number;
}

interface GateState {
  readonly pending?: { readonly commit: string; readonly version: number; readonly previous?: string };
  readonly committed?: { readonly commit: string; readonly version: number };
}

export type GateOutcome =
  | { readonly action: 'none' | 'waiting' }
  | { readonly action: 'released'; readonly commit: string }
  | { readonly action: 'committed'; readonly commit: string }
  | { readonly action: 'rolled-back'; readonly commit: string; readonly pinned?: string; readonly pinError?: string };

export class BalenaGate {
  constructor(private readonly deps: BalenaGateDeps) {}

  private async state(): Promise<GateState> {
    return ((await readJsonIfExists(this.deps.stateFile)) as GateState | undefined) ?? {};
  }

  /** Boot: hold the lock, then judge a release we let through before the restart. */
  async onBoot(): Promise<GateOutcome> {
    await this.deps.lock.take();
    const st = await this.state();
    if (!st.pending) return { action: 'none' };
    const device = await this.deps.supervisor.device();
    if (device.commit === st.pending.previous || device.commit === undefined) return { action: 'waiting' }; // not applied yet: the old release still runs
    // A commit other than the one approved (the fleet's target moved meanwhile) is refused like an unhealthy one.
    const approved = device.commit === st.pending.commit;
    if (approved && (await this.deps.healthy())) {
      await writeJsonAtomic(this.deps.stateFile, { committed: { commit: st.pending.commit, version: st.pending.version } });
      this.deps.events.emit({ type: 'ota-installed', at: this.deps.now(), kind: 'balena-release', commit: st.pending.commit, version: st.pending.version });
      return { action: 'committed', commit: st.pending.commit };
    }
    let pinned: string | undefined;
    let pinError: string | undefined;
    if (this.deps.cloud && st.pending.previous) {
      try {
        await this.deps.cloud.pinToCommit(st.pending.previous);
        pinned = st.pending.previous;
      } catch (err) {
        pinError = (err as Error).message;
      }
    } else {
      pinError = 'no balena API key or no previous release: pin the device from the dashboard';
    }
    await writeJsonAtomic(this.deps.stateFile, { ...(st.committed ? { committed: st.committed } : {}) });
    this.deps.events.emit({ type: 'ota-rolled-back', at: this.deps.now(), kind: 'balena-release', commit: st.pending.commit, version: st.pending.version, restored: pinned, reason: approved ? 'health check failed' : `release ${device.commit} running is not the approved ${st.pending.commit}`, ...(pinError ? { pinError } : {}) });
    return { action: 'rolled-back', commit: st.pending.commit, ...(pinned ? { pinned } : {}), ...(pinError ? { pinError } : {}) };
  }

  /**
   * Lets the release `commit` through when TUF vouches for it (the caller found it as a signed
   * `balena-release` target with `version`). Refuses older versions.
   */
  async approve(commit: string, version: number): Promise<GateOutcome> {
    const st = await this.state();
    if (st.pending) return { action: 'waiting' };
    if (st.committed && version <= st.committed.version) {
      if (st.committed.commit === commit) return { action: 'none' };
      throw new OtaError('rollback', `balena release ${commit} v${version} is not newer than v${st.committed.version}; versions only go up`);
    }
    const device = await this.deps.supervisor.device();
    if (device.commit === commit) {
      await writeJsonAtomic(this.deps.stateFile, { committed: { commit, version } });
      return { action: 'none' };
    }
    await writeJsonAtomic(this.deps.stateFile, { ...st, pending: { commit, version, ...(device.commit ? { previous: device.commit } : {}) } });
    await this.deps.lock.release();
    await this.deps.supervisor.update(false);
    return { action: 'released', commit };
  }
}
