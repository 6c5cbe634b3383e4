/**
 * The evidence store's error classes, and the one place that maps them to replies: an HTTP
 * status for the local API, an exit code for the `alpr` command line, a stable code for MQTT
 * command results. Messages name the field or the record and never hold plate text or images.
 */

export type StoreErrorCode =
  | 'invalid-input' | 'access-denied' | 'not-found' | 'integrity' | 'locked' | 'unavailable' | 'key-material' | 'conflict';

export class StoreError extends Error {
  override readonly name: string = 'StoreError';
  readonly code: StoreErrorCode = 'unavailable';
}

/** A caller passed something the store cannot accept (bad id, range, pattern, missing field). */
export class InvalidInputError extends StoreError {
  override readonly name = 'InvalidInputError';
  override readonly code = 'invalid-input';
}

/** The access context lacks what policy requires (purpose, case number, user), or a release is forbidden (P8, P11). */
export class AccessDeniedError extends StoreError {
  override readonly name = 'AccessDeniedError';
  override readonly code = 'access-denied';
}

export class NotFoundError extends StoreError {
  override readonly name = 'NotFoundError';
  override readonly code = 'not-found';
}

/** A stored value failed its authentication tag or its hash: it is never returned as data. */
export class IntegrityError extends StoreError {
  override readonly name = 'IntegrityError';
  override readonly code = 'integrity';
  constructor(readonly key: string, detail = 'authentication tag mismatch') {
    super(`${key}: ${detail} (altered or corrupted; not returned)`);
  }
}

/** Another process (a running gateway) holds the database. */
export class StoreLockedError extends StoreError {
  override readonly name = 'StoreLockedError';
  override readonly code = 'locked';
}

/** The database cannot be opened or written (disk gone, read-only, out of space). */
export class StoreUnavailableError extends StoreError {
  override readonly name = 'StoreUnavailableError';
  override readonly code = 'unavailable';
}

/** The master or device key is missing, unreadable or does not open this database. */
export class KeyMaterialError extends StoreError {
  override readonly name = 'KeyMaterialError';
  override readonly code = 'key-material';
}

/** The operation contradicts the store's state (an amendment that changes a record's identity). */
export class ConflictError extends StoreError {
  override readonly name = 'ConflictError';
  override readonly code = 'conflict';
}

export interface ErrorReply {
  readonly code: StoreErrorCode | 'internal';
  readonly httpStatus: number;
  /** sysexits(3) codes for the command line. */
  readonly exitCode: number;
  readonly message: string;
}

const REPLIES: Record<StoreErrorCode, { httpStatus: number; exitCode: number }> = {
  'invalid-input': { httpStatus: 400, exitCode: 64 }, // EX_USAGE
  'access-denied': { httpStatus: 403, exitCode: 77 }, // EX_NOPERM
  'not-found': { httpStatus: 404, exitCode: 66 }, // EX_NOINPUT
  integrity: { httpStatus: 500, exitCode: 65 }, // EX_DATAERR
  locked: { httpStatus: 503, exitCode: 75 }, // EX_TEMPFAIL
  unavailable: { httpStatus: 503, exitCode: 74 }, // EX_IOERR
  'key-material': { httpStatus: 500, exitCode: 74 },
  conflict: { httpStatus: 409, exitCode: 65 },
};

/** The one mapping from an error to what a caller is told. Unknown errors become `internal`. */
export function errorReply(err: unknown): ErrorReply {
  if (err instanceof StoreError) return { code: err.code, ...REPLIES[err.code], message: err.message };
  return { code: 'internal', httpStatus: 500, exitCode: 70, message: 'internal error' }; // EX_SOFTWARE
}
