/**
 * Loading the core: compile biasrc.wasm once, create the one shared memory, instantiate the module in each thread.
 *
 * There is deliberately no @assemblyscript/loader here: it is deprecated upstream and exists to marshal managed
 * objects (strings, arrays), which a module shared by threads cannot have (see README). The exports are plain
 * numbers in and out, so WebAssembly.instantiate with `{ env: { memory } }` is all it takes.
 */

import { checkModule } from './layout.js';
import { isNode } from './env.js';
import type { BrcExports } from './generated/abi.js';

export type { BrcExports };

export type WasmSource = URL | string | WebAssembly.Module | BufferSource;

export interface CompileOptions {
  /** The debug build: invariant checks on every operation. */
  debug?: boolean;
  /** Where to load the module from, or the module itself; defaults to the build shipped with the package. */
  wasm?: WasmSource;
  /** The shared-memory build (default) or the single-thread one for pages without cross-origin isolation. */
  shared?: boolean;
}


export function defaultWasmUrl(debug: boolean, shared = true): URL {
  const file = shared ? (debug ? 'biasrc.debug.wasm' : 'biasrc.wasm') : (debug ? 'biasrc.single.debug.wasm' : 'biasrc.single.wasm');
  return new URL(`../build/${file}`, import.meta.url);
}

/** Compiles the core: read from disk in Node, compileStreaming in browsers. Compile once, share the Module. */
export async function compileCore(options: CompileOptions = {}): Promise<WebAssembly.Module> {
  const source = options.wasm ?? defaultWasmUrl(options.debug ?? false, options.shared ?? true);
  if (source instanceof WebAssembly.Module) return source;
  if (typeof source !== 'string' && !(source instanceof URL)) return WebAssembly.compile(source);
  const url = source instanceof URL ? source : new URL(source, isNode ? `file://${process.cwd()}/` : globalThis.location.href);
  if (isNode && url.protocol === 'file:') {
    const { readFile } = await import('node:fs/promises');
    return WebAssembly.compile(await readFile(url));
  }
  return WebAssembly.compileStreaming(fetch(url));
}

export interface MemoryOptions {
  initialMiB?: number;
  maximumMiB?: number;
}

export const WASM_PAGE = 65536;

/** Memory size in wasm pages: [initial, maximum]. */
export function memoryPages(options: MemoryOptions = {}): [number, number] {
  const initial = Math.max(1, Math.ceil(((options.initialMiB ?? 16) * 1024 * 1024) / WASM_PAGE));
  const maximum = Math.min(65536, Math.ceil(((options.maximumMiB ?? 1024) * 1024 * 1024) / WASM_PAGE));
  return [Math.min(initial, maximum), maximum];
}

/** The shared memory every thread's instance imports. */
export function createSharedMemory(options: MemoryOptions = {}): WebAssembly.Memory {
  const [initial, maximum] = memoryPages(options);
  return new WebAssembly.Memory({ initial, maximum, shared: true });
}

/** One thread's instance of the core over `memory`. */
export interface CoreInstance {
  exports: BrcExports;
  raw: WebAssembly.Exports;
  memory: WebAssembly.Memory;
}

/**
 * The module's imports: the memory, and biasrc_wait, the one way it sleeps (assembly/host.ts says why it is not
 * wasm's own wait). Returns what memory.atomic.wait would: 0 woken, 1 not equal, 2 timed out.
 */
export function coreImports(memory: WebAssembly.Memory): WebAssembly.Imports {
  let view = new Int32Array(memory.buffer);
  const biasrc_wait = (address: number, expected: number, timeoutMs: number): number => {
    if (view.buffer !== memory.buffer) view = new Int32Array(memory.buffer); // the memory grew
    const result = Atomics.wait(view, address >>> 2, expected, timeoutMs < 0 ? Infinity : timeoutMs);
    return result === 'ok' ? 0 : result === 'not-equal' ? 1 : 2;
  };
  return { env: { memory, biasrc_wait } };
}

/** Instantiates the core over `memory`; ELAYOUT if the module is not the build this package was generated from. */
export async function instantiateCore(module: WebAssembly.Module, memory: WebAssembly.Memory): Promise<CoreInstance> {
  const instance = await WebAssembly.instantiate(module, coreImports(memory));
  const raw = instance.exports;
  checkModule(raw, 'loading biasrc.wasm');
  return { exports: raw as unknown as BrcExports, raw, memory };
}
