import { X509Certificate, createPrivateKey, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandBus, type CommandResult } from '../../../gateway/delivery/commands.ts';
import { CMD_TYP, signJson } from '../../../gateway/delivery/envelope.ts';
import { ReplayBook } from '../../../gateway/delivery/replay-book.ts';
import { createDb } from '../../../gateway/store/db.ts';
import { deliveryPki, type DeliveryPki } from './fixtures.ts';

const NOW = Date.now();

describe('signed command bus', () => {
  let f: DeliveryPki;
  let dispatchSigner: { key: ReturnType<typeof createPrivateKey>; x5c: string[] };
  let replies: CommandResult[];
  let bus: CommandBus;
  const cmd = (over: Record<string, unknown> = {}): Record<string, unknown> => ({ id: randomUUID(), name: 'ping', device: 'pole-1', args: {}, iat: NOW - 1_000, exp: NOW + 60_000, ...over });
  const send = async (payload: Record<string, unknown>, topic = String(payload['name'])): Promise<CommandResult | undefined> =>
    bus.handle(topic, Buffer.from(await signJson(CMD_TYP, payload, dispatchSigner)));

  beforeAll(async () => {
    f = await deliveryPki();
    dispatchSigner = { key: createPrivateKey(f.dispatch.keyPem), x5c: [new X509Certificate(f.dispatch.certPem).raw.toString('base64')] };
  }, 60_000);
  afterAll(async () => f?.pki.dispose());

  const fresh = (): void => {
    replies = [];
    bus = new CommandBus({ device: 'pole-1', dispatchCn: 'dispatch', anchors: () => f.identity.anchors, reply: async (r) => void replies.push(r), now: () => NOW, log: pino({ level: 'silent' }) });
  };

  it('runs a verified ping and replies ok; registered handlers get parsed args', async () => {
    fresh();
    expect((await send(cmd()))?.ok).toBe(true);
    const seen: unknown[] = [];
    bus.register('ir-override', z.strictObject({ on: z.boolean(), minutes: z.number().int().max(60) }), async (args) => {
      seen.push(args);
      return { applied: true };
    });
    expect(await send(cmd({ name: 'ir-override', args: { on: true, minutes: 5 } }))).toMatchObject({ ok: true, result: { applied: true } });
    expect(seen).toEqual([{ on: true, minutes: 5 }]);
    expect(replies).toHaveLength(2);
    expect(() => bus.register('ping', z.unknown(), async () => undefined)).toThrow(/already registered/);
  });

  it.each([
    ['another device', { device: 'pole-2' }, /for device pole-2/],
    ['expired', { exp: NOW - 1 }, /expired/],
    ['dated in the future', { iat: NOW + 120_000, exp: NOW + 180_000 }, /future/],
    ['an unknown name', { name: 'self-destruct' }, /unknown command self-destruct/],
    ['bad args', { name: 'refresh-hotlist-x', args: 5 }, /unknown command/],
    ['too long a lifetime', { exp: NOW + 86_400_000 }, /lifetime too long/],
  ])('refuses a command for %s, with a reply saying why', async (_what, over, why) => {
    fresh();
    const r = await send(cmd(over));
    expect(r).toMatchObject({ ok: false, error: expect.stringMatching(why) });
    expect(replies).toEqual([r]);
  });

  it('refuses args that fail the handler schema, a name that differs from the topic, and a replayed id', async () => {
    fresh();
    bus.register('maintenance-window', z.strictObject({ minutes: z.number().int().positive() }), async () => undefined);
    expect(await send(cmd({ name: 'maintenance-window', args: { minutes: -1 } }))).toMatchObject({ ok: false, error: expect.stringMatching(/invalid args at minutes/) });
    expect(await send(cmd(), 'maintenance-window')).toMatchObject({ ok: false, error: expect.stringMatching(/differs from its topic/) });
    const once = cmd();
    expect((await send(once))?.ok).toBe(true);
    expect(await send(once)).toMatchObject({ ok: false, error: expect.stringMatching(/replay/) });
  });

  it('ignores (no reply) what is not verifiably from dispatch: the device\'s own key, a tampered payload', async () => {
    fresh();
    expect(await bus.handle('ping', Buffer.from(await signJson(CMD_TYP, cmd(), f.identity)))).toBeUndefined();
    const good = await signJson(CMD_TYP, cmd(), dispatchSigner);
    const [h, , sig] = good.split('.');
    const forged = `${h}.${Buffer.from(JSON.stringify(cmd({ name: 'ping', args: { x: 1 } }))).toString('base64url')}.${sig}`;
    expect(await bus.handle('ping', Buffer.from(forged))).toBeUndefined();
    expect(await bus.handle('ping', Buffer.from('not a jws'))).toBeUndefined();
    expect(replies).toEqual([]);
    expect(bus.counters.unverified).toBe(3);
  });

  it('refuses a command replayed after a restart (ids kept on disk until they expire)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'replay-'));
    const db = createDb(join(dir, 'db'));
    await db.open();
    try {
      const once = cmd();
      const busOn = async (): Promise<CommandBus> => new CommandBus({
        device: 'pole-1', dispatchCn: 'dispatch', anchors: () => f.identity.anchors, reply: async () => undefined, now: () => NOW,
        log: pino({ level: 'silent' }), replay: await ReplayBook.open(db, NOW),
      });
      bus = await busOn();
      expect((await send(once))?.ok).toBe(true);
      bus = await busOn(); // a new process
      expect(await send(once)).toMatchObject({ ok: false, error: expect.stringMatching(/replay/) });
      // Expired ids are dropped at open (the command would be refused as expired anyway).
      const later = await ReplayBook.open(db, NOW + 120_000);
      expect(later.entries()).toEqual([]);
    } finally {
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
