#!/usr/bin/env node
// The `alpr` command (package bin; `npx alpr eval <folder>`). The commands are TypeScript, so
// tsx's loader is registered before they are imported; this file stays plain JavaScript so that
// it runs under a bare `node` however it is started.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../models/eval/cli.ts');
process.exitCode = await main(process.argv.slice(2));
