/** `alpr ota …`: the release tool security staff run to sign and publish updates. */
import { readFile, stat } from 'node:fs/promises';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { CliIo } from '../../models/eval/cli-io.ts';
import { packBundle } from '../bundle.ts';
import { OtaError, ReleaseError } from '../errors.ts';
import { generateKey, publicOnly, readKeyFile, writeKeyFile } from '../release/keys.ts';
import { ROLES, type RoleName } from '../release/metadata.ts';
import { ReleaseRepository, TARGET_KINDS, type TargetKind } from '../release/repository.ts';
import { progressBar } from './progress-bar.ts';

export const OTA_USAGE = `usage: alpr ota <subcommand> <repository> [arguments] [options]

  init <repo> --keys <dir>          create a repository and its signing keys
        [--root-keys 3 --root-threshold 2 --targets-keys 1 --targets-threshold 1]
        [--expires-timestamp <days> ...]   days each role's metadata stays valid (root 365, targets 90, snapshot 7, timestamp 1)
  add <repo> <file|folder>          stage a target: a hot list, a model pack or a firmware bundle
        --name <path> --kind hotlist|model-pack|firmware|balena-release
        [--version <n>] [--delta] [--generated-at <ISO time>] [--commit <hex>] [--bundle-version <v>]
        a folder is packed into a bundle first (model pack: its manifest.json names it)
  sign <repo> --key <file> ...      sign what is staged (root and/or targets) with offline keys
  rotate <repo> --role <role> [--add <public key file>]... [--remove <keyid prefix>]... [--threshold <n>]
                                    stage a new root; it needs the old and the new root thresholds
  publish <repo> [<out>] --key <online key> ...
                                    commit what is staged (thresholds checked), sign snapshot and
                                    timestamp, copy to <out> for any static file server; with
                                    nothing staged, re-signs the timestamp (run at least daily)
  status <repo>                     versions, expiry, signatures and targets
  keygen <file>                     a new ed25519 key (<file>, and <file>.pub.json to hand out)

options: --json (one JSON object on stdout), -h/--help`;

const OPTIONS = {
  keys: { type: 'string' },
  key: { type: 'string', multiple: true },
  name: { type: 'string' },
  kind: { type: 'string' },
  version: { type: 'string' },
  delta: { type: 'boolean' },
  'generated-at': { type: 'string' },
  commit: { type: 'string' },
  'bundle-version': { type: 'string' },
  role: { type: 'string' },
  add: { type: 'string', multiple: true },
  remove: { type: 'string', multiple: true },
  threshold: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  ...Object.fromEntries(ROLES.flatMap((r) => [[`${r}-keys`, { type: 'string' }], [`${r}-threshold`, { type: 'string' }], [`expires-${r}`, { type: 'string' }]])),
} as const;

function int(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new ReleaseError(`--${name}: expected a whole number, got ${JSON.stringify(value)}`);
  return Number(value);
}

export async function otaCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = argv;
  let parsed;
  try {
    parsed = parseArgs({ args: [...rest], allowPositionals: true, options: OPTIONS, strict: true });
  } catch (err) {
    io.stderr.write(`alpr ota: ${(err as Error).message}\n\n${OTA_USAGE}\n`);
    return 64;
  }
  const v = parsed.values as Record<string, string | string[] | boolean | undefined>;
  const subs = ['init', 'add', 'sign', 'rotate', 'publish', 'status', 'keygen'];
  if (v.help || sub === undefined || !subs.includes(sub)) {
    if (!v.help && sub !== undefined) io.stderr.write(`alpr ota: unknown subcommand ${JSON.stringify(sub)}\n\n`);
    (v.help ? io.stdout : io.stderr).write(`${OTA_USAGE}\n`);
    return v.help ? 0 : 64;
  }
  const abs = (p: string): string => path.resolve(io.cwd, p);
  const [first, second] = parsed.positionals;
  const print = (value: unknown, text: string): void => void io.stdout.write(v.json ? `${JSON.stringify(value)}\n` : `${text}\n`);
  const bar = progressBar(io.stderr, `ota ${sub}`);
  const keys = async (): Promise<Awaited<ReturnType<typeof readKeyFile>>[]> => Promise.all(((v.key as string[] | undefined) ?? []).map((k) => readKeyFile(abs(k))));
  try {
    if (first === undefined) throw new ReleaseError(sub === 'keygen' ? 'the key file to write is required' : 'the repository folder is required');
    switch (sub) {
      case 'keygen': {
        const key = generateKey();
        await writeKeyFile(abs(first), key);
        await writeKeyFile(`${abs(first)}.pub.json`, publicOnly(key));
        print({ keyid: key.keyid, file: abs(first), public: `${abs(first)}.pub.json` }, `key ${key.keyid.slice(0, 16)}… written to ${first} (public half: ${first}.pub.json)`);
        return 0;
      }
      case 'init': {
        if (typeof v.keys !== 'string') throw new ReleaseError('--keys <dir> is required: where the new private keys are written (move offline keys off this machine after)');
        const counts: Partial<Record<RoleName, { keys: number; threshold: number }>> = {};
        const expiry: Partial<Record<RoleName, number>> = {};
        for (const r of ROLES) {
          const k = int(v[`${r}-keys`] as string | undefined, `${r}-keys`);
          const t = int(v[`${r}-threshold`] as string | undefined, `${r}-threshold`);
          if (k !== undefined || t !== undefined) counts[r] = { keys: k ?? t ?? 1, threshold: t ?? 1 };
          const e = int(v[`expires-${r}`] as string | undefined, `expires-${r}`);
          if (e !== undefined) expiry[r] = e;
        }
        const { keyFiles } = await ReleaseRepository.init(abs(first), { keysDir: abs(v.keys), counts, expiry });
        print(keyFiles, `repository created in ${first}\n${Object.entries(keyFiles).map(([r, f]) => `  ${r.padEnd(9)} ${f.join(', ')}`).join('\n')}\nroot and targets keys are offline keys: move them to removable media now.`);
        return 0;
      }
      case 'add': {
        if (second === undefined) throw new ReleaseError('the file (or folder) to add is required');
        if (typeof v.name !== 'string') throw new ReleaseError('--name <target path> is required, e.g. hotlist/agency.hotlist');
        const kind = v.kind as string | undefined;
        if (!kind || !(TARGET_KINDS as readonly string[]).includes(kind)) throw new ReleaseError(`--kind: expected one of ${TARGET_KINDS.join(', ')}`);
        const repo = await ReleaseRepository.open(abs(first));
        const custom: Record<string, string> = {};
        let file = abs(second);
        let tmp: string | undefined;
        if (kind === 'hotlist') custom.generatedAt = await generatedAtOf(file, v['generated-at'] as string | undefined);
        if (kind === 'balena-release') {
          if (typeof v.commit !== 'string' || !/^[0-9a-f]{7,64}$/.test(v.commit)) throw new ReleaseError('--commit <hex> is required for a balena release');
          custom.commit = v.commit;
        }
        if ((kind === 'firmware' || kind === 'model-pack') && (await stat(file)).isDirectory()) {
          tmp = await mkdtemp(path.join(tmpdir(), 'alpr-bundle-'));
          const bundleName = kind === 'model-pack' ? await packName(file) : 'alpr-gateway';
          const version = (v['bundle-version'] as string | undefined) ?? (kind === 'model-pack' ? await packVersion(file) : undefined);
          if (!version) throw new ReleaseError('--bundle-version <v> is required when packing a firmware folder');
          const out = path.join(tmp, 'target.bundle');
          bar.step('pack', 0, 1);
          await packBundle(file, out, { kind: kind as 'firmware' | 'model-pack', name: bundleName, version });
          file = out;
          custom.bundleVersion = version;
        }
        try {
          const version = int(v.version as string | undefined, 'version');
          const res = await repo.addTarget(file, { name: v.name, kind: kind as TargetKind, ...(version !== undefined ? { version } : {}), custom, ...(v.delta ? { delta: true } : {}) }, bar);
          bar.finish();
          print(res, `staged ${res.name} v${res.version} (${res.length} bytes, sha256 ${res.sha256.slice(0, 16)}…)${res.delta ? `, delta ${res.delta}` : ''}\nnext: alpr ota sign ${first} --key <targets key> …`);
        } finally {
          if (tmp) await rm(tmp, { recursive: true, force: true });
        }
        return 0;
      }
      case 'sign': {
        const repo = await ReleaseRepository.open(abs(first));
        const given = await keys();
        if (given.length === 0) throw new ReleaseError('--key <file> is required (repeat it for several keys)');
        const roles = await repo.sign(given);
        print(roles, roles.map((r) => `${r.role} v${r.version}: ${r.signatures} of ${r.threshold} signatures${r.signatures >= r.threshold ? ' — ready to publish' : ''}`).join('\n'));
        return 0;
      }
      case 'rotate': {
        const role = v.role as RoleName | undefined;
        if (!role || !ROLES.includes(role)) throw new ReleaseError(`--role: expected one of ${ROLES.join(', ')}`);
        const repo = await ReleaseRepository.open(abs(first));
        const add = await Promise.all(((v.add as string[] | undefined) ?? []).map((f) => readKeyFile(abs(f))));
        const threshold = int(v.threshold as string | undefined, 'threshold');
        const res = await repo.rotate(role, { add: add.map(publicOnly), remove: (v.remove as string[] | undefined) ?? [], ...(threshold !== undefined ? { threshold } : {}) });
        print(res, `staged root v${res.version}: ${role} keys ${res.keyids.map((k) => k.slice(0, 12)).join(', ')}, threshold ${res.threshold}\nnext: sign with the old root keys and the new ones (alpr ota sign ${first} --key …)`);
        return 0;
      }
      case 'publish': {
        const repo = await ReleaseRepository.open(abs(first));
        const res = await repo.publish(second === undefined ? undefined : abs(second), await keys(), bar);
        bar.finish();
        print(res, `published root v${res.root}, targets v${res.targets}, snapshot v${res.snapshot}, timestamp v${res.timestamp}${second ? ` to ${second}` : ''}`);
        return 0;
      }
      case 'status': {
        const repo = await ReleaseRepository.open(abs(first));
        const st = await repo.status();
        const lines = [
          ...st.roles.map((r) => `${r.role.padEnd(9)} v${String(r.version).padEnd(4)} expires ${r.expires}  ${r.signatures}/${r.threshold} signatures${r.staged ? '  (staged)' : ''}`),
          '',
          ...st.targets.map((t) => `${t.kind.padEnd(14)} v${String(t.version).padEnd(4)} ${t.name} (${t.length} bytes)`),
        ];
        print(st, lines.join('\n'));
        return 0;
      }
      default:
        return 64;
    }
  } catch (err) {
    bar.finish();
    if (err instanceof ReleaseError || err instanceof OtaError) {
      io.stderr.write(`alpr ota ${sub}: ${err.message}\n`);
      return 1;
    }
    const e = err as NodeJS.ErrnoException;
    io.stderr.write(`alpr ota ${sub}: ${e.code ? `${e.code}: ` : ''}${e.message}\n`);
    return 1;
  }
}

/** A `.hotlist` file says when it was generated; a development CSV needs --generated-at (default: now). */
async function generatedAtOf(file: string, given: string | undefined): Promise<string> {
  if (given !== undefined) {
    const t = Date.parse(given);
    if (!Number.isFinite(t)) throw new ReleaseError(`--generated-at: ${JSON.stringify(given)} is not an ISO 8601 time`);
    return new Date(t).toISOString();
  }
  const head = (await readFile(file)).subarray(0, 8192).toString('utf8');
  if (head.replace(/\s/g, '').startsWith('{"format":"alpr-hotlist"')) {
    const header = JSON.parse(head.slice(0, head.indexOf('\n'))) as { generatedAt?: string };
    if (header.generatedAt) return header.generatedAt;
  }
  return new Date().toISOString();
}

async function manifestOf(dir: string): Promise<{ name?: unknown; version?: unknown }> {
  try {
    return JSON.parse(await readFile(path.join(dir, 'manifest.json'), 'utf8')) as { name?: unknown; version?: unknown };
  } catch (err) {
    throw new ReleaseError(`${dir}: a model pack folder needs a readable manifest.json (${(err as Error).message})`);
  }
}
async function packName(dir: string): Promise<string> {
  const m = await manifestOf(dir);
  if (typeof m.name !== 'string') throw new ReleaseError(`${dir}/manifest.json has no name`);
  return m.name;
}
async function packVersion(dir: string): Promise<string | undefined> {
  const m = await manifestOf(dir);
  return typeof m.version === 'string' ? m.version : undefined;
}
