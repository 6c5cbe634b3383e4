import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Outbox, type OutboxEntryMeta } from '../../../gateway/delivery/outbox.ts';
import { OutboxSender, type SenderOptions } from '../../../gateway/delivery/sender.ts';
import { createDb, type Db } from '../../../gateway/store/db.ts';
import { ManualTimers } from './manual-timers.ts';

const uuid = (n: number): string => `019a9a3c-0000-7000-8000-${n.toString(16).padStart(12, '0')}`;
/** Lets the sender's reads of LevelDB and its publishes finish (real I/O; the test's timers are manual). */
const flush = async (): Promise<void> => {
  for (let i = 0; i < 4; i++) await new Promise((r) => setTimeout(r, 5));
};

class FakeLink {
  connected = true;
  readonly sent: { topic: string; payload: string }[] = [];
  pubackFails = false;
  async publish(topic: string, payload: string | Buffer): Promise<void> {
    if (!this.connected) throw new Error('offline');
    this.sent.push({ topic, payload: payload.toString() });
    if (this.pubackFails) throw new Error('connection lost');
  }
}

describe('outbox sender: order, window, backoff, acks, escalation', () => {
  let dir: string;
  let db: Db;
  let outbox: Outbox;
  let timers: ManualTimers;
  let link: FakeLink;
  let escalated: { entry: OutboxEntryMeta; attempts: number; ageMs: number }[];
  const opts: SenderOptions = { window: 3, ackTimeoutMs: 1_000, maxBackoffMs: 8_000, escalateAfterMs: 60_000 };

  const sender = (o: SenderOptions = opts): OutboxSender => new OutboxSender({
    outbox, link, timers, now: () => timers.now, random: () => 0.5, log: pino({ level: 'silent' }),
    encode: async (entry, attempt) => ({ topic: entry.kind, payload: `${entry.id}#${attempt}` }),
    onEscalate: (entry, attempts, ageMs) => escalated.push({ entry, attempts, ageMs }),
    onUnreadable: () => undefined,
  }, o);

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sender-'));
    db = createDb(join(dir, 'db'));
    await db.open();
    timers = new ManualTimers();
    outbox = await Outbox.open({ db, key: randomBytes(32), now: () => timers.now });
    link = new FakeLink();
    escalated = [];
  });
  afterEach(async () => {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('sends in order, at most `window` unacked, and the next one as each ack frees a slot', async () => {
    for (let i = 1; i <= 5; i++) await outbox.add('hit', uuid(i), {});
    const s = sender();
    s.pump();
    await flush();
    expect(link.sent.map((m) => m.payload)).toEqual([`${uuid(1)}#1`, `${uuid(2)}#1`, `${uuid(3)}#1`]);
    expect(await s.ack(uuid(2))).toBe(true);
    await flush();
    expect(link.sent.map((m) => m.payload).slice(3)).toEqual([`${uuid(4)}#1`]);
    expect(outbox.has(uuid(2))).toBe(false);
    // A duplicate ack changes nothing.
    expect(await s.ack(uuid(2))).toBe(false);
    expect(s.pending).toBe(3);
  });

  it('never deletes a hit on PUBACK alone; re-sends with capped exponential backoff until acked', async () => {
    await outbox.add('hit', uuid(1), {});
    const s = sender({ ...opts, window: 1 });
    s.pump();
    await flush();
    const sendTimes: number[] = [timers.now];
    let seen = 1;
    for (let step = 0; step < 64; step++) {
      timers.advance(500);
      await flush();
      if (link.sent.length > seen) {
        seen = link.sent.length;
        sendTimes.push(timers.now);
      }
    }
    expect(outbox.has(uuid(1))).toBe(true);
    const gaps = sendTimes.slice(1).map((t, i) => t - (sendTimes[i] as number));
    // ackTimeout 1 s, then 2, 4, 8, 8 … (random fixed at the middle of the jitter).
    expect(gaps.slice(0, 5)).toEqual([1_000, 2_000, 4_000, 8_000, 8_000]);
    expect(link.sent.at(-1)?.payload).toMatch(/#\d+$/);
    await s.ack(uuid(1));
    expect(outbox.depth).toBe(0);
  });

  it('re-sends everything unacked at once, in order, on reconnect; nothing while offline', async () => {
    for (let i = 1; i <= 3; i++) await outbox.add('hit', uuid(i), {});
    const s = sender();
    s.pump();
    await flush();
    link.connected = false;
    link.sent.length = 0;
    timers.advance(30_000);
    await flush();
    expect(link.sent).toEqual([]);
    link.connected = true;
    s.onConnect();
    await flush();
    expect(link.sent.map((m) => m.payload.split('#')[0])).toEqual([uuid(1), uuid(2), uuid(3)]);
  });

  it('keeps an event past its PUBACK until dispatch acks it; a status goes on PUBACK, and stays while no PUBACK comes', async () => {
    await outbox.add('event', 'ev-1', { type: 'tamper' });
    await outbox.add('status', 'st-1', { state: 'online' });
    const s = sender();
    link.pubackFails = true;
    s.pump();
    await flush();
    expect(outbox.has('st-1')).toBe(true);
    link.pubackFails = false;
    timers.advance(1_000);
    await flush();
    expect(outbox.has('st-1')).toBe(false);
    expect(outbox.has('ev-1')).toBe(true); // broker has it; dispatch has not said so
    expect(await s.ack('ev-1')).toBe(true);
    expect(outbox.has('ev-1')).toBe(false);
  });

  it('escalates an entry unacked past escalateAfterMs, once', async () => {
    await outbox.add('hit', uuid(1), {});
    link.connected = false;
    const s = sender();
    s.start();
    timers.advance(59_000);
    expect(escalated).toEqual([]);
    timers.advance(2_000);
    expect(escalated.map((e) => e.entry.id)).toEqual([uuid(1)]);
    expect(escalated[0]?.ageMs).toBeGreaterThanOrEqual(60_000);
    timers.advance(600_000);
    expect(escalated).toHaveLength(1);
    s.stop();
  });
});
