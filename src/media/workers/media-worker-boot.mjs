// Plain-JS entry of a media worker thread. On Node 20 a worker started with
// `execArgv: ['--import', 'tsx']` still cannot load a .ts entry (the loader
// hooks are not applied to the worker's main module), so this file registers
// tsx's loader itself and then imports the TypeScript entry named in workerData.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.entry);
