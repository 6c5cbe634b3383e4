// Entry point of the recogniser worker thread. Node cannot start a Worker on a .ts file, even
// under `node --import tsx`, and vitest's transform does not reach worker threads; registering
// tsx here makes models/worker.ts importable in both (the worker starts with no execArgv, so this
// is its only registration).
import { register } from 'tsx/esm/api';

register();
await import('./worker.ts');
