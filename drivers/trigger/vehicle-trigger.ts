/**
 * The vehicle trigger: an inductive loop detector's or a radar's presence output. While it says
 * a vehicle is there, the cameras it covers analyse every frame (the pipeline's
 * `setVehiclePresent`), instead of only every `idleEvery`th frame while nothing moves. The rate
 * stays raised `holdMs` after the vehicle leaves the loop (the plate is often read just after).
 * A loop that reports presence for longer than `stuckAfterMs` is stuck (a failed detector, a
 * parked car): the raised rate is withdrawn and `trigger.stuck` raised, until the loop clears.
 */
import type { Logger } from 'pino';
import type { Timers } from '../camera/timers.ts';
import type { EventSink } from '../../gateway/events.ts';
import type { DigitalInput } from '../gpio/types.ts';

export interface VehicleTriggerDeps {
  /** Logical true = vehicle present. */
  readonly input: DigitalInput;
  readonly cameras: readonly string[];
  readonly setVehiclePresent: (cameraId: string, present: boolean) => void;
  readonly timers: Timers;
  readonly events: EventSink;
  readonly log: Logger;
  readonly holdMs?: number;
  readonly stuckAfterMs?: number;
}

export interface TriggerStatus {
  readonly present: boolean;
  /** The cameras are being told a vehicle is present (present, or within holdMs after). */
  readonly raised: boolean;
  readonly stuck: boolean;
  readonly activations: number;
  readonly lastActivatedAt?: number;
}

export class VehicleTrigger {
  private raised = false;
  private stuck = false;
  private activations = 0;
  private lastActivatedAt: number | undefined;
  private hold: unknown;
  private stuckTimer: unknown;
  private off: (() => void) | undefined;
  private readonly holdMs: number;
  private readonly stuckAfterMs: number;

  constructor(private readonly deps: VehicleTriggerDeps) {
    this.holdMs = deps.holdMs ?? 1_000;
    this.stuckAfterMs = deps.stuckAfterMs ?? 120_000;
  }

  start(): void {
    this.off = this.deps.input.onChange((present) => (present ? this.arrived() : this.left()));
    if (this.deps.input.value()) this.arrived();
  }

  status(): TriggerStatus {
    return {
      present: this.deps.input.value(),
      raised: this.raised,
      stuck: this.stuck,
      activations: this.activations,
      ...(this.lastActivatedAt !== undefined ? { lastActivatedAt: this.lastActivatedAt } : {}),
    };
  }

  stop(): void {
    this.off?.();
    this.off = undefined;
    this.clearTimers();
    this.set(false);
  }

  private arrived(): void {
    this.clearTimers();
    this.activations++;
    this.lastActivatedAt = this.deps.timers.now();
    this.set(true);
    this.stuckTimer = this.deps.timers.setTimeout(() => {
      this.stuckTimer = undefined;
      this.stuck = true;
      this.deps.log.warn({ stuckAfterMs: this.stuckAfterMs }, 'vehicle trigger stuck on present; analysis rate back to normal until it clears');
      this.deps.events.emit({ type: 'trigger.stuck', at: this.deps.timers.now(), presentForMs: this.stuckAfterMs, cameras: [...this.deps.cameras] });
      this.set(false);
    }, this.stuckAfterMs);
  }

  private left(): void {
    this.clearTimers();
    if (this.stuck) {
      this.stuck = false;
      this.deps.events.emit({ type: 'trigger.cleared', at: this.deps.timers.now() });
    }
    if (!this.raised) return;
    this.hold = this.deps.timers.setTimeout(() => {
      this.hold = undefined;
      this.set(false);
    }, this.holdMs);
  }

  private set(present: boolean): void {
    if (present === this.raised) return;
    this.raised = present;
    for (const cameraId of this.deps.cameras) this.deps.setVehiclePresent(cameraId, present);
  }

  private clearTimers(): void {
    if (this.hold !== undefined) this.deps.timers.clearTimeout(this.hold);
    if (this.stuckTimer !== undefined) this.deps.timers.clearTimeout(this.stuckTimer);
    this.hold = undefined;
    this.stuckTimer = undefined;
  }
}
