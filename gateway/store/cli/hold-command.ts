/** `alpr hold place|list|release`: evidence holds from the command line (audited like any access). */
import { parseArgs } from 'node:util';
import type { CliIo } from '../../../models/eval/cli-io.ts';
import { InvalidInputError } from '../errors.ts';
import { COMMON_OPTIONS, COMMON_USAGE, accessOf, dataDir, fail, withStore } from './common.ts';

export const HOLD_USAGE = `usage: alpr hold place --case <number> --reason <text> <detection-id>[@<day>] ... [options]
       alpr hold list [options]
       alpr hold release <hold-id> --reason <text> [options]

place    copy the detections under a hold of their own, so retention does not delete them
list     every hold, active and released, with its releases to other agencies
release  shred the hold's key and delete its copies; a signed receipt is kept

options:
  --case <number>      case or incident number
  --reason <text>      why the hold is placed or released
${COMMON_USAGE}`;

export async function holdCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = argv;
  let parsed;
  try {
    parsed = parseArgs({ args: [...rest], allowPositionals: true, options: { ...COMMON_OPTIONS, reason: { type: 'string' } } });
  } catch (err) {
    io.stderr.write(`alpr hold: ${(err as Error).message}\n\n${HOLD_USAGE}\n`);
    return 64;
  }
  const v = parsed.values;
  if (v.help || !['place', 'list', 'release'].includes(sub ?? '')) {
    (v.help ? io.stdout : io.stderr).write(`${HOLD_USAGE}\n`);
    return v.help ? 0 : 64;
  }
  const ctx = accessOf(v, 'evidence management');
  const print = (value: unknown, text: string): void => void io.stdout.write(v.json ? `${JSON.stringify(value)}\n` : `${text}\n`);
  try {
    return await withStore(dataDir(v, io), io, async (store) => {
      if (sub === 'place') {
        const refs = parsed.positionals.map((p) => {
          const [id = '', day] = p.split('@');
          return day ? { id, day } : { id };
        });
        const hold = await store.placeHold(ctx, { caseNumber: v.case, reason: v.reason, refs });
        print(hold, `hold ${hold.id} placed: case ${hold.caseNumber}, ${hold.records.length} detection(s)`);
      } else if (sub === 'list') {
        const holds = await store.listHolds(ctx);
        print(holds, holds.map((h) => `${h.id}  ${h.state.padEnd(8)}  case ${h.caseNumber}  ${h.records.length} detection(s)  placed by ${h.placedBy} ${new Date(h.placedAt).toISOString()}  releases ${h.releases.length}`).join('\n') || 'no holds');
      } else {
        const holdId = parsed.positionals[0];
        if (!holdId) throw new InvalidInputError('the hold id is required');
        const receipt = await store.releaseHold(ctx, holdId, v.reason);
        print(receipt, `hold ${holdId} released: key ${receipt.keyId ?? '(gone)'} shredded, ${receipt.total} entries deleted`);
      }
      return 0;
    });
  } catch (err) {
    return fail(io, `hold ${sub}`, err);
  }
}
