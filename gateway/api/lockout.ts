/**
 * CJIS lockout: `threshold` failed sign-ins (password or second factor) within `windowMs` lock the
 * account until an admin releases it. Pure: the account's recent failures in, the decision out.
 */
export interface LockoutPolicy {
  readonly threshold: number;
  readonly windowMs: number;
}

/** Failures still inside the window after one more at `now`, and whether that locks the account. */
export function afterFailure(failures: readonly number[], now: number, policy: LockoutPolicy): { failures: number[]; lock: boolean } {
  const recent = [...failures.filter((t) => now - t < policy.windowMs && t <= now), now];
  return { failures: recent, lock: recent.length >= policy.threshold };
}
