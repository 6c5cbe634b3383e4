/**
 * Accounts and sessions through the API: first-run setup (no default account), the password
 * policy, lockout after five failures in fifteen minutes until an admin releases it, TOTP with
 * replay refused, the idle lock, secrets at rest.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { totpCode } from '../../../gateway/api/totp.ts';
import { removeTempDirs } from '../gateway/store-fixtures.ts';
import { AccountFileError } from '../../../gateway/api/accounts.ts';
import { buildApi } from '../../../gateway/api/server.ts';
import { PASSWORD, SNAPSHOT, account, closeHarness, cookieOf, harness, signIn, type Harness } from './fixtures.ts';

let h: Harness | undefined;
afterEach(async () => {
  if (h) await closeHarness(h);
  h = undefined;
  removeTempDirs();
});

const login = (x: Harness, username: string, password = PASSWORD) => x.app.inject({ method: 'POST', url: '/api/login', payload: { username, password } });

describe('first-run setup', () => {
  it('starts with no account at all: setup is needed and no credentials work', async () => {
    h = await harness();
    expect((await h.app.inject({ method: 'GET', url: '/api/setup' })).json()).toEqual({ needed: true });
    for (const [u, p] of [['admin', 'admin'], ['admin', 'password'], ['root', 'toor']] as const) expect((await login(h, u, p)).statusCode).toBe(401);
    const root = await h.app.inject({ method: 'GET', url: '/' });
    expect(root.headers.location).toBe('/setup');
  });

  it('refuses weak passwords, naming the field and the reason', async () => {
    h = await harness();
    const cases: [string, string][] = [['short-pw', 'at least 12'], ['Password2026!', 'most common'], ['qwertyuiop123', 'most common'], ['aaaaaaaaaaaaaaaa', 'repeated'], ['chief-admin-2026-x', 'user name']];
    for (const [password, why] of cases) {
      const res = await h.app.inject({ method: 'POST', url: '/api/setup', payload: { username: 'chief-admin', password } });
      expect(res.statusCode, password).toBe(400);
      expect(res.json<{ message: string }>().message).toContain('body.password');
      expect(res.json<{ message: string }>().message).toContain(why);
    }
    expect(h.api.state.accounts.size).toBe(0);
  });

  it('creates the first admin once; a second setup is refused', async () => {
    h = await harness();
    const ok = await h.app.inject({ method: 'POST', url: '/api/setup', payload: { username: 'chief', password: PASSWORD } });
    expect(ok.statusCode).toBe(201);
    expect(ok.json()).toEqual({ username: 'chief', role: 'admin' });
    const again = await h.app.inject({ method: 'POST', url: '/api/setup', payload: { username: 'mallory', password: 'another-strong-pass-99' } });
    expect(again.statusCode).toBe(409);
    expect(h.api.state.accounts.list().map((a) => a.username)).toEqual(['chief']);
  });

  it('keeps accounts on disk: scrypt hashes, TOTP secrets sealed (not the base32 text)', async () => {
    h = await harness();
    await account(h, 'ivy', 'investigator');
    const text = await readFile(join(h.settings.dataDir, 'console', 'accounts.json'), 'utf8');
    expect(text).toContain('"passwordHash": "scrypt$32768$8$1$');
    expect(text).not.toContain(PASSWORD);
    expect(text).not.toContain(h.secrets.get('ivy'));
    expect(text).toContain('totpSealed');
    // A console built again over the same folder and store reads them back and opens the secret.
    const again = await buildApi(h.settings, { store: h.ts.store, status: { snapshot: () => SNAPSHOT }, tamper: h.tamper, clock: h.clock });
    h.clock.t += 30_000;
    expect(await again.state.accounts.checkTotp('ivy', totpCode(h.secrets.get('ivy')!, h.clock.now()), h.clock.now())).toBe(true);
    await again.app.close();
  });
});

describe('lockout', () => {
  it('locks after five failures in fifteen minutes, even against the right password, until an admin releases it', async () => {
    h = await harness();
    await account(h, 'ivy', 'investigator');
    await account(h, 'ada', 'admin');
    for (let i = 1; i <= 4; i++) expect((await login(h, 'ivy', `wrong-password-${i}`)).statusCode).toBe(401);
    const fifth = await login(h, 'ivy', 'wrong-password-5');
    expect(fifth.statusCode).toBe(423);
    expect(fifth.json<{ code: string }>().code).toBe('account-locked');
    h.clock.t += 2 * 3_600_000; // time does not release it
    expect((await login(h, 'ivy')).statusCode).toBe(423);
    const admin = await signIn(h, 'ada');
    const list = await h.app.inject({ method: 'GET', url: '/api/accounts', headers: { cookie: admin } });
    expect(list.json<{ accounts: { username: string; locked: boolean }[] }>().accounts.find((a) => a.username === 'ivy')?.locked).toBe(true);
    const release = await h.app.inject({ method: 'POST', url: '/api/accounts/ivy/release', headers: { cookie: admin }, payload: {} });
    expect(release.statusCode).toBe(200);
    expect((await login(h, 'ivy')).statusCode).toBe(200);
  });

  it('counts only failures within the window', async () => {
    h = await harness();
    await account(h, 'ivy', 'investigator');
    for (let i = 0; i < 4; i++) await login(h, 'ivy', 'wrong-password-x');
    h.clock.t += 16 * 60_000;
    for (let i = 0; i < 4; i++) expect((await login(h, 'ivy', 'wrong-password-y')).statusCode).toBe(401);
    expect((await login(h, 'ivy')).statusCode).toBe(200);
  });

  it('wrong second-factor codes count too', async () => {
    h = await harness();
    await account(h, 'ivy', 'investigator');
    const cookie = cookieOf(await login(h, 'ivy'));
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await h.app.inject({ method: 'POST', url: '/api/login/totp', headers: { cookie }, payload: { code: '000000' } })).statusCode);
    expect(statuses).toEqual([401, 401, 401, 401, 423]);
    expect((await login(h, 'ivy')).statusCode).toBe(423);
  });
});

describe('TOTP', () => {
  it('refuses a code that was already used, and accepts the next one', async () => {
    h = await harness();
    await account(h, 'ivy', 'investigator');
    h.clock.t += 60_000;
    const code = totpCode(h.secrets.get('ivy')!, h.clock.now());
    const first = cookieOf(await login(h, 'ivy'));
    expect((await h.app.inject({ method: 'POST', url: '/api/login/totp', headers: { cookie: first }, payload: { code } })).statusCode).toBe(200);
    const second = cookieOf(await login(h, 'ivy'));
    const replay = await h.app.inject({ method: 'POST', url: '/api/login/totp', headers: { cookie: second }, payload: { code } });
    expect(replay.statusCode).toBe(401);
    expect(replay.json<{ message: string }>().message).toContain('already used');
    h.clock.t += 30_000;
    const next = totpCode(h.secrets.get('ivy')!, h.clock.now());
    expect((await h.app.inject({ method: 'POST', url: '/api/login/totp', headers: { cookie: second }, payload: { code: next } })).statusCode).toBe(200);
  });

  it('enrols at first sign-in: secret and otpauth URI once, confirmed by a code', async () => {
    h = await harness();
    await h.api.state.accounts.create('tess', 'technician', PASSWORD, 'test', h.clock.now());
    const res = await login(h, 'tess');
    expect(res.json<{ secondFactor: string }>().secondFactor).toBe('enrol');
    const cookie = cookieOf(res);
    const enrol = await h.app.inject({ method: 'POST', url: '/api/totp/enrol', headers: { cookie }, payload: {} });
    const { secret, uri } = enrol.json<{ secret: string; uri: string }>();
    expect(uri).toMatch(/^otpauth:\/\/totp\/.*secret=/);
    const denied = await h.app.inject({ method: 'GET', url: '/api/commissioning', headers: { cookie } });
    expect(denied.json<{ code: string }>().code).toBe('mfa-required');
    const ok = await h.app.inject({ method: 'POST', url: '/api/totp/confirm', headers: { cookie }, payload: { code: totpCode(secret, h.clock.now()) } });
    expect(ok.statusCode).toBe(200);
    expect((await h.app.inject({ method: 'GET', url: '/api/commissioning', headers: { cookie } })).statusCode).toBe(200);
    expect((await h.app.inject({ method: 'POST', url: '/api/totp/enrol', headers: { cookie }, payload: {} })).statusCode).toBe(409);
  });
});

describe('session lock', () => {
  it('locks a session idle 30 minutes; password and a fresh code unlock it', async () => {
    h = await harness();
    await account(h, 'ivy', 'investigator');
    const cookie = await signIn(h, 'ivy');
    h.clock.t += 29 * 60_000;
    expect((await h.app.inject({ method: 'GET', url: '/api/me', headers: { cookie } })).statusCode).toBe(200);
    h.clock.t += 30 * 60_000 + 1;
    const locked = await h.app.inject({ method: 'GET', url: '/api/holds?purpose=review', headers: { cookie } });
    expect(locked.statusCode).toBe(401);
    expect(locked.json<{ code: string }>().code).toBe('session-locked');
    const page = await h.app.inject({ method: 'GET', url: '/search', headers: { cookie } });
    expect(page.headers.location).toBe('/login?locked=1');
    const noCode = await h.app.inject({ method: 'POST', url: '/api/session/unlock', headers: { cookie }, payload: { password: PASSWORD } });
    expect(noCode.statusCode).toBe(400);
    const wrong = await h.app.inject({ method: 'POST', url: '/api/session/unlock', headers: { cookie }, payload: { password: 'not-the-password', code: '123456' } });
    expect(wrong.statusCode).toBe(401);
    h.clock.t += 30_000;
    const code = totpCode(h.secrets.get('ivy')!, h.clock.now());
    const unlocked = await h.app.inject({ method: 'POST', url: '/api/session/unlock', headers: { cookie }, payload: { password: PASSWORD, code } });
    expect(unlocked.statusCode).toBe(200);
    expect((await h.app.inject({ method: 'GET', url: '/api/holds?purpose=review', headers: { cookie } })).statusCode).toBe(200);
  });

  it('ends the sessions of an account an admin disables', async () => {
    h = await harness();
    await account(h, 'ivy', 'investigator');
    await account(h, 'ada', 'admin');
    const ivy = await signIn(h, 'ivy');
    const ada = await signIn(h, 'ada');
    expect((await h.app.inject({ method: 'POST', url: '/api/accounts/ivy/disable', headers: { cookie: ada }, payload: { disabled: true } })).statusCode).toBe(200);
    expect((await h.app.inject({ method: 'GET', url: '/api/me', headers: { cookie: ivy } })).statusCode).toBe(401);
    expect((await login(h, 'ivy')).statusCode).toBe(401);
  });

  it('sets the session cookie HttpOnly, Secure, SameSite=Strict and refuses non-JSON bodies', async () => {
    h = await harness();
    await account(h, 'ivy', 'investigator');
    const res = await login(h, 'ivy');
    expect(String(res.headers['set-cookie'])).toMatch(/HttpOnly; Secure; SameSite=Strict/);
    const form = await h.app.inject({ method: 'POST', url: '/api/login', headers: { 'content-type': 'text/plain' }, payload: 'username=ivy' });
    expect(form.statusCode).toBe(415);
    const urlenc = await h.app.inject({ method: 'POST', url: '/api/login', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'username=ivy' });
    expect(urlenc.statusCode).toBe(415);
  });
});

describe('the account file', () => {
  it('deleted after setup: setup is not offered again (the audit log remembers it)', async () => {
    h = await harness();
    expect((await h.app.inject({ method: 'POST', url: '/api/setup', payload: { username: 'chief', password: PASSWORD } })).statusCode).toBe(201);
    await rm(join(h.settings.dataDir, 'console', 'accounts.json'));
    const again = await buildApi(h.settings, { store: h.ts.store, status: { snapshot: () => SNAPSHOT }, tamper: h.tamper, clock: h.clock });
    try {
      const status = (await again.app.inject({ method: 'GET', url: '/api/setup' })).json<{ needed: boolean; problem: string }>();
      expect(status.needed).toBe(false);
      expect(status.problem).toContain('account file is missing');
      const res = await again.app.inject({ method: 'POST', url: '/api/setup', payload: { username: 'mallory', password: 'another-strong-pass-99' } });
      expect(res.statusCode).toBe(409);
      expect(res.json<{ message: string }>().message).toContain('restore');
    } finally {
      await again.app.close();
    }
  });

  it('unreadable: the console refuses to start rather than offer setup over it', async () => {
    h = await harness();
    await account(h, 'ada', 'admin');
    await writeFile(join(h.settings.dataDir, 'console', 'accounts.json'), '{"v":1,"accounts":');
    await expect(buildApi(h.settings, { store: h.ts.store, status: { snapshot: () => SNAPSHOT }, tamper: h.tamper, clock: h.clock })).rejects.toThrow(AccountFileError);
  });
});

it('a page polling on a timer does not keep an unattended session awake', async () => {
  h = await harness();
  await account(h, 'tess', 'technician');
  const cookie = await signIn(h, 'tess');
  for (let i = 0; i < 40; i++) {
    h.clock.t += 60_000;
    const poll = await h.app.inject({ method: 'GET', url: '/api/commissioning', headers: { cookie } });
    if (i < 30) expect(poll.statusCode).toBe(200);
    else expect(poll.json<{ code: string }>().code).toBe('session-locked');
  }
});

it('a refused sign-in under an unknown name is recorded without the typed name (it may be a password)', async () => {
  h = await harness();
  await account(h, 'ivy', 'investigator');
  await login(h, 'violet-harbour-typed-in-name-field', 'x');
  await login(h, 'ivy', 'wrong-password-here');
  const page = await h.ts.store.readAudit({ user: 'test', source: 'test', purpose: 'check sign-in records' }, { action: 'session.login' });
  expect(page.entries.map((e) => [e.user, e.outcome])).toEqual([['ivy', 'refused'], ['(unknown user)', 'refused']]);
  expect(JSON.stringify(page.entries)).not.toContain('violet-harbour-typed');
});

it('one address spraying guesses over many names is throttled (429) after twenty failures', async () => {
  h = await harness();
  await account(h, 'ivy', 'investigator');
  const statuses: number[] = [];
  for (let i = 0; i < 21; i++) statuses.push((await login(h, `guess${i}`, 'wrong-password-here')).statusCode);
  expect(statuses.slice(0, 20).every((s) => s === 401)).toBe(true);
  expect(statuses[20]).toBe(429);
  expect((await login(h, 'ivy')).statusCode).toBe(429); // even the right password, from that address
  h.clock.t += 16 * 60_000;
  expect((await login(h, 'ivy')).statusCode).toBe(200);
});

it('a user changes their own password: the current one is required, the policy applies, the old one stops working', async () => {
  h = await harness();
  await account(h, 'ivy', 'investigator');
  const cookie = await signIn(h, 'ivy');
  const change = (currentPassword: string, newPassword: string) => h!.app.inject({ method: 'POST', url: '/api/password', headers: { cookie }, payload: { currentPassword, newPassword } });
  expect((await change('not-my-password', 'saffron-glacier-tunnel-58')).statusCode).toBe(401);
  const weak = await change(PASSWORD, 'password2026!');
  expect(weak.statusCode).toBe(400);
  expect(weak.json<{ message: string }>().message).toContain('body.newPassword');
  expect((await change(PASSWORD, 'saffron-glacier-tunnel-58')).statusCode).toBe(200);
  expect((await login(h, 'ivy')).statusCode).toBe(401);
  expect((await login(h, 'ivy', 'saffron-glacier-tunnel-58')).statusCode).toBe(200);
});
