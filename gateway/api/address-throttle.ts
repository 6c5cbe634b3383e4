/**
 * Sign-in failures per client address. The account lockout stops guessing at one account; this
 * stops one address spraying guesses over many names (including names that do not exist, which
 * have no account to lock). Past `limit` failures within `windowMs`, the address is refused for
 * the rest of the window. In memory: a restart forgets it, the account lockouts persist.
 */
export class AddressThrottle {
  private readonly failures = new Map<string, number[]>();

  constructor(private readonly limit: number, private readonly windowMs: number) {}

  /** Whether `address` may try now. */
  allowed(address: string, now: number): boolean {
    return this.recent(address, now).length < this.limit;
  }

  fail(address: string, now: number): void {
    this.failures.set(address, [...this.recent(address, now), now]);
    if (this.failures.size > 10_000) this.prune(now);
  }

  private recent(address: string, now: number): number[] {
    return (this.failures.get(address) ?? []).filter((t) => now - t < this.windowMs);
  }

  private prune(now: number): void {
    for (const [a, ts] of this.failures) if (ts.every((t) => now - t >= this.windowMs)) this.failures.delete(a);
  }
}
