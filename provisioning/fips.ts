/**
 * The FIPS switch. CJIS asks for FIPS 140-validated cryptography; Node provides it only when its
 * OpenSSL runs with a validated FIPS provider (`node --enable-fips`, or `--force-fips`, with an
 * openssl.cnf that loads the provider). With `security.requireFips` the gateway refuses to start
 * unless `crypto.getFips()` says that mode is on. Off by default (docs/provisioning.md).
 */
import { getFips } from 'node:crypto';

export class FipsError extends Error {
  override readonly name = 'FipsError';
}

export function assertFips(required: boolean, fipsMode: () => number = getFips): void {
  if (!required) return;
  if (fipsMode() !== 1) {
    throw new FipsError(
      'security.requireFips (ALPR_REQUIRE_FIPS) is set but Node crypto is not in FIPS mode: start node with --enable-fips '
      + 'and an OpenSSL configuration that loads a validated FIPS provider (see docs/provisioning.md), or unset the switch',
    );
  }
}
