/** Direct access to a closed store's databases and keys, as an attacker holding the card (and the master key) would have. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { systemRandom } from '../../../gateway/store/crypto.ts';
import { createDb } from '../../../gateway/store/db.ts';
import { DataDb } from '../../../gateway/store/days.ts';
import { Keyring } from '../../../gateway/store/keyring.ts';
import { T0 } from './store-fixtures.ts';

/** `db` routes each key as the store does: a storage day's keys to that day's database (days.ts). */
export async function raw(dir: string): Promise<{ db: DataDb; keyring: Keyring; close: () => Promise<void> }> {
  const master = Buffer.from((JSON.parse(readFileSync(join(dir, 'keys', 'master.key'), 'utf8')) as { k: string }).k, 'base64');
  const main = createDb(join(dir, 'db'));
  await main.open();
  const db = new DataDb(main, dir, () => T0, (day, report) => {
    throw new Error(`day database ${day} needed recovery: ${report.reason}`);
  });
  await db.openAll();
  const keyring = new Keyring(join(dir, 'keys', 'data-keys.json'), master, systemRandom, () => T0);
  await keyring.load();
  return { db, keyring, close: () => db.close() };
}
