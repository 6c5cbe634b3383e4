/**
 * The console's routes, as data: one table says for every route who may call it (public, any
 * signed-in session, or a list of roles), whether it needs the second factor, whether it reads
 * stored data (refused while the tamper lock is on; every call audited), and its JSON schemas.
 * server.ts registers exactly this table; the tests walk it, so a route cannot be added without
 * its access rule and without being tested.
 */
import type { FastifyReply, FastifyRequest, FastifySchema } from 'fastify';
import type { AccountStore } from './accounts.ts';
import type { AddressThrottle } from './address-throttle.ts';
import type { Commissioning } from './commissioning.ts';
import type { ReadsPerHour } from './reads-per-hour.ts';
import type { Session, SessionBook } from './sessions.ts';
import type { TlsMaterial } from './tls.ts';
import type { ApiDeps, ApiSettings, Role } from './types.ts';

export type Access = 'public' | 'session' | readonly Role[];

export interface RouteCall {
  readonly req: FastifyRequest;
  readonly reply: FastifyReply;
  /** Present on every route whose access is not 'public'. */
  readonly session: Session | undefined;
  readonly con: ConsoleState;
}

export interface RouteDef {
  /** Stable name: the audit action of data routes and the OpenAPI operationId. */
  readonly id: string;
  readonly method: 'GET' | 'POST';
  readonly url: string;
  readonly summary: string;
  readonly access: Access;
  /** Second factor required (default: true for role routes). */
  readonly mfa?: boolean;
  /** Reads or changes stored detections or the audit log: tamper lock applies, each call is audited. */
  readonly data?: boolean;
  /** Polled by a page on a timer: does not count as activity, so an unattended page still locks. */
  readonly passive?: boolean;
  /** An HTML page: a visitor who is not signed in is sent to the sign-in page. */
  readonly page?: boolean;
  readonly schema?: Pick<FastifySchema, 'body' | 'querystring' | 'params'>;
  readonly handler: (call: RouteCall) => Promise<unknown>;
}

export interface ConsoleState {
  readonly deps: ApiDeps;
  readonly settings: ApiSettings;
  readonly accounts: AccountStore;
  readonly sessions: SessionBook;
  readonly commissioning: Commissioning;
  readonly readsPerHour: ReadsPerHour;
  readonly throttle: AddressThrottle;
  readonly tls: TlsMaterial | undefined;
  now(): number;
  newId(): string;
}

export function needsMfa(r: RouteDef): boolean {
  return r.mfa ?? Array.isArray(r.access);
}

/** The roles a route admits (public and session routes admit every role). */
export function admits(r: RouteDef, role: Role): boolean {
  return r.access === 'public' || r.access === 'session' || r.access.includes(role);
}

// Schema fragments shared by the route files.
export const PURPOSE = { type: 'string', maxLength: 500, description: 'why this access is made (P8, P14); checked in audit' } as const;
export const CASE_NUMBER = { type: 'string', maxLength: 64, description: 'case or incident number (P8)' } as const;
export const ID = { type: 'string', pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$', description: 'UUIDv7' } as const;
export const MS = { type: 'integer', minimum: 0, description: 'ms since epoch' } as const;
