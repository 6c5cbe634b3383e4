/**
 * Individual accounts (P7, P9): one file, `{dataDir}/console/accounts.json`, rewritten whole on
 * every change (temp name, fsync, rename) so a yanked cable leaves the old file or the new one.
 * Passwords are scrypt hashes; TOTP secrets are sealed (AES-256-GCM) under a key the store
 * derives from the device master key, so the card alone does not give them away. There is no
 * default account: the first admin is created by first-run setup, and only while none exists.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fromUtf8, open, seal, utf8 } from '../store/crypto.ts';
import { writeFileDurable } from '../store/key-files.ts';
import { Mutex } from '../store/mutex.ts';
import { ApiError } from './errors.ts';
import { afterFailure, type LockoutPolicy } from './lockout.ts';
import { DUMMY_HASH, checkPassword, hashPassword, verifyPassword } from './passwords.ts';
import { newTotpSecret, totpStep } from './totp.ts';
import { ROLES, type Role } from './types.ts';

export interface Account {
  readonly username: string;
  readonly role: Role;
  readonly passwordHash: string;
  readonly createdAt: number;
  readonly createdBy: string;
  /** base64 of the sealed base32 secret. */
  readonly totpSealed?: string;
  readonly totpEnrolledAt?: number;
  /** The last TOTP time step accepted: no code of that step or earlier is accepted again. */
  readonly totpLastStep?: number;
  readonly failures: readonly number[];
  readonly lockedAt?: number;
  readonly disabled?: boolean;
}

/** What the admin page and the API show: never a hash or a secret. */
export interface AccountView {
  readonly username: string;
  readonly role: Role;
  readonly createdAt: number;
  readonly createdBy: string;
  readonly totpEnrolled: boolean;
  readonly locked: boolean;
  readonly lockedAt?: number;
  readonly recentFailures: number;
  readonly disabled: boolean;
}

interface AccountFile {
  readonly v: 1;
  readonly accounts: Record<string, Account>;
}

export interface AccountsOptions {
  readonly dir: string;
  /** 32 bytes: seals TOTP secrets (DetectionStore.deriveKey('console-totp')). */
  readonly secretKey: Buffer;
  readonly random: (n: number) => Uint8Array;
  readonly lockout: LockoutPolicy;
  readonly minPasswordLength: number;
}

/**
 * The account file exists but cannot be read. The console does not start (the gateway goes on):
 * starting empty would offer first-run setup — an admin account — to whoever connects first.
 */
export class AccountFileError extends Error {
  override readonly name = 'AccountFileError';
}

export const USERNAME = /^[a-z][a-z0-9._-]{1,31}$/;

export function view(a: Account): AccountView {
  return {
    username: a.username, role: a.role, createdAt: a.createdAt, createdBy: a.createdBy,
    totpEnrolled: a.totpEnrolledAt !== undefined, locked: a.lockedAt !== undefined,
    ...(a.lockedAt !== undefined ? { lockedAt: a.lockedAt } : {}),
    recentFailures: a.failures.length, disabled: a.disabled === true,
  };
}

export class AccountStore {
  private accounts = new Map<string, Account>();
  private readonly writes = new Mutex();
  private readonly path: string;
  private setupBlocked: string | undefined;

  constructor(private readonly o: AccountsOptions) {
    this.path = join(o.dir, 'accounts.json');
  }

  async load(): Promise<void> {
    await mkdir(this.o.dir, { recursive: true, mode: 0o700 });
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return; // first run: no accounts yet
      throw err;
    }
    let doc: AccountFile;
    try {
      doc = JSON.parse(text) as AccountFile;
    } catch (err) {
      throw new AccountFileError(`${this.path}: not valid JSON (${(err as Error).message})`);
    }
    if (doc.v !== 1 || typeof doc.accounts !== 'object' || doc.accounts === null) throw new AccountFileError(`${this.path}: not a version-1 account file`);
    this.accounts = new Map(Object.entries(doc.accounts));
  }

  /**
   * Refuses first-run setup: used when the audit log shows setup was done before but the account
   * file is gone. Deleting the file must not hand the next visitor an admin account.
   */
  blockSetup(reason: string): void {
    this.setupBlocked = reason;
  }

  /** Why setup is refused although no account exists, if it is. */
  get setupProblem(): string | undefined {
    return this.setupBlocked;
  }

  get size(): number {
    return this.accounts.size;
  }

  get(username: string): Account | undefined {
    return this.accounts.get(username);
  }

  list(): AccountView[] {
    return [...this.accounts.values()].sort((a, b) => a.username.localeCompare(b.username)).map(view);
  }

  /** First-run setup: the first admin, only while there are no accounts at all. */
  async setup(username: string, password: string, now: number): Promise<Account> {
    return this.writes.run(async () => {
      if (this.accounts.size > 0) throw new ApiError('setup-done', 'setup is already done: an admin exists; sign in');
      if (this.setupBlocked !== undefined) throw new ApiError('setup-done', this.setupBlocked);
      return this.insert(username, 'admin', password, 'first-run setup', now);
    });
  }

  async create(username: string, role: Role, password: string, by: string, now: number): Promise<Account> {
    return this.writes.run(async () => {
      if (this.accounts.has(username)) throw new ApiError('conflict', `body.username: ${username} already exists`);
      return this.insert(username, role, password, by, now);
    });
  }

  /**
   * Password check with lockout. Unknown users cost the same scrypt time and get the same answer
   * as a wrong password, so the sign-in page does not tell which user names exist.
   */
  async checkPassword(username: string, password: string, now: number): Promise<Account> {
    const a = this.accounts.get(username);
    const ok = await verifyPassword(password, a?.passwordHash ?? DUMMY_HASH);
    if (!a || a.disabled) throw new ApiError('unauthenticated', 'user name or password is wrong');
    if (a.lockedAt !== undefined) throw new ApiError('account-locked', 'this account is locked after repeated failed sign-ins; an admin must release it');
    if (!ok) {
      await this.fail(a.username, now);
      throw this.accounts.get(a.username)?.lockedAt !== undefined
        ? new ApiError('account-locked', 'this account is now locked after repeated failed sign-ins; an admin must release it')
        : new ApiError('unauthenticated', 'user name or password is wrong');
    }
    if (a.failures.length) await this.update(a.username, (x) => ({ ...x, failures: [] }));
    return this.accounts.get(a.username) ?? a;
  }

  /** The user's own change: the current password is checked (and counts towards the lockout). */
  async changePassword(username: string, current: string, next: string, now: number): Promise<void> {
    await this.checkPassword(username, current, now);
    checkPassword(next, username, this.o.minPasswordLength, 'body.newPassword');
    if (next === current) throw new ApiError('invalid-input', 'body.newPassword: must differ from the current password');
    const hash = await hashPassword(next);
    await this.update(username, (a) => ({ ...a, passwordHash: hash }));
  }

  /** A wrong second factor counts towards the lockout like a wrong password. */
  async fail(username: string, now: number): Promise<void> {
    await this.update(username, (a) => {
      const { failures, lock } = afterFailure(a.failures, now, this.o.lockout);
      return { ...a, failures, ...(lock && a.lockedAt === undefined ? { lockedAt: now } : {}) };
    });
  }

  async release(username: string): Promise<void> {
    if (!this.accounts.has(username)) throw new ApiError('not-found', `account ${username} not found`);
    await this.update(username, (a) => {
      const { lockedAt: _gone, ...rest } = a;
      return { ...rest, failures: [] };
    });
  }

  async setDisabled(username: string, disabled: boolean): Promise<void> {
    if (!this.accounts.has(username)) throw new ApiError('not-found', `account ${username} not found`);
    await this.update(username, (a) => ({ ...a, disabled }));
  }

  /** Starts (or restarts, before it is confirmed) TOTP enrolment: returns the new secret once. */
  async beginTotp(username: string): Promise<string> {
    const a = this.must(username);
    if (a.totpEnrolledAt !== undefined) throw new ApiError('conflict', 'a second factor is already enrolled for this account; an admin can reset it');
    const secret = newTotpSecret(this.o.random);
    await this.update(username, (x) => ({ ...x, totpSealed: this.sealSecret(username, secret) }));
    return secret;
  }

  /** Confirms enrolment with a first code, or checks a code; a used (or older) step is refused. */
  async checkTotp(username: string, code: string, now: number): Promise<boolean> {
    const a = this.must(username);
    if (a.lockedAt !== undefined) throw new ApiError('account-locked', 'this account is locked after repeated failed sign-ins; an admin must release it');
    if (a.totpSealed === undefined) throw new ApiError('conflict', 'no second factor is enrolled yet');
    const step = totpStep(this.openSecret(username, a.totpSealed), code, now);
    if (step === undefined || (a.totpLastStep !== undefined && step <= a.totpLastStep)) {
      await this.fail(username, now);
      return false;
    }
    await this.update(username, (x) => ({ ...x, totpLastStep: step, failures: [], ...(x.totpEnrolledAt === undefined ? { totpEnrolledAt: now } : {}) }));
    return true;
  }

  async resetTotp(username: string): Promise<void> {
    this.must(username);
    await this.update(username, (a) => {
      const { totpSealed: _s, totpEnrolledAt: _e, totpLastStep: _l, ...rest } = a;
      return rest;
    });
  }

  private must(username: string): Account {
    const a = this.accounts.get(username);
    if (!a) throw new ApiError('not-found', `account ${username} not found`);
    return a;
  }

  private async insert(username: string, role: Role, password: string, by: string, now: number): Promise<Account> {
    if (!USERNAME.test(username)) throw new ApiError('invalid-input', 'body.username: 2–32 of a–z, 0–9, dot, dash, underscore, starting with a letter');
    if (!ROLES.includes(role)) throw new ApiError('invalid-input', `body.role: one of ${ROLES.join(', ')}`);
    checkPassword(password, username, this.o.minPasswordLength);
    const account: Account = { username, role, passwordHash: await hashPassword(password), createdAt: now, createdBy: by, failures: [] };
    this.accounts.set(username, account);
    await this.persist();
    return account;
  }

  private async update(username: string, change: (a: Account) => Account): Promise<void> {
    await this.writes.run(async () => {
      const a = this.accounts.get(username);
      if (!a) return;
      this.accounts.set(username, change(a));
      await this.persist();
    });
  }

  private sealSecret(username: string, secret: string): string {
    return seal(this.o.secretKey, utf8(secret), `totp!${username}`, this.o.random).toString('base64');
  }

  private openSecret(username: string, sealed: string): string {
    return fromUtf8(open(this.o.secretKey, Buffer.from(sealed, 'base64'), `totp!${username}`));
  }

  private async persist(): Promise<void> {
    const doc: AccountFile = { v: 1, accounts: Object.fromEntries(this.accounts) };
    await writeFileDurable(this.path, JSON.stringify(doc, null, 1));
  }
}
