import { describe, expect, it } from 'vitest';
import { parseHotlistCsv } from '../../../gateway/hotlist/csv.ts';
import { EquivalenceError, EquivalenceTable } from '../../../gateway/hotlist/equivalence.ts';
import { explainEdits } from '../../../gateway/hotlist/explain.ts';
import { HotlistMatcher, type MatchQuery } from '../../../gateway/hotlist/matcher.ts';
import { PolicyError, uniformEdits, type MatchPolicy } from '../../../gateway/hotlist/policy.ts';
import { tableFromEntries } from '../../../gateway/hotlist/table.ts';
import type { HotlistEntry } from '../../../gateway/types.ts';

const NOW = Date.parse('2026-06-01T12:00:00Z');
const GENERATED = NOW - 3 * 3600_000;

function matcherOf(rows: readonly string[], policy: Partial<MatchPolicy> = {}): HotlistMatcher {
  const file = parseHotlistCsv(['plate,state,list_type,priority,effective,expires,covert', ...rows].join('\n'), 'list.csv');
  return new HotlistMatcher({ info: { listId: 'list', version: file.version, generatedAt: GENERATED, source: 'test' }, table: tableOf(file.entries) }, policy);
}

// Built as a LoadedList: the HotlistFile shortcut would stamp Date.now(); tests pin the time.
const tableOf = (entries: readonly HotlistEntry[]) => tableFromEntries(entries);

const q = (plate: string, extra: Partial<MatchQuery> = {}): MatchQuery => ({ plate, at: NOW, ...extra });

describe('hot-list matching: the matrix, each hit explaining itself', () => {
  const list = matcherOf([
    '7ABC123,ca,stolen-vehicle,70,,,',
    '7ABC123,,wanted,90,,,true',
    '8XYZ5O5,,stolen-plate,65,,,',
    'KLMN4567,,stolen-vehicle,70,,,',
    '4TRK?19,ca,partial,60,,,',
    '6WQ1*,,partial,60,,,',
    '5LATE55,,amber,100,2030-01-01T00:00:00Z,,',
    '6OLD666,,bolo,60,,2020-01-01T00:00:00Z,',
    '2NVADA2,nv,stolen-vehicle,70,,,',
  ], { ...uniformEdits(1), editDistance: [[0, 0], [8, 1]], lookalikes: [[0, 2]] });

  it('exact: kind exact, distance 0, no substitutions; the runner-up named', () => {
    const m = list.match(q('7ABC123'));
    expect(m).toMatchObject({ entryId: 'wanted:7ABC123', kind: 'exact', distance: 0, substitutions: [], nextBest: 'stolen-vehicle:7ABC123:ca', read: '7ABC123', candidateRank: 0 });
  });

  it('look-alike: 0 read for O (and S for 5) is OCR-equivalent, with each swap named', () => {
    const m = list.match(q('8XYZ505'));
    expect(m).toMatchObject({ entryId: 'stolen-plate:8XYZ5O5', kind: 'ocr-equivalent', distance: 0 });
    expect(m?.substitutions).toEqual([{ position: 5, read: '0', listed: 'O', op: 'lookalike' }]);
    expect(list.match(q('8XYZS05'))?.substitutions).toEqual([
      { position: 4, read: 'S', listed: '5', op: 'lookalike' },
      { position: 5, read: '0', listed: 'O', op: 'lookalike' },
    ]);
    expect(list.match(q('8XY2S0S')), 'four look-alike swaps exceed the allowance of 2').toBeUndefined();
  });

  it('edit distance: a dropped, an extra and a substituted character within k', () => {
    expect(list.match(q('KLMN457'))).toMatchObject({ kind: 'edit-distance', distance: 1, substitutions: [{ position: 6, read: '', listed: '6', op: 'dropped' }] });
    expect(list.match(q('KLMN45X67'))).toMatchObject({ kind: 'edit-distance', distance: 1, substitutions: [{ position: 6, read: 'X', listed: '', op: 'extra' }] });
    expect(list.match(q('KLMH4567'))).toMatchObject({ kind: 'edit-distance', distance: 1, substitutions: [{ position: 3, read: 'H', listed: 'N', op: 'substituted' }] });
    expect(list.match(q('KLMH4S67'))).toMatchObject({ kind: 'edit-distance', distance: 1, substitutions: [
      { position: 3, read: 'H', listed: 'N', op: 'substituted' },
      { position: 5, read: 'S', listed: '5', op: 'lookalike' },
    ] });
    expect(list.match(q('KLXH4567')), 'two edits exceed k = 1').toBeUndefined();
    expect(list.match(q('7ABC12')), 'a 7-character plate tolerates no edit under this policy').toBeUndefined();
  });

  it('wildcard: ? is one character, * any run; look-alikes count at the known characters', () => {
    expect(list.match(q('4TRK019', { state: 'ca' }))).toMatchObject({ entryId: 'partial:4TRK?19:ca', kind: 'wildcard', distance: 0, substitutions: [] });
    expect(list.match(q('4TRKZI9', { state: 'ca' }))?.substitutions).toEqual([{ position: 5, read: 'I', listed: '1', op: 'lookalike' }]);
    expect(list.match(q('6WQ1')), '* matches the empty run').toMatchObject({ kind: 'wildcard' });
    expect(list.match(q('6WQ12345'))).toMatchObject({ entryId: 'partial:6WQ1*', kind: 'wildcard' });
    expect(list.match(q('4TRK0199', { state: 'ca' })), '? is exactly one character').toBeUndefined();
  });

  it('state: a known, different state excludes the entry; an unknown state does not', () => {
    expect(list.match(q('2NVADA2'))?.entryId).toBe('stolen-vehicle:2NVADA2:nv');
    expect(list.match(q('2NVADA2', { state: 'NV' }))?.entryId).toBe('stolen-vehicle:2NVADA2:nv');
    expect(list.match(q('2NVADA2', { state: 'az' }))).toBeUndefined();
    expect(list.match(q('7ABC123', { state: 'nv' }))).toMatchObject({ entryId: 'wanted:7ABC123' });
    expect(list.match(q('7ABC123', { state: 'nv' }))?.nextBest, 'the CA entry is excluded, not a runner-up').toBeUndefined();
  });

  it('state: under "demote" a mismatch still hits, flagged and ranked after every consistent hit', () => {
    const demoting = matcherOf(['2NVADA2,nv,stolen-vehicle,70,,,', '2NVADA2,az,wanted,90,,,'], { stateMismatch: 'demote' });
    const nv = demoting.match(q('2NVADA2', { state: 'nv' }));
    expect(nv).toMatchObject({ entryId: 'stolen-vehicle:2NVADA2:nv', nextBest: 'wanted:2NVADA2:az' });
    expect(nv?.stateMismatch).toBeUndefined();
    expect(demoting.matchAll(q('2NVADA2', { state: 'nv' }))[1]).toMatchObject({ entryId: 'wanted:2NVADA2:az', stateMismatch: true });
  });

  it('effective and expiry windows', () => {
    expect(list.match(q('5LATE55'))).toBeUndefined();
    expect(list.match(q('5LATE55', { at: Date.parse('2030-02-01T00:00:00Z') }))?.entryId).toBe('amber:5LATE55');
    expect(list.match(q('6OLD666'))).toBeUndefined();
  });

  it('covert: the hit is made and carries the flag', () => {
    expect(list.match(q('7ABC123'))?.entry.covert).toBe(true);
    expect(list.matchAll(q('7ABC123'))[1]?.entry.covert).toBeUndefined();
  });

  it('priority first, then the stronger kind, then the better candidate', () => {
    const m = matcherOf(['7ABC123,,stolen-vehicle,70,,,', '7A8C123,,amber,100,,,', '7ABC128,,bolo,70,,,'], { lookalikes: [[0, 1]] });
    const all = m.matchAll(q('7ABC123', { candidates: ['7ABC128'] }));
    expect(all.map((h) => [h.entryId, h.kind, h.candidateRank])).toEqual([
      ['amber:7A8C123', 'ocr-equivalent', 0],
      ['stolen-vehicle:7ABC123', 'exact', 0],
      ['bolo:7ABC128', 'exact', 1],
    ]);
    expect(all[0]?.nextBest).toBe('stolen-vehicle:7ABC123');
  });

  it('matches every candidate of the read, skipping alternatives with too small a share of the vote', () => {
    const m = matcherOf(['7ABC128,,stolen-vehicle,70,,,']);
    expect(m.match(q('7ABC123', { candidates: [{ text: '7ABC123', score: 0.7 }, { text: '7ABC128', score: 0.3 }] }))).toMatchObject({ read: '7ABC128', candidateRank: 1 });
    expect(m.match(q('7ABC123', { candidates: [{ text: '7ABC123', score: 0.95 }, { text: '7ABC128', score: 0.05 }] }))).toBeUndefined();
    expect(m.match(q('7ABC123', { candidates: ['7abc-128'] })), 'texts without a score are always matched, normalised').toMatchObject({ read: '7ABC128' });
  });

  it('edits apply to the first fuzzyCandidates candidates only', () => {
    const m = matcherOf(['KLMN4567,,stolen-vehicle,70,,,']);
    expect(m.match(q('XXXXXXX', { candidates: ['KLMN456'] }))).toBeUndefined();
    expect(m.match(q('KLMN456'))).toMatchObject({ kind: 'edit-distance' });
  });

  it('stamps list version, generation time and age into every hit', () => {
    const m = list.match(q('7ABC123'));
    expect(m).toMatchObject({ listId: 'list', listVersion: list.version, listGeneratedAt: GENERATED, listAgeMs: 3 * 3600_000, listStale: false });
    expect(list.match(q('7ABC123', { at: GENERATED + 25 * 3600_000 }))).toMatchObject({ listAgeMs: 25 * 3600_000, listStale: true });
  });

  it('default policy: look-alikes on plates of 7+ characters and on life-safety lists of any length', () => {
    const m = matcherOf(['ABC123,,stolen-vehicle,70,,,', 'ABD1234,,stolen-vehicle,70,,,', 'XYZ123,,amber,100,,,']);
    expect(m.match(q('A8C123')), 'dense 6-character plates: exact only').toBeUndefined();
    expect(m.match(q('A8D1234'))).toMatchObject({ kind: 'ocr-equivalent' });
    expect(m.match(q('XY2123'))).toMatchObject({ entryId: 'amber:XYZ123', kind: 'ocr-equivalent' });
  });
});

describe('equivalence and policy validation', () => {
  it('rejects overlapping or malformed classes and bad steps', () => {
    expect(() => new EquivalenceTable(['O0', '0D'])).toThrow(EquivalenceError);
    expect(() => new EquivalenceTable(['O'])).toThrow(/two characters/);
    expect(() => new EquivalenceTable(['O!'])).toThrow(/not A–Z/);
    expect(() => matcherOf(['ABC123,,bolo,60,,,'], { editDistance: [[0, 3]] })).toThrow(PolicyError);
    expect(() => matcherOf(['ABC123,,bolo,60,,,'], { editDistance: [[5, 1], [2, 0]] })).toThrow(/increasing/);
  });

  it('explains a mixed alignment stably', () => {
    const eq = new EquivalenceTable();
    expect(explainEdits('7A8C12', '7ABC123', eq)).toEqual([
      { position: 2, read: '8', listed: 'B', op: 'lookalike' },
      { position: 6, read: '', listed: '3', op: 'dropped' },
    ]);
  });
});
