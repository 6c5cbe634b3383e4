/**
 * The simulated GPIO twin: lines held in memory, keyed by chip label and offset exactly as the
 * config names them. Tests and the demo drive inputs (`drive`) and read outputs (`level`,
 * `history`); the drivers above cannot tell it from sysfs.
 */
import { GpioLineError } from './errors.ts';
import { describeLine, type GpioBackend, type Level, type LineSpec, type RawInputLine, type RawOutputLine } from './types.ts';

interface SimLine {
  direction: 'in' | 'out';
  level: Level;
  open: boolean;
  listeners: ((level: Level) => void)[];
  history: { level: Level; at: number }[];
}

export interface SimulatedGpioOptions {
  /** Chips that exist and how many lines each has; default: any label, 64 lines. */
  readonly chips?: Readonly<Record<string, number>>;
  /** Clock for `history` entries. */
  readonly now?: () => number;
}

const key = (line: LineSpec): string => `${line.chip}:${line.offset}`;

export class SimulatedGpio implements GpioBackend {
  readonly kind = 'simulated' as const;
  private readonly lines = new Map<string, SimLine>();

  constructor(private readonly options: SimulatedGpioOptions = {}) {}

  openInput(line: LineSpec): RawInputLine {
    const sim = this.claim(line, 'in', this.lines.get(key(line))?.level ?? 0);
    return {
      read: () => sim.level,
      watch: (listener) => void sim.listeners.push(listener),
      close: () => this.release(sim),
    };
  }

  openOutput(line: LineSpec, initial: Level): RawOutputLine {
    const sim = this.claim(line, 'out', initial);
    return {
      read: () => sim.level,
      write: (level) => {
        if (!sim.open) throw new Error(`simulated GPIO ${describeLine(line)}: line is closed`);
        if (level === sim.level) return;
        sim.level = level;
        sim.history.push({ level, at: this.now() });
      },
      close: () => this.release(sim),
    };
  }

  /** Sets an input's electrical level, as a switch or detector would; every call is an edge to the watchers (bounce included). */
  drive(line: LineSpec | string, level: Level): void {
    const k = typeof line === 'string' ? line : key(line);
    let sim = this.lines.get(k);
    if (!sim) {
      // Driving a line nobody has opened yet sets its level at boot (a door already open).
      sim = { direction: 'in', level, open: false, listeners: [], history: [] };
      this.lines.set(k, sim);
      return;
    }
    if (sim.direction !== 'in') throw new Error(`simulated GPIO ${k} is an output; drive inputs only`);
    sim.level = level;
    sim.history.push({ level, at: this.now() });
    if (sim.open) for (const l of [...sim.listeners]) l(level);
  }

  level(line: LineSpec | string): Level | undefined {
    return this.lines.get(typeof line === 'string' ? line : key(line))?.level;
  }

  /** Level changes of a line, oldest first. */
  history(line: LineSpec | string): readonly { level: Level; at: number }[] {
    return this.lines.get(typeof line === 'string' ? line : key(line))?.history ?? [];
  }

  isOpen(line: LineSpec | string): boolean {
    return this.lines.get(typeof line === 'string' ? line : key(line))?.open ?? false;
  }

  private claim(line: LineSpec, direction: 'in' | 'out', level: Level): SimLine {
    const lines = this.options.chips?.[line.chip];
    if (this.options.chips && lines === undefined) throw new GpioLineError(`simulated GPIO ${describeLine(line)}: no chip labelled "${line.chip}"`);
    if (!Number.isInteger(line.offset) || line.offset < 0 || line.offset >= (lines ?? 64)) {
      throw new GpioLineError(`simulated GPIO ${describeLine(line)}: offset out of range`);
    }
    const existing = this.lines.get(key(line));
    if (existing?.open) throw new GpioLineError(`GPIO line ${describeLine(line)} is already in use`);
    const sim: SimLine = { direction, level: direction === 'in' ? (existing?.level ?? level) : level, open: true, listeners: [], history: existing?.history ?? [] };
    this.lines.set(key(line), sim);
    return sim;
  }

  private release(sim: SimLine): void {
    sim.open = false;
    sim.listeners = [];
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }
}
