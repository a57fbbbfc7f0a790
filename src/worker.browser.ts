/**
 * biasrc/worker for browsers: `joinHeap()` attaches this module Web Worker to the heap that spawned it. It carries
 * no wasm: the worker gets the compiled module from the heap.
 */
import { registerThreads } from './platform.js';
import { browserThreads } from './platform/browser.js';

registerThreads(browserThreads);

export { joinHeap, Heap, BrcError } from './join.js';
