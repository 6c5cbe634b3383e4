/**
 * Device events: the types live with the other shared contracts in `types.ts`; this module is
 * where parts import them from.
 */
export type { EventSink, GatewayEvent } from './types.ts';
