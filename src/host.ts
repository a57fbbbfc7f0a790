/**
 * Host types in the public declarations, so that they compile in any user's configuration (skipLibCheck: false):
 * with the DOM lib (WebAssembly, Worker, ...) and with a Node-only one (`types: ["node"]`, no DOM), where TypeScript
 * declares no WebAssembly at all. Each alias is the host's own type when the program has it (so with the DOM lib
 * `heap.memory` is exactly a WebAssembly.Memory) and a structural stand-in when it does not; never `any`.
 * Nothing here exists at run time.
 */

type Host = typeof globalThis;

/** The parts of WebAssembly.Memory that biasrc's API uses, for programs without the DOM lib. */
export interface MemoryLike {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
  grow(delta: number): number;
}

/** A compiled WebAssembly.Module, for programs without the DOM lib (opaque: pass it on, e.g. to Heap.create). */
export interface ModuleLike {
  readonly [Symbol.toStringTag]: string;
}

/** WebAssembly.Memory where the program declares it, else MemoryLike. */
export type WasmMemory = Host extends { WebAssembly: { Memory: { prototype: infer M } } } ? M : MemoryLike;
/** WebAssembly.Module where the program declares it, else ModuleLike. */
export type WasmModule = Host extends { WebAssembly: { Module: { prototype: infer M } } } ? M : ModuleLike;
/** WebAssembly.Exports: the instance's exports by name. */
export type WasmExports = Record<string, unknown>;
/** WebAssembly.Imports: the import object given to WebAssembly.instantiate. */
export type WasmImports = Record<string, Record<string, unknown>>;

/** Bytes of a wasm module. */
export type BinaryData = ArrayBuffer | ArrayBufferView;

/**
 * A worker: a browser `Worker` (module Web Worker) or Node's `worker_threads.Worker`, as `new Worker(...)` in the
 * app creates it. (`transfer: never` so that either host's postMessage fits; biasrc checks the kind at run time.)
 */
export interface WorkerLike {
  postMessage(message: unknown, transfer: never): void;
  terminate(): unknown;
}

/**
 * What `heap.spawn` starts: the worker script's URL, or (the form bundlers see and bundle) a Worker the app created
 * with `new Worker(new URL('./worker.js', import.meta.url), { type: 'module' })`, or a function returning one.
 */
export type WorkerSource = URL | string | WorkerLike | (() => WorkerLike);
