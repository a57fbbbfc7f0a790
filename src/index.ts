/**
 * biasrc for Node (package.json `exports` "node" condition): worker_threads, and the wasm read from build/.
 *
 *   import { Heap, BrcError } from 'biasrc';          // this file (browsers get index.browser.ts)
 *   import { joinHeap } from 'biasrc/worker';         // in workers started with heap.spawn
 */
import { registerThreads, registerWasm } from './platform.js';
import { nodeThreads, nodeWasm } from './platform/node.js';

registerThreads(nodeThreads);
registerWasm(nodeWasm);

export * from './api.js';
