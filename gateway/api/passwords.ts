/**
 * Password hashing (scrypt, node:crypto) and the password policy: a minimum length, no password
 * from the bundled list of the most common ones (or that list's word with digits and symbols
 * tacked on), none that spells the user name, none that is one character repeated.
 * Hashes are stored as `scrypt$N$r$p$salt$hash` so the cost can be raised later without
 * invalidating accounts.
 */
import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ApiError } from './errors.ts';

const N = 1 << 15;
const R = 8;
const P = 1;
const KEYLEN = 32;
// 128 · N · r bytes of memory: 32 MiB at these parameters; the default limit is exactly that.
const MAXMEM = 64 * 1024 * 1024;
export const MAX_PASSWORD_LENGTH = 256;

function scrypt(password: string, salt: Buffer, n: number, r: number, p: number): Promise<Buffer> {
  const options: ScryptOptions = { N: n, r, p, maxmem: MAXMEM };
  return new Promise((resolve, reject) => scryptCb(password.normalize('NFKC'), salt, KEYLEN, options, (err, key) => (err ? reject(err) : resolve(key))));
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, N, R, P);
  return ['scrypt', N, R, P, salt.toString('base64'), key.toString('base64')].join('$');
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [n, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  const salt = Buffer.from(parts[4] ?? '', 'base64');
  const expected = Buffer.from(parts[5] ?? '', 'base64');
  const key = await scrypt(password, salt, n, r, p);
  return key.length === expected.length && timingSafeEqual(key, expected);
}

/** A hash of a password nobody has, verified against when the user does not exist (same cost, same time). */
export const DUMMY_HASH = 'scrypt$32768$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';

let common: Set<string> | undefined;
function commonPasswords(): Set<string> {
  common ??= new Set(readFileSync(new URL('./common-passwords.txt', import.meta.url), 'utf8')
    .split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#')));
  return common;
}

/** Why `password` is refused for `username`, or undefined if it is acceptable. */
export function passwordProblem(password: string, username: string, minLength: number): string | undefined {
  if (password.length < minLength) return `at least ${minLength} characters`;
  if (password.length > MAX_PASSWORD_LENGTH) return `at most ${MAX_PASSWORD_LENGTH} characters`;
  const lower = password.toLowerCase();
  const list = commonPasswords();
  const stripped = lower.replace(/[\d\W_]+$/u, '');
  if (list.has(lower) || (stripped !== lower && list.has(stripped))) return 'is one of the most common passwords (compromised); choose another';
  if (/^(.)\1*$/su.test(password)) return 'is one character repeated';
  if (username.length >= 3 && lower.includes(username.toLowerCase())) return 'must not contain the user name';
  return undefined;
}

export function checkPassword(password: string, username: string, minLength: number, field = 'body.password'): void {
  const problem = passwordProblem(password, username, minLength);
  if (problem !== undefined) throw new ApiError('invalid-input', `${field}: ${problem}`);
}
