/**
 * Firmware A/B update as a persisted state machine:
 *
 *   download → verify → install → switch → health-check → commit
 *                                               └──────────→ rollback
 *
 * Before each state's work the journal records the state (atomically), so after a SIGKILL the
 * updater resumes in that state and redoes its work; every step is safe to repeat. Until
 * `switch` renames the pointer the old slot runs; after it, the new one runs until the health
 * check commits it or `rollback` renames the pointer back. Either way the pointer names a
 * complete slot: exactly the old version or the new, never half. Entering any state more than
 * `maxAttempts` times (a crash loop) ends the update: before the switch it is abandoned, after
 * it rolled back.
 */
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { EventSink } from '../../gateway/events.ts';
import { fsyncDir, fsyncFile } from '../../gateway/hotlist/atomic.ts';
import { readBundleHeader, unpackBundle } from '../bundle.ts';
import { OtaError } from '../errors.ts';
import { hashFile } from '../hash.ts';
import type { ProgressTracker } from '../progress.ts';
import { readJournal, writeJournal, UPDATE_STATES, type ActiveUpdate, type Journal, type JournalTarget, type LastOutcome, type UpdateState } from './journal.ts';
import { SLOT_HEADER, Slots } from './slots.ts';

export interface HealthChecks {
  /** The pipeline's self-test passes (recogniser reads its test plates, cameras deliver frames). */
  selfTest(): Promise<boolean>;
  /** The dispatch broker is connected. */
  dispatchConnected(): Promise<boolean>;
}

export interface FirmwareUpdaterConfig {
  /** <dataDir>/ota/firmware */
  readonly dir: string;
  /** The version of the image the device was built with (runs when no slot was ever installed). */
  readonly factoryVersion: string;
  readonly healthTimeoutMs: number;
  readonly healthPollMs?: number;
  readonly maxAttempts?: number;
}

export interface FirmwareUpdaterDeps {
  /** Downloads the (TUF-verified) target to `dest`. */
  fetch(target: JournalTarget, dest: string): Promise<void>;
  readonly health: HealthChecks;
  readonly events: EventSink;
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  readonly log: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
  readonly progress?: ProgressTracker;
  /**
   * Starts the application from `slotDir` (or the factory image when undefined); on a device,
   * a restart into the launcher, which need not return: the journal already says where to go on.
   */
  activate?(slotDir: string | undefined, version: string): Promise<void>;
  /** The version of the code running this updater; activate is skipped when it is already the one wanted. */
  runningVersion?(): string;
  /** Test hook: called on entering each state and when its work is done (kill tests). */
  at?(state: UpdateState, phase: 'enter' | 'done'): Promise<void> | void;
}

export class FirmwareUpdater {
  readonly slots: Slots;
  private readonly journalFile: string;
  private readonly downloadDir: string;

  constructor(private readonly config: FirmwareUpdaterConfig, private readonly deps: FirmwareUpdaterDeps) {
    this.slots = new Slots(config.dir, config.factoryVersion);
    this.journalFile = path.join(config.dir, 'journal.json');
    this.downloadDir = path.join(config.dir, 'download');
  }

  private get maxAttempts(): number {
    return this.config.maxAttempts ?? 3;
  }

  async journal(): Promise<Journal> {
    return readJournal(this.journalFile);
  }

  /** Finishes an update a restart interrupted; undefined when none was under way. */
  async recover(): Promise<LastOutcome | undefined> {
    const j = await this.journal();
    if (!j.active) return undefined;
    this.deps.log.warn({ state: j.active.state, target: j.active.target.name }, 'resuming interrupted firmware update');
    return this.run(j.active);
  }

  /** Installs `target` (a firmware bundle newer than the running one). */
  async update(target: JournalTarget): Promise<LastOutcome> {
    const j = await this.journal();
    if (j.active) throw new OtaError('invalid', `firmware update of ${j.active.target.name} v${j.active.target.version} still under way (${j.active.state})`, target.name);
    const running = await this.slots.active();
    const active: ActiveUpdate = {
      state: 'download',
      target,
      from: { slot: running.slot, version: running.version },
      to: { slot: this.slots.inactiveOf(running.slot) },
      attempts: {},
    };
    return this.run(active);
  }

  private async run(start: ActiveUpdate): Promise<LastOutcome> {
    let cur = start;
    await mkdir(this.config.dir, { recursive: true });
    this.deps.progress?.begin('firmware', cur.target.name, cur.target.version, UPDATE_STATES.length - 1);
    try {
      for (;;) {
        const attempts = (cur.attempts[cur.state] ?? 0) + 1;
        cur = { ...cur, attempts: { ...cur.attempts, [cur.state]: attempts } };
        await writeJournal(this.journalFile, { formatVersion: 1, active: cur, ...(await this.lastOf()) });
        this.deps.progress?.step(cur.state, UPDATE_STATES.indexOf(cur.state) + 1);
        if (attempts > this.maxAttempts) {
          const reason = `state ${cur.state} entered ${attempts} times (limit ${this.maxAttempts})`;
          if (cur.state === 'rollback') throw new OtaError('invalid', `rollback keeps failing: ${reason}`); // leave the journal for an operator
          if (this.switched(cur.state)) {
            cur = { ...cur, state: 'rollback', error: reason };
            continue;
          }
          return await this.finish(cur, 'failed', reason);
        }
        await this.deps.at?.(cur.state, 'enter');
        let next: ActiveUpdate | LastOutcome;
        try {
          next = await this.step(cur);
        } catch (err) {
          const message = (err as Error).message;
          this.deps.log.warn({ state: cur.state, err: message, attempt: attempts }, 'firmware update step failed');
          // A verified download that will not unpack, or a bad bundle, will not get better by retrying.
          const permanent = err instanceof OtaError && (err.reason === 'invalid' || err.reason === 'hash');
          if (this.switched(cur.state)) {
            cur = { ...cur, state: 'rollback', error: message };
          } else if (permanent || attempts >= this.maxAttempts) {
            return await this.finish(cur, 'failed', message, err instanceof OtaError ? err.reason : 'download');
          } else {
            cur = { ...cur, error: message };
            await this.deps.sleep(Math.min(60_000, 1000 * 2 ** attempts));
          }
          continue;
        }
        await this.deps.at?.(cur.state, 'done');
        if ('outcome' in next) return next;
        cur = next;
      }
    } finally {
      this.deps.progress?.end();
    }
  }

  /** After the pointer moved, failures roll back instead of abandoning. */
  private switched(state: UpdateState): boolean {
    return state === 'switch' || state === 'health-check' || state === 'commit';
  }

  private bundlePath(target: JournalTarget): string {
    return path.join(this.downloadDir, `${target.sha256}.bundle`);
  }

  private async step(cur: ActiveUpdate): Promise<ActiveUpdate | LastOutcome> {
    switch (cur.state) {
      case 'download': {
        await mkdir(this.downloadDir, { recursive: true });
        await this.deps.fetch(cur.target, this.bundlePath(cur.target));
        return { ...cur, state: 'verify' };
      }
      case 'verify': {
        // Re-hash what is on disk: the download may have been verified by a process that died since.
        const file = this.bundlePath(cur.target);
        const { sha256, length } = await hashFile(file).catch(() => ({ sha256: '', length: -1 }));
        if (sha256 !== cur.target.sha256 || length !== cur.target.length) {
          await rm(file, { force: true });
          return { ...cur, state: 'download' };
        }
        const { header } = await readBundleHeader(file);
        if (header.kind !== 'firmware') throw new OtaError('invalid', `${cur.target.name} is a ${header.kind} bundle, not firmware`, cur.target.name);
        return { ...cur, state: 'install', to: { slot: cur.to.slot, version: header.version } };
      }
      case 'install': {
        const slotDir = this.slots.slotDir(cur.to.slot);
        const staging = `${slotDir}.staging`;
        await rm(staging, { recursive: true, force: true });
        const header = await unpackBundle(this.bundlePath(cur.target), staging, (d, t) => this.deps.progress?.bytes(d, t));
        // The header goes in last: its presence marks the slot complete (slots.ts).
        await writeFile(path.join(staging, SLOT_HEADER), JSON.stringify(header));
        await fsyncFile(path.join(staging, SLOT_HEADER));
        await fsyncDir(staging);
        await this.slots.clear(cur.to.slot);
        await rename(staging, slotDir);
        await fsyncDir(path.dirname(slotDir));
        if (!(await this.slots.intact(cur.to.slot))) throw new OtaError('invalid', `slot ${cur.to.slot} does not match the bundle after unpacking`, cur.target.name);
        return { ...cur, state: 'switch' };
      }
      case 'switch': {
        const version = cur.to.version ?? String(cur.target.version);
        await this.slots.point({ slot: cur.to.slot, version, previous: cur.from });
        return { ...cur, state: 'health-check', healthStartedAt: cur.healthStartedAt ?? this.deps.now() };
      }
      case 'health-check': {
        // Activation happens here, not in switch: a restart into the new slot then resumes in
        // health-check (counted as an attempt, so a crash-looping firmware is rolled back).
        const version = cur.to.version ?? String(cur.target.version);
        if (this.deps.activate && this.deps.runningVersion?.() !== version) await this.deps.activate(this.slots.slotDir(cur.to.slot), version);
        const started = cur.healthStartedAt ?? this.deps.now();
        const healthy = await this.healthy(started + this.config.healthTimeoutMs);
        if (!healthy) return { ...cur, state: 'rollback', error: `health check did not pass within ${this.config.healthTimeoutMs} ms` };
        return { ...cur, state: 'commit' };
      }
      case 'commit': {
        await rm(this.downloadDir, { recursive: true, force: true });
        const outcome = await this.finish(cur, 'committed');
        this.deps.events.emit({ type: 'ota-installed', at: this.deps.now(), kind: 'firmware', target: cur.target.name, version: cur.target.version, firmwareVersion: cur.to.version, slot: cur.to.slot });
        return outcome;
      }
      case 'rollback': {
        await this.slots.point({ slot: cur.from.slot, version: cur.from.version });
        await rm(this.downloadDir, { recursive: true, force: true });
        const reason = cur.error ?? 'rolled back';
        this.deps.events.emit({ type: 'ota-rolled-back', at: this.deps.now(), kind: 'firmware', target: cur.target.name, version: cur.target.version, restored: cur.from.version, reason });
        const outcome = await this.finish(cur, 'rolled-back', reason, 'health');
        // Journal closed first: a restart into the old version must not find a rollback to redo.
        if (this.deps.activate && this.deps.runningVersion?.() !== cur.from.version) {
          await this.deps.activate(cur.from.slot === 'factory' ? undefined : this.slots.slotDir(cur.from.slot), cur.from.version);
        }
        return outcome;
      }
    }
  }

  /** Both predicates true at once before `deadline`; a predicate that throws counts as false. */
  private async healthy(deadline: number): Promise<boolean> {
    const poll = this.config.healthPollMs ?? 1000;
    const ask = async (fn: () => Promise<boolean>): Promise<boolean> => fn().catch(() => false);
    for (;;) {
      if ((await ask(() => this.deps.health.selfTest())) && (await ask(() => this.deps.health.dispatchConnected()))) return true;
      if (this.deps.now() + poll > deadline) return false;
      await this.deps.sleep(poll);
    }
  }

  private async lastOf(): Promise<{ last?: LastOutcome }> {
    const j = await this.journal();
    return j.last ? { last: j.last } : {};
  }

  private async finish(cur: ActiveUpdate, outcome: LastOutcome['outcome'], reason?: string, refusal?: string): Promise<LastOutcome> {
    const last: LastOutcome = { outcome, target: cur.target.name, version: cur.target.version, at: this.deps.now(), ...(reason ? { reason } : {}) };
    await writeJournal(this.journalFile, { formatVersion: 1, last });
    if (outcome === 'failed') {
      await rm(this.downloadDir, { recursive: true, force: true });
      this.deps.events.emit({ type: 'ota-refused', at: this.deps.now(), kind: 'firmware', target: cur.target.name, version: cur.target.version, reason: refusal ?? 'download', message: reason });
    }
    this.deps.log.info({ outcome, target: cur.target.name, version: cur.target.version, reason }, 'firmware update finished');
    return last;
  }
}
