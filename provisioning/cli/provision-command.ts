/**
 * `alpr provision`: enrol this device now and show the result. Settings come from flags, else from
 * the device's environment (the same ALPR_* variables the gateway reads), so a technician on the
 * balena terminal usually types just `alpr provision`.
 */
import { parseArgs } from 'node:util';
import type { CliIo } from '../../models/eval/cli-io.ts';
import { enrol } from '../enrol.ts';
import { EstClient, EstError } from '../est/client.ts';
import { certificateStatus } from '../expiry.ts';
import { IdentityError, IdentityStore } from '../identity.ts';
import { resolvePem } from '../service.ts';
import { X509Error } from '../x509.ts';

export const PROVISION_USAGE = `usage: alpr provision [--token <t>] [--est-url <https://…>] [--est-ca <pem-file>]
                      [--data-dir <dir>] [--device <id>] [--agency <id>] [--site <text>] [--rekey] [--force] [--json]

Enrols the device with the EST server using a one-time token from security staff, then prints
the certificate it got. Each option defaults to the device variable the gateway reads:
ALPR_ENROLMENT_TOKEN, ALPR_EST_URL, ALPR_EST_CA, ALPR_DATA_DIR, ALPR_DEVICE_ID, ALPR_AGENCY, ALPR_SITE.
A device that already holds a valid certificate is left alone unless --force is given.`;

export async function provisionCommand(argv: readonly string[], io: CliIo, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let v;
  try {
    v = parseArgs({
      args: [...argv],
      options: {
        token: { type: 'string' }, 'est-url': { type: 'string' }, 'est-ca': { type: 'string' }, 'data-dir': { type: 'string' },
        device: { type: 'string' }, agency: { type: 'string' }, site: { type: 'string' }, rekey: { type: 'boolean' }, force: { type: 'boolean' },
        json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
      },
    }).values;
  } catch (err) {
    io.stderr.write(`alpr provision: ${(err as Error).message}\n\n${PROVISION_USAGE}\n`);
    return 64;
  }
  if (v.help) {
    io.stdout.write(`${PROVISION_USAGE}\n`);
    return 0;
  }
  const pick = (flag: string | undefined, name: string): string | undefined => flag ?? (env[name] || undefined);
  const settings = {
    token: pick(v.token, 'ALPR_ENROLMENT_TOKEN'),
    estUrl: pick(v['est-url'], 'ALPR_EST_URL'),
    estCa: pick(v['est-ca'], 'ALPR_EST_CA'),
    dataDir: pick(v['data-dir'], 'ALPR_DATA_DIR'),
    deviceId: pick(v.device, 'ALPR_DEVICE_ID'),
    agency: pick(v.agency, 'ALPR_AGENCY'),
    site: pick(v.site, 'ALPR_SITE'),
  };
  const missing = Object.entries(settings).filter(([k, val]) => val === undefined && k !== 'token').map(([k]) => k);
  if (missing.length) {
    io.stderr.write(`alpr provision: missing ${missing.join(', ')} (give the flag or set the device variable; see --help)\n`);
    return 64;
  }
  const identity = new IdentityStore(settings.dataDir!);
  try {
    const current = await identity.read();
    const before = certificateStatus(current?.leaf, Date.now());
    if ((before.state === 'valid' || before.state === 'expiring') && !v.force) {
      io.stdout.write(v.json ? `${JSON.stringify({ enrolled: false, certificate: before })}\n` : `already enrolled: certificate ${before.serial}, ${before.daysLeft} days left (--force enrols again with a new token)\n`);
      return 0;
    }
    if (!settings.token) {
      io.stderr.write('alpr provision: no enrolment token: ask security staff for one ("alpr ca issue-token <device>") and give --token or set ALPR_ENROLMENT_TOKEN\n');
      return 64;
    }
    const est = new EstClient({ url: settings.estUrl!, trust: resolvePem(settings.estCa!) + (current ? current.caBundle.map((c) => c.toString()).join('') : '') });
    const result = await enrol({ identity, est, device: { deviceId: settings.deviceId!, agency: settings.agency!, site: settings.site! }, now: Date.now }, settings.token, { rekey: v.rekey ?? before.state === 'expired' });
    if (v.json) io.stdout.write(`${JSON.stringify({ enrolled: true, ...result, identityDir: identity.dir })}\n`);
    else {
      io.stdout.write(`enrolled ${settings.deviceId}\n  serial   ${result.serial}\n  subject  ${result.subject}\n  expires  ${new Date(result.notAfter).toISOString()}\n  trust    ${result.caCount} CA certificate(s) in ${identity.path('ca')}\n  identity ${identity.dir} (key never leaves this directory)\n`);
    }
    return 0;
  } catch (err) {
    if (err instanceof EstError || err instanceof IdentityError || err instanceof X509Error) {
      io.stderr.write(`alpr provision: ${err.message}\n  (the identity on disk was not changed)\n`);
      return 1;
    }
    throw err;
  }
}
