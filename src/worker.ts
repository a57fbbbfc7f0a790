/**
 * biasrc/worker for Node: `const heap = await joinHeap()` attaches this worker_threads worker to the heap that
 * spawned it. (Browsers get worker.browser.ts.)
 */
import { registerThreads } from './platform.js';
import { nodeThreads } from './platform/node.js';

registerThreads(nodeThreads);

export { joinHeap, Heap, BrcError } from './join.js';
