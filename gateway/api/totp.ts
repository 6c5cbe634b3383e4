/**
 * TOTP (RFC 6238: HMAC-SHA1, 6 digits, 30 s steps) through otpauth. A code is accepted one step
 * either side of now (clock drift between the pole and a phone) and returns its time step, so the
 * caller can refuse any step at or before the last one used: a code seen over a shoulder or in a
 * proxy log is worth nothing once it has been used.
 */
import { Secret, TOTP } from 'otpauth';

export const PERIOD = 30;

export function newTotpSecret(random: (n: number) => Uint8Array): string {
  return new Secret({ buffer: Uint8Array.from(random(20)).buffer }).base32;
}

/** The otpauth:// URI an authenticator app takes (typed in or scanned). */
export function totpUri(secretBase32: string, account: string, issuer: string): string {
  return new TOTP({ issuer, label: account, secret: Secret.fromBase32(secretBase32), period: PERIOD, digits: 6, algorithm: 'SHA1' }).toString();
}

/** The time step the code belongs to, or undefined if it matches none within ±1 step of `now`. */
export function totpStep(secretBase32: string, code: string, now: number): number | undefined {
  if (!/^\d{6}$/.test(code)) return undefined;
  const delta = TOTP.validate({ token: code, secret: Secret.fromBase32(secretBase32), period: PERIOD, digits: 6, algorithm: 'SHA1', timestamp: now, window: 1 });
  if (delta === null) return undefined;
  return TOTP.counter({ period: PERIOD, timestamp: now }) + delta;
}

/** The current code (tests and the e2e's stand-in for a phone). */
export function totpCode(secretBase32: string, now: number): string {
  return TOTP.generate({ secret: Secret.fromBase32(secretBase32), period: PERIOD, digits: 6, algorithm: 'SHA1', timestamp: now });
}
