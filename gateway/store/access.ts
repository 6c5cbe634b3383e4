/**
 * Who is asking, from where and why (P8). Every read of detections, every privileged action and
 * its outcome is written to the audit log with this context; a detection-browsing inquiry
 * without a purpose and a case number is refused before anything is read.
 */
import { AccessDeniedError, InvalidInputError } from './errors.ts';

export interface AccessContext {
  /** The individual's user name (P7: no shared logins). */
  readonly user: string;
  /** Where the request came from: an IP address, or `cli@{host}` / `local`. */
  readonly source: string;
  /** Why: free text, checked in audit against the documented purpose (P10, P14). */
  readonly purpose?: string;
  /** Case or incident number; required for detection-browsing inquiries (P8). */
  readonly caseNumber?: string;
}

/** The store's own actions (retention, disk pressure, maintenance). */
export const SYSTEM: AccessContext = { user: 'system', source: 'local', purpose: 'retention policy' };

// Printable, no control characters (they would forge lines in a text audit report).
const PRINTABLE = /^[^\p{Cc}\p{Cf}]+$/u;

function text(value: unknown, field: string, min: number, max: number): string {
  if (typeof value !== 'string') throw new AccessDeniedError(`${field} is required`);
  const v = value.trim();
  if (v.length < min) throw new AccessDeniedError(`${field} is required (at least ${min} characters)`);
  if (v.length > max || !PRINTABLE.test(v)) throw new InvalidInputError(`${field}: at most ${max} printable characters`);
  return v;
}

export interface ContextRules {
  /** Detection browsing: purpose and case number required. */
  readonly browsing?: boolean;
  /** Privileged actions: purpose required. */
  readonly purpose?: boolean;
}

/** The context, trimmed, or an AccessDeniedError naming what is missing. */
export function checkContext(ctx: unknown, rules: ContextRules = {}): AccessContext {
  if (typeof ctx !== 'object' || ctx === null) throw new AccessDeniedError('an access context (user, source, purpose) is required');
  const c = ctx as Record<string, unknown>;
  const user = text(c.user, 'user', 1, 64);
  const source = text(c.source, 'source', 1, 100);
  const needPurpose = rules.browsing === true || rules.purpose === true;
  const purpose = needPurpose || c.purpose !== undefined ? text(c.purpose, 'purpose', 3, 500) : undefined;
  const caseNumber = rules.browsing === true || c.caseNumber !== undefined ? text(c.caseNumber, 'caseNumber', 1, 64) : undefined;
  return { user, source, ...(purpose !== undefined ? { purpose } : {}), ...(caseNumber !== undefined ? { caseNumber } : {}) };
}
