/**
 * Progress on stderr while an evaluation runs: one line rewritten in place on a terminal, a line
 * every tenth of the way (and at the end) when stderr is a file or a pipe.
 */

export interface ProgressSink {
  write(chunk: string): unknown;
  readonly isTTY?: boolean;
}

export interface Progress {
  update(done: number, note?: string): void;
  finish(): void;
}

export function createProgress(out: ProgressSink, total: number, label: string): Progress {
  const tty = out.isTTY === true;
  const step = Math.max(1, Math.ceil(total / 10));
  let lastLen = 0;
  let lastDone = -1;
  const line = (done: number, note?: string): string => {
    const pct = total > 0 ? Math.floor((100 * done) / total) : 100;
    return `${label} ${done}/${total} (${pct}%)${note ? ` ${note}` : ''}`;
  };
  return {
    update(done, note) {
      if (tty) {
        const text = line(done, note);
        out.write(`\r${text}${' '.repeat(Math.max(0, lastLen - text.length))}`);
        lastLen = text.length;
      } else if (done === total || Math.floor(done / step) > Math.floor(lastDone / step)) {
        out.write(`${line(done, note)}\n`);
      }
      lastDone = done;
    },
    finish() {
      if (tty && lastLen > 0) out.write('\n');
    },
  };
}
