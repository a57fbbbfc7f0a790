/**
 * biasrc: biased reference counting for JavaScript threads.
 * The public entry point; `biasrc/worker` is the worker side.
 */
export { BrcError, type BrcErrorCode } from './errors.js';
export { compileCore, createSharedMemory, instantiateCore, defaultWasmUrl, type BrcExports, type CoreInstance, type CompileOptions, type MemoryOptions, type WasmSource, } from './wasm.js';
export { readLayout, STAT_NAMES, type Layout, type Stats, type StatName } from './layout.js';
