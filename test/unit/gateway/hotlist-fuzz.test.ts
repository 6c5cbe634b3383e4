/**
 * Generated-input tests (seeded, so a failure reproduces): the CSV tokenizer against its own
 * serialisation split at random points, the parser against garbage, and the index against a
 * brute-force matcher.
 */
import { describe, expect, it } from 'vitest';
import { CsvTokenizer, HotlistError, parseHotlistCsv, type Row } from '../../../gateway/hotlist/csv.ts';
import { EquivalenceTable } from '../../../gateway/hotlist/equivalence.ts';
import { HotlistMatcher } from '../../../gateway/hotlist/matcher.ts';
import { tableFromEntries } from '../../../gateway/hotlist/table.ts';
import { seededRandom } from '../../../models/eval/random-plates.ts';
import type { HotlistEntry } from '../../../gateway/types.ts';

const pick = <T>(random: () => number, xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;

function randomField(random: () => number): string {
  const alphabet = ['a', 'B', '7', ' ', ',', '"', '\n', '\r\n', 'é', '€', '-', '?'];
  const n = Math.floor(random() * 8);
  let s = '';
  for (let i = 0; i < n; i++) s += pick(random, alphabet);
  return s;
}

function serialise(rows: readonly string[][], random: () => number): string {
  const eol = random() < 0.5 ? '\n' : '\r\n';
  return rows.map((fields) => fields.map((f) => {
    const mustQuote = /[",\r\n]/.test(f) || f !== f.trim() || f === '';
    return mustQuote || random() < 0.2 ? `"${f.replace(/"/g, '""')}"` : f;
  }).join(',')).join(eol) + (random() < 0.5 ? eol : '');
}

describe('CSV tokenizer (fuzz)', () => {
  it('reads back what was written, however the text is split into chunks', () => {
    const random = seededRandom(20260601);
    for (let round = 0; round < 300; round++) {
      const width = 1 + Math.floor(random() * 5);
      // A row of one empty field is a blank line, which the tokenizer skips by design.
      const rows = Array.from({ length: 1 + Math.floor(random() * 6) }, () => Array.from({ length: width }, () => randomField(random) || (width === 1 ? 'x' : '')));
      const text = serialise(rows, random);
      const tokenizer = new CsvTokenizer('fuzz');
      const out: Row[] = [];
      for (let i = 0; i < text.length;) {
        const n = 1 + Math.floor(random() * 7);
        tokenizer.push(text.slice(i, i + n), out);
        i += n;
      }
      tokenizer.end(out);
      expect(out.map((r) => r.fields), `round ${round}: ${JSON.stringify(text)}`).toEqual(rows);
      // Each row starts on the line the text says it does.
      const starts = [1];
      for (const r of rows.slice(0, -1)) starts.push(starts[starts.length - 1]! + 1 + r.join('').split('\n').length - 1);
      expect(out.map((r) => r.line)).toEqual(starts);
    }
  });

  it('on garbage, the parser returns checked entries or a HotlistError, nothing else', () => {
    const random = seededRandom(7);
    const pieces = ['plate', 'list_type', 'state', ',', '"', '\n', '\r', 'ABC123', 'bolo', 'ca', '*', '?', '\u0000', '\uFFFD', 'x'.repeat(70_000), ' ', 'priority', '101', '7'];
    let n = 0;
    const row = (): string => `${pick(random, ['AB', '7X', 'Q?'])}${1000 + n++}${pick(random, ['', '*'])},${pick(random, ['bolo', 'amber'])},${pick(random, ['ca', ''])}${pick(random, ['\n', '\r\n'])}`;
    let parsed = 0;
    for (let round = 0; round < 500; round++) {
      const header = random() < 0.7 ? 'plate,list_type,state\n' : '';
      let text = header;
      // Half the rounds are damaged only a little, so that both outcomes are exercised.
      const damage = round % 2 === 0 ? 0.02 : 0.5;
      for (let i = 0; i < 12; i++) text += random() < damage ? pick(random, pieces) : row();
      try {
        const list = parseHotlistCsv(text, 'fuzz.csv');
        parsed++;
        for (const e of list.entries) expect(e.plate).toMatch(/^[A-Z0-9*?]{1,10}$/);
      } catch (err) {
        expect(err, JSON.stringify(text.slice(0, 200))).toBeInstanceOf(HotlistError);
      }
    }
    expect(parsed).toBeGreaterThan(0);
  });
});

/** What the matcher should find, computed the slow way. */
function bruteForce(entries: readonly HotlistEntry[], read: string, k: number, eq: EquivalenceTable): Set<string> {
  const canon = (s: string): string => [...s].map((c) => (c === '*' || c === '?' ? c : String.fromCharCode(0x3b0 + eq.code(c)))).join('');
  const r = canon(read);
  const out = new Set<string>();
  for (const e of entries) {
    const p = canon(e.plate);
    if (/[*?]/.test(e.plate)) {
      const re = new RegExp(`^${p.replace(/\?/g, '.').replace(/\*/g, '.*')}$`);
      if (re.test(r)) out.add(e.id);
      continue;
    }
    const d: number[][] = Array.from({ length: r.length + 1 }, (_, i) => Array.from({ length: p.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
    for (let i = 1; i <= r.length; i++) {
      for (let j = 1; j <= p.length; j++) d[i]![j] = Math.min(d[i - 1]![j - 1]! + (r[i - 1] === p[j - 1] ? 0 : 1), d[i - 1]![j]! + 1, d[i]![j - 1]! + 1);
    }
    if (d[r.length]![p.length]! <= k) out.add(e.id);
  }
  return out;
}

describe('index against brute force (fuzz)', () => {
  it.each([0, 1, 2])('finds exactly the entries within k = %i, look-alikes free, patterns included', (k) => {
    const random = seededRandom(100 + k);
    // A small alphabet with look-alikes in it, so that neighbours and collisions are common.
    const chars = 'AB8O0DS5XY';
    const plate = (): string => Array.from({ length: 3 + Math.floor(random() * 4) }, () => pick(random, [...chars])).join('');
    const entries: HotlistEntry[] = [];
    const seen = new Set<string>();
    while (entries.length < 400) {
      let p = plate();
      if (random() < 0.1) p = `${p.slice(0, 2)}?${p.slice(3)}${random() < 0.5 ? '*' : ''}`;
      if (seen.has(p)) continue;
      seen.add(p);
      entries.push({ id: p, plate: p, listType: 'bolo', priority: 50 });
    }
    const eq = new EquivalenceTable();
    const matcher = new HotlistMatcher(
      { info: { listId: 'f', version: 'v', generatedAt: 0, source: 'fuzz' }, table: tableFromEntries(entries) },
      { editDistance: [[0, k]], editDistanceByType: {}, lookalikes: [[0, 10]], lookalikesByType: {} },
    );
    for (let i = 0; i < 300; i++) {
      const read = plate();
      const got = new Set(matcher.hitEntries({ plate: read, at: 0 }).map((e) => entries[e]!.id));
      expect([...got].sort(), `read ${read}`).toEqual([...bruteForce(entries, read, k, eq)].sort());
    }
  });
});
