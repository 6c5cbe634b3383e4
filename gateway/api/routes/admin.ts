/** Admin: accounts (create, release a lockout, disable, reset a second factor) and the tamper lock. */
import type { AuditOutcome } from '../../store/audit-log.ts';
import { recordConsole } from '../audit.ts';
import { ApiError } from '../errors.ts';
import { MAX_PASSWORD_LENGTH } from '../passwords.ts';
import type { RouteCall, RouteDef } from '../route-table.ts';
import { ROLES, type Role } from '../types.ts';

const ADMIN = ['admin'] as const;
const userParam = { type: 'object', required: ['username'], properties: { username: { type: 'string', pattern: '^[a-z][a-z0-9._-]{1,31}$' } } } as const;

async function done(c: RouteCall, action: string, target: string, outcome: AuditOutcome = 'ok', detail?: string): Promise<void> {
  await recordConsole(c.con, c.req, c.session?.username ?? '(none)', action, outcome, { terms: { account: target }, ...(detail !== undefined ? { detail } : {}) });
}

export const adminRoutes: readonly RouteDef[] = [
  {
    id: 'accounts.list', method: 'GET', url: '/api/accounts', access: ADMIN, summary: 'Every account (no hashes, no secrets)',
    handler: async ({ con }) => ({ accounts: con.accounts.list() }),
  },
  {
    id: 'accounts.create', method: 'POST', url: '/api/accounts', access: ADMIN, summary: 'Creates an individual account (P7); the user enrols a second factor at first sign-in',
    schema: {
      body: {
        type: 'object', additionalProperties: false, required: ['username', 'role', 'password'],
        properties: {
          username: { type: 'string', pattern: '^[a-z][a-z0-9._-]{1,31}$' },
          role: { type: 'string', enum: [...ROLES] },
          password: { type: 'string', minLength: 1, maxLength: MAX_PASSWORD_LENGTH },
        },
      },
    },
    handler: async (c) => {
      const b = c.req.body as { username: string; role: Role; password: string };
      const a = await c.con.accounts.create(b.username, b.role, b.password, c.session?.username ?? '(none)', c.con.now());
      await done(c, 'account.create', a.username, 'ok', `role ${a.role}`);
      return c.reply.code(201).send({ username: a.username, role: a.role });
    },
  },
  {
    id: 'accounts.release', method: 'POST', url: '/api/accounts/:username/release', access: ADMIN, summary: 'Releases a locked-out account',
    schema: { params: userParam },
    handler: async (c) => {
      const { username } = c.req.params as { username: string };
      await c.con.accounts.release(username);
      await done(c, 'account.release', username);
      return { username, locked: false };
    },
  },
  {
    id: 'accounts.disable', method: 'POST', url: '/api/accounts/:username/disable', access: ADMIN, summary: 'Disables or re-enables an account; its sessions end',
    schema: { params: userParam, body: { type: 'object', additionalProperties: false, required: ['disabled'], properties: { disabled: { type: 'boolean' } } } },
    handler: async (c) => {
      const { username } = c.req.params as { username: string };
      const { disabled } = c.req.body as { disabled: boolean };
      if (username === c.session?.username) throw new ApiError('conflict', 'params.username: an admin cannot disable their own account');
      await c.con.accounts.setDisabled(username, disabled);
      if (disabled) c.con.sessions.endAll(username);
      await done(c, disabled ? 'account.disable' : 'account.enable', username);
      return { username, disabled };
    },
  },
  {
    id: 'accounts.reset-totp', method: 'POST', url: '/api/accounts/:username/reset-totp', access: ADMIN, summary: 'Removes an account\'s second factor (lost phone); it enrols again at next sign-in',
    schema: { params: userParam },
    handler: async (c) => {
      const { username } = c.req.params as { username: string };
      await c.con.accounts.resetTotp(username);
      c.con.sessions.endAll(username);
      await done(c, 'account.reset-totp', username);
      return { username, totpEnrolled: false };
    },
  },
  {
    id: 'tamper.clear', method: 'POST', url: '/api/tamper/clear', access: ADMIN, summary: 'Clears the tamper lock after the enclosure has been checked',
    schema: { body: { type: 'object', additionalProperties: false, required: ['reason'], properties: { reason: { type: 'string', minLength: 3, maxLength: 500 } } } },
    handler: async (c) => {
      const { reason } = c.req.body as { reason: string };
      const was = await c.con.deps.tamper.clearLock(c.session?.username ?? '(none)');
      await recordConsole(c.con, c.req, c.session?.username ?? '(none)', 'tamper.clear', 'ok', { purpose: reason, detail: was ? 'tamper lock cleared' : 'tamper lock was not set' });
      return { locked: c.con.deps.tamper.consoleLocked() };
    },
  },
];
