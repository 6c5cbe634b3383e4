/**
 * Console sessions, in memory (a restart signs everyone out, which is the safe direction). The
 * token is 32 random bytes in an HttpOnly, Secure, SameSite=Strict cookie. A session idle longer
 * than the configured minutes is locked (CJIS 5.5.5): it answers nothing until its user gives
 * the password again (and a fresh TOTP code if the session had one). Sessions end after 12 hours
 * regardless.
 */
import { ApiError } from './errors.ts';
import type { Role } from './types.ts';

export interface Inquiry {
  readonly id: string;
  readonly caseNumber: string;
  readonly purpose: string;
  /** Detection id → storage day: what this inquiry's results may open. */
  readonly results: ReadonlyMap<string, string>;
}

export interface Session {
  readonly token: string;
  readonly username: string;
  readonly role: Role;
  readonly address: string;
  readonly createdAt: number;
  lastSeen: number;
  /** Second factor given in this session. */
  mfa: boolean;
  locked: boolean;
  /** Recent searches (newest last), so result images open only under a documented purpose. */
  readonly inquiries: Inquiry[];
}

export const MAX_AGE_MS = 12 * 3_600_000;
const MAX_INQUIRIES = 20;
export const COOKIE = 'alpr_session';

export class SessionBook {
  private readonly sessions = new Map<string, Session>();

  constructor(private readonly idleMs: number, private readonly random: (n: number) => Uint8Array) {}

  create(username: string, role: Role, address: string, now: number): Session {
    this.sweep(now);
    const token = Buffer.from(this.random(32)).toString('base64url');
    const s: Session = { token, username, role, address, createdAt: now, lastSeen: now, mfa: false, locked: false, inquiries: [] };
    this.sessions.set(token, s);
    return s;
  }

  /** The session for a token: locked if idle too long; touched otherwise (unless `passive`). */
  use(token: string | undefined, now: number, passive = false): Session {
    const s = token === undefined ? undefined : this.sessions.get(token);
    if (!s || now - s.createdAt > MAX_AGE_MS) {
      if (s) this.sessions.delete(s.token);
      throw new ApiError('unauthenticated', 'sign in first');
    }
    if (!s.locked && now - s.lastSeen > this.idleMs) s.locked = true;
    if (s.locked) throw new ApiError('session-locked', 'the session was locked after inactivity; enter your password to unlock it');
    if (!passive) s.lastSeen = now;
    return s;
  }

  /** The session for a token, locked or not (the unlock route). */
  peek(token: string | undefined, now: number): Session | undefined {
    const s = token === undefined ? undefined : this.sessions.get(token);
    if (s && now - s.createdAt > MAX_AGE_MS) {
      this.sessions.delete(s.token);
      return undefined;
    }
    if (s && !s.locked && now - s.lastSeen > this.idleMs) s.locked = true;
    return s;
  }

  unlock(s: Session, now: number): void {
    s.locked = false;
    s.lastSeen = now;
  }

  end(token: string): void {
    this.sessions.delete(token);
  }

  /** Every session of a user ends (account disabled, locked out, second factor reset). */
  endAll(username: string): void {
    for (const s of [...this.sessions.values()]) if (s.username === username) this.sessions.delete(s.token);
  }

  remember(s: Session, inquiry: Inquiry): void {
    s.inquiries.push(inquiry);
    if (s.inquiries.length > MAX_INQUIRIES) s.inquiries.shift();
  }

  private sweep(now: number): void {
    for (const s of [...this.sessions.values()]) if (now - s.createdAt > MAX_AGE_MS) this.sessions.delete(s.token);
  }
}

export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return undefined;
}

export function sessionCookie(token: string): string {
  return `${COOKIE}=${token}; Path=/; HttpOnly; Secure; SameSite=Strict`;
}

export const CLEAR_COOKIE = `${COOKIE}=; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=0`;
