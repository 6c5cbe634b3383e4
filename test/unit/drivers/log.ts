/** A pino logger whose lines the test can read. */
import { pino, type Logger } from 'pino';

export interface CapturedLog {
  readonly log: Logger;
  readonly lines: { level: number; msg: string; [k: string]: unknown }[];
}

export function captureLog(): CapturedLog {
  const lines: CapturedLog['lines'] = [];
  const log = pino({ level: 'debug' }, { write: (s: string) => void lines.push(JSON.parse(s) as CapturedLog['lines'][number]) });
  return { log, lines };
}

export const WARN = 40;
