/** Direct access to a closed store's database and keys, as an attacker holding the card (and the master key) would have. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { systemRandom } from '../../../gateway/store/crypto.ts';
import { createDb, type Db } from '../../../gateway/store/db.ts';
import { Keyring } from '../../../gateway/store/keyring.ts';
import { T0 } from './store-fixtures.ts';

export async function raw(dir: string): Promise<{ db: Db; keyring: Keyring; close: () => Promise<void> }> {
  const master = Buffer.from((JSON.parse(readFileSync(join(dir, 'keys', 'master.key'), 'utf8')) as { k: string }).k, 'base64');
  const db = createDb(join(dir, 'db'));
  await db.open();
  const keyring = new Keyring(join(dir, 'keys', 'data-keys.json'), master, systemRandom, () => T0);
  await keyring.load();
  return { db, keyring, close: () => db.close() };
}

