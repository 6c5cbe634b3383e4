/**
 * Child-process helpers for integration tests: list what the test process has spawned (to assert
 * that nothing is left behind), and end a process for sure.
 *
 *   expect(await descendants()).toEqual([])                        // nothing left at all
 *   expect(await descendants({ name: /ffmpeg/ })).toHaveLength(0)  // no ffmpeg left
 *
 * Linux only (reads /proc). Zombies are listed too, with state 'Z': a zombie is a leak as well.
 */
import type { ChildProcess } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';

export interface ProcessInfo {
  readonly pid: number;
  readonly ppid: number;
  /** The executable name as the kernel keeps it (at most 15 characters, e.g. 'ffmpeg', 'python3'). */
  readonly name: string;
  /** R running, S sleeping, D disk wait, Z zombie, T stopped, … */
  readonly state: string;
  /** Full command line ('' for a zombie). */
  readonly cmdline: string;
}

async function readProc(pid: number): Promise<ProcessInfo | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // The name is in parentheses and may itself hold spaces and parentheses: split at the last ')'.
    const open = stat.indexOf('(');
    const close = stat.lastIndexOf(')');
    const name = stat.slice(open + 1, close);
    const [state = '?', ppid = '0'] = stat.slice(close + 2).split(' ');
    const cmdline = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).split('\0').filter(Boolean).join(' ');
    return { pid, ppid: Number(ppid), name, state, cmdline };
  } catch {
    // The process ended while we were reading: it is not there any more, which is what we report.
    return undefined;
  }
}

/** Every process on the machine (a snapshot; processes may come and go while it is taken). */
export async function listProcesses(): Promise<ProcessInfo[]> {
  const entries = await readdir('/proc');
  const infos = await Promise.all(entries.filter((e) => /^\d+$/.test(e)).map((e) => readProc(Number(e))));
  return infos.filter((p): p is ProcessInfo => p !== undefined);
}

/**
 * The processes descended from `root` (default: this process), children and their children,
 * optionally only those whose name or command line matches `name`.
 */
export async function descendants(opts: { root?: number; name?: RegExp } = {}): Promise<ProcessInfo[]> {
  const root = opts.root ?? process.pid;
  const all = await listProcesses();
  const byParent = new Map<number, ProcessInfo[]>();
  for (const p of all) byParent.set(p.ppid, [...(byParent.get(p.ppid) ?? []), p]);
  const out: ProcessInfo[] = [];
  const queue = [root];
  for (let pid = queue.shift(); pid !== undefined; pid = queue.shift()) {
    for (const child of byParent.get(pid) ?? []) {
      out.push(child);
      queue.push(child.pid);
    }
  }
  return opts.name ? out.filter((p) => opts.name?.test(p.name) || opts.name?.test(p.cmdline)) : out;
}

/** Resolves when the child has exited (at once if it already has). */
export function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/**
 * Sends `signal` (default SIGTERM), waits up to `graceMs` for the exit, then SIGKILL and waits
 * for that. Resolves once the child has exited, so it is reaped: no zombie.
 */
export async function terminate(child: ChildProcess, graceMs = 5000, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  const done = exited(child);
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill(signal);
  let timer: NodeJS.Timeout | undefined;
  const inTime = await Promise.race([done.then(() => true), new Promise<boolean>((r) => (timer = setTimeout(() => r(false), graceMs)))]);
  clearTimeout(timer);
  if (!inTime) {
    child.kill('SIGKILL');
    await done;
  }
}
