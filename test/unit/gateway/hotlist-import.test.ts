import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, exportPKCS8, exportSPKI, generateKeyPair, type CryptoKey } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hotlistCommand } from '../../../gateway/hotlist/import-command.ts';
import { readListFile } from '../../../gateway/hotlist/list-reader.ts';
import { openSealed } from '../../../gateway/hotlist/seal.ts';
import { HotlistService } from '../../../gateway/hotlist/service.ts';
import type { CliIo } from '../../../models/eval/cli-io.ts';

const NOW = Date.parse('2026-06-01T12:00:00Z');

/** Personal values that must never reach the device in the clear. */
const SECRETS = {
  member: 'Ofc. Dana Whitfield #4471',
  caseNumber: 'CASE-2026-0042917',
  synopsis: 'Armed robbery of Harbor Pharmacy, suspect Jonah Marquez-Ellery',
  ncic: 'V987654321',
  originatingCase: 'OCA-55-1234',
  ori: 'CA0019400',
  vin: '1HGCM82633A004352',
};

const LOCAL_CSV = [
  'plate,state,list_type,priority,covert,entered_by,case_number,synopsis,notes',
  `7ABC123,ca,stolen-vehicle,,false,"${SECRETS.member}",${SECRETS.caseNumber},"${SECRETS.synopsis}",`,
  `4TRK?19,ca,partial,80,true,"${SECRETS.member}",${SECRETS.caseNumber},"${SECRETS.synopsis}",grey sedan`,
].join('\n');
const NCIC_CSV = ['LIC,LIS,NIC,ORI,OCA,VIN,VMA', `8XYZ456,NV,${SECRETS.ncic},${SECRETS.ori},${SECRETS.originatingCase},${SECRETS.vin},HOND`].join('\r\n');

let dir: string;
let privateKey: CryptoKey;

function io(): CliIo & { out: string; err: string } {
  const o = {
    out: '',
    err: '',
    cwd: dir,
    stdout: { write: (s: string) => (o.out += s) },
    stderr: { write: (s: string) => (o.err += s), isTTY: false },
  };
  return o;
}

function file(name: string, content: string | Buffer): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hotlist-import-'));
  const pair = await generateKeyPair('ECDH-ES+A256KW', { crv: 'P-256', extractable: true });
  privateKey = pair.privateKey;
  file('dispatch.jwk', JSON.stringify(await exportJWK(pair.publicKey)));
  file('dispatch.pem', await exportSPKI(pair.publicKey));
  file('dispatch-private.pem', await exportPKCS8(pair.privateKey));
  file('local.csv', LOCAL_CSV);
  file('ncic.csv', NCIC_CSV);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('alpr hotlist import', () => {
  it('converts local and NCIC sources into one list, personal fields sealed to the dispatch key', async () => {
    const o = io();
    const code = await hotlistCommand(['import', 'local.csv', 'ncic.csv', '--dispatch-key', 'dispatch.jwk', '--out', 'out/ca.hotlist', '--generated-at', '2026-06-01T06:00:00Z'], o);
    expect(o.err).toMatch(/checking \(KiB\).*rows[\s\S]*sealing \(KiB\)/);
    expect(code).toBe(0);
    expect(o.out).toMatch(/wrote .*ca\.hotlist: 3 entries \(1 partial plates\), list ca version [0-9a-f]{12}/);
    const list = await readListFile(join(dir, 'out/ca.hotlist'));
    const entries = Array.from({ length: list.table.size }, (_, i) => list.table.entry(i));
    list.table.close();
    expect(entries.map(({ sealed, ...pub }) => ({ ...pub, sealed: typeof sealed }))).toEqual([
      { id: 'stolen-vehicle:7ABC123:ca', plate: '7ABC123', state: 'ca', listType: 'stolen-vehicle', priority: 70, sealed: 'string' },
      { id: 'partial:4TRK?19:ca', plate: '4TRK?19', state: 'ca', listType: 'partial', priority: 80, covert: true, sealed: 'string' },
      { id: 'stolen-vehicle:8XYZ456:nv', plate: '8XYZ456', state: 'nv', listType: 'stolen-vehicle', priority: 70, sealed: 'string' },
    ]);
    expect(list.info.generatedAt).toBe(Date.parse('2026-06-01T06:00:00Z'));
    // Only the dispatch center's private key opens them, and each names its entry.
    const first = await openSealed(entries[0]!.sealed!, privateKey, entries[0]!.id);
    expect(first.fields).toEqual({ source: 'local', entered_by: SECRETS.member, case_number: SECRETS.caseNumber, synopsis: SECRETS.synopsis });
    expect((await openSealed(entries[1]!.sealed!, privateKey, entries[1]!.id)).fields.notes).toBe('grey sedan');
    expect((await openSealed(entries[2]!.sealed!, privateKey, entries[2]!.id)).fields).toMatchObject({ source: 'ncic', nic: SECRETS.ncic, vin: SECRETS.vin });
    await expect(openSealed(entries[0]!.sealed!, privateKey, entries[2]!.id)).rejects.toThrow(/belongs to entry/);
  });

  it('the device never holds a sealed value in the clear: list file and data directory, byte for byte', async () => {
    const dataDir = join(dir, 'data');
    mkdirSync(join(dataDir, 'hotlist'), { recursive: true });
    const o = io();
    expect(await hotlistCommand(['import', 'local.csv', 'ncic.csv', '--dispatch-key', 'dispatch.pem', '--out', 'data/hotlist/current.hotlist'], o)).toBe(0);
    // A second version, installed the way the device does it (the first becomes .previous).
    expect(await hotlistCommand(['import', 'ncic.csv', 'local.csv', '--dispatch-key', 'dispatch.pem', '--out', 'incoming.hotlist'], o)).toBe(0);
    const events: unknown[] = [];
    const log = { info: () => undefined, warn: () => undefined, error: () => undefined };
    const service = new HotlistService({ path: join(dataDir, 'hotlist', 'current.hotlist') }, { events: { emit: (e) => events.push(e) }, log, now: () => NOW });
    await service.load();
    await service.install(join(dir, 'incoming.hotlist'));
    const hit = service.current().match({ plate: '7ABC123', at: NOW });
    expect(hit?.entry.sealed).toMatch(/^eyJ/);
    // What the device keeps of a hit (the store's record) and its events, written beside the list.
    writeFileSync(join(dataDir, 'hit.json'), JSON.stringify({ hit, events }));
    await service.stop();

    const files: string[] = [];
    const walk = (d: string): void => {
      for (const name of readdirSync(d)) {
        const p = join(d, name);
        if (statSync(p).isDirectory()) walk(p);
        else files.push(p);
      }
    };
    walk(dataDir);
    expect(files.map((f) => f.slice(dataDir.length))).toEqual(expect.arrayContaining(['/hotlist/current.hotlist', '/hotlist/current.hotlist.previous', '/hit.json']));
    for (const f of files) {
      const bytes = readFileSync(f);
      for (const value of Object.values(SECRETS)) {
        for (const encoded of [Buffer.from(value, 'utf8'), Buffer.from(value, 'utf16le'), Buffer.from(value.toLowerCase(), 'utf8'), Buffer.from(value.toUpperCase(), 'utf8')]) {
          expect(bytes.includes(encoded), `${value} in ${f}`).toBe(false);
        }
      }
    }
  });

  it('takes the key as PEM and refuses a private key', async () => {
    const o = io();
    expect(await hotlistCommand(['import', 'ncic.csv', '--dispatch-key', 'dispatch-private.pem', '--out', 'x.hotlist'], o)).toBe(66);
    expect(o.err).toMatch(/private key; the import needs the dispatch center's public key only/);
  });

  it('explains its arguments', async () => {
    const o = io();
    expect(await hotlistCommand(['import', 'ncic.csv', '--out', 'x.hotlist'], o)).toBe(2);
    expect(o.err).toMatch(/--dispatch-key is required/);
    expect(await hotlistCommand(['export'], io())).toBe(2);
    const help = io();
    expect(await hotlistCommand(['--help'], help)).toBe(0);
    expect(help.out).toMatch(/usage: alpr hotlist import/);
  });
});

describe('alpr hotlist import: bad sources are refused whole, the previous list file untouched', () => {
  const header = 'plate,state,list_type,entered_by,case_number,synopsis';
  const ok = 'ABC123,ca,bolo,Ofc. A,C-1,seen leaving';
  const cases: [string, string | Buffer, RegExp][] = [
    ['an empty file', '', /the file is empty/],
    ['a header only', `${header}\n`, /no entries after the header line/],
    ['missing columns', 'plate,state\nABC123,ca\n', /missing required column "list_type"[\s\S]*missing required column "entered_by"/],
    ['UTF-16 text', Buffer.from(`\uFEFF${header}\n${ok}\n`, 'utf16le'), /UTF-16 text: export it as UTF-8/],
    ['Windows-1252 text', Buffer.concat([Buffer.from(`${header}\n${ok}\nXYZ789,ca,bolo,Ofc. M`), Buffer.from([0xfc]), Buffer.from('ller,C-2,x\n')]), /line 3: not UTF-8 text/],
    ['a 10 MB line', `${header}\n${ok}\nABC124,ca,bolo,Ofc. A,C-1,"${'x'.repeat(10 * 2 ** 20)}"\n`, /line 3: a row longer than 65536 characters/],
    ['duplicate entries', `${header}\n${ok}\nabc-123,CA,bolo,Ofc. B,C-2,again\n`, /line 3: duplicate of line 2/],
    ['illegal plate characters', `${header}\nAB#123,ca,bolo,Ofc. A,C-1,x\n`, /line 2: plate "AB#123": expected 2–10 of A–Z, 0–9/],
    ['a wildcard that matches everything', `${header}\n*,ca,partial,Ofc. A,C-1,x\n7A??,ca,partial,Ofc. A,C-1,x\n`, /line 2: plate "\*": a partial plate with 0 known characters would match too many plates[\s\S]*line 3/],
    ['a local entry without its synopsis', `${header}\nABC123,ca,bolo,Ofc. A,C-1,\n`, /line 2: a locally entered entry must carry the entering member, case number and synopsis \(missing synopsis\)/],
  ];

  it.each(cases)('%s', async (_name, content, reason) => {
    const out = join(dir, 'kept.hotlist');
    expect(await hotlistCommand(['import', 'ncic.csv', '--dispatch-key', 'dispatch.jwk', '--out', 'kept.hotlist'], io())).toBe(0);
    const before = readFileSync(out);
    const src = file('bad.csv', content);
    const o = io();
    expect(await hotlistCommand(['import', src, '--dispatch-key', 'dispatch.jwk', '--out', 'kept.hotlist'], o)).toBe(65);
    expect(o.err).toMatch(reason);
    expect(o.err).toMatch(/nothing written; kept\.hotlist is unchanged/);
    expect(readFileSync(out).equals(before)).toBe(true);
    expect(readdirSync(dir).filter((n) => n.includes('.tmp'))).toEqual([]);
  });
});
