/**
 * Enrolment against the reference EST server over real TLS: first enrolment with a one-time token,
 * renewal over mutual TLS (same key and rekey), revocation (EST refuses, the CRL lists it), a CA
 * rotation with its overlap, and every failure the issue names leaving the old identity untouched.
 */
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { createServer, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CertificateAuthority } from '../../provisioning/ca/authority.ts';
import { enrol, requestRenewal, type EnrolDeps } from '../../provisioning/enrol.ts';
import { EstClient, EstError } from '../../provisioning/est/client.ts';
import { startEstServer, type RunningEstServer } from '../../provisioning/est/server.ts';
import { IdentityStore } from '../../provisioning/identity.ts';
import { certsOnly } from '../../provisioning/pkcs7.ts';
import { isRevoked, privateKeyPem, serialHex } from '../../provisioning/x509.ts';
import { createDemoPki } from '../../provisioning/demo-pki.ts';
import { ProvisioningService } from '../../provisioning/service.ts';
import { FipsError } from '../../provisioning/fips.ts';
import { parseConfig } from '../../gateway/config/load.ts';
import type { GatewayEvent } from '../../gateway/events.ts';

const device = { deviceId: 'pole-17', agency: 'metro-pd', site: 'Main St & 5th' };
let root: string;
let ca: CertificateAuthority;
let server: RunningEstServer;
let caPem: string;

async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of ['device.key.pem', 'device.crt.pem', 'ca-bundle.pem']) {
    out[name] = await readFile(join(dir, 'identity', name), 'utf8').catch(() => '<absent>');
  }
  return out;
}

function deps(dataDir: string, trust = caPem, url = server.url): EnrolDeps {
  return { identity: new IdentityStore(dataDir), est: new EstClient({ url, trust, timeoutMs: 10_000 }), device, now: Date.now };
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'est-'));
  ca = new CertificateAuthority(join(root, 'ca'));
  caPem = (await ca.init({ agency: 'metro-pd' })).toString();
  server = await startEstServer({ ca, log: pino({ level: 'silent' }) });
});

afterAll(async () => {
  await server.close();
  await rm(root, { recursive: true, force: true });
});

describe('EST enrolment over TLS', () => {
  it('enrols with a one-time token: P-256 key 0600, certificate from the CA, CA bundle, openssl agrees', async () => {
    const dataDir = join(root, 'enrol');
    const token = await ca.issueToken('pole-17');
    const result = await enrol(deps(dataDir), token);
    const store = new IdentityStore(dataDir);
    const id = await store.read();
    expect(id?.leaf.subject).toContain('CN=pole-17');
    expect(id?.leaf.subjectAltName).toContain('URI:urn:alpr:site:Main%20St%20%26%205th');
    expect(id?.leaf.subjectAltName).toContain('URI:urn:alpr:agency:metro-pd');
    expect(serialHex(id!.leaf)).toBe(result.serial);
    expect((await stat(store.path('key'))).mode & 0o777).toBe(0o600);
    expect(id?.key.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    const verified = execFileSync('/usr/bin/openssl', ['verify', '-CAfile', store.path('ca'), store.path('cert')], { encoding: 'utf8' });
    expect(verified).toContain(': OK');
    // the token is spent
    await expect(enrol(deps(join(root, 'again')), token)).rejects.toMatchObject({ kind: 'unauthorized', message: expect.stringContaining('already used') });
  });

  it('renews over mutual TLS with the same key and with a new key; the issued list grows', async () => {
    const dataDir = join(root, 'renew');
    await enrol(deps(dataDir), await ca.issueToken('pole-17'));
    const before = (await new IdentityStore(dataDir).read())!;
    const same = await requestRenewal(deps(dataDir, before.caBundle.map((c) => c.toString()).join('')), { rekey: false });
    expect(same.key).toBeUndefined();
    expect(same.chain[0]!.publicKey.export({ type: 'spki', format: 'der' })).toEqual(before.leaf.publicKey.export({ type: 'spki', format: 'der' }));
    expect(serialHex(same.chain[0]!)).not.toBe(serialHex(before.leaf));
    const rekeyed = await requestRenewal(deps(dataDir), { rekey: true });
    expect(rekeyed.key).toBeDefined();
    expect(rekeyed.chain[0]!.publicKey.export({ type: 'spki', format: 'der' })).not.toEqual(before.leaf.publicKey.export({ type: 'spki', format: 'der' }));
    const issued = await ca.listIssued();
    expect(issued.filter((x) => x.deviceId === 'pole-17').map((x) => x.via)).toEqual(expect.arrayContaining(['enroll', 'reenroll', 'reenroll']));
  });

  it('a revoked device is refused by EST and listed by the CRL; the path back is a new token', async () => {
    const dataDir = join(root, 'revoked');
    await enrol(deps(dataDir), await ca.issueToken('pole-17'));
    const id = (await new IdentityStore(dataDir).read())!;
    const revoked = await ca.revoke(serialHex(id.leaf), 'keyCompromise');
    expect(revoked).toEqual([serialHex(id.leaf)]);
    const before = await snapshot(dataDir);
    await expect(requestRenewal(deps(dataDir), { rekey: false })).rejects.toMatchObject({ kind: 'forbidden', message: expect.stringContaining('revoked') });
    expect(await snapshot(dataDir)).toEqual(before);

    const crl = await readFile(ca.file('crl'), 'utf8');
    expect(isRevoked(id.leaf, crl, [new X509Certificate(caPem)])).toBe(true);
    const crlFile = join(root, 'crl.pem');
    await import('node:fs/promises').then((fs) => fs.writeFile(crlFile, crl));
    expect(() => execFileSync('/usr/bin/openssl', ['verify', '-crl_check', '-CAfile', ca.file('cert'), '-CRLfile', crlFile, new IdentityStore(dataDir).path('cert')], { stdio: 'pipe' })).toThrow(/revoked/);

    const back = await enrol(deps(dataDir), await ca.issueToken('pole-17'), { rekey: true });
    expect(back.serial).not.toBe(serialHex(id.leaf));
    const fresh = (await new IdentityStore(dataDir).read())!;
    expect(isRevoked(fresh.leaf, crl)).toBe(false);
    expect(fresh.key.export({ type: 'pkcs8', format: 'der' })).not.toEqual(id.key.export({ type: 'pkcs8', format: 'der' }));
  });

  it('bad token, token for another device, wrong CA: clear errors, the old identity untouched', async () => {
    const dataDir = join(root, 'bad');
    await enrol(deps(dataDir), await ca.issueToken('pole-17'));
    const before = await snapshot(dataDir);

    await expect(enrol(deps(dataDir), 'not-a-token')).rejects.toMatchObject({ kind: 'unauthorized', message: expect.stringContaining('token not recognised') });
    const other = await ca.issueToken('pole-99');
    await expect(enrol(deps(dataDir), other)).rejects.toMatchObject({ kind: 'forbidden', message: expect.stringContaining('pole-99') });

    const stranger = new CertificateAuthority(join(root, 'stranger'));
    const strangerPem = (await stranger.init({ agency: 'metro-pd' })).toString();
    const wrong = enrol(deps(dataDir, strangerPem), await ca.issueToken('pole-17'));
    await expect(wrong).rejects.toBeInstanceOf(EstError);
    await expect(wrong).rejects.toMatchObject({ kind: 'tls', message: expect.stringContaining('not trusted') });
    expect(await snapshot(dataDir)).toEqual(before);
  });

  it('garbage CSR and a wrong content type are refused with 400 and a reason', async () => {
    const post = (body: string, type: string): Promise<{ status: number; text: string }> => new Promise((resolve, reject) => {
      const req = request(new URL('/.well-known/est/simpleenroll', server.url), {
        method: 'POST', ca: caPem, agent: false,
        headers: { 'content-type': type, authorization: `Basic ${Buffer.from('pole-17:whatever').toString('base64')}` },
      }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      });
      req.on('error', reject);
      req.end(body);
    });
    const garbage = await post(Buffer.from('this is not a certificate request').toString('base64'), 'application/pkcs10');
    expect(garbage.status).toBe(400);
    expect(garbage.text).toMatch(/certificate request is not DER/);
    const notB64 = await post('%%%', 'application/pkcs10');
    expect(notB64).toMatchObject({ status: 400, text: expect.stringContaining('not base64') });
    const wrongType = await post('AAAA', 'text/plain');
    expect(wrongType).toMatchObject({ status: 400, text: expect.stringContaining('application/pkcs10') });
  });

  it('a truncated or empty response is a clear error and changes nothing on disk', async () => {
    const dataDir = join(root, 'truncated');
    await enrol(deps(dataDir), await ca.issueToken('pole-17'));
    const before = await snapshot(dataDir);
    const { key, cert } = await ca.serverTls();
    const full = certsOnly(await ca.caCertificates()).toString('base64');
    let mode: 'truncated' | 'cut' = 'truncated';
    const liar = createServer({ key, cert }, (req, res) => {
      res.writeHead(200, { 'content-type': 'application/pkcs7-mime; smime-type=certs-only', 'content-length': String(full.length) });
      if (mode === 'truncated') res.end(full.slice(0, Math.floor(full.length / 2)).replace(/=+$/, ''));
      else {
        // headers and the first bytes reach the client, then the connection drops
        res.write(full.slice(0, 40), () => setTimeout(() => res.socket?.destroy(), 50));
      }
    });
    await new Promise<void>((r) => liar.listen(0, '127.0.0.1', () => r()));
    const port = (liar.address() as { port: number }).port;
    try {
      await expect(requestRenewal(deps(dataDir, caPem, `https://127.0.0.1:${port}`), { rekey: true })).rejects.toMatchObject({ kind: 'response' });
      mode = 'cut';
      await expect(enrol(deps(dataDir, caPem, `https://127.0.0.1:${port}`), 'x')).rejects.toMatchObject({ kind: 'response', message: expect.stringMatching(/cut off|truncated/) });
    } finally {
      liar.closeAllConnections();
      await new Promise((r) => liar.close(r));
    }
    expect(await snapshot(dataDir)).toEqual(before);
  });

  it('CA rotation: old and new roots trusted in the overlap; a renewal moves the device to the new root', async () => {
    const dataDir = join(root, 'rotate-ca');
    await enrol(deps(dataDir), await ca.issueToken('pole-17'));
    const oldRoot = new X509Certificate(caPem);
    const newRoot = await ca.rotateCa(30);
    // the running server picks up the new trust list without a restart
    await server.reload();
    const renewal = await requestRenewal(deps(dataDir), { rekey: true });
    expect(renewal.anchors.map((c) => c.fingerprint256)).toEqual([newRoot.fingerprint256, oldRoot.fingerprint256]);
    expect(renewal.chain[0]!.checkIssued(newRoot)).toBe(true);
    const crl = await readFile(ca.file('crl'), 'utf8');
    expect(crl.match(/BEGIN X509 CRL/g)).toHaveLength(2);
    expect(isRevoked(renewal.chain[0]!, crl, [newRoot, oldRoot])).toBe(false);
  });
});

describe('ProvisioningService.boot', () => {
  const silent = pino({ level: 'silent' });
  const config = (dataDir: string, provisioning: Record<string, unknown>, security: Record<string, unknown> = {}) => parseConfig({
    device: { id: 'pole-17', agency: 'metro-pd', site: 'Main St & 5th' }, dataDir, cameras: [{ id: 'c', url: 'u' }], hotlist: { path: 'p' }, mqtt: { url: 'mqtts://b' },
    provisioning, security,
  });
  const service = (c: ReturnType<typeof config>, events: GatewayEvent[], fips = 0, log = silent) => new ProvisioningService(c, {
    events: { emit: (e) => events.push(e) }, log, now: Date.now, timers: { setTimeout: (f, ms) => setTimeout(f, ms), clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout) }, fipsMode: () => fips,
  });

  it('refuses to start without FIPS mode when required', async () => {
    await expect(service(config(join(root, 'fips'), {}, { requireFips: true }), []).boot()).rejects.toBeInstanceOf(FipsError);
    await expect(service(config(join(root, 'fips'), {}, { requireFips: true }), [], 1).boot()).resolves.toMatchObject({ certificate: { state: 'unprovisioned' } });
  });

  it('first boot: makes the key, enrols with the token from config, says what it got; without a token it says what to do', async () => {
    const bare = await service(config(join(root, 'boot-none'), { estUrl: server.url, estCa: caPem.replace(/\n/g, '\\n') }), []).boot();
    expect(bare).toMatchObject({ certificate: { state: 'unprovisioned' }, problem: expect.stringContaining('ALPR_ENROLMENT_TOKEN') });

    const events: GatewayEvent[] = [];
    const token = await ca.issueToken('pole-17');
    let logged = '';
    const chatty = pino({ level: 'trace' }, { write: (line: string) => void (logged += line) });
    // the CA is in a rotation's overlap (test above): the bootstrap anchors are both roots
    const bundle = join(root, 'bootstrap-bundle.pem');
    await import('node:fs/promises').then(async (fs) => fs.writeFile(bundle, (await ca.caCertificates()).map((c) => c.toString()).join('')));
    const s = service(config(join(root, 'boot'), { estUrl: server.url, estCa: bundle, enrolmentToken: token }), events, 0, chatty);
    const out = await s.boot();
    expect(out.problem).toBeUndefined();
    expect(out.enrolled?.serial).toMatch(/^[0-9A-F]{32}$/);
    expect(s.certificate()).toMatchObject({ state: 'valid', serial: out.enrolled?.serial });
    expect(events.map((e) => e.type)).toEqual(['cert-enrolled']);
    // the next boot leaves a valid certificate alone (the spent token is not tried again)
    expect((await s.boot()).enrolled).toBeUndefined();
    // the key and the token never reach the log, even at trace level
    expect(logged).toContain('device enrolled');
    expect(logged).not.toMatch(/PRIVATE KEY/);
    expect(logged).not.toContain(token);
  });

  it('an expired certificate is a clear state; a new token brings the device back with a new key', async () => {
    const dataDir = join(root, 'expired');
    const past = new CertificateAuthority(ca.dir, () => Date.now() - 200 * 86_400_000);
    const old = await past.issueDirect({ commonName: 'pole-17', extendedKeyUsage: ['clientAuth'], days: 90 });
    const store = new IdentityStore(dataDir);
    await store.ensureKey();
    const { writeFile } = await import('node:fs/promises');
    await writeFile(store.path('key'), privateKeyPem(old.key), { mode: 0o600 });
    await writeFile(store.path('cert'), old.chain[0]!.toString());
    await store.writeCaBundle(await ca.caCertificates());

    const events: GatewayEvent[] = [];
    const spent = await service(config(dataDir, { estUrl: server.url, estCa: ca.file('cert'), enrolmentToken: 'spent-token-000' }), events).boot();
    expect(spent.certificate).toMatchObject({ state: 'expired', action: expect.stringContaining('new enrolment token') });
    expect(spent.problem).toMatch(/enrolment failed: .*token not recognised/);
    expect(serialHex((await store.read())!.leaf)).toBe(serialHex(old.chain[0]!));

    const back = await service(config(dataDir, { estUrl: server.url, estCa: ca.file('cert'), enrolmentToken: await ca.issueToken('pole-17') }), events).boot();
    expect(back.certificate.state).toBe('valid');
    const now = (await store.read())!;
    expect(now.key.export({ type: 'pkcs8', format: 'der' })).not.toEqual(old.key.export({ type: 'pkcs8', format: 'der' }));
    expect(events.map((e) => e.type)).toEqual(['cert-enrolment-failed', 'cert-enrolled']);
  });
});

describe('createDemoPki', () => {
  it('makes a CA, broker, dispatch and device certificates that openssl verifies, and installs a device identity', async () => {
    const pki = await createDemoPki(join(root, 'demo-pki'), { agency: 'demo-pd', devices: ['pole-1', 'pole-2'] });
    for (const pair of [pki.broker, pki.dispatch, pki.devices['pole-1']!, pki.devices['pole-2']!]) {
      expect(execFileSync('/usr/bin/openssl', ['verify', '-CAfile', pki.caBundle, pair.cert], { encoding: 'utf8' })).toContain(': OK');
      expect((await stat(pair.key)).mode & 0o777).toBe(0o600);
    }
    expect(execFileSync('/usr/bin/openssl', ['x509', '-in', pki.broker.cert, '-noout', '-ext', 'subjectAltName'], { encoding: 'utf8' })).toMatch(/DNS:localhost, IP Address:127.0.0.1/);
    const dataDir = join(root, 'demo-device');
    await pki.installDevice('pole-1', dataDir);
    const id = (await new IdentityStore(dataDir).read())!;
    expect(serialHex(id.leaf)).toBe(pki.devices['pole-1']!.serial);
    await expect(pki.installDevice('pole-9', dataDir)).rejects.toThrow(/no device pole-9/);
    await pki.authority.revoke('pole-2', 'keyCompromise');
    const crl = await readFile(pki.authority.file('crl'), 'utf8');
    expect(isRevoked(await readFile(pki.devices['pole-2']!.cert, 'utf8'), crl)).toBe(true);
    expect(isRevoked(id.leaf, crl)).toBe(false);
  });
});
