/**
 * The random sample of detection-browsing inquiries that P10 asks auditors to check against
 * their documented purpose: at least 10 from the preceding six months, drawn with a seed that is
 * printed in the report and recorded in the audit log, so anyone can draw the same sample again.
 */
import { mulberry32 } from '../../drivers/camera/prng.ts';
import type { AuditEntry } from './audit-log.ts';
import { InvalidInputError } from './errors.ts';

/** Actions that browse detections (P8's "detection-browsing inquiries"). */
export const BROWSING_ACTIONS: readonly string[] = ['detection.search', 'detection.get', 'detection.image', 'detection.browse'];

export interface SampleOptions {
  /** 32-bit unsigned seed. */
  readonly seed: number;
  readonly count?: number;
  readonly months?: number;
  /** End of the period (trusted clock). */
  readonly now: number;
}

export interface SampleReport {
  readonly seed: number;
  readonly from: string;
  readonly to: string;
  /** Browsing inquiries in the period. */
  readonly population: number;
  readonly requested: number;
  /** In sequence order. */
  readonly sample: readonly AuditEntry[];
}

export function monthsBefore(ms: number, months: number): number {
  const d = new Date(ms);
  d.setUTCMonth(d.getUTCMonth() - months);
  return d.getTime();
}

export function sampleInquiries(entries: readonly AuditEntry[], options: SampleOptions): SampleReport {
  const count = options.count ?? 10;
  const months = options.months ?? 6;
  if (!Number.isInteger(options.seed) || options.seed < 0 || options.seed > 0xffffffff) throw new InvalidInputError('seed: an integer 0–4294967295');
  if (!Number.isInteger(count) || count < 1 || count > 10_000) throw new InvalidInputError('count: an integer 1–10000');
  if (!Number.isInteger(months) || months < 1 || months > 120) throw new InvalidInputError('months: an integer 1–120');
  const from = monthsBefore(options.now, months);
  const population = entries
    .filter((e) => BROWSING_ACTIONS.includes(e.action) && e.outcome !== 'refused')
    .filter((e) => {
      const t = Date.parse(e.at);
      return t >= from && t <= options.now;
    })
    .sort((a, b) => a.seq - b.seq);
  // Partial Fisher–Yates over the population in sequence order: the seed alone fixes the draw.
  const rng = mulberry32(options.seed);
  const pool = [...population];
  const k = Math.min(count, pool.length);
  for (let i = 0; i < k; i++) {
    const j = i + Math.floor(rng.next() * (pool.length - i));
    [pool[i], pool[j]] = [pool[j] as AuditEntry, pool[i] as AuditEntry];
  }
  return {
    seed: options.seed,
    from: new Date(from).toISOString(),
    to: new Date(options.now).toISOString(),
    population: population.length,
    requested: count,
    sample: pool.slice(0, k).sort((a, b) => a.seq - b.seq),
  };
}

/** The report as text: one block per inquiry, with a line for the auditor's finding. */
export function formatSample(report: SampleReport): string {
  const lines = [
    `Random sample of detection-browsing inquiries (P10)`,
    `period ${report.from} – ${report.to}; seed ${report.seed}; ${report.sample.length} of ${report.population} inquiries (asked for ${report.requested})`,
  ];
  if (report.sample.length < report.requested) lines.push(`note: fewer inquiries in the period than asked for; all are listed`);
  for (const e of report.sample) {
    lines.push('', `#${e.seq}  ${e.at}  ${e.action}  outcome ${e.outcome}${e.resultCount !== undefined ? `, ${e.resultCount} results` : ''}`,
      `  user ${e.user} from ${e.source}`,
      `  case ${e.caseNumber ?? '(none)'}; purpose: ${e.purpose ?? '(none)'}`,
      `  terms ${JSON.stringify(e.terms ?? {})}`,
      `  consistent with the documented purpose?  [ ] yes  [ ] no   auditor: ________`);
  }
  return `${lines.join('\n')}\n`;
}
