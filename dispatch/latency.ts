/** Percentiles over the most recent latency samples (a bounded ring, so memory stays flat). */
export class LatencyWindow {
  private readonly samples: number[] = [];
  private next = 0;

  constructor(private readonly capacity = 10_000) {}

  add(ms: number): void {
    if (!Number.isFinite(ms)) return;
    if (this.samples.length < this.capacity) this.samples.push(ms);
    else this.samples[this.next] = ms;
    this.next = (this.next + 1) % this.capacity;
  }

  /** Nearest-rank percentile (0 < p ≤ 100); 0 with no samples. */
  percentile(p: number): number {
    if (this.samples.length === 0) return 0;
    const sorted = [...this.samples].sort((a, b) => a - b);
    const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
    return sorted[rank - 1] as number;
  }

  get count(): number {
    return this.samples.length;
  }
}
