import { describe, expect, it } from 'vitest';
import { Backoff } from '../../../drivers/camera/backoff.ts';
import { LineRing } from '../../../drivers/camera/child.ts';
import { Mailbox } from '../../../drivers/camera/mailbox.ts';

describe('Mailbox', () => {
  it("'latest' keeps only the newest unread item and counts what it replaced", async () => {
    const box = new Mailbox<number>('latest');
    box.put(1);
    box.put(2);
    box.put(3);
    expect(box.dropped).toBe(2);
    await expect(box.take()).resolves.toEqual({ value: 3, done: false });
  });

  it('hands an item straight to a waiting consumer (nothing dropped)', async () => {
    const box = new Mailbox<number>('latest');
    const waiting = box.take();
    box.put(1);
    await expect(waiting).resolves.toEqual({ value: 1, done: false });
    expect(box.dropped).toBe(0);
  });

  it("'backpressure' queues everything and calls onDrain when the consumer has caught up", async () => {
    let drains = 0;
    const box = new Mailbox<number>('backpressure', () => drains++);
    box.put(1);
    box.put(2);
    expect(box.full).toBe(true);
    await box.take();
    expect(drains).toBe(0);
    await box.take();
    expect(drains).toBe(1);
    expect(box.dropped).toBe(0);
  });

  it('after close: the rest, then done; with discard: done at once; with an error: the error', async () => {
    const a = new Mailbox<number>('backpressure');
    a.put(1);
    a.close();
    await expect(a.take()).resolves.toEqual({ value: 1, done: false });
    await expect(a.take()).resolves.toEqual({ value: undefined, done: true });
    const b = new Mailbox<number>('backpressure');
    b.put(1);
    b.close({ discard: true });
    await expect(b.take()).resolves.toEqual({ value: undefined, done: true });
    const c = new Mailbox<number>('latest');
    const waiting = c.take();
    c.close({ error: new Error('gone') });
    await expect(waiting).rejects.toThrow('gone');
  });
});

describe('Backoff', () => {
  it('grows by the factor up to the cap, and starts over on reset', () => {
    const b = new Backoff({ initialMs: 500, maxMs: 4000, factor: 2, jitter: 0 });
    expect([b.next(), b.next(), b.next(), b.next(), b.next(), b.next()]).toEqual([500, 1000, 2000, 4000, 4000, 4000]);
    b.reset();
    expect(b.next()).toBe(500);
  });

  it('spreads delays by the jitter fraction, never past the cap', () => {
    const low = new Backoff({ initialMs: 1000, maxMs: 1000, jitter: 0.1, random: () => 0 });
    const high = new Backoff({ initialMs: 1000, maxMs: 1000, jitter: 0.1, random: () => 0.999 });
    expect(low.next()).toBe(900);
    expect(high.next()).toBe(1000);
  });
});

describe('LineRing', () => {
  it('assembles lines across chunks and keeps the last N', () => {
    const ring = new LineRing(3);
    expect(ring.push('one\ntw')).toEqual(['one']);
    expect(ring.push('o\r\nthree\nfour\nfi')).toEqual(['two', 'three', 'four']);
    expect(ring.lines()).toEqual(['three', 'four', 'fi']);
  });
});

describe('Mailbox drops', () => {
  it("hands what it drops unread (replaced, or discarded at close) to onDrop, so its buffer can be reused", async () => {
    const dropped: number[] = [];
    const box = new Mailbox<number>('latest', undefined, (n) => dropped.push(n));
    box.put(1);
    box.put(2);
    expect(dropped).toEqual([1]);
    await expect(box.take()).resolves.toEqual({ value: 2, done: false });
    box.put(3);
    box.close({ discard: true });
    expect(dropped).toEqual([1, 3]);
    const kept = new Mailbox<number>('backpressure', undefined, (n) => dropped.push(n));
    kept.put(4);
    kept.close();
    await expect(kept.take()).resolves.toEqual({ value: 4, done: false });
    expect(dropped).toEqual([1, 3]);
  });
});
