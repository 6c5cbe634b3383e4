/**
 * The reference enrolment CA (for the demo, the tests and small agencies): a P-256 root that
 * issues device certificates against one-time enrolment tokens, re-issues them to devices that
 * prove their current certificate, keeps the issued list, revokes, publishes CRLs and rotates
 * itself with an overlap in which old and new roots are both trusted.
 *
 * Files in its directory: ca.key.pem (0600) / ca.crt.pem, ca.prev.* during a rotation,
 * est.key.pem / est.crt.pem (the EST server's TLS identity), ca-state.json, crl.pem.
 */
import { createHash, randomBytes, timingSafeEqual, X509Certificate, type KeyObject } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../atomic-file.ts';
import { deviceAltNames, readDeviceUris } from '../device-names.ts';
import {
  createCrl, crlPem, fromPemAll, generateP256Key, issueCertificate, loadP256Key, notAfterMs, notBeforeMs, parseCrl, parseCsr, privateKeyPem, readCertificates, serialHex,
  type AltNames, type RevocationReason, X509Error,
} from '../x509.ts';
import { readState, updateState, writeState, type CaState, type IssuedRecord } from './state.ts';

/** A refused EST request: `status` is the HTTP status the server answers with. */
export class EnrolmentError extends Error {
  override readonly name = 'EnrolmentError';
  constructor(readonly status: 400 | 401 | 403 | 404 | 409, message: string) {
    super(message);
  }
}

export interface CaInitOptions {
  readonly agency: string;
  readonly commonName?: string;
  readonly caValidityDays?: number;
  readonly deviceValidityDays?: number;
  /** Names the EST server answers on (its TLS certificate). */
  readonly serverDns?: readonly string[];
  readonly serverIps?: readonly string[];
}

const DAY = 86_400_000;
const exists = (p: string): Promise<boolean> => stat(p).then(() => true, () => false);
const hashToken = (token: string): string => createHash('sha256').update(token, 'utf8').digest('hex');

export class CertificateAuthority {
  constructor(readonly dir: string, private readonly now: () => number = Date.now) {}

  file(name: 'key' | 'cert' | 'prev.key' | 'prev.cert' | 'est.key' | 'est.cert' | 'crl'): string {
    return join(this.dir, { key: 'ca.key.pem', cert: 'ca.crt.pem', 'prev.key': 'ca.prev.key.pem', 'prev.cert': 'ca.prev.crt.pem', 'est.key': 'est.key.pem', 'est.cert': 'est.crt.pem', crl: 'crl.pem' }[name]);
  }

  async init(o: CaInitOptions): Promise<X509Certificate> {
    if (await exists(this.file('key'))) throw new EnrolmentError(409, `${this.dir}: a CA already exists here (rotate it with "alpr ca rotate-ca")`);
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const { key, cert } = this.newRoot(o.agency, o.commonName ?? `${o.agency} ALPR device CA`, o.caValidityDays ?? 3650);
    await writeFileAtomic(this.file('key'), privateKeyPem(key), 0o600);
    await writeFileAtomic(this.file('cert'), cert.toString());
    await writeState(this.dir, { version: 1, agency: o.agency, tokens: [], issued: [], revoked: [], crlNumber: 0, deviceValidityDays: o.deviceValidityDays ?? 90 });
    await this.issueServerCertificate({ dns: o.serverDns ?? ['localhost'], ips: o.serverIps ?? ['127.0.0.1'] });
    await this.publishCrl();
    return cert;
  }

  private newRoot(agency: string, commonName: string, days: number): { key: KeyObject; cert: X509Certificate } {
    const key = generateP256Key();
    const t = this.now();
    const cert = new X509Certificate(issueCertificate({
      subject: { commonName, organization: agency }, publicKey: key, signingKey: key, ca: true,
      notBefore: new Date(t - 5 * 60_000), notAfter: new Date(t + days * DAY),
    }));
    return { key, cert };
  }

  async current(): Promise<{ key: KeyObject; cert: X509Certificate }> {
    return this.loadPair('key', 'cert');
  }

  private async loadPair(k: 'key' | 'prev.key', c: 'cert' | 'prev.cert'): Promise<{ key: KeyObject; cert: X509Certificate }> {
    const key = loadP256Key(await readFile(this.file(k), 'utf8'));
    const cert = readCertificates(await readFile(this.file(c), 'utf8'), this.file(c))[0] as X509Certificate;
    return { key, cert };
  }

  private async previous(): Promise<{ key: KeyObject; cert: X509Certificate } | undefined> {
    return (await exists(this.file('prev.cert'))) ? this.loadPair('prev.key', 'prev.cert') : undefined;
  }

  /** The trust anchors devices get from /cacerts: the current root, and the previous during an overlap. */
  async caCertificates(): Promise<X509Certificate[]> {
    const prev = await this.previous();
    return [(await this.current()).cert, ...(prev ? [prev.cert] : [])];
  }

  /** A fresh TLS certificate for the EST server under the current root. */
  async issueServerCertificate(names: { dns: readonly string[]; ips: readonly string[] }): Promise<void> {
    const ca = await this.current();
    const key = generateP256Key();
    const t = this.now();
    const cert = new X509Certificate(issueCertificate({
      subject: { commonName: names.dns[0] ?? names.ips[0] ?? 'est', organization: (await readState(this.dir)).agency },
      altNames: { dns: names.dns, ips: names.ips }, publicKey: key, issuer: ca.cert, signingKey: ca.key,
      extendedKeyUsage: ['serverAuth'], notBefore: new Date(t - 5 * 60_000), notAfter: new Date(Math.min(t + 825 * DAY, notAfterMs(ca.cert))),
    }));
    await writeFileAtomic(this.file('est.key'), privateKeyPem(key), 0o600);
    await writeFileAtomic(this.file('est.cert'), cert.toString() + ca.cert.toString());
  }

  /** A one-time token bound to one device id; only its hash is kept. */
  async issueToken(deviceId: string, ttlMs = 7 * DAY): Promise<string> {
    if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(deviceId)) throw new EnrolmentError(400, `device id ${JSON.stringify(deviceId)}: lower-case letters, digits and dashes, at most 63`);
    const token = randomBytes(24).toString('base64url');
    const t = this.now();
    await updateState(this.dir, (s) => ({ state: { ...s, tokens: [...s.tokens.filter((x) => x.expiresAt > t && x.usedAt === undefined), { hash: hashToken(token), deviceId, createdAt: t, expiresAt: t + ttlMs }] }, result: undefined }));
    return token;
  }

  /**
   * /simpleenroll: the token must be unused, unexpired and issued for the device the request
   * names (and the Basic user name, when given). It is spent only when a certificate is issued.
   */
  async enroll(csrDer: Uint8Array, auth: { token: string; user?: string }): Promise<X509Certificate[]> {
    const csr = this.readCsr(csrDer);
    const deviceId = csr.subject.commonName;
    return updateState(this.dir, async (s) => {
      const t = this.now();
      const presented = Buffer.from(hashToken(auth.token), 'hex');
      const record = s.tokens.find((x) => timingSafeEqual(Buffer.from(x.hash, 'hex'), presented));
      if (!record) throw new EnrolmentError(401, 'enrolment token not recognised');
      if (record.usedAt !== undefined) throw new EnrolmentError(401, 'enrolment token already used (ask security staff for a new one)');
      if (record.expiresAt <= t) throw new EnrolmentError(401, 'enrolment token expired (ask security staff for a new one)');
      if (record.deviceId !== deviceId) throw new EnrolmentError(403, `enrolment token is for device ${record.deviceId}, the request names ${deviceId}`);
      if (auth.user !== undefined && auth.user !== deviceId) throw new EnrolmentError(403, `user name ${JSON.stringify(auth.user)} does not match the request's device ${deviceId}`);
      const { chain, issued } = await this.sign(s, csr, 'enroll');
      return { state: { ...s, tokens: s.tokens.map((x) => (x === record ? { ...x, usedAt: t } : x)), issued: [...s.issued, issued] }, result: chain };
    });
  }

  /** /simplereenroll: the TLS client certificate must be one this CA issued and has not revoked. */
  async reenroll(csrDer: Uint8Array, client: X509Certificate): Promise<X509Certificate[]> {
    const csr = this.readCsr(csrDer);
    return updateState(this.dir, async (s) => {
      const serial = serialHex(client);
      const record = s.issued.find((x) => x.serial === serial);
      if (!record) throw new EnrolmentError(403, `client certificate ${serial} was not issued by this CA`);
      if (s.revoked.some((x) => x.serial === serial)) throw new EnrolmentError(403, `client certificate ${serial} is revoked`);
      if (notAfterMs(client) <= this.now()) throw new EnrolmentError(403, `client certificate ${serial} has expired (enrol again with a new token)`);
      // RFC 7030 4.2.2: the subject of a re-enrolment is the subject of the current certificate.
      if (csr.subject.commonName !== record.deviceId) throw new EnrolmentError(403, `re-enrolment request names ${csr.subject.commonName}, the certificate is ${record.deviceId}'s`);
      const { chain, issued } = await this.sign(s, csr, 'reenroll');
      return { state: { ...s, issued: [...s.issued, issued] }, result: chain };
    });
  }

  private readCsr(der: Uint8Array): ReturnType<typeof parseCsr> {
    try {
      return parseCsr(der);
    } catch (err) {
      if (err instanceof X509Error) throw new EnrolmentError(400, err.message);
      throw err;
    }
  }

  private async sign(s: CaState, csr: ReturnType<typeof parseCsr>, via: IssuedRecord['via']): Promise<{ chain: X509Certificate[]; issued: IssuedRecord }> {
    const deviceId = csr.subject.commonName;
    if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(deviceId)) throw new EnrolmentError(400, `request subject ${JSON.stringify(deviceId)} is not a device id`);
    const named = readDeviceUris(csr.altNames.uris ?? []);
    if (named.agency !== undefined && named.agency !== s.agency) throw new EnrolmentError(403, `request names agency ${named.agency}; this CA serves ${s.agency}`);
    // Only the names this CA vouches for go into the certificate, whatever else was asked for.
    const uris = (deviceAltNames({ deviceId, agency: s.agency, site: named.site ?? '' }).uris ?? []).filter((u) => named.site !== undefined || !u.includes(':site:'));
    const alt: AltNames = { uris };
    const ca = await this.current();
    const t = this.now();
    const notAfter = Math.min(t + s.deviceValidityDays * DAY, notAfterMs(ca.cert));
    const cert = new X509Certificate(issueCertificate({
      subject: { commonName: deviceId, organization: s.agency }, altNames: alt, publicKey: csr.publicKey, issuer: ca.cert, signingKey: ca.key,
      extendedKeyUsage: ['clientAuth'], notBefore: new Date(t - 5 * 60_000), notAfter: new Date(notAfter),
    }));
    const issued: IssuedRecord = { serial: serialHex(cert), deviceId, issuer: serialHex(ca.cert), notBefore: notBeforeMs(cert), notAfter: notAfterMs(cert), issuedAt: t, via };
    return { chain: [cert], issued };
  }

  /**
   * Issues a key and certificate directly (no EST): the demo's broker and dispatch identities, or
   * a device prepared on the bench. Recorded in the issued list, so it can be revoked like any other.
   */
  async issueDirect(o: { commonName: string; altNames?: AltNames; extendedKeyUsage: readonly ('clientAuth' | 'serverAuth')[]; days?: number }): Promise<{ key: KeyObject; chain: X509Certificate[] }> {
    const key = generateP256Key();
    const ca = await this.current();
    return updateState(this.dir, (s) => {
      const t = this.now();
      const cert = new X509Certificate(issueCertificate({
        subject: { commonName: o.commonName, organization: s.agency }, ...(o.altNames ? { altNames: o.altNames } : {}), publicKey: key, issuer: ca.cert, signingKey: ca.key,
        extendedKeyUsage: o.extendedKeyUsage, notBefore: new Date(t - 5 * 60_000), notAfter: new Date(Math.min(t + (o.days ?? s.deviceValidityDays) * DAY, notAfterMs(ca.cert))),
      }));
      const issued: IssuedRecord = { serial: serialHex(cert), deviceId: o.commonName, issuer: serialHex(ca.cert), notBefore: notBeforeMs(cert), notAfter: notAfterMs(cert), issuedAt: t, via: 'cli' };
      return { state: { ...s, issued: [...s.issued, issued] }, result: { key, chain: [cert] } };
    });
  }

  /** Revokes one serial, or every unexpired certificate of a device id. Returns the serials revoked. */
  async revoke(target: string, reason: RevocationReason = 'unspecified'): Promise<string[]> {
    const serials = await updateState(this.dir, (s) => {
      const t = this.now();
      const wanted = /^[0-9A-Fa-f]{8,}$/.test(target) && !s.issued.some((x) => x.deviceId === target)
        ? s.issued.filter((x) => x.serial === target.toUpperCase())
        : s.issued.filter((x) => x.deviceId === target && x.notAfter > t);
      if (wanted.length === 0) throw new EnrolmentError(404, `nothing issued matches ${JSON.stringify(target)} (a serial or a device id)`);
      const fresh = wanted.filter((x) => !s.revoked.some((r) => r.serial === x.serial));
      return { state: { ...s, revoked: [...s.revoked, ...fresh.map((x) => ({ serial: x.serial, at: t, reason, issuer: x.issuer }))] }, result: fresh.map((x) => x.serial) };
    });
    await this.publishCrl();
    return serials;
  }

  async isRevokedSerial(serial: string): Promise<boolean> {
    return (await readState(this.dir)).revoked.some((r) => r.serial === serial);
  }

  /** The published crl.pem while it has more than a day to run, else a freshly published one. */
  async currentCrl(): Promise<string> {
    const pem = await readFile(this.file('crl'), 'utf8').catch(() => undefined);
    if (pem) {
      try {
        const blocks = fromPemAll(pem, 'X509 CRL').map((b) => parseCrl(b));
        const next = Math.min(...blocks.map((c) => c.nextUpdate?.getTime() ?? 0));
        if (blocks.length > 0 && next > this.now() + DAY) return pem;
      } catch (err) {
        if (!(err instanceof X509Error)) throw err;
        // an unreadable crl.pem is replaced below
      }
    }
    return this.publishCrl();
  }

  /** Writes crl.pem: one CRL per trusted root (two during a rotation), valid `validDays`. */
  async publishCrl(validDays = 7): Promise<string> {
    const previous = await this.previous();
    const roots = [await this.current(), ...(previous ? [previous] : [])];
    const pem = await updateState(this.dir, (s) => {
      const number = s.crlNumber + 1;
      const t = this.now();
      const text = roots.map((root) => crlPem(createCrl({
        issuer: root.cert, signingKey: root.key, number,
        revoked: s.revoked.filter((r) => r.issuer === serialHex(root.cert)).map((r) => ({ serial: r.serial, at: new Date(r.at), reason: r.reason })),
        thisUpdate: new Date(t), nextUpdate: new Date(t + validDays * DAY),
      }))).join('');
      return { state: { ...s, crlNumber: number }, result: text };
    });
    await writeFileAtomic(this.file('crl'), pem);
    return pem;
  }

  /**
   * Starts a CA rotation: a new root becomes current, the old one stays trusted (bundle, TLS
   * client verification, CRL) for `overlapDays`. Devices pick up the new bundle from /cacerts and
   * move to the new root at their next re-enrolment; finishRotation() then drops the old root.
   * The EST server keeps its TLS certificate from the old root until then, so devices that have
   * not yet fetched the new bundle can still reach it.
   */
  async rotateCa(overlapDays = 30): Promise<X509Certificate> {
    if (await exists(this.file('prev.cert'))) throw new EnrolmentError(409, 'a CA rotation is already in its overlap; finish it first ("alpr ca rotate-ca --finish")');
    const s = await readState(this.dir);
    const old = await this.current();
    const { key, cert } = this.newRoot(s.agency, old.cert.subject.split('\n').find((l) => l.startsWith('CN='))?.slice(3) ?? `${s.agency} ALPR device CA`, 3650);
    await writeFileAtomic(this.file('prev.key'), privateKeyPem(old.key), 0o600);
    await writeFileAtomic(this.file('prev.cert'), old.cert.toString());
    await writeFileAtomic(this.file('key'), privateKeyPem(key), 0o600);
    await writeFileAtomic(this.file('cert'), cert.toString());
    await updateState(this.dir, (st) => ({ state: { ...st, previousUntil: this.now() + overlapDays * DAY }, result: undefined }));
    await this.publishCrl();
    return cert;
  }

  async finishRotation(names: { dns: readonly string[]; ips: readonly string[] }): Promise<void> {
    if (!(await exists(this.file('prev.cert')))) throw new EnrolmentError(409, 'no CA rotation in progress');
    await this.issueServerCertificate(names);
    await rename(this.file('prev.cert'), join(this.dir, `ca.retired-${this.now()}.crt.pem`));
    await rm(this.file('prev.key'), { force: true });
    await updateState(this.dir, (st) => {
      const { previousUntil: _gone, ...rest } = st;
      return { state: rest, result: undefined };
    });
    await this.publishCrl();
  }

  async listIssued(): Promise<(IssuedRecord & { revoked: boolean })[]> {
    const s = await readState(this.dir);
    return s.issued.map((x) => ({ ...x, revoked: s.revoked.some((r) => r.serial === x.serial) }));
  }

  async serverTls(): Promise<{ key: string; cert: string }> {
    return { key: await readFile(this.file('est.key'), 'utf8'), cert: await readFile(this.file('est.cert'), 'utf8') };
  }
}

