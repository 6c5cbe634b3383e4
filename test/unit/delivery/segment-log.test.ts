/**
 * The segment log (gateway/delivery/segment-log.ts) under the outbox and the dispatch hit store:
 * records come back as written, appends made together share one write, a full segment rolls
 * over, a reopened log never appends to an old segment, and what is not there is named.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, statSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SegmentLog, SegmentLogError } from '../../../gateway/delivery/segment-log.ts';

describe('segment log', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'segment-log-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('gives back each record as appended (parts joined), across a reopen', async () => {
    let log = await SegmentLog.open(join(dir, 'log'));
    const records = Array.from({ length: 20 }, (_, i) => randomBytes(1000 + i * 7919));
    // Appended in one turn: they go to disk in one write, one after another.
    const refs = await Promise.all(records.map((r, i) => log.append(i % 2 ? [r.subarray(0, 100), r.subarray(100)] : [r])));
    expect(refs.map((r) => r.segment)).toEqual(refs.map(() => 1));
    refs.forEach((ref, i) => {
      expect(ref.length).toBe(records[i]?.length);
      if (i) expect(ref.offset).toBe(refs[i - 1]!.offset + refs[i - 1]!.length);
    });
    for (const [i, ref] of refs.entries()) expect((await log.read(ref)).equals(records[i]!)).toBe(true);
    await log.close();

    log = await SegmentLog.open(join(dir, 'log'));
    expect((await log.read(refs[7]!)).equals(records[7]!)).toBe(true);
    // A reopened log appends to a new segment, never after bytes a crash may have torn.
    const next = await log.append([Buffer.from('after the restart')]);
    expect(next).toEqual({ segment: 2, offset: 0, length: 17 });
    expect(log.segments()).toEqual([1, 2]);
    await log.close();
  });

  it('rolls over to a new segment past its size, and removes a segment asked to (never the current one)', async () => {
    const log = await SegmentLog.open(join(dir, 'log'), 10_000);
    const refs = [];
    for (let i = 0; i < 5; i++) refs.push(await log.append([randomBytes(4_000)]));
    expect(refs.map((r) => r.segment)).toEqual([1, 1, 2, 2, 3]);
    expect(log.current).toBe(3);
    await log.removeSegment(1);
    await log.removeSegment(3); // being appended to: kept
    expect(log.segments()).toEqual([2, 3]);
    expect(readdirSync(join(dir, 'log')).sort()).toEqual(['00000002.seg', '00000003.seg']);
    await expect(log.read(refs[0]!)).rejects.toThrow(/segment 1 is not there/);
    // A record larger than a segment still goes in (alone).
    const big = await log.append([randomBytes(25_000)]);
    expect(big.segment).toBe(4);
    expect(statSync(join(dir, 'log', '00000004.seg')).size).toBe(25_000);
    await log.close();
  });

  it('names a record whose bytes are not all there (a truncated segment)', async () => {
    const log = await SegmentLog.open(join(dir, 'log'));
    const ref = await log.append([randomBytes(5_000)]);
    await log.close();
    truncateSync(join(dir, 'log', '00000001.seg'), 4_000);
    const again = await SegmentLog.open(join(dir, 'log'));
    await expect(again.read(ref)).rejects.toThrow(SegmentLogError);
    await expect(again.read(ref)).rejects.toThrow(/ends before the record/);
    await again.close();
    // Closed, it still takes an append (in a new segment) and reads: only the handles were let go.
    const late = await again.append([Buffer.from('late')]);
    expect(late.segment).toBe(2);
    expect((await again.read(late)).toString()).toBe('late');
    await again.close();
  });
});
