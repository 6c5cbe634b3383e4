/**
 * Signed commands from dispatch (`.../cmd/{name}`): a JWS (`alpr-cmd+jws`) signed by the
 * dispatch identity under the agency CA. A command runs only if the signature and chain verify,
 * it names this device, it is not expired or dated in the future, its id was not seen before
 * (ids are kept for their validity window), its name is registered, and its args pass the
 * handler's schema. Every command, run or refused, gets a reply signed by the device on
 * `.../cmd-result` (`alpr-cmd-result+jws`: {id, name, ok, result?, error?}) — unless it could
 * not be attributed to dispatch at all (bad signature), which is only logged.
 *
 * Other parts register their commands on the bus (provisioning: `cert-seen`; OTA:
 * `refresh-hotlist`; drivers: `ir-override`, `maintenance-window`); this module registers only
 * the built-in `ping`.
 */
import type { X509Certificate } from 'node:crypto';
import type { Logger } from 'pino';
import { z } from 'zod';
import { CMD_TYP, EnvelopeError, verifySigned } from './envelope.ts';

export const commandSchema = z.strictObject({
  id: z.uuid(),
  name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/),
  device: z.string(),
  args: z.unknown(),
  iat: z.number().int(),
  exp: z.number().int(),
});

export type Command = z.infer<typeof commandSchema>;

export interface CommandResult {
  readonly id: string;
  readonly name: string;
  readonly ok: boolean;
  readonly result?: unknown;
  readonly error?: string;
}

export type CommandHandler<A> = (args: A, command: Command) => Promise<unknown>;

export interface CommandBusDeps {
  readonly device: string;
  /** Leaf CN dispatch signs with (config `delivery.dispatchIdentity`). */
  readonly dispatchCn: string;
  /** Current trust anchors (the CA bundle; re-read when it rotates). */
  readonly anchors: () => readonly X509Certificate[];
  /** Signs and publishes a reply on `.../cmd-result`. */
  readonly reply: (result: CommandResult) => Promise<void>;
  readonly now: () => number;
  readonly log: Logger;
  /** Tolerance for clocks that disagree a little, ms (default 30 s). */
  readonly skewMs?: number;
  /** Longest command lifetime accepted, ms (default 1 h): bounds the replay cache. */
  readonly maxTtlMs?: number;
  /** Ids seen before this process started, and where each new one is recorded (replay-book.ts). */
  readonly replay?: { entries(): [string, number][]; add(id: string, exp: number): Promise<void> };
}

export class CommandBus {
  private readonly handlers = new Map<string, { schema: z.ZodType; handler: CommandHandler<unknown> }>();
  /** Ids seen → their exp; forgotten once expired (an expired command is refused anyway). */
  private readonly seen = new Map<string, number>();
  readonly counters = { run: 0, refused: 0, failed: 0, unverified: 0 };

  constructor(private readonly deps: CommandBusDeps) {
    for (const [id, exp] of deps.replay?.entries() ?? []) this.seen.set(id, exp);
    this.register('ping', z.object({}).passthrough().optional(), async () => ({ pong: this.deps.now(), device: this.deps.device }));
  }

  /** Adds a command. Names are unique; args are parsed with `argsSchema` before `handler` sees them. */
  register<S extends z.ZodType>(name: string, argsSchema: S, handler: CommandHandler<z.infer<S>>): void {
    if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(name)) throw new RangeError(`command name ${JSON.stringify(name)}: lower-case letters, digits and dashes`);
    if (this.handlers.has(name)) throw new RangeError(`command ${name} is already registered`);
    this.handlers.set(name, { schema: argsSchema, handler: handler as CommandHandler<unknown> });
  }

  names(): string[] {
    return [...this.handlers.keys()];
  }

  /** Handles one message from `.../cmd/{topicName}`. Resolves once the reply is sent. */
  async handle(topicName: string, payload: Buffer): Promise<CommandResult | undefined> {
    const { deps } = this;
    const now = deps.now();
    let raw: unknown;
    try {
      raw = await verifySigned(payload.toString('utf8'), CMD_TYP, deps.anchors(), deps.dispatchCn, now);
    } catch (err) {
      this.counters.unverified++;
      deps.log.warn({ topicName, reason: err instanceof EnvelopeError ? err.message : (err as Error).message }, 'command ignored: not verifiably from dispatch');
      return undefined;
    }
    const parsed = commandSchema.safeParse(raw);
    if (!parsed.success) {
      const id = typeof (raw as { id?: unknown })?.id === 'string' ? (raw as { id: string }).id : 'unknown';
      const issue = parsed.error.issues[0];
      return this.refuse({ id, name: topicName }, `malformed command at ${issue?.path.join('.') || '(top)'}: ${issue?.message ?? ''}`);
    }
    const cmd = parsed.data;
    const skew = deps.skewMs ?? 30_000;
    this.prune(now);
    if (cmd.name !== topicName) return this.refuse(cmd, `command name ${cmd.name} differs from its topic (${topicName})`);
    if (cmd.device !== deps.device) return this.refuse(cmd, `command is for device ${cmd.device}, not ${deps.device}`);
    if (cmd.exp <= now) return this.refuse(cmd, `command expired at ${new Date(cmd.exp).toISOString()}`);
    if (cmd.iat > now + skew) return this.refuse(cmd, `command issued in the future (${new Date(cmd.iat).toISOString()})`);
    if (cmd.exp - cmd.iat > (deps.maxTtlMs ?? 3_600_000)) return this.refuse(cmd, 'command lifetime too long');
    if (this.seen.has(cmd.id)) return this.refuse(cmd, `command ${cmd.id} was already received (replay)`);
    this.seen.set(cmd.id, cmd.exp);
    try {
      await deps.replay?.add(cmd.id, cmd.exp);
    } catch (err) {
      // Not recorded durably: running it could allow a replay after a restart.
      return this.refuse(cmd, `command not run: its id could not be recorded (${(err as Error).message})`);
    }
    const entry = this.handlers.get(cmd.name);
    if (!entry) return this.refuse(cmd, `unknown command ${cmd.name} (known: ${this.names().join(', ')})`);
    const args = entry.schema.safeParse(cmd.args);
    if (!args.success) {
      const issue = args.error.issues[0];
      return this.refuse(cmd, `invalid args at ${issue?.path.join('.') || '(top)'}: ${issue?.message ?? ''}`);
    }
    let result: CommandResult;
    try {
      const value = await entry.handler(args.data, cmd);
      this.counters.run++;
      result = { id: cmd.id, name: cmd.name, ok: true, ...(value !== undefined ? { result: value } : {}) };
      deps.log.info({ id: cmd.id, name: cmd.name }, 'command run');
    } catch (err) {
      this.counters.failed++;
      result = { id: cmd.id, name: cmd.name, ok: false, error: (err as Error).message };
      deps.log.warn({ id: cmd.id, name: cmd.name, err: (err as Error).message }, 'command failed');
    }
    await this.send(result);
    return result;
  }

  private async refuse(cmd: { id: string; name: string }, error: string): Promise<CommandResult> {
    this.counters.refused++;
    this.deps.log.warn({ id: cmd.id, name: cmd.name, reason: error }, 'command refused');
    const result: CommandResult = { id: cmd.id, name: cmd.name, ok: false, error };
    await this.send(result);
    return result;
  }

  private async send(result: CommandResult): Promise<void> {
    await this.deps.reply(result).catch((err: unknown) => this.deps.log.warn({ id: result.id, err: (err as Error).message }, 'command result not sent'));
  }

  private prune(now: number): void {
    for (const [id, exp] of this.seen) if (exp <= now) this.seen.delete(id);
  }
}
