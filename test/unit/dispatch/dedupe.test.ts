import { describe, expect, it } from 'vitest';
import { HitIndex } from '../../../dispatch/dedupe.ts';
import { LatencyWindow } from '../../../dispatch/latency.ts';

function deferred(): { promise: Promise<void>; resolve: () => void; reject: (err: Error) => void } {
  let resolve!: () => void;
  let reject!: (err: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('HitIndex: exactly-once admission by hitId', () => {
  it('admits a new hit once it is stored, then calls every later copy a duplicate without storing again', async () => {
    const index = new HitIndex([]);
    let stores = 0;
    const store = async (): Promise<void> => void stores++;
    expect(await index.admit('h1', store)).toBe('new');
    expect(await index.admit('h1', store)).toBe('duplicate');
    expect(await index.admit('h2', store)).toBe('new');
    expect(stores).toBe(2);
    expect(index.has('h1')).toBe(true);
  });

  it('knows the ids stored before a restart', async () => {
    const index = new HitIndex(['h1', 'h2']);
    let stores = 0;
    expect(await index.admit('h2', async () => void stores++)).toBe('duplicate');
    expect(stores).toBe(0);
    expect(index.size).toBe(2);
  });

  it('a second copy arriving while the first is being written waits for it and is a duplicate', async () => {
    const index = new HitIndex([]);
    const write = deferred();
    let stores = 0;
    const first = index.admit('h1', () => (stores++, write.promise));
    const second = index.admit('h1', async () => void stores++);
    await Promise.resolve();
    expect(index.has('h1')).toBe(false); // not durable yet: nobody may ack it
    write.resolve();
    expect(await first).toBe('new');
    expect(await second).toBe('duplicate');
    expect(stores).toBe(1);
  });

  it('a failed write is thrown and leaves the id free, so the next copy stores it', async () => {
    const index = new HitIndex([]);
    const write = deferred();
    const first = index.admit('h1', () => write.promise);
    let secondStored = 0;
    const second = index.admit('h1', async () => void secondStored++);
    write.reject(new Error('disk full'));
    await expect(first).rejects.toThrow('disk full');
    expect(await second).toBe('new');
    expect(secondStored).toBe(1);
    expect(index.has('h1')).toBe(true);
  });
});

describe('LatencyWindow', () => {
  it('gives nearest-rank percentiles over the most recent samples only', () => {
    const w = new LatencyWindow(100);
    expect(w.percentile(50)).toBe(0);
    for (let i = 1; i <= 100; i++) w.add(i);
    expect(w.percentile(50)).toBe(50);
    expect(w.percentile(99)).toBe(99);
    for (let i = 0; i < 100; i++) w.add(1000);
    expect(w.percentile(50)).toBe(1000);
    expect(w.count).toBe(100);
    w.add(Number.NaN);
    expect(w.count).toBe(100);
  });
});
