/**
 * Exactly-once admission by hitId. A device re-sends a hit until it hears the ack, and a second
 * copy may arrive while the first is still being written; both must end as one stored hit. The
 * set of stored ids is loaded from the durable store at start, so this holds across restarts.
 */
export type Admission = 'new' | 'duplicate';

export class HitIndex {
  private readonly stored: Set<string>;
  private readonly pending = new Map<string, Promise<boolean>>();

  constructor(storedIds: Iterable<string>) {
    this.stored = new Set(storedIds);
  }

  has(hitId: string): boolean {
    return this.stored.has(hitId);
  }

  get size(): number {
    return this.stored.size;
  }

  /**
   * 'new' once `store` has resolved (the hit is durable); 'duplicate' when the id is stored or
   * another copy's store succeeded meanwhile. A failed store is thrown, and the id stays free so
   * the device's next re-send can try again.
   */
  async admit(hitId: string, store: () => Promise<void>): Promise<Admission> {
    for (;;) {
      if (this.stored.has(hitId)) return 'duplicate';
      const inFlight = this.pending.get(hitId);
      if (!inFlight) break;
      await inFlight; // then look again: stored → duplicate; failed → this copy tries
    }
    let failure: unknown;
    const attempt = store().then(
      () => {
        this.stored.add(hitId);
        return true;
      },
      (err: unknown) => {
        failure = err;
        return false;
      },
    );
    this.pending.set(hitId, attempt);
    const ok = await attempt;
    this.pending.delete(hitId);
    if (!ok) throw failure;
    return 'new';
  }
}
