/** First-run setup, sign-in with password then TOTP, TOTP enrolment, unlock, sign-out. */
import { ApiError } from '../errors.ts';
import { recordConsole } from '../audit.ts';
import type { RouteCall, RouteDef } from '../route-table.ts';
import { CLEAR_COOKIE, COOKIE, readCookie, sessionCookie } from '../sessions.ts';
import { totpUri } from '../totp.ts';
import { MAX_PASSWORD_LENGTH } from '../passwords.ts';

const credentials = {
  type: 'object', additionalProperties: false, required: ['username', 'password'],
  properties: { username: { type: 'string', minLength: 1, maxLength: 64 }, password: { type: 'string', minLength: 1, maxLength: MAX_PASSWORD_LENGTH } },
} as const;
const code = { type: 'object', additionalProperties: false, required: ['code'], properties: { code: { type: 'string', pattern: '^[0-9]{6}$', description: 'the 6-digit code from the authenticator app' } } } as const;

function signedIn(c: RouteCall) {
  if (!c.session) throw new ApiError('unauthenticated', 'sign in first');
  return c.session;
}

export const authRoutes: readonly RouteDef[] = [
  {
    id: 'setup.status', method: 'GET', url: '/api/setup', access: 'public', summary: 'Whether first-run setup is still needed (no account exists)',
    handler: async ({ con }) => {
      const problem = con.accounts.setupProblem;
      return { needed: con.accounts.size === 0 && problem === undefined, ...(problem !== undefined && con.accounts.size === 0 ? { problem } : {}) };
    },
  },
  {
    id: 'setup.create', method: 'POST', url: '/api/setup', access: 'public', summary: 'First-run setup: creates the first admin (only while no account exists)',
    schema: { body: credentials },
    handler: async ({ con, req, reply }) => {
      const { username, password } = req.body as { username: string; password: string };
      const a = await con.accounts.setup(username, password, con.now());
      await recordConsole(con, req, a.username, 'account.setup', 'ok', { terms: { role: 'admin' }, detail: 'first admin created by first-run setup' });
      return reply.code(201).send({ username: a.username, role: a.role });
    },
  },
  {
    id: 'session.login', method: 'POST', url: '/api/login', access: 'public', summary: 'Sign in with user name and password; the second factor follows',
    schema: { body: credentials },
    handler: async ({ con, req, reply }) => {
      const { username, password } = req.body as { username: string; password: string };
      if (!con.throttle.allowed(req.ip, con.now())) {
        await recordConsole(con, req, '(throttled)', 'session.login', 'refused', { detail: 'too many failed sign-ins from this address' });
        throw new ApiError('throttled', 'too many failed sign-ins from this address; try again later');
      }
      let account;
      try {
        account = await con.accounts.checkPassword(username, password, con.now());
      } catch (err) {
        con.throttle.fail(req.ip, con.now());
        // An unknown name is not written out: people type their password into the name field.
        const known = con.accounts.get(username) !== undefined;
        if (err instanceof ApiError) await recordConsole(con, req, known ? username : '(unknown user)', 'session.login', 'refused', { detail: err.message });
        throw err;
      }
      const s = con.sessions.create(account.username, account.role, req.ip, con.now());
      await recordConsole(con, req, account.username, 'session.login', 'ok', { detail: 'password accepted; second factor pending' });
      return reply.header('set-cookie', sessionCookie(s.token)).send({ username: s.username, role: s.role, secondFactor: account.totpEnrolledAt !== undefined ? 'required' : 'enrol' });
    },
  },
  {
    id: 'session.totp', method: 'POST', url: '/api/login/totp', access: 'session', mfa: false, summary: 'Second factor: a TOTP code (each code is accepted once)',
    schema: { body: code },
    handler: async (c) => {
      const s = signedIn(c);
      const a = c.con.accounts.get(s.username);
      if (a?.totpEnrolledAt === undefined) throw new ApiError('conflict', 'no second factor is enrolled yet: enrol one first');
      const ok = await c.con.accounts.checkTotp(s.username, (c.req.body as { code: string }).code, c.con.now());
      if (!ok) {
        const locked = c.con.accounts.get(s.username)?.lockedAt !== undefined;
        await recordConsole(c.con, c.req, s.username, 'session.totp', 'refused', { detail: locked ? 'wrong or reused code; account locked' : 'wrong or reused code' });
        if (locked) c.con.sessions.endAll(s.username);
        throw locked ? new ApiError('account-locked', 'this account is now locked after repeated failed sign-ins; an admin must release it') : new ApiError('unauthenticated', 'body.code: wrong, expired or already used');
      }
      s.mfa = true;
      await recordConsole(c.con, c.req, s.username, 'session.totp', 'ok');
      return { username: s.username, role: s.role, mfa: true };
    },
  },
  {
    id: 'totp.enrol', method: 'POST', url: '/api/totp/enrol', access: 'session', mfa: false, summary: 'Starts TOTP enrolment: returns the secret and otpauth URI once',
    handler: async (c) => {
      const s = signedIn(c);
      const secret = await c.con.accounts.beginTotp(s.username);
      return { secret, uri: totpUri(secret, s.username, `ALPR ${c.con.settings.deviceId}`) };
    },
  },
  {
    id: 'totp.confirm', method: 'POST', url: '/api/totp/confirm', access: 'session', mfa: false, summary: 'Confirms TOTP enrolment with a first code; the session then has its second factor',
    schema: { body: code },
    handler: async (c) => {
      const s = signedIn(c);
      const a = c.con.accounts.get(s.username);
      if (a?.totpSealed === undefined || a.totpEnrolledAt !== undefined) throw new ApiError('conflict', 'no enrolment in progress');
      if (!(await c.con.accounts.checkTotp(s.username, (c.req.body as { code: string }).code, c.con.now()))) {
        await recordConsole(c.con, c.req, s.username, 'totp.enrol', 'refused', { detail: 'wrong code' });
        throw new ApiError('unauthenticated', 'body.code: wrong or expired; check the phone\'s clock and try the next code');
      }
      s.mfa = true;
      await recordConsole(c.con, c.req, s.username, 'totp.enrol', 'ok');
      return { username: s.username, role: s.role, mfa: true };
    },
  },
  {
    id: 'session.unlock', method: 'POST', url: '/api/session/unlock', access: 'public', summary: 'Unlocks a session locked after inactivity (password, and a code if it had the second factor)',
    schema: { body: { type: 'object', additionalProperties: false, required: ['password'], properties: { password: credentials.properties.password, code: code.properties.code } } },
    handler: async ({ con, req }) => {
      const s = con.sessions.peek(readCookie(req.headers.cookie, COOKIE), con.now());
      if (!s) throw new ApiError('unauthenticated', 'sign in first');
      const body = req.body as { password: string; code?: string };
      await con.accounts.checkPassword(s.username, body.password, con.now()).catch(async (err: unknown) => {
        await recordConsole(con, req, s.username, 'session.unlock', 'refused', { detail: (err as Error).message });
        throw err;
      });
      if (s.mfa) {
        if (body.code === undefined) throw new ApiError('invalid-input', 'body.code: is required (this session had its second factor)');
        if (!(await con.accounts.checkTotp(s.username, body.code, con.now()))) {
          await recordConsole(con, req, s.username, 'session.unlock', 'refused', { detail: 'wrong or reused code' });
          throw new ApiError('unauthenticated', 'body.code: wrong, expired or already used');
        }
      }
      con.sessions.unlock(s, con.now());
      await recordConsole(con, req, s.username, 'session.unlock', 'ok');
      return { username: s.username, role: s.role, mfa: s.mfa };
    },
  },
  {
    id: 'session.logout', method: 'POST', url: '/api/logout', access: 'public', summary: 'Signs out',
    handler: async ({ con, req, reply }) => {
      const token = readCookie(req.headers.cookie, COOKIE);
      const s = con.sessions.peek(token, con.now());
      if (token !== undefined) con.sessions.end(token);
      if (s) await recordConsole(con, req, s.username, 'session.logout', 'ok');
      return reply.header('set-cookie', CLEAR_COOKIE).send({ ok: true });
    },
  },
  {
    id: 'password.change', method: 'POST', url: '/api/password', access: 'session', mfa: true, summary: 'Changes the signed-in user\'s own password (the current one is required)',
    schema: {
      body: {
        type: 'object', additionalProperties: false, required: ['currentPassword', 'newPassword'],
        properties: { currentPassword: credentials.properties.password, newPassword: credentials.properties.password },
      },
    },
    handler: async (c) => {
      const s = signedIn(c);
      const b = c.req.body as { currentPassword: string; newPassword: string };
      try {
        await c.con.accounts.changePassword(s.username, b.currentPassword, b.newPassword, c.con.now());
      } catch (err) {
        await recordConsole(c.con, c.req, s.username, 'password.change', 'refused', { detail: (err as Error).message });
        if (c.con.accounts.get(s.username)?.lockedAt !== undefined) c.con.sessions.endAll(s.username);
        throw err;
      }
      await recordConsole(c.con, c.req, s.username, 'password.change', 'ok');
      return { username: s.username, changed: true };
    },
  },
  {
    id: 'session.me', method: 'GET', url: '/api/me', access: 'session', mfa: false, summary: 'Who is signed in, and whether the second factor was given',
    handler: async (c) => {
      const s = signedIn(c);
      const a = c.con.accounts.get(s.username);
      return { username: s.username, role: s.role, mfa: s.mfa, totpEnrolled: a?.totpEnrolledAt !== undefined, tamperLocked: c.con.deps.tamper.consoleLocked() };
    },
  },
];
