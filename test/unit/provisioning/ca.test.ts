/** The reference CA's rules without a server: tokens (expiry, binding, single use), refusals, the rotation's life cycle, its state file. */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CertificateAuthority, EnrolmentError } from '../../../provisioning/ca/authority.ts';
import { readState } from '../../../provisioning/ca/state.ts';
import { deviceAltNames, deviceSubject } from '../../../provisioning/device-names.ts';
import { createCsr, generateP256Key, isRevoked, serialHex } from '../../../provisioning/x509.ts';

let dir: string;
let clock: number;
let ca: CertificateAuthority;
const csrFor = (deviceId: string, agency = 'metro-pd'): Buffer => createCsr(generateP256Key(), deviceSubject({ deviceId, agency, site: 'Elm St' }), deviceAltNames({ deviceId, agency, site: 'Elm St' }));

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ca-'));
  clock = Date.parse('2026-03-01T00:00:00Z');
  ca = new CertificateAuthority(join(dir, 'ca'), () => clock);
  await ca.init({ agency: 'metro-pd', deviceValidityDays: 90 });
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe('CertificateAuthority', () => {
  it('issues to the token holder: 90 days, names from the CA not the request, token spent', async () => {
    const token = await ca.issueToken('pole-3');
    const [leaf] = await ca.enroll(csrFor('pole-3'), { token, user: 'pole-3' });
    expect(leaf!.subject).toBe('O=metro-pd\nCN=pole-3');
    expect(leaf!.subjectAltName).toBe('URI:urn:alpr:agency:metro-pd, URI:urn:alpr:site:Elm%20St, URI:urn:alpr:device:metro-pd:pole-3');
    expect(Date.parse(leaf!.validTo) - clock).toBe(90 * 86_400_000);
    await expect(ca.enroll(csrFor('pole-3'), { token })).rejects.toMatchObject({ status: 401, message: expect.stringContaining('already used') });
    // only the hash is on disk
    expect(await readFile(join(dir, 'ca', 'ca-state.json'), 'utf8')).not.toContain(token);
  });

  it('refuses an expired token, a token for another device, another agency, a Basic user that is not the device', async () => {
    const token = await ca.issueToken('pole-3', 3_600_000);
    await expect(ca.enroll(csrFor('pole-4'), { token })).rejects.toMatchObject({ status: 403, message: expect.stringContaining('token is for device pole-3') });
    await expect(ca.enroll(csrFor('pole-3'), { token, user: 'pole-4' })).rejects.toMatchObject({ status: 403 });
    await expect(ca.enroll(csrFor('pole-3', 'other-pd'), { token })).rejects.toMatchObject({ status: 403, message: expect.stringContaining('this CA serves metro-pd') });
    clock += 2 * 3_600_000;
    await expect(ca.enroll(csrFor('pole-3'), { token })).rejects.toMatchObject({ status: 401, message: expect.stringContaining('expired') });
    await expect(ca.issueToken('Pole 3')).rejects.toBeInstanceOf(EnrolmentError);
  });

  it('re-enrolment needs a certificate it issued, unrevoked and unexpired, naming the same device', async () => {
    const [leaf] = await ca.enroll(csrFor('pole-3'), { token: await ca.issueToken('pole-3') });
    await expect(ca.reenroll(csrFor('pole-5'), leaf!)).rejects.toMatchObject({ status: 403, message: expect.stringContaining("pole-3's") });
    const [next] = await ca.reenroll(csrFor('pole-3'), leaf!);
    expect(serialHex(next!)).not.toBe(serialHex(leaf!));
    clock += 91 * 86_400_000;
    await expect(ca.reenroll(csrFor('pole-3'), next!)).rejects.toMatchObject({ status: 403, message: expect.stringContaining('expired') });
  });

  it('revokes by device id (every unexpired certificate) and by serial; the CRL lists them; unknown targets are an error', async () => {
    const [a] = await ca.enroll(csrFor('pole-3'), { token: await ca.issueToken('pole-3') });
    const [b] = await ca.reenroll(csrFor('pole-3'), a!);
    expect((await ca.revoke('pole-3', 'cessationOfOperation')).sort()).toEqual([serialHex(a!), serialHex(b!)].sort());
    expect(await ca.revoke(serialHex(a!))).toEqual([]);
    await expect(ca.revoke('pole-404')).rejects.toMatchObject({ status: 404 });
    const crl = await readFile(ca.file('crl'), 'utf8');
    expect(isRevoked(a!, crl, await ca.caCertificates())).toBe(true);
    expect(isRevoked(b!, crl, await ca.caCertificates())).toBe(true);
    expect((await readState(ca.dir)).crlNumber).toBeGreaterThanOrEqual(3);
  });

  it('rotation: two roots during the overlap, one at a time, old devices still renewable, finish retires the old root', async () => {
    const [leaf] = await ca.enroll(csrFor('pole-3'), { token: await ca.issueToken('pole-3') });
    const oldRoot = (await ca.current()).cert;
    const newRoot = await ca.rotateCa(30);
    expect((await ca.caCertificates()).map((c) => c.fingerprint256)).toEqual([newRoot.fingerprint256, oldRoot.fingerprint256]);
    await expect(ca.rotateCa()).rejects.toMatchObject({ status: 409 });
    const [moved] = await ca.reenroll(csrFor('pole-3'), leaf!);
    expect(moved!.checkIssued(newRoot)).toBe(true);
    // a revocation of an old-root certificate goes on the old root's CRL
    await ca.revoke(serialHex(leaf!));
    expect(isRevoked(leaf!, await readFile(ca.file('crl'), 'utf8'), await ca.caCertificates())).toBe(true);
    await ca.finishRotation({ dns: ['localhost'], ips: ['127.0.0.1'] });
    expect((await ca.caCertificates()).map((c) => c.fingerprint256)).toEqual([newRoot.fingerprint256]);
    await expect(ca.finishRotation({ dns: [], ips: [] })).rejects.toMatchObject({ status: 409 });
    await expect(ca.init({ agency: 'metro-pd' })).rejects.toMatchObject({ status: 409 });
  });

  it('serves the published CRL until it has a day left, then publishes a fresh one', async () => {
    const first = await ca.currentCrl();
    const number = (await readState(ca.dir)).crlNumber;
    expect(await ca.currentCrl()).toBe(first);
    expect((await readState(ca.dir)).crlNumber).toBe(number);
    clock += 6.5 * 86_400_000;
    expect(await ca.currentCrl()).not.toBe(first);
    expect((await readState(ca.dir)).crlNumber).toBe(number + 1);
  });

  it('a damaged state file is an error naming the file, not a fresh CA', async () => {
    await writeFile(join(dir, 'ca', 'ca-state.json'), '{"version": 1, "agency": 5}');
    await expect(ca.issueToken('pole-3')).rejects.toThrow(/ca-state.json: .*agency/);
  });
});
