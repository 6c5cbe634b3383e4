import { describe, expect, it } from 'vitest';
import { HotlistError, parseHotlistCsv } from '../../../gateway/hotlist/csv.ts';
import { HotlistMatcher } from '../../../gateway/hotlist/matcher.ts';

function problemsOf(text: string): readonly string[] {
  try {
    parseHotlistCsv(text, 'test.csv');
  } catch (err) {
    expect(err).toBeInstanceOf(HotlistError);
    return (err as HotlistError).problems;
  }
  throw new Error('expected a HotlistError');
}

describe('hot-list CSV', () => {
  it('parses entries, normalising plates and filling defaults', () => {
    const list = parseHotlistCsv('plate,state,list_type,priority\n7abc-123,CA,stolen-vehicle,90\n"8 XYZ 456",,amber,\n', 'local.csv');
    expect(list.listId).toBe('local');
    expect(list.version).toMatch(/^[0-9a-f]{12}$/);
    expect(list.entries).toEqual([
      { id: 'stolen-vehicle:7ABC123:ca', plate: '7ABC123', state: 'ca', listType: 'stolen-vehicle', priority: 90 },
      { id: 'amber:8XYZ456', plate: '8XYZ456', listType: 'amber', priority: 100 },
    ]);
  });

  it('accepts quoted fields with commas, quotes and CRLF line ends', () => {
    const list = parseHotlistCsv('plate,list_type,sealed\r\nABC123,bolo,"eyJ,""x"""\r\n', 'q.csv');
    expect(list.entries[0]?.sealed).toBe('eyJ,"x"');
  });

  it('names the line and the reason of every bad row, and rejects the whole list', () => {
    const problems = problemsOf([
      'plate,state,list_type,priority,expires',
      '7ABC123,ca,stolen-vehicle,90,',
      'BAD!!,ca,stolen-vehicle,90,',
      '8XYZ456,california,stolen-vehicle,90,',
      '9QRS789,ca,parking,90,',
      '1AAA111,ca,amber,101,',
      '2BBB222,ca,amber,10,next tuesday',
      '7ABC123,ca,stolen-vehicle,50,',
      '3CCC333,ca',
    ].join('\n'));
    expect(problems).toEqual([
      'line 3: plate "BAD!!": expected 2–10 of A–Z, 0–9',
      'line 4: state "california": expected a two-letter code',
      expect.stringMatching(/^line 5: list_type "parking": expected one of /),
      'line 6: priority "101": expected an integer 0–100',
      'line 7: expires: not an ISO 8601 date/time: "next tuesday"',
      'line 8: duplicate of line 2 (same plate, state and list type)',
      'line 9: 2 fields, header has 5',
    ]);
  });

  it('counts lines inside quoted multi-line fields', () => {
    const problems = problemsOf('plate,list_type,sealed\nAB12,bolo,"a\nb"\n!!,bolo,x\n');
    expect(problems).toEqual(['line 4: plate "!!": expected 2–10 of A–Z, 0–9']);
  });

  it('rejects structural problems: empty file, missing or unknown columns, no entries, bad encoding', () => {
    expect(problemsOf('')).toEqual(['the file is empty: expected a header line and at least one entry']);
    expect(problemsOf('plate,state\nABC123,ca\n')).toEqual(['line 1: missing required column "list_type"']);
    expect(problemsOf('plate,list_type,vehicle_colour\nABC123,bolo,red\n')[0]).toMatch(/^line 1: unknown column "vehicle_colour"/);
    expect(problemsOf('plate,list_type\n')).toEqual(['no entries after the header line']);
    expect(problemsOf('plate,list_type\nAB\uFFFDC,bolo\n')).toEqual(['not UTF-8 text (binary data or another encoding)']);
    expect(problemsOf('plate,list_type\n"ABC123,bolo\n')).toEqual(['line 2: quoted field never closed']);
  });
});

describe('hot-list CSV: the device takes public columns only', () => {
  it('refuses personal columns and NCIC extracts, naming the import command', () => {
    expect(problemsOf('plate,list_type,synopsis\nABC123,bolo,armed\n')).toEqual([
      'line 1: column "synopsis" holds personal data; the device takes it only sealed: convert the list with `alpr hotlist import`',
    ]);
    expect(problemsOf('LIC,LIS,NIC\nABC123,CA,V1\n')[0]).toMatch(/^line 1: an NCIC extract holds personal data/);
  });

  it('takes partial plates, and refuses those that would match too much', () => {
    const list = parseHotlistCsv('plate,list_type\n7AB?12?,partial\n7ABC**,partial\n', 'p.csv');
    expect(list.entries.map((e) => e.plate)).toEqual(['7AB?12?', '7ABC*']);
    expect(problemsOf('plate,list_type\n*,partial\n7A*,partial\n????,partial\n7A?B,partial\n7ABCDEFGHJK*,partial\n')).toEqual([
      'line 2: plate "*": a partial plate with 0 known characters would match too many plates (at least 4 needed)',
      'line 3: plate "7A*": a partial plate with 2 known characters would match too many plates (at least 4 needed)',
      'line 4: plate "????": a partial plate with 0 known characters would match too many plates (at least 4 needed)',
      'line 5: plate "7A?B": a partial plate with 3 known characters would match too many plates (at least 4 needed)',
      'line 6: plate "7ABCDEFGHJK*": a partial plate is at most 10 of A–Z, 0–9, ? (one character) and * (any run)',
    ]);
  });

  it('refuses a 10 MB line without reading it all into one row', () => {
    const problems = problemsOf(`plate,list_type\nABC123,bolo\n"${'x'.repeat(10 * 2 ** 20)}",bolo\n`);
    expect(problems).toEqual([expect.stringMatching(/^line 3: a row longer than 65536 characters/)]);
  });

  it('reports duplicate ids and illegal characters with their lines', () => {
    expect(problemsOf('id,plate,list_type\na,ABC123,bolo\na,XYZ789,bolo\nb,AB C-1Ø,bolo\n')).toEqual([
      'line 3: id "a" already used on line 2',
      'line 4: plate "AB C-1Ø": expected 2–10 of A–Z, 0–9',
    ]);
  });
});

describe('exact matcher', () => {
  const list = parseHotlistCsv([
    'plate,state,list_type,priority,effective,expires,covert',
    '7ABC123,ca,stolen-vehicle,60,,,',
    '7ABC123,,wanted,95,,,true',
    '5LATE55,,amber,90,2030-01-01T00:00:00Z,,',
    '6OLD666,,bolo,20,,2020-01-01T00:00:00Z,',
  ].join('\n'), 'list.csv');
  const matcher = new HotlistMatcher(list);
  const now = Date.parse('2026-06-01T12:00:00Z');

  it('matches the highest-priority live entry and names the runner-up', () => {
    const m = matcher.match({ plate: '7ABC123', at: now });
    expect(m).toMatchObject({ entryId: 'wanted:7ABC123', kind: 'exact', distance: 0, listId: 'list', listVersion: list.version, nextBest: 'stolen-vehicle:7ABC123:ca' });
    expect(m?.entry.covert).toBe(true);
  });

  it('does not match an entry for another state', () => {
    expect(matcher.match({ plate: '7ABC123', state: 'nv', at: now })?.entryId).toBe('wanted:7ABC123');
  });

  it('honours effective and expiry windows', () => {
    expect(matcher.match({ plate: '5LATE55', at: now })).toBeUndefined();
    expect(matcher.match({ plate: '5LATE55', at: Date.parse('2030-02-01T00:00:00Z') })?.entryId).toBe('amber:5LATE55');
    expect(matcher.match({ plate: '6OLD666', at: now })).toBeUndefined();
  });

  it('does not match a plate that is not listed', () => {
    expect(matcher.match({ plate: '7ABC124', at: now })).toBeUndefined();
  });
});
