/**
 * The release repository security staff keep: signed TUF metadata, target files, and the
 * metadata being signed. Layout under the repository folder:
 *
 *   repo.json             expiry policy (days per role)
 *   metadata/             committed, signed: N.root.json (every version: devices walk the chain),
 *                         N.targets.json, N.snapshot.json, timestamp.json
 *   targets/              target files named <sha256>.<name> (consistent snapshots)
 *   staged/               root.json, targets.json collecting signatures until publish
 *
 * A change is staged (add, rotate), signed by as many offline keys as the role's threshold asks
 * (sign, possibly on several machines), then published: publish checks every threshold with the
 * same @tufjs/models code the device runs, signs snapshot and timestamp with the online keys and
 * copies the result to a folder any static file server serves — target files first, timestamp
 * last, each renamed into place, so a device never sees metadata naming a file not yet there.
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Metadata, Root, Targets } from '@tufjs/models';
import { ReleaseError } from '../errors.ts';
import { copyFileAtomic, readJsonIfExists, writeFileAtomic, writeJsonAtomic } from '../atomic-json.ts';
import { generateKey, publicOnly, signerFor, writeKeyFile, type KeyFile } from './keys.ts';
import {
  countValid, expiresIn, parseRoot, parseSnapshot, parseTargets, parseTimestamp, rootJson, serialise,
  snapshotJson, targetsJson, timestampJson, unsigned, ROLES, type RoleKeys, type RoleName,
} from './metadata.ts';
import { makeDelta } from '../delta.ts';
import { hashFile } from '../hash.ts';
import { copyOut } from './copy-out.ts';

export const TARGET_KINDS = ['hotlist', 'model-pack', 'firmware', 'balena-release'] as const;
export type TargetKind = (typeof TARGET_KINDS)[number];

export interface ExpiryDays {
  readonly root: number;
  readonly targets: number;
  readonly snapshot: number;
  readonly timestamp: number;
}
export const DEFAULT_EXPIRY: ExpiryDays = { root: 365, targets: 90, snapshot: 7, timestamp: 1 };

/** Steps and bytes, for the CLI's progress bar. */
export interface ReleaseProgress {
  step(name: string, index: number, total: number): void;
  bytes(done: number, total: number): void;
}
export const noProgress: ReleaseProgress = { step: () => undefined, bytes: () => undefined };

export interface InitOptions {
  readonly keysDir: string;
  readonly counts?: Partial<Record<RoleName, { keys: number; threshold: number }>>;
  readonly expiry?: Partial<ExpiryDays>;
  readonly now?: () => number;
}

export interface AddOptions {
  /** Target path as devices see it, e.g. "hotlist/ncic.hotlist". */
  readonly name: string;
  readonly kind: TargetKind;
  /** Must exceed every published version of this kind; default the next one. */
  readonly version?: number;
  /** Extra custom fields (a hot list's generatedAt, a balena release's commit). */
  readonly custom?: Readonly<Record<string, string | number | boolean>>;
  /** Also publish a delta from the previous version of this target (hot lists). */
  readonly delta?: boolean;
}

export interface RoleStatus {
  readonly role: RoleName;
  readonly version: number;
  readonly expires: string;
  readonly signatures: number;
  readonly threshold: number;
  readonly staged: boolean;
}

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*)*$/;

export class ReleaseRepository {
  private constructor(readonly dir: string, private readonly expiry: ExpiryDays, private readonly now: () => number) {}

  private get metaDir(): string {
    return path.join(this.dir, 'metadata');
  }
  private get stagedDir(): string {
    return path.join(this.dir, 'staged');
  }

  /** Creates the repository and its keys; every first version is signed by all its role's keys. */
  static async init(dir: string, options: InitOptions): Promise<{ repo: ReleaseRepository; keyFiles: Record<RoleName, string[]> }> {
    if ((await readJsonIfExists(path.join(dir, 'repo.json'))) !== undefined) throw new ReleaseError(`${dir} already holds a repository`);
    const expiry = { ...DEFAULT_EXPIRY, ...options.expiry };
    const now = options.now ?? Date.now;
    await mkdir(path.join(dir, 'metadata'), { recursive: true });
    await mkdir(path.join(dir, 'targets'), { recursive: true });
    await mkdir(path.join(dir, 'staged'), { recursive: true });
    await mkdir(options.keysDir, { recursive: true });
    const roles = {} as Record<RoleName, RoleKeys>;
    const keyFiles = {} as Record<RoleName, string[]>;
    for (const role of ROLES) {
      const want = options.counts?.[role] ?? { keys: role === 'root' ? 3 : 1, threshold: role === 'root' ? 2 : 1 };
      if (!Number.isInteger(want.keys) || want.keys < 1 || want.keys > 16) throw new ReleaseError(`${role}: key count must be 1–16, got ${want.keys}`);
      if (!Number.isInteger(want.threshold) || want.threshold < 1 || want.threshold > want.keys) {
        throw new ReleaseError(`${role}: threshold must be 1–${want.keys} (the number of keys), got ${want.threshold}`);
      }
      const keys = Array.from({ length: want.keys }, () => generateKey());
      keyFiles[role] = [];
      for (const [i, key] of keys.entries()) {
        const file = path.join(options.keysDir, `${role}-${i + 1}.key.json`);
        await writeKeyFile(file, key);
        keyFiles[role].push(file);
      }
      roles[role] = { keys, threshold: want.threshold };
    }
    await writeJsonAtomic(path.join(dir, 'repo.json'), { format: 'alpr-ota-repo', formatVersion: 1, expiryDays: expiry });
    const repo = new ReleaseRepository(dir, expiry, now);
    const root = parseRoot(unsigned(rootJson(1, expiresIn(now(), expiry.root), publicRoles(roles))));
    for (const k of roles.root.keys) root.sign(signerFor(k), true);
    await repo.commitRoot(root);
    const targets = parseTargets(unsigned(targetsJson(1, expiresIn(now(), expiry.targets), {})));
    for (const k of roles.targets.keys) targets.sign(signerFor(k), true);
    await writeFileAtomic(path.join(repo.metaDir, '1.targets.json'), serialise(targets));
    await repo.publish(undefined, [...roles.snapshot.keys, ...roles.timestamp.keys]);
    return { repo, keyFiles };
  }

  static async open(dir: string, now: () => number = Date.now): Promise<ReleaseRepository> {
    const conf = (await readJsonIfExists(path.join(dir, 'repo.json'))) as { format?: string; expiryDays?: ExpiryDays } | undefined;
    if (conf?.format !== 'alpr-ota-repo' || !conf.expiryDays) throw new ReleaseError(`${dir}: not a release repository (no repo.json; run "alpr ota init" first)`);
    return new ReleaseRepository(dir, { ...DEFAULT_EXPIRY, ...conf.expiryDays }, now);
  }

  // ---- reading -------------------------------------------------------------------------------

  async currentRoot(): Promise<Metadata<Root>> {
    return parseRoot(await this.readJson(path.join(this.metaDir, 'root.json')));
  }

  async currentTargets(): Promise<Metadata<Targets>> {
    const version = await this.latestVersion('targets');
    return parseTargets(await this.readJson(path.join(this.metaDir, `${version}.targets.json`)));
  }

  private async stagedRoot(): Promise<Metadata<Root> | undefined> {
    const json = await readJsonIfExists(path.join(this.stagedDir, 'root.json'));
    return json === undefined ? undefined : parseRoot(json);
  }

  private async stagedTargets(): Promise<Metadata<Targets> | undefined> {
    const json = await readJsonIfExists(path.join(this.stagedDir, 'targets.json'));
    return json === undefined ? undefined : parseTargets(json);
  }

  private async latestVersion(role: 'root' | 'targets' | 'snapshot'): Promise<number> {
    let best = 0;
    for (const f of await readdir(this.metaDir)) {
      const m = /^(\d+)\.(\w+)\.json$/.exec(f);
      if (m && m[2] === role) best = Math.max(best, Number(m[1]));
    }
    if (best === 0) throw new ReleaseError(`${this.metaDir}: no ${role} metadata (repository damaged)`);
    return best;
  }

  private async readJson(file: string): Promise<unknown> {
    try {
      return JSON.parse(await readFile(file, 'utf8')) as unknown;
    } catch (err) {
      throw new ReleaseError(`${file}: cannot read (${(err as Error).message})`);
    }
  }

  // ---- staging -------------------------------------------------------------------------------

  /** Adds (or replaces) a target; the new targets version waits in staged/ for signatures. */
  async addTarget(file: string, options: AddOptions, progress: ReleaseProgress = noProgress): Promise<{ name: string; version: number; sha256: string; length: number; delta?: string }> {
    if (!NAME_RE.test(options.name) || options.name.split('/').includes('..')) {
      throw new ReleaseError(`target name ${JSON.stringify(options.name)}: expected a relative path of letters, digits, ".", "_", "-" and "/"`);
    }
    if (!(TARGET_KINDS as readonly string[]).includes(options.kind)) throw new ReleaseError(`kind ${JSON.stringify(options.kind)}: expected one of ${TARGET_KINDS.join(', ')}`);
    const base = (await this.stagedTargets()) ?? (await this.currentTargets());
    const existing = Object.values(base.signed.targets);
    const sameKind = existing.filter((t) => t.custom.kind === options.kind);
    const highest = Math.max(0, ...sameKind.map((t) => Number(t.custom.version) || 0));
    const version = options.version ?? highest + 1;
    if (!Number.isInteger(version) || version <= highest) {
      throw new ReleaseError(`version ${version} of ${options.kind}: must be an integer above ${highest}, the highest published (versions only go up)`);
    }
    progress.step('hash', 1, options.delta ? 4 : 3);
    const { sha256, length } = await hashFile(file, progress);
    progress.step('copy', 2, options.delta ? 4 : 3);
    await this.storeTarget(file, options.name, sha256);
    const targets: Record<string, unknown> = {};
    for (const t of existing) {
      // The new version replaces the entry of the same name, and deltas towards it are stale;
      // other targets (another agency list, the firmware) stay listed.
      if (t.path === options.name) continue;
      if (t.custom.kind === 'hotlist-delta' && t.custom.for === options.name) continue;
      targets[t.path] = t.toJSON();
    }
    targets[options.name] = { length, hashes: { sha256 }, custom: { ...options.custom, kind: options.kind, version } };
    let deltaName: string | undefined;
    if (options.delta) {
      const previous = sameKind.find((t) => t.path === options.name);
      if (!previous) throw new ReleaseError(`--delta: no earlier ${options.name} in the repository to make a delta from`);
      progress.step('delta', 3, 4);
      const prevHash = previous.hashes.sha256;
      if (!prevHash) throw new ReleaseError(`${previous.path}: no sha256 in its metadata`);
      const delta = makeDelta(await readFile(this.targetFile(previous.path, prevHash)), await readFile(file));
      const baseVersion = Number(previous.custom.version);
      deltaName = `${options.name}.from-${baseVersion}.delta`;
      const deltaHash = createHash('sha256').update(delta).digest('hex');
      const tmp = path.join(this.stagedDir, 'delta.tmp');
      await writeFileAtomic(tmp, delta);
      await this.storeTarget(tmp, deltaName, deltaHash);
      await rm(tmp, { force: true });
      targets[deltaName] = {
        length: delta.length,
        hashes: { sha256: deltaHash },
        custom: { kind: 'hotlist-delta', for: options.name, version, baseVersion, baseSha256: prevHash, resultSha256: sha256, resultLength: length },
      };
    }
    const committed = await this.currentTargets();
    const staged = parseTargets(unsigned(targetsJson(committed.signed.version + 1, expiresIn(this.now(), this.expiry.targets), targets)));
    await writeFileAtomic(path.join(this.stagedDir, 'targets.json'), serialise(staged));
    progress.step('staged', options.delta ? 4 : 3, options.delta ? 4 : 3);
    return { name: options.name, version, sha256, length, ...(deltaName ? { delta: deltaName } : {}) };
  }

  /**
   * Stages the next root with `role`'s keys changed. The new root must then be signed by a
   * threshold of the old root keys and a threshold of the new ones (TUF 5.3.4).
   */
  async rotate(role: RoleName, change: { add?: readonly KeyFile[]; remove?: readonly string[]; threshold?: number }): Promise<{ version: number; keyids: string[]; threshold: number }> {
    const current = (await this.stagedRoot()) ?? (await this.currentRoot());
    const committed = await this.currentRoot();
    const json = current.signed.toJSON() as { keys: Record<string, unknown>; roles: Record<string, { keyids: string[]; threshold: number }> };
    const roleJson = json.roles[role];
    if (!roleJson) throw new ReleaseError(`unknown role ${role}`);
    let keyids = [...roleJson.keyids];
    for (const prefix of change.remove ?? []) {
      const hits = keyids.filter((id) => id.startsWith(prefix));
      if (hits.length !== 1) throw new ReleaseError(`--remove ${prefix}: matches ${hits.length} ${role} keys (${keyids.map((k) => k.slice(0, 12)).join(', ')})`);
      keyids = keyids.filter((id) => id !== hits[0]);
    }
    for (const k of change.add ?? []) {
      if (keyids.includes(k.keyid)) throw new ReleaseError(`--add ${k.keyid.slice(0, 12)}: already a ${role} key`);
      keyids.push(k.keyid);
      json.keys[k.keyid] = { keytype: k.keytype, scheme: k.scheme, keyval: { public: k.public } };
    }
    const threshold = change.threshold ?? Math.min(roleJson.threshold, keyids.length);
    if (keyids.length === 0) throw new ReleaseError(`${role} would have no keys left`);
    if (!Number.isInteger(threshold) || threshold < 1 || threshold > keyids.length) throw new ReleaseError(`threshold ${threshold}: must be 1–${keyids.length} (the ${role} keys after the change)`);
    json.roles[role] = { keyids, threshold };
    // Drop keys no role uses any more.
    const used = new Set(Object.values(json.roles).flatMap((r) => r.keyids));
    for (const id of Object.keys(json.keys)) if (!used.has(id)) delete json.keys[id];
    const next = parseRoot(unsigned({ ...json, version: committed.signed.version + 1, expires: expiresIn(this.now(), this.expiry.root) }));
    await writeFileAtomic(path.join(this.stagedDir, 'root.json'), serialise(next));
    if (role === 'targets') {
      // Devices verify targets against the new root's keys: the current targets are re-signed by them.
      const base = (await this.stagedTargets()) ?? (await this.currentTargets());
      const committedTargets = await this.currentTargets();
      const restaged = parseTargets(unsigned({ ...(base.signed.toJSON()), version: committedTargets.signed.version + 1, expires: expiresIn(this.now(), this.expiry.targets) }));
      await writeFileAtomic(path.join(this.stagedDir, 'targets.json'), serialise(restaged));
    }
    return { version: next.signed.version, keyids, threshold };
  }

  /** Adds signatures of the given keys to whatever is staged and return where each staged role stands. */
  async sign(keys: readonly KeyFile[]): Promise<RoleStatus[]> {
    const root = await this.stagedRoot();
    const targets = await this.stagedTargets();
    if (!root && !targets) throw new ReleaseError('nothing staged to sign (add a target or rotate a key first)');
    const committedRoot = await this.currentRoot();
    const trustRoot = root ?? committedRoot;
    for (const key of keys) {
      let used = false;
      if (root && (committedRoot.signed.roles.root?.keyIDs.includes(key.keyid) || root.signed.roles.root?.keyIDs.includes(key.keyid))) {
        root.sign(signerFor(key), true);
        used = true;
      }
      if (targets && trustRoot.signed.roles.targets?.keyIDs.includes(key.keyid)) {
        targets.sign(signerFor(key), true);
        used = true;
      }
      if (!used) throw new ReleaseError(`key ${key.keyid.slice(0, 12)} signs nothing staged: it is not a root key (old or new) or a targets key of this repository`);
    }
    if (root) await writeFileAtomic(path.join(this.stagedDir, 'root.json'), serialise(root));
    if (targets) await writeFileAtomic(path.join(this.stagedDir, 'targets.json'), serialise(targets));
    return (await this.status()).roles.filter((r) => r.staged);
  }

  // ---- publishing ----------------------------------------------------------------------------

  /**
   * Commits what is staged (refusing anything below its threshold), signs a new snapshot and
   * timestamp with `onlineKeys`, and copies the repository to `outDir` when given. With nothing
   * staged it only re-signs the timestamp: run daily, that is what keeps devices fresh.
   */
  async publish(outDir: string | undefined, onlineKeys: readonly KeyFile[], progress: ReleaseProgress = noProgress): Promise<{ root: number; targets: number; snapshot: number; timestamp: number }> {
    const committedRoot = await this.currentRoot();
    const stagedRoot = await this.stagedRoot();
    let root = committedRoot;
    if (stagedRoot) {
      const old = countValid(committedRoot, 'root', stagedRoot);
      const own = countValid(stagedRoot, 'root', stagedRoot);
      if (old.valid < old.threshold) throw new ReleaseError(`root v${stagedRoot.signed.version}: ${old.valid} of the ${old.threshold} signatures root v${committedRoot.signed.version}'s keys must give`);
      if (own.valid < own.threshold) throw new ReleaseError(`root v${stagedRoot.signed.version}: ${own.valid} of the ${own.threshold} signatures its own root keys must give`);
      root = stagedRoot;
    }
    const stagedTargets = await this.stagedTargets();
    if (stagedTargets) {
      const t = countValid(root, 'targets', stagedTargets);
      if (t.valid < t.threshold) throw new ReleaseError(`targets v${stagedTargets.signed.version}: ${t.valid} of ${t.threshold} signatures required`);
    }
    const onlineFor = (role: 'snapshot' | 'timestamp'): KeyFile[] => {
      const r = root.signed.roles[role];
      const keys = onlineKeys.filter((k) => r?.keyIDs.includes(k.keyid) && k.private);
      if (keys.length < (r?.threshold ?? 1)) throw new ReleaseError(`${role}: ${keys.length} of the ${r?.threshold ?? 1} private ${role} keys needed were given (--key)`);
      return keys;
    };
    const snapshotKeys = onlineFor('snapshot');
    const timestampKeys = onlineFor('timestamp');
    progress.step('commit', 1, 3);
    if (stagedRoot) {
      await this.commitRoot(stagedRoot);
      await rm(path.join(this.stagedDir, 'root.json'));
    }
    if (stagedTargets) {
      await writeFileAtomic(path.join(this.metaDir, `${stagedTargets.signed.version}.targets.json`), serialise(stagedTargets));
      await rm(path.join(this.stagedDir, 'targets.json'));
    }
    const targetsVersion = await this.latestVersion('targets');
    let snapshotVersion = await this.latestVersion('snapshot').catch(() => 0);
    let snapshotBytes: Buffer;
    const prevSnap = snapshotVersion ? parseSnapshot(await this.readJson(path.join(this.metaDir, `${snapshotVersion}.snapshot.json`))) : undefined;
    if (!prevSnap || prevSnap.signed.meta['targets.json']?.version !== targetsVersion || stagedRoot) {
      snapshotVersion += 1;
      const snap = parseSnapshot(unsigned(snapshotJson(snapshotVersion, expiresIn(this.now(), this.expiry.snapshot), targetsVersion)));
      for (const k of snapshotKeys) snap.sign(signerFor(k), true);
      snapshotBytes = serialise(snap);
      await writeFileAtomic(path.join(this.metaDir, `${snapshotVersion}.snapshot.json`), snapshotBytes);
    } else {
      snapshotBytes = await readFile(path.join(this.metaDir, `${snapshotVersion}.snapshot.json`));
    }
    const prevTs = await readJsonIfExists(path.join(this.metaDir, 'timestamp.json'));
    const tsVersion = prevTs === undefined ? 1 : parseTimestamp(prevTs).signed.version + 1;
    const ts = parseTimestamp(unsigned(timestampJson(tsVersion, expiresIn(this.now(), this.expiry.timestamp), snapshotVersion, snapshotBytes)));
    for (const k of timestampKeys) ts.sign(signerFor(k), true);
    await writeFileAtomic(path.join(this.metaDir, 'timestamp.json'), serialise(ts));
    if (outDir) {
      progress.step('copy', 2, 3);
      await copyOut(this.dir, outDir, progress);
    }
    progress.step('done', 3, 3);
    return { root: root.signed.version, targets: targetsVersion, snapshot: snapshotVersion, timestamp: tsVersion };
  }

  async status(): Promise<{ roles: RoleStatus[]; targets: { name: string; kind: string; version: number; length: number }[] }> {
    const committedRoot = await this.currentRoot();
    const stagedRoot = await this.stagedRoot();
    const root = stagedRoot ?? committedRoot;
    const roles: RoleStatus[] = [];
    const rootCount = countValid(committedRoot, 'root', root);
    const own = countValid(root, 'root', root);
    roles.push({ role: 'root', version: root.signed.version, expires: root.signed.expires, signatures: Math.min(rootCount.valid, own.valid), threshold: Math.max(rootCount.threshold, own.threshold), staged: !!stagedRoot });
    const stagedTargets = await this.stagedTargets();
    const targets = stagedTargets ?? (await this.currentTargets());
    const tc = countValid(root, 'targets', targets);
    roles.push({ role: 'targets', version: targets.signed.version, expires: targets.signed.expires, signatures: tc.valid, threshold: tc.threshold, staged: !!stagedTargets });
    const snapVersion = await this.latestVersion('snapshot');
    const snap = parseSnapshot(await this.readJson(path.join(this.metaDir, `${snapVersion}.snapshot.json`)));
    const sc = countValid(root, 'snapshot', snap);
    roles.push({ role: 'snapshot', version: snapVersion, expires: snap.signed.expires, signatures: sc.valid, threshold: sc.threshold, staged: false });
    const ts = parseTimestamp(await this.readJson(path.join(this.metaDir, 'timestamp.json')));
    const tsc = countValid(root, 'timestamp', ts);
    roles.push({ role: 'timestamp', version: ts.signed.version, expires: ts.signed.expires, signatures: tsc.valid, threshold: tsc.threshold, staged: false });
    const list = Object.values(targets.signed.targets).map((t) => ({ name: t.path, kind: String(t.custom.kind), version: Number(t.custom.version), length: t.length }));
    return { roles, targets: list };
  }

  // ---- files ---------------------------------------------------------------------------------

  private targetFile(name: string, sha256: string): string {
    const { dir, base } = path.posix.parse(name);
    return path.join(this.dir, 'targets', dir, `${sha256}.${base}`);
  }

  private async storeTarget(file: string, name: string, sha256: string): Promise<void> {
    const dest = this.targetFile(name, sha256);
    await mkdir(path.dirname(dest), { recursive: true });
    await copyFileAtomic(file, dest);
  }

  private async commitRoot(root: Metadata<Root>): Promise<void> {
    const bytes = serialise(root);
    await writeFileAtomic(path.join(this.metaDir, `${root.signed.version}.root.json`), bytes);
    await writeFileAtomic(path.join(this.metaDir, 'root.json'), bytes);
  }
}

function publicRoles(roles: Record<RoleName, RoleKeys>): Record<RoleName, RoleKeys> {
  const out = {} as Record<RoleName, RoleKeys>;
  for (const r of ROLES) out[r] = { keys: roles[r].keys.map(publicOnly), threshold: roles[r].threshold };
  return out;
}
