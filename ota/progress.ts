/**
 * What the update agent is doing right now, for the retained status and the local API, and as
 * `ota-progress` events: a step (named, i of n) and bytes (done of total). Byte events are
 * thinned to one per tenth of the file so a slow link does not flood the events topic.
 */
import type { EventSink } from '../gateway/events.ts';

export interface OtaActivity {
  readonly kind: string;
  readonly target: string;
  readonly version: number;
  readonly step: string;
  readonly stepIndex: number;
  readonly steps: number;
  readonly bytesDone: number;
  readonly bytesTotal: number;
  readonly startedAt: number;
}

export interface OtaStatus {
  readonly activity?: OtaActivity;
  readonly lastCheckAt?: number;
  readonly lastCheckOk?: boolean;
  readonly lastError?: { readonly reason: string; readonly message: string; readonly at: number; readonly target?: string };
  /** Installed version per kind. */
  readonly installed: Readonly<Record<string, { version: number; target: string }>>;
  readonly timestampExpires?: number;
}

export class ProgressTracker {
  private activity: OtaActivity | undefined;
  private lastTenth = -1;
  private status: Omit<OtaStatus, 'activity'> = { installed: {} };

  constructor(private readonly events: EventSink, private readonly now: () => number) {}

  begin(kind: string, target: string, version: number, steps: number): void {
    this.activity = { kind, target, version, step: 'start', stepIndex: 0, steps, bytesDone: 0, bytesTotal: 0, startedAt: this.now() };
    this.lastTenth = -1;
  }

  step(step: string, stepIndex: number): void {
    if (!this.activity) return;
    this.activity = { ...this.activity, step, stepIndex, bytesDone: 0, bytesTotal: 0 };
    this.lastTenth = -1;
    this.emit();
  }

  bytes(done: number, total: number): void {
    if (!this.activity) return;
    this.activity = { ...this.activity, bytesDone: done, bytesTotal: total };
    const tenth = total > 0 ? Math.floor((10 * done) / total) : 10;
    if (tenth !== this.lastTenth) {
      this.lastTenth = tenth;
      this.emit();
    }
  }

  end(): void {
    this.activity = undefined;
  }

  update(patch: Partial<Omit<OtaStatus, 'activity'>>): void {
    this.status = { ...this.status, ...patch };
  }

  snapshot(): OtaStatus {
    return { ...this.status, ...(this.activity ? { activity: this.activity } : {}) };
  }

  private emit(): void {
    const a = this.activity;
    if (!a) return;
    this.events.emit({ type: 'ota-progress', at: this.now(), kind: a.kind, target: a.target, version: a.version, step: a.step, stepIndex: a.stepIndex, steps: a.steps, bytesDone: a.bytesDone, bytesTotal: a.bytesTotal });
  }
}
