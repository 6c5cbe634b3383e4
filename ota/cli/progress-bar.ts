/**
 * Progress for `alpr ota`: on a terminal one bar rewritten in place (step i/n, bytes); in a pipe
 * or a file, one plain line per step and per quarter of the bytes, so logs stay readable.
 */
import type { ProgressSink } from '../../models/eval/progress.ts';
import type { ReleaseProgress } from '../release/repository.ts';

const WIDTH = 24;

function mb(n: number): string {
  return n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(1)} MB` : n >= 1024 ? `${(n / 1024).toFixed(1)} kB` : `${n} B`;
}

export interface ProgressBar extends ReleaseProgress {
  finish(): void;
}

export function progressBar(out: ProgressSink, label: string): ProgressBar {
  const tty = out.isTTY === true;
  let step = '';
  let index = 0;
  let total = 0;
  let lastLen = 0;
  let lastQuarter = -1;
  const draw = (done: number, size: number): void => {
    const frac = size > 0 ? Math.min(1, done / size) : 1;
    const fill = Math.round(frac * WIDTH);
    const text = `${label} [${'#'.repeat(fill)}${'-'.repeat(WIDTH - fill)}] ${String(Math.floor(frac * 100)).padStart(3)}% ${mb(done)}/${mb(size)}  step ${index}/${total} ${step}`;
    out.write(`\r${text}${' '.repeat(Math.max(0, lastLen - text.length))}`);
    lastLen = text.length;
  };
  return {
    step(name, i, n) {
      step = name;
      index = i;
      total = n;
      lastQuarter = -1;
      if (tty) draw(0, 0);
      else out.write(`${label}: step ${i}/${n} ${name}\n`);
    },
    bytes(done, size) {
      if (tty) {
        draw(done, size);
        return;
      }
      const quarter = size > 0 ? Math.floor((4 * done) / size) : 4;
      if (quarter !== lastQuarter) {
        lastQuarter = quarter;
        out.write(`${label}: ${step} ${mb(done)} of ${mb(size)} (${Math.floor((100 * done) / Math.max(1, size))}%)\n`);
      }
    },
    finish() {
      if (tty && lastLen > 0) out.write('\n');
      lastLen = 0;
    },
  };
}
