/**
 * The signed `ir-override` command, to register on the command bus (gateway/delivery/
 * commands.ts): force the IR lamp on or off for a while, or return it to automatic control.
 */
import { z } from 'zod';
import type { Illuminator, IlluminatorStatus } from './illuminator.ts';

export const irOverrideArgsSchema = z.strictObject({
  state: z.enum(['on', 'off', 'auto']),
  /** How long the override holds (default 60 min, at most 12 h): a forgotten override ends. */
  durationMinutes: z.number().int().min(1).max(12 * 60).default(60),
  by: z.string().min(1).max(100),
  reason: z.string().min(1).max(200).optional(),
});

export type IrOverrideArgs = z.infer<typeof irOverrideArgsSchema>;

export function irOverrideCommand(illuminator: Illuminator, now: () => number) {
  return async (args: IrOverrideArgs): Promise<IlluminatorStatus> => {
    if (args.state === 'auto') illuminator.setOverride(undefined);
    else illuminator.setOverride({ on: args.state === 'on', until: now() + args.durationMinutes * 60_000, by: args.by, ...(args.reason ? { reason: args.reason } : {}) });
    return illuminator.status();
  };
}
