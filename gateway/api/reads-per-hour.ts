/**
 * Reads per hour per camera for the health chart: a ring of hourly counts fed by the pipeline's
 * tee (`observeDetection`). In memory only — after a restart the chart starts again from that
 * hour, which is what a technician checking the pole today needs; counting from the store would
 * be a detection access and belongs to the investigator's audited search.
 */
export const HOURS = 24;
const HOUR_MS = 3_600_000;

export class ReadsPerHour {
  private readonly counts = new Map<string, Map<number, number>>();

  record(cameraId: string, at: number): void {
    const hour = Math.floor(at / HOUR_MS);
    let cam = this.counts.get(cameraId);
    if (!cam) this.counts.set(cameraId, (cam = new Map()));
    cam.set(hour, (cam.get(hour) ?? 0) + 1);
    for (const h of cam.keys()) if (h <= hour - HOURS) cam.delete(h);
  }

  /** The last `hours` hourly counts ending with the current hour, oldest first; undefined if nothing was counted. */
  series(cameraId: string, now: number, hours = HOURS): number[] | undefined {
    const cam = this.counts.get(cameraId);
    if (!cam) return undefined;
    const current = Math.floor(now / HOUR_MS);
    return Array.from({ length: hours }, (_, i) => cam.get(current - hours + 1 + i) ?? 0);
  }
}
