/**
 * Commissioning (P13): the technician names a test vehicle's plate and a number of passes, drives
 * past, and sees for each pass the read, the pixels across the plate and a focus score; the run
 * ends in a report signed with the device key. Only passes that read close to the test plate
 * (edit distance ≤ 2) are shown — other traffic passing during the run is counted, never shown,
 * so commissioning is no way round the investigator's purpose and case number.
 */
import type { Detection, DetectionImages } from '../types.ts';
import { ApiError } from './errors.ts';
import { SOFT_BELOW, focusScore } from './focus.ts';

export interface CommissioningPass {
  readonly n: number;
  readonly at: number;
  readonly read: string;
  readonly confidence: number;
  readonly exact: boolean;
  /** Width × height of the plate's box in the analysed frame, pixels. */
  readonly plateWidthPx: number;
  readonly plateHeightPx: number;
  readonly focus?: number;
}

export interface CommissioningRun {
  readonly id: string;
  readonly cameraId: string;
  readonly testPlate: string;
  readonly passesWanted: number;
  readonly startedAt: number;
  readonly startedBy: string;
  readonly passes: CommissioningPass[];
  /** Detections during the run that were not the test vehicle (not shown). */
  otherVehicles: number;
  finishedAt?: number;
  report?: string;
}

export interface CommissioningReport {
  readonly type: 'alpr.commissioning-report';
  readonly v: 1;
  readonly id: string;
  readonly device: string;
  readonly site: string;
  readonly cameraId: string;
  readonly testPlate: string;
  readonly passesWanted: number;
  readonly passes: readonly CommissioningPass[];
  readonly summary: {
    readonly passesSeen: number;
    readonly exactReads: number;
    readonly readRate: number;
    readonly medianPlateWidthPx: number | null;
    readonly medianFocus: number | null;
    readonly softPasses: number;
    readonly result: 'pass' | 'fail';
  };
  readonly otherVehicles: number;
  readonly technician: string;
  readonly startedAt: number;
  readonly finishedAt: number;
}

export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length] ?? 0;
}

function median(xs: readonly number[]): number | null {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] ?? null) : ((s[m - 1] ?? 0) + (s[m] ?? 0)) / 2;
}

export function summarise(run: CommissioningRun): CommissioningReport['summary'] {
  const exact = run.passes.filter((p) => p.exact).length;
  const focus = run.passes.map((p) => p.focus).filter((f): f is number => f !== undefined);
  const softPasses = focus.filter((f) => f < SOFT_BELOW).length;
  const readRate = run.passesWanted ? exact / run.passesWanted : 0;
  return {
    passesSeen: run.passes.length, exactReads: exact, readRate,
    medianPlateWidthPx: median(run.passes.map((p) => p.plateWidthPx)), medianFocus: median(focus), softPasses,
    // Every pass driven must have been read exactly: a pole that misses its own test car is not ready.
    result: exact >= run.passesWanted && softPasses === 0 ? 'pass' : 'fail',
  };
}

export interface CommissioningDeps {
  readonly now: () => number;
  readonly newId: () => string;
  readonly cameras: readonly string[];
}

export class Commissioning {
  private run: CommissioningRun | undefined;

  constructor(private readonly deps: CommissioningDeps) {}

  current(): CommissioningRun | undefined {
    return this.run;
  }

  start(cameraId: string, plate: string, passes: number, by: string): CommissioningRun {
    if (!this.deps.cameras.includes(cameraId)) throw new ApiError('invalid-input', `body.cameraId: no camera ${cameraId} (cameras: ${this.deps.cameras.join(', ')})`);
    if (this.run && this.run.finishedAt === undefined) throw new ApiError('conflict', `a commissioning run is in progress (started by ${this.run.startedBy}); finish it first`);
    this.run = { id: this.deps.newId(), cameraId, testPlate: plate.toUpperCase(), passesWanted: passes, startedAt: this.deps.now(), startedBy: by, passes: [], otherVehicles: 0 };
    return this.run;
  }

  /** The pipeline's tee: every detection stored is offered here while a run is open. */
  async observe(d: Detection, images: DetectionImages): Promise<void> {
    const run = this.run;
    if (!run || run.finishedAt !== undefined || d.cameraId !== run.cameraId) return;
    if (editDistance(d.plate.toUpperCase(), run.testPlate) > 2) {
      run.otherVehicles++;
      return;
    }
    const focus = await focusScore(images.plate);
    run.passes.push({
      n: run.passes.length + 1, at: d.capturedAt, read: d.plate, confidence: d.confidence, exact: d.plate.toUpperCase() === run.testPlate,
      plateWidthPx: Math.round(d.box.width), plateHeightPx: Math.round(d.box.height), ...(focus !== undefined ? { focus: Math.round(focus * 10) / 10 } : {}),
    });
  }

  /** Ends the run and returns the report to be signed. */
  finish(device: string, site: string): CommissioningReport {
    const run = this.run;
    if (!run || run.finishedAt !== undefined) throw new ApiError('conflict', 'no commissioning run is in progress');
    run.finishedAt = this.deps.now();
    return {
      type: 'alpr.commissioning-report', v: 1, id: run.id, device, site, cameraId: run.cameraId, testPlate: run.testPlate,
      passesWanted: run.passesWanted, passes: run.passes, summary: summarise(run), otherVehicles: run.otherVehicles,
      technician: run.startedBy, startedAt: run.startedAt, finishedAt: run.finishedAt,
    };
  }
}
