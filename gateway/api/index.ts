/** The local console and API: what gateway/main.ts needs (docs/console.md). */
export { buildApi, startApi, startConsole, ROUTES, type BuiltApi, type RunningApi } from './server.ts';
export { withDetectionTee, type DetectionObserver } from './store-tee.ts';
export { gatewayStatus, type GatewayStatusSources } from './status-adapter.ts';
export { AccountFileError } from './accounts.ts';
export { apiSettings, type ApiDeps, type ApiSettings, type StatusProvider, type StatusSnapshot, type TamperLock, type Role } from './types.ts';
