/**
 * Signed commands for the tamper switch, to register on the command bus (gateway/delivery/
 * commands.ts): `maintenance-window` announces or cancels a window; the handler is
 * `(args) => result`, its args checked by the schema first.
 */
import { z } from 'zod';
import type { MaintenanceWindow, MaintenanceWindows } from './maintenance.ts';

export const maintenanceArgsSchema = z.discriminatedUnion('action', [
  z.strictObject({
    action: z.literal('announce'),
    /** Start, ISO 8601; default now. */
    from: z.iso.datetime({ offset: true }).optional(),
    durationMinutes: z.number().int().min(1).max(12 * 60),
    by: z.string().min(1).max(100),
    reason: z.string().min(1).max(200),
  }),
  z.strictObject({ action: z.literal('cancel'), id: z.string().min(1), by: z.string().min(1).max(100) }),
  z.strictObject({ action: z.literal('list') }),
]);

export type MaintenanceArgs = z.infer<typeof maintenanceArgsSchema>;

export interface MaintenanceResult {
  readonly window?: MaintenanceWindow;
  readonly cancelled?: boolean;
  readonly windows: readonly MaintenanceWindow[];
}

export function maintenanceCommand(windows: MaintenanceWindows, now: () => number, onChange?: (what: string, window: MaintenanceWindow) => void) {
  return async (args: MaintenanceArgs): Promise<MaintenanceResult> => {
    switch (args.action) {
      case 'announce': {
        const from = args.from !== undefined ? Date.parse(args.from) : now();
        const window = windows.announce({ from, to: from + args.durationMinutes * 60_000, by: args.by, reason: args.reason, source: 'command' });
        onChange?.('announced', window);
        return { window, windows: windows.list() };
      }
      case 'cancel': {
        const window = windows.cancel(args.id);
        if (window) onChange?.(`cancelled by ${args.by}`, window);
        return { cancelled: window !== undefined, ...(window ? { window } : {}), windows: windows.list() };
      }
      case 'list':
        return { windows: windows.list() };
      default: {
        const never: never = args;
        throw new Error(`unknown action ${JSON.stringify(never)}`);
      }
    }
  };
}
