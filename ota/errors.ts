/**
 * Named errors of the update path. Every refusal says which target or role it concerns and
 * why, so the event raised for it (and the operator reading it) needs nothing else.
 */

/** Why an update was refused; the `reason` field of `ota-refused` events. */
export type RefusalReason =
  | 'metadata' // signature, threshold, expiry, version or mix-and-match problem in TUF metadata
  | 'expired' // a role's metadata is past its expiry (freeze attack, or the repository stopped signing)
  | 'download' // HTTP error, too long (endless data), connection problem
  | 'hash' // target bytes do not match the signed length/hashes
  | 'rollback' // a target older than (or equal to) the one installed
  | 'stale' // a hot list older than the freshness policy
  | 'invalid' // the target verified but its content is unusable (bad bundle, failed self-test)
  | 'health'; // installed, but the health check failed: rolled back

export class OtaError extends Error {
  override readonly name: string = 'OtaError';
  constructor(
    readonly reason: RefusalReason,
    message: string,
    readonly target?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A release-tool operation that cannot be done as asked (wrong key, below threshold, …). */
export class ReleaseError extends Error {
  override readonly name = 'ReleaseError';
}
