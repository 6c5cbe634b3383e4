/** The console's own audit entries (sign-ins, account changes, refusals): one helper, one shape. */
import type { FastifyRequest } from 'fastify';
import type { AuditOutcome } from '../store/audit-log.ts';
import type { ConsoleState } from './route-table.ts';

export async function recordConsole(con: ConsoleState, req: FastifyRequest, user: string, action: string, outcome: AuditOutcome, extra: { terms?: Record<string, unknown>; detail?: string; purpose?: string; caseNumber?: string; resultCount?: number } = {}): Promise<void> {
  // A user name typed at sign-in is untrusted text: cut short and stripped of control characters.
  const who = user.replace(/[\p{Cc}\p{Cf}]/gu, '?').slice(0, 64) || '(none)';
  await con.deps.store.recordEvent({ user: who, source: req.ip, action, outcome, ...extra });
}
