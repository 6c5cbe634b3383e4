/** Collects events in memory (the store's tests read what it raised). */
import type { EventSink, GatewayEvent } from '../../../gateway/events.ts';

export class MemoryEventSink implements EventSink {
  readonly events: GatewayEvent[] = [];
  emit(event: GatewayEvent): void {
    this.events.push(event);
  }
  ofType(type: string): GatewayEvent[] {
    return this.events.filter((e) => e.type === type);
  }
}
