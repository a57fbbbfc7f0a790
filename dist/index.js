/**
 * biasrc: biased reference counting for JavaScript threads.
 * The public entry point; `biasrc/worker` is the worker side.
 */
export { BrcError } from './errors.js';
export { compileCore, createSharedMemory, instantiateCore, defaultWasmUrl, } from './wasm.js';
export { readLayout, STAT_NAMES } from './layout.js';
//# sourceMappingURL=index.js.map