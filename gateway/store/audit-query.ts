/**
 * The auditor's view of the audit log: entries filtered by time, user, action, outcome and case
 * number, newest first. Reading the log is itself an audited, purpose-bound access (the entries
 * hold query terms, which may hold plate text).
 */
import type { AuditEntry, AuditOutcome } from './audit-log.ts';
import { InvalidInputError } from './errors.ts';

export interface AuditFilter {
  /** ms since epoch, inclusive. */
  readonly from?: number;
  readonly to?: number;
  readonly user?: string;
  /** An action name, or a prefix ending in `.` (e.g. `detection.`). */
  readonly action?: string;
  readonly outcome?: AuditOutcome;
  readonly caseNumber?: string;
  /** At most this many entries, newest first (default 200, at most 5000). */
  readonly limit?: number;
}

export interface AuditPage {
  readonly entries: readonly AuditEntry[];
  /** Entries that matched the filter in all (more than `entries` when the limit cut it). */
  readonly matched: number;
}

const OUTCOMES: readonly AuditOutcome[] = ['ok', 'refused', 'error', 'not-found'];

export function checkAuditFilter(filter: unknown): AuditFilter {
  if (typeof filter !== 'object' || filter === null) throw new InvalidInputError('filter: expected an object');
  const f = filter as Record<string, unknown>;
  for (const k of ['from', 'to'] as const) {
    if (f[k] !== undefined && (typeof f[k] !== 'number' || !Number.isFinite(f[k]) || f[k] < 0)) throw new InvalidInputError(`filter.${k}: ms since epoch`);
  }
  for (const k of ['user', 'action', 'caseNumber'] as const) {
    if (f[k] !== undefined && (typeof f[k] !== 'string' || f[k].length > 100)) throw new InvalidInputError(`filter.${k}: at most 100 characters`);
  }
  if (f.outcome !== undefined && !OUTCOMES.includes(f.outcome as AuditOutcome)) throw new InvalidInputError(`filter.outcome: one of ${OUTCOMES.join(', ')}`);
  const limit = f.limit ?? 200;
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > 5000) throw new InvalidInputError('filter.limit: an integer 1–5000');
  return { ...(f as AuditFilter), limit };
}

export function queryAudit(entries: readonly AuditEntry[], filter: AuditFilter): AuditPage {
  const action = filter.action;
  const matched = entries.filter((e) => {
    const t = Date.parse(e.at);
    if (filter.from !== undefined && t < filter.from) return false;
    if (filter.to !== undefined && t > filter.to) return false;
    if (filter.user !== undefined && e.user !== filter.user) return false;
    if (action !== undefined && !(action.endsWith('.') ? e.action.startsWith(action) : e.action === action)) return false;
    if (filter.outcome !== undefined && e.outcome !== filter.outcome) return false;
    if (filter.caseNumber !== undefined && e.caseNumber !== filter.caseNumber) return false;
    return true;
  });
  const newest = [...matched].sort((a, b) => b.seq - a.seq);
  return { entries: newest.slice(0, filter.limit ?? 200), matched: matched.length };
}
