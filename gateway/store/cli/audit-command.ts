/**
 * `alpr audit verify` — walks the audit chain and names the first broken entry (exit 1 if any);
 * `alpr audit sample` — the P10 random sample of browsing inquiries, with its seed printed and
 * recorded. Both are audited actions themselves.
 */
import { randomInt } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { CliIo } from '../../../models/eval/cli-io.ts';
import { COMMON_OPTIONS, COMMON_USAGE, accessOf, dataDir, fail, withStore } from './common.ts';

export const AUDIT_USAGE = `usage: alpr audit verify [--checkpoints <file>] [options]
       alpr audit sample [--seed <n>] [--count <n>] [--months <n>] [options]

verify   check the audit log's hash chain, its anchor and every signed checkpoint; names the
         first entry that was edited, removed, reordered or cut off. --checkpoints: a file of
         checkpoints published as events (one JWS, or one event JSON with a "jws" field, per line).
sample   draw the random sample of detection-browsing inquiries P10 asks for (default 10 from
         the last 6 months); the seed is printed and recorded, so the draw can be repeated.

options:
${COMMON_USAGE}`;

/** JWS strings from a file of JWS lines or event JSON lines. */
async function checkpoints(file: string): Promise<string[]> {
  const text = await readFile(file, 'utf8');
  return text.split('\n').map((l) => l.trim()).filter(Boolean).map((l) => (l.startsWith('{') ? String((JSON.parse(l) as { jws?: unknown }).jws ?? '') : l)).filter(Boolean);
}

export async function auditCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = argv;
  let parsed;
  try {
    parsed = parseArgs({
      args: [...rest], allowPositionals: false,
      options: { ...COMMON_OPTIONS, checkpoints: { type: 'string' }, seed: { type: 'string' }, count: { type: 'string' }, months: { type: 'string' } },
    });
  } catch (err) {
    io.stderr.write(`alpr audit: ${(err as Error).message}\n\n${AUDIT_USAGE}\n`);
    return 64;
  }
  const v = parsed.values;
  if (v.help || (sub !== 'verify' && sub !== 'sample')) {
    (v.help ? io.stdout : io.stderr).write(`${AUDIT_USAGE}\n`);
    return v.help ? 0 : 64;
  }
  try {
    const dir = dataDir(v, io);
    if (sub === 'verify') {
      const external = v.checkpoints ? await checkpoints(path.resolve(io.cwd, v.checkpoints)) : [];
      return await withStore(dir, io, async (store) => {
        const r = await store.verifyAudit(accessOf(v, 'audit log verification (P10)'), external);
        if (v.json) io.stdout.write(`${JSON.stringify(r)}\n`);
        else if (r.ok) io.stdout.write(`audit log intact: entries ${r.firstSeq}–${r.lastSeq} (${r.entries}), ${r.checkpoints} signed checkpoint(s) agree\n`);
        else io.stdout.write(`audit log BROKEN at entry ${r.problem?.seq}${r.problem?.key ? ` (${r.problem.key})` : ''}: ${r.problem?.reason}\n`);
        return r.ok ? 0 : 1;
      });
    }
    const seed = v.seed !== undefined ? Number(v.seed) : randomInt(0, 2 ** 32);
    const options = { seed, ...(v.count !== undefined ? { count: Number(v.count) } : {}), ...(v.months !== undefined ? { months: Number(v.months) } : {}) };
    return await withStore(dir, io, async (store) => {
      const r = await store.sampleAudit(accessOf(v, 'random audit of inquiries (P10)'), options);
      if (v.json) io.stdout.write(`${JSON.stringify({ seed: r.seed, from: r.from, to: r.to, population: r.population, sample: r.sample })}\n`);
      else io.stdout.write(r.text);
      return 0;
    });
  } catch (err) {
    return fail(io, `audit ${sub}`, err);
  }
}
