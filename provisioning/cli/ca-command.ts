/** `alpr ca …`: the reference enrolment CA for security staff. */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import type { CliIo } from '../../models/eval/cli-io.ts';
import { CertificateAuthority, EnrolmentError } from '../ca/authority.ts';
import { CaStateError } from '../ca/state.ts';
import { startEstServer } from '../est/server.ts';
import { serialHex, X509Error, type RevocationReason } from '../x509.ts';
import { writeFileAtomic } from '../atomic-file.ts';

export const CA_USAGE = `usage: alpr ca <subcommand> --dir <ca-dir> [options]

  init         --agency <id> [--device-days 90] [--ca-days 3650] [--dns host,..] [--ip addr,..]
               make the CA: root key (0600) and certificate, the EST server's TLS certificate
  issue-token  <device-id> [--ttl-hours 168]
               a one-time enrolment token for one device (printed once; only its hash is kept)
  revoke       <serial | device-id> [--reason keyCompromise|superseded|cessationOfOperation|unspecified]
               revoke one certificate, or every unexpired one of a device; the CRL is republished
  crl          [--out <file>] [--days 7]
               publish the CRL(s) (one per trusted root) to crl.pem in the CA directory, or --out
  rotate-ca    [--overlap-days 30]   start a CA rotation (old and new roots trusted meanwhile)
  rotate-ca    --finish [--dns ..] [--ip ..]   end it: the old root is retired
  list         the issued certificates and whether each is revoked
  serve        [--host 127.0.0.1] [--port 8443]   run the EST server (RFC 7030) until stopped

Give --json for machine-readable output.`;

const REASONS = ['unspecified', 'keyCompromise', 'superseded', 'cessationOfOperation'];

export async function caCommand(argv: readonly string[], io: CliIo, signal?: AbortSignal): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === '--help' || sub === '-h' || sub === 'help') {
    io.stdout.write(`${CA_USAGE}\n`);
    return 0;
  }
  let parsed;
  try {
    parsed = parseArgs({
      args: [...rest], allowPositionals: true,
      options: {
        dir: { type: 'string' }, agency: { type: 'string' }, 'device-days': { type: 'string' }, 'ca-days': { type: 'string' },
        dns: { type: 'string' }, ip: { type: 'string' }, 'ttl-hours': { type: 'string' }, reason: { type: 'string' },
        out: { type: 'string' }, days: { type: 'string' }, 'overlap-days': { type: 'string' }, finish: { type: 'boolean' },
        host: { type: 'string' }, port: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    io.stderr.write(`alpr ca: ${(err as Error).message}\n\n${CA_USAGE}\n`);
    return 64;
  }
  const v = parsed.values;
  const subs = ['init', 'issue-token', 'revoke', 'crl', 'rotate-ca', 'list', 'serve'];
  if (v.help || !subs.includes(sub ?? '')) {
    (v.help ? io.stdout : io.stderr).write(`${sub && !v.help ? `alpr ca: unknown subcommand ${JSON.stringify(sub)}\n\n` : ''}${CA_USAGE}\n`);
    return v.help ? 0 : 64;
  }
  if (!v.dir) {
    io.stderr.write('alpr ca: --dir <ca-dir> is required (where the CA keeps its key, state and CRL)\n');
    return 64;
  }
  const number = (name: string, raw: string | undefined, fallback: number): number => {
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isFinite(n) || n <= 0) throw new UsageError(`--${name}: expected a positive number, got ${JSON.stringify(raw)}`);
    return n;
  };
  const csv = (raw: string | undefined, fallback: string[]): string[] => (raw === undefined ? fallback : raw.split(',').map((s) => s.trim()).filter(Boolean));
  const ca = new CertificateAuthority(resolve(io.cwd, v.dir));
  const say = (value: unknown, text: string): void => void io.stdout.write(v.json ? `${JSON.stringify(value)}\n` : `${text}\n`);
  try {
    switch (sub ?? '') {
      case 'init': {
        if (!v.agency) throw new UsageError('init needs --agency <id>');
        const root = await ca.init({
          agency: v.agency, deviceValidityDays: number('device-days', v['device-days'], 90), caValidityDays: number('ca-days', v['ca-days'], 3650),
          serverDns: csv(v.dns, ['localhost']), serverIps: csv(v.ip, ['127.0.0.1']),
        });
        say({ serial: serialHex(root), notAfter: root.validTo, fingerprint: root.fingerprint256, caCert: ca.file('cert') },
          `CA created in ${ca.dir}\n  root ${serialHex(root)} valid until ${root.validTo}\n  SHA-256 ${root.fingerprint256}\n  devices trust it through ALPR_EST_CA (the PEM in ${ca.file('cert')})`);
        return 0;
      }
      case 'issue-token': {
        const device = parsed.positionals[0];
        if (!device) throw new UsageError('issue-token needs the device id');
        const hours = number('ttl-hours', v['ttl-hours'], 168);
        const token = await ca.issueToken(device, hours * 3_600_000);
        say({ device, token, expiresInHours: hours }, `${token}\n(one-time enrolment token for ${device}, valid ${hours} h: set it as the device variable ALPR_ENROLMENT_TOKEN)`);
        return 0;
      }
      case 'revoke': {
        const target = parsed.positionals[0];
        if (!target) throw new UsageError('revoke needs a serial or a device id');
        if (v.reason !== undefined && !REASONS.includes(v.reason)) throw new UsageError(`--reason: one of ${REASONS.join(', ')}`);
        const serials = await ca.revoke(target, (v.reason ?? 'unspecified') as RevocationReason);
        say({ revoked: serials, crl: ca.file('crl') }, serials.length ? `revoked ${serials.join(', ')}; CRL republished to ${ca.file('crl')}` : `already revoked: nothing new; CRL republished to ${ca.file('crl')}`);
        return 0;
      }
      case 'crl': {
        const pem = await ca.publishCrl(number('days', v.days, 7));
        if (v.out) await writeFileAtomic(resolve(io.cwd, v.out), pem);
        say({ crl: v.out ?? ca.file('crl') }, `CRL published to ${v.out ? resolve(io.cwd, v.out) : ca.file('crl')}`);
        return 0;
      }
      case 'rotate-ca': {
        if (v.finish) {
          await ca.finishRotation({ dns: csv(v.dns, ['localhost']), ips: csv(v.ip, ['127.0.0.1']) });
          say({ finished: true }, 'CA rotation finished: the previous root is retired, the EST server certificate is under the new root (send SIGHUP to "alpr ca serve")');
          return 0;
        }
        const root = await ca.rotateCa(number('overlap-days', v['overlap-days'], 30));
        say({ serial: serialHex(root), fingerprint: root.fingerprint256 },
          `new root ${serialHex(root)} (SHA-256 ${root.fingerprint256}); old and new trusted for the overlap.\nDevices pick up the new bundle at their next /cacerts and move over at renewal; then run "alpr ca rotate-ca --finish".`);
        return 0;
      }
      case 'list': {
        const issued = await ca.listIssued();
        say(issued, issued.length === 0 ? 'nothing issued yet' : issued.map((x) => `${x.serial}  ${x.deviceId.padEnd(20)}  until ${new Date(x.notAfter).toISOString()}  ${x.via}${x.revoked ? '  REVOKED' : ''}`).join('\n'));
        return 0;
      }
      case 'serve': {
        const server = await startEstServer({ ca, log: pino({ level: 'info' }), host: v.host ?? '127.0.0.1', port: number('port', v.port, 8443) });
        io.stdout.write(`EST server on ${server.url}/.well-known/est (Ctrl-C stops it; SIGHUP re-reads certificates after rotate-ca)\n`);
        const reload = (): void => {
          server.reload().then(() => io.stdout.write('EST server: certificates and trusted roots re-read\n'), (err: unknown) => io.stderr.write(`EST server: reload failed, old certificates kept: ${(err as Error).message}\n`));
        };
        process.on('SIGHUP', reload);
        await new Promise<void>((done) => {
          if (signal) signal.addEventListener('abort', () => done(), { once: true });
          process.once('SIGINT', () => done());
          process.once('SIGTERM', () => done());
        });
        process.off('SIGHUP', reload);
        await server.close();
        return 0;
      }
      default:
        return 64;
    }
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr.write(`alpr ca ${sub}: ${err.message}\n`);
      return 64;
    }
    if (err instanceof EnrolmentError || err instanceof CaStateError || err instanceof X509Error) {
      io.stderr.write(`alpr ca ${sub}: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}

class UsageError extends Error {}
