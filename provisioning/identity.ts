/**
 * The device identity on disk, in `{dataDir}/identity/`:
 *
 *   device.key.pem       P-256 private key, PKCS#8, mode 0600: never logged, never sent
 *   device.crt.pem       leaf first, then intermediates
 *   ca-bundle.pem        the agency trust anchors (broker, dispatch, EST)
 *   device.next.*        a staged replacement (rotation)
 *   device.prev.*        the pair replaced by activate(), kept until commit() for rollback
 *
 * Rotation: stage() → activate() (current → prev, next → current) → the MQTT client reconnects
 * with the files now current → commit() drops prev, or rollback() puts prev back. Each step is a
 * rename, and recover() at boot finishes or undoes a step a power cut interrupted.
 */
import { createPublicKey, type KeyObject, type X509Certificate } from 'node:crypto';
import { copyFile, mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { syncDir, writeFileAtomic } from './atomic-file.ts';
import { X509Error, generateP256Key, loadP256Key, privateKeyPem, readCertificates } from './x509.ts';

export const identityDir = (dataDir: string): string => join(dataDir, 'identity');

export interface Identity {
  readonly key: KeyObject;
  /** Leaf first. */
  readonly chain: readonly X509Certificate[];
  readonly leaf: X509Certificate;
  readonly caBundle: readonly X509Certificate[];
}

export class IdentityError extends Error {
  override readonly name = 'IdentityError';
}

const exists = (p: string): Promise<boolean> => stat(p).then(() => true, () => false);
const sameKey = (cert: X509Certificate, key: KeyObject): boolean =>
  createPublicKey(key).export({ type: 'spki', format: 'der' }).equals(cert.publicKey.export({ type: 'spki', format: 'der' }));

export class IdentityStore {
  readonly dir: string;
  constructor(dataDir: string) {
    this.dir = identityDir(dataDir);
  }

  path(name: 'key' | 'cert' | 'ca' | 'next.key' | 'next.cert' | 'prev.key' | 'prev.cert'): string {
    const file = { key: 'device.key.pem', cert: 'device.crt.pem', ca: 'ca-bundle.pem', 'next.key': 'device.next.key.pem', 'next.cert': 'device.next.crt.pem', 'prev.key': 'device.prev.key.pem', 'prev.cert': 'device.prev.crt.pem' }[name];
    return join(this.dir, file);
  }

  /** The device key, generated on first call (first boot) and kept from then on. */
  async ensureKey(): Promise<KeyObject> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const path = this.path('key');
    if (await exists(path)) return this.readKey(path);
    const key = generateP256Key();
    await writeFileAtomic(path, privateKeyPem(key), 0o600);
    return key;
  }

  private async readKey(path: string): Promise<KeyObject> {
    const st = await stat(path);
    if ((st.mode & 0o077) !== 0) throw new IdentityError(`${path}: the device key is readable by others (mode ${(st.mode & 0o777).toString(8)}); expected 600`);
    try {
      return loadP256Key(await readFile(path, 'utf8'));
    } catch (err) {
      throw new IdentityError(`${path}: ${(err as Error).message}`);
    }
  }

  async hasCertificate(): Promise<boolean> {
    return exists(this.path('cert'));
  }

  /** The current identity, or undefined before the first enrolment. Mismatched files are an error. */
  async read(): Promise<Identity | undefined> {
    if (!(await exists(this.path('cert')))) return undefined;
    const key = await this.readKey(this.path('key'));
    const chain = readCertificates(await readFile(this.path('cert'), 'utf8'), this.path('cert'));
    const leaf = chain[0] as X509Certificate;
    if (!sameKey(leaf, key)) throw new IdentityError(`${this.path('cert')}: the certificate does not belong to the device key`);
    const caBundle = (await exists(this.path('ca'))) ? readCertificates(await readFile(this.path('ca'), 'utf8'), this.path('ca')) : [];
    return { key, chain, leaf, caBundle };
  }

  async writeCaBundle(certs: readonly X509Certificate[]): Promise<void> {
    if (certs.length === 0) throw new IdentityError('refusing to write an empty CA bundle');
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    await writeFileAtomic(this.path('ca'), certs.map((c) => c.toString()).join(''));
  }

  /** Writes a replacement beside the current pair; `key` only when rekeying. */
  async stage(chain: readonly X509Certificate[], key?: KeyObject): Promise<void> {
    const leaf = chain[0];
    if (!leaf) throw new IdentityError('refusing to stage an empty certificate chain');
    const pairKey = key ?? (await this.readKey(this.path('key')));
    if (!sameKey(leaf, pairKey)) throw new IdentityError('the staged certificate does not belong to the staged key');
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    await rm(this.path('next.key'), { force: true });
    if (key) await writeFileAtomic(this.path('next.key'), privateKeyPem(key), 0o600);
    await writeFileAtomic(this.path('next.cert'), chain.map((c) => c.toString()).join(''));
  }

  /** Makes the staged pair current; the replaced pair is kept as prev until commit(). */
  async activate(): Promise<void> {
    if (!(await exists(this.path('next.cert')))) throw new IdentityError('nothing staged to activate');
    const hadCert = await exists(this.path('cert'));
    if (hadCert) {
      await copyFile(this.path('key'), this.path('prev.key'));
      await copyFile(this.path('cert'), this.path('prev.cert'));
      await syncDir(this.dir);
    }
    // key before certificate: recover() completes a cut between the two renames
    if (await exists(this.path('next.key'))) await rename(this.path('next.key'), this.path('key'));
    await rename(this.path('next.cert'), this.path('cert'));
    await syncDir(this.dir);
  }

  async commit(): Promise<void> {
    await rm(this.path('prev.key'), { force: true });
    await rm(this.path('prev.cert'), { force: true });
    await syncDir(this.dir);
  }

  /** Puts the pair activate() replaced back; a no-op when nothing is pending. */
  async rollback(): Promise<void> {
    await rm(this.path('next.key'), { force: true });
    await rm(this.path('next.cert'), { force: true });
    if (!(await exists(this.path('prev.cert')))) return;
    await rename(this.path('prev.key'), this.path('key'));
    await rename(this.path('prev.cert'), this.path('cert'));
    await syncDir(this.dir);
  }

  /** True while an activated rotation awaits commit() or rollback(). */
  async pending(): Promise<boolean> {
    return exists(this.path('prev.cert'));
  }

  /**
   * At boot: a rotation that was activated but never committed is rolled back (its confirmation
   * never came); a cut between activate()'s two renames is completed first, so the pair matches.
   * Leftover staged files are removed. Returns what it did, for the log.
   */
  async recover(): Promise<'clean' | 'rolled-back' | 'discarded-staged'> {
    if (await this.pending()) {
      await this.rollback();
      return 'rolled-back';
    }
    if ((await exists(this.path('next.cert'))) || (await exists(this.path('next.key')))) {
      // A key renamed into place with its certificate still staged: finish that rename first.
      if (await exists(this.path('next.cert'))) {
        try {
          const key = await this.readKey(this.path('key'));
          const leaf = readCertificates(await readFile(this.path('next.cert'), 'utf8'))[0] as X509Certificate;
          if (sameKey(leaf, key) && !(await exists(this.path('next.key')))) {
            const current = (await exists(this.path('cert'))) ? readCertificates(await readFile(this.path('cert'), 'utf8'))[0] : undefined;
            if (!current || !sameKey(current, key)) {
              await rename(this.path('next.cert'), this.path('cert'));
              await syncDir(this.dir);
              return 'clean';
            }
          }
        } catch (err) {
          if (!(err instanceof X509Error) && !(err instanceof IdentityError)) throw err;
          // unreadable staged files are discarded below
        }
      }
      await rm(this.path('next.key'), { force: true });
      await rm(this.path('next.cert'), { force: true });
      return 'discarded-staged';
    }
    return 'clean';
  }
}
