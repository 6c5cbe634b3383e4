/**
 * A throw-away certificate authority for tests, made with the openssl command (P-256 keys,
 * ECDSA/SHA-256): an agency CA, certificates it issues (devices, dispatch, the broker), a CRL it
 * publishes. Tests need real X.509 material that a different code base (openssl) produced, so the
 * project's own certificate code is checked against it rather than against itself.
 *
 *   const pki = await createTestPki();                      // agency CA in a temporary folder
 *   const broker = await pki.issue('broker', { dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], server: true });
 *   const device = await pki.issue('pole-1', { client: true });
 *   await pki.revoke(device);
 *   const crl = await pki.crl();                            // PEM, lists pole-1's serial
 *   await pki.dispose();
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface IssuedCert {
  readonly name: string;
  readonly keyFile: string;
  readonly certFile: string;
  /** PKCS#8 PEM private key. */
  readonly keyPem: string;
  readonly certPem: string;
  /** Upper-case hex, as openssl prints it. */
  readonly serial: string;
}

export interface IssueOptions {
  /** Subject common name (default: the name). */
  readonly commonName?: string;
  readonly days?: number;
  /** A start date in the past or future, as openssl's -startdate / -enddate take them (YYYYMMDDHHMMSSZ). */
  readonly notBefore?: string;
  readonly notAfter?: string;
  readonly dnsNames?: readonly string[];
  readonly ipAddresses?: readonly string[];
  /** extendedKeyUsage serverAuth. */
  readonly server?: boolean;
  /** extendedKeyUsage clientAuth. */
  readonly client?: boolean;
}

export interface TestPki {
  readonly dir: string;
  readonly caCertFile: string;
  readonly caCertPem: string;
  readonly caKeyFile: string;
  issue(name: string, opts?: IssueOptions): Promise<IssuedCert>;
  revoke(cert: IssuedCert): Promise<void>;
  /** The CA's current CRL (PEM), listing every revoked certificate. */
  crl(): Promise<string>;
  dispose(): Promise<void>;
}

const OPENSSL = '/usr/bin/openssl';

async function openssl(args: readonly string[], cwd: string): Promise<string> {
  try {
    const { stdout } = await run(OPENSSL, [...args], { cwd });
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`openssl ${args[0]} failed: ${e.stderr ?? e.message}`, { cause: err });
  }
}

/** Creates a CA named `caName` (its certificate's CN) in a fresh temporary folder. */
export async function createTestPki(caName = 'Test Agency CA'): Promise<TestPki> {
  const dir = await mkdtemp(join(tmpdir(), 'pki-'));
  await writeFile(join(dir, 'index.txt'), '');
  await writeFile(join(dir, 'crlnumber'), '01\n');
  await mkdir(join(dir, 'issued'));
  // `openssl ca` keeps its issued list in index.txt; it is used here only for revocation and CRLs.
  await writeFile(join(dir, 'ca.cnf'), [
    '[ca]', 'default_ca = test_ca',
    '[test_ca]', `dir = ${dir}`, 'database = $dir/index.txt', 'crlnumber = $dir/crlnumber',
    'certificate = $dir/ca.crt', 'private_key = $dir/ca.key', 'default_md = sha256', 'default_crl_days = 30',
    'new_certs_dir = $dir/issued', 'serial = $dir/serial', 'policy = any', 'unique_subject = no', 'copy_extensions = none',
    '[any]', 'commonName = supplied',
    '[req]', 'distinguished_name = dn', 'prompt = no', '[dn]', 'CN = unused',
    '',
  ].join('\n'));
  const caKeyFile = join(dir, 'ca.key');
  const caCertFile = join(dir, 'ca.crt');
  await openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', caKeyFile], dir);
  await openssl(['req', '-x509', '-new', '-key', caKeyFile, '-sha256', '-days', '3650', '-subj', `/CN=${caName}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-out', caCertFile], dir);
  const caCertPem = await readFile(caCertFile, 'utf8');
  let serialCounter = 0x1000;

  const issue = async (name: string, opts: IssueOptions = {}): Promise<IssuedCert> => {
    if (!/^[A-Za-z0-9._-]+$/.test(name)) throw new Error(`certificate name ${JSON.stringify(name)}: letters, digits, . _ - only`);
    const keyFile = join(dir, `${name}.key`);
    const csrFile = join(dir, `${name}.csr`);
    const certFile = join(dir, `${name}.crt`);
    const extFile = join(dir, `${name}.ext`);
    await openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', keyFile], dir);
    await openssl(['req', '-new', '-key', keyFile, '-subj', `/CN=${opts.commonName ?? name}`, '-out', csrFile], dir);
    const usages = [...(opts.server ? ['serverAuth'] : []), ...(opts.client ? ['clientAuth'] : [])];
    const sans = [...(opts.dnsNames ?? []).map((d) => `DNS:${d}`), ...(opts.ipAddresses ?? []).map((ip) => `IP:${ip}`)];
    await writeFile(extFile, [
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature,keyAgreement',
      ...(usages.length ? [`extendedKeyUsage=${usages.join(',')}`] : []),
      ...(sans.length ? [`subjectAltName=${sans.join(',')}`] : []),
      '',
    ].join('\n'));
    serialCounter += 1;
    const serial = serialCounter.toString(16).toUpperCase();
    await writeFile(join(dir, 'serial'), `${serial}\n`);
    const validity = opts.notBefore !== undefined || opts.notAfter !== undefined
      ? ['-startdate', opts.notBefore ?? '20250101000000Z', '-enddate', opts.notAfter ?? '20350101000000Z']
      : ['-days', String(opts.days ?? 365)];
    // `openssl ca` records what it issues in index.txt, which is what -revoke and -gencrl read.
    await openssl(['ca', '-batch', '-notext', '-config', join(dir, 'ca.cnf'), '-in', csrFile, '-md', 'sha256', ...validity,
      '-extfile', extFile, '-out', certFile], dir);
    return {
      name,
      keyFile,
      certFile,
      keyPem: await readFile(keyFile, 'utf8'),
      certPem: await readFile(certFile, 'utf8'),
      serial,
    };
  };

  return {
    dir,
    caCertFile,
    caCertPem,
    caKeyFile,
    issue,
    revoke: async (cert) => {
      await openssl(['ca', '-config', join(dir, 'ca.cnf'), '-revoke', cert.certFile], dir);
    },
    crl: async () => {
      const out = join(dir, 'ca.crl');
      await openssl(['ca', '-config', join(dir, 'ca.cnf'), '-gencrl', '-out', out], dir);
      return readFile(out, 'utf8');
    },
    dispose: () => rm(dir, { recursive: true, force: true }),
  };
}
