/**
 * The hot-list part of the gateway, as main.ts wires it: the list in force (active-list.ts), its
 * freshness watch (freshness.ts) and the historical re-match of added entries (rematch.ts)
 * against the evidence store once it is attached.
 */
import type { EventSink } from '../types.ts';
import { ActiveHotlist, type HotlistLog, type InstallResult } from './active-list.ts';
import { FreshnessMonitor, type Timers } from './freshness.ts';
import type { HotlistMatcher } from './matcher.ts';
import type { MatchPolicy, StateMismatch } from './policy.ts';
import { rematchHistory, type DetectionScan } from './rematch.ts';

export interface HotlistServiceConfig {
  readonly path: string;
  readonly maxAgeHours?: number;
  readonly stateMismatch?: StateMismatch;
  readonly equivalence?: readonly string[];
}

export interface HotlistServiceDeps {
  readonly events: EventSink;
  readonly log: HotlistLog & { error(obj: object, msg: string): void };
  readonly now: () => number;
  /** Detections older than this are gone (P6); default 30 days. */
  readonly retentionMs?: number;
  readonly timers?: Timers;
}

export class HotlistService {
  readonly active: ActiveHotlist;
  private readonly freshness: FreshnessMonitor;
  private scan: DetectionScan | undefined;
  private readonly rematches = new Set<Promise<void>>();
  private readonly abort = new AbortController();

  constructor(config: HotlistServiceConfig, private readonly deps: HotlistServiceDeps) {
    const policy: Partial<MatchPolicy> = {
      ...(config.maxAgeHours !== undefined ? { maxAgeMs: config.maxAgeHours * 3600_000 } : {}),
      ...(config.stateMismatch ? { stateMismatch: config.stateMismatch } : {}),
      ...(config.equivalence ? { equivalence: config.equivalence } : {}),
    };
    this.active = new ActiveHotlist({
      path: config.path,
      policy,
      events: deps.events,
      now: deps.now,
      log: deps.log,
      onAdded: (added) => this.rematch(added),
    });
    this.freshness = new FreshnessMonitor({
      list: () => this.active.current().list.info,
      events: deps.events,
      now: deps.now,
      maxAgeMs: (config.maxAgeHours ?? 24) * 3600_000,
      ...(deps.timers ? { timers: deps.timers } : {}),
    });
  }

  /** Boot: loads the list (fails the boot when no list can be loaded) and starts the freshness watch. */
  async load(): Promise<HotlistMatcher> {
    const matcher = await this.active.load();
    this.freshness.start();
    return matcher;
  }

  current(): HotlistMatcher {
    return this.active.current();
  }

  /** Historical re-match needs the store; until it is attached, added entries are not re-matched. */
  attachHistory(scan: DetectionScan): void {
    this.scan = scan;
  }

  install(candidate: string): Promise<InstallResult> {
    return this.active.install(candidate).then((result) => {
      this.freshness.check();
      return result;
    });
  }

  private rematch(added: HotlistMatcher): void {
    const scan = this.scan;
    if (!scan) return;
    const run = rematchHistory(added, {
      scan,
      events: this.deps.events,
      now: this.deps.now,
      retentionMs: this.deps.retentionMs ?? 30 * 86_400_000,
    }, this.abort.signal).then(
      (r) => this.deps.log.info({ ...r, listVersion: added.version }, 'historical re-match done'),
      (err: unknown) => {
        if (!this.abort.signal.aborted) this.deps.log.error({ err: (err as Error).message }, 'historical re-match failed');
      },
    ).finally(() => {
      this.rematches.delete(run);
      if (added !== this.active.current()) added.close();
    });
    this.rematches.add(run);
  }

  /** Waits for running re-matches (tests, graceful stop after abort). */
  async settled(): Promise<void> {
    await Promise.all([...this.rematches]);
  }

  async stop(): Promise<void> {
    this.freshness.stop();
    this.abort.abort();
    await this.settled();
    this.active.close();
  }
}
