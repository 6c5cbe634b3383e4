/**
 * Announced maintenance windows: the times at which an enclosure opening is expected (a
 * technician on the pole). Windows come from config (planned visits) and from the signed
 * `maintenance-window` command (dispatch announces a visit). A window is bounded — at most
 * `maxHours` long and never open-ended — so a forgotten announcement cannot disarm the switch.
 */
export interface MaintenanceWindow {
  readonly id: string;
  readonly from: number;
  readonly to: number;
  readonly by: string;
  readonly reason: string;
  readonly source: 'config' | 'command';
}

export class MaintenanceError extends Error {
  override readonly name = 'MaintenanceError';
}

export class MaintenanceWindows {
  private windows: MaintenanceWindow[] = [];
  private seq = 0;

  constructor(private readonly now: () => number, private readonly maxHours = 12) {}

  announce(w: Omit<MaintenanceWindow, 'id'>): MaintenanceWindow {
    if (!Number.isFinite(w.from) || !Number.isFinite(w.to)) throw new MaintenanceError('maintenance window: from and to must be times');
    if (w.to <= w.from) throw new MaintenanceError(`maintenance window: ends (${iso(w.to)}) before it starts (${iso(w.from)})`);
    if (w.to - w.from > this.maxHours * 3_600_000) throw new MaintenanceError(`maintenance window: longer than ${this.maxHours} h (${iso(w.from)} – ${iso(w.to)})`);
    if (w.to <= this.now()) throw new MaintenanceError(`maintenance window: already over (ended ${iso(w.to)})`);
    if (!w.by.trim()) throw new MaintenanceError('maintenance window: "by" must name who announced it');
    const window: MaintenanceWindow = { ...w, id: `mw-${++this.seq}` };
    this.windows.push(window);
    this.prune();
    return window;
  }

  cancel(id: string): MaintenanceWindow | undefined {
    const found = this.windows.find((w) => w.id === id);
    this.windows = this.windows.filter((w) => w.id !== id);
    return found;
  }

  /** The window covering `at`, if any. */
  active(at: number = this.now()): MaintenanceWindow | undefined {
    return this.windows.find((w) => w.from <= at && at < w.to);
  }

  /** Windows not yet over. */
  list(): MaintenanceWindow[] {
    this.prune();
    return [...this.windows];
  }

  private prune(): void {
    const now = this.now();
    this.windows = this.windows.filter((w) => w.to > now);
  }
}

const iso = (ms: number): string => (Number.isFinite(ms) ? new Date(ms).toISOString() : String(ms));
