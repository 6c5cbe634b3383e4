/**
 * `alpr evidence verify <bundle>` — offline check of an evidence bundle, for the receiving agency
 * or a court: decrypts it, checks the device signature, every chain and every record, and can
 * write the records and images out. `alpr evidence export` — makes a bundle of a hold, with the
 * release record P11 asks for.
 */
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { CliIo } from '../../../models/eval/cli-io.ts';
import { verifyBundle, type BundleCheck } from '../bundle-verify.ts';
import { InvalidInputError } from '../errors.ts';
import { writeFileDurable } from '../key-files.ts';
import { COMMON_OPTIONS, COMMON_USAGE, accessOf, dataDir, fail, withStore } from './common.ts';

export const EVIDENCE_USAGE = `usage: alpr evidence verify <bundle> (--key <private.pem> | --password-file <file>) [--device-key <public.pem>] [--out <dir>] [--json]
       alpr evidence export --hold <id> --agency <name> --requester <name> --release-purpose <text> --approver <name>
                            [--request-ref <ref>] (--recipient-key <public.pem> | --password-file <file>) --out <file> [options]

verify   decrypt a bundle, check the device's signature (against --device-key, the key the agency
         registered for the device, when given), every chain from genesis to its signed head and
         every record against its chain; --out writes each record's JSON and images. Exit 0 only
         when everything verifies.
export   bundle an evidence hold for release (P11: agency, requester, purpose, approver kept on
         file with the hold), encrypted to the recipient's public key or a password.

options:
${COMMON_USAGE}`;

const OPTIONS = {
  ...COMMON_OPTIONS,
  key: { type: 'string' }, 'password-file': { type: 'string' }, 'device-key': { type: 'string' }, out: { type: 'string' },
  hold: { type: 'string' }, agency: { type: 'string' }, requester: { type: 'string' }, 'release-purpose': { type: 'string' },
  approver: { type: 'string' }, 'request-ref': { type: 'string' }, 'recipient-key': { type: 'string' },
} as const;

async function readKey(file: string, kind: 'private' | 'public'): Promise<KeyObject> {
  const pem = await readFile(file);
  try {
    return kind === 'private' ? createPrivateKey(pem) : createPublicKey(pem);
  } catch {
    throw new InvalidInputError(`${file}: not a PEM ${kind} key`);
  }
}

function describe(check: BundleCheck): string {
  const m = check.manifest;
  const lines = [check.ok ? 'bundle VERIFIED' : 'bundle does NOT verify'];
  if (m) {
    lines.push(`device ${m.device.id}, signing key ${check.deviceKid}${check.deviceKeyTrusted ? ' (matches the trusted device key)' : ' (no trusted device key given: compare this thumbprint with the one registered for the device)'}`);
    lines.push(`hold ${m.hold.id}: case ${m.hold.caseNumber}, placed by ${m.hold.placedBy} at ${new Date(m.hold.placedAt).toISOString()}`);
    lines.push(`released to ${m.release.agency} (requester ${m.release.requester}; purpose: ${m.release.purpose}; approved by ${m.release.approver}) at ${new Date(m.release.releasedAt).toISOString()} by ${m.release.releasedBy}`);
  }
  for (const c of check.chains) lines.push(`  chain ${c.day}/${c.camera}: ${c.length} links ${c.ok ? 'ok' : `FAILED: ${c.problem}`}`);
  for (const r of check.records) lines.push(`  record ${r.id}: ${r.ok ? 'ok' : `FAILED: ${r.problem}`}`);
  for (const p of check.problems) lines.push(`problem: ${p}`);
  return `${lines.join('\n')}\n`;
}

export async function evidenceCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = argv;
  let parsed;
  try {
    parsed = parseArgs({ args: [...rest], allowPositionals: true, options: OPTIONS });
  } catch (err) {
    io.stderr.write(`alpr evidence: ${(err as Error).message}\n\n${EVIDENCE_USAGE}\n`);
    return 64;
  }
  const v = parsed.values;
  if (v.help || (sub !== 'verify' && sub !== 'export')) {
    (v.help ? io.stdout : io.stderr).write(`${EVIDENCE_USAGE}\n`);
    return v.help ? 0 : 64;
  }
  const at = (f: string): string => path.resolve(io.cwd, f);
  try {
    const password = v['password-file'] !== undefined ? (await readFile(at(v['password-file']), 'utf8')).replace(/\r?\n$/, '') : undefined;
    if (sub === 'verify') {
      const file = parsed.positionals[0];
      if (!file || (!v.key && password === undefined)) throw new InvalidInputError('a bundle file and --key or --password-file are required');
      const check = await verifyBundle(await readFile(at(file), 'utf8'), {
        ...(v.key ? { privateKey: await readKey(at(v.key), 'private') } : {}),
        ...(password !== undefined ? { password } : {}),
        ...(v['device-key'] ? { trustedDeviceKey: await readKey(at(v['device-key']), 'public') } : {}),
      });
      if (v.out && check.manifest) {
        await mkdir(at(v.out), { recursive: true });
        for (const r of check.manifest.records) {
          await writeFile(path.join(at(v.out), `${r.id}.json`), r.json);
          for (const [kind, b64] of Object.entries(r.images)) if (b64) await writeFile(path.join(at(v.out), `${r.id}-${kind}.jpg`), Buffer.from(b64, 'base64'));
        }
      }
      const { manifest: _omitted, ...summary } = check;
      io.stdout.write(v.json ? `${JSON.stringify(summary)}\n` : describe(check));
      return check.ok ? 0 : 1;
    }
    if (!v.hold || !v.out) throw new InvalidInputError('--hold and --out are required');
    if (!v['recipient-key'] && password === undefined) throw new InvalidInputError('--recipient-key or --password-file is required');
    const recipient = v['recipient-key'] ? { publicKey: await readFile(at(v['recipient-key']), 'utf8') } : { password: password as string };
    const release = { agency: v.agency, requester: v.requester, purpose: v['release-purpose'], approver: v.approver, ...(v['request-ref'] ? { requestRef: v['request-ref'] } : {}) };
    const holdId = v.hold;
    const out = at(v.out);
    return await withStore(dataDir(v, io), io, async (store) => {
      const { bundle, manifest } = await store.exportHold(accessOf(v, 'release of evidence (P11)'), holdId, { release, recipient });
      await writeFileDurable(out, bundle, 0o600);
      io.stdout.write(v.json ? `${JSON.stringify({ bundleId: manifest.bundleId, records: manifest.records.length, file: out })}\n` : `wrote ${out}: bundle ${manifest.bundleId}, ${manifest.records.length} record(s)\n`);
      return 0;
    });
  } catch (err) {
    return fail(io, `evidence ${sub}`, err);
  }
}
