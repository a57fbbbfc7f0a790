/**
 * Loading the core: compile biasrc.wasm once, create the one shared memory, instantiate the module in each thread.
 * Where the builds come from is locate.ts (and the platform's loader, registered by the entry point).
 *
 * There is deliberately no @assemblyscript/loader here: it is deprecated upstream and exists to marshal managed
 * objects (strings, arrays), which a module shared by threads cannot have (see README). The exports are plain
 * numbers in and out, so WebAssembly.instantiate with `{ env: { memory } }` is all it takes.
 */

import { checkModule } from './layout.js';
import { BrcError } from './errors.js';
import type { WasmExports, WasmImports, WasmMemory, WasmModule } from './host.js';
import { buildName, chooseSource, type WasmLocations, type WasmSource } from './locate.js';
import { wasmPlatform } from './platform.js';
import type { BrcExports } from './generated/abi.js';

export type { BrcExports };
export type { WasmSource, WasmLocations };

export interface CompileOptions {
  /** The debug build: invariant checks on every operation. */
  debug?: boolean;
  /**
   * Where to load the module from, or the module itself; by default the build that comes with the package. One
   * source is used for whichever build is needed; `{ threaded, single, debug, singleDebug }` names one per build.
   */
  wasm?: WasmSource | WasmLocations;
  /** The shared-memory build (default) or the single-thread one for pages without cross-origin isolation. */
  shared?: boolean;
}

/** The package's own copy of a build, where it is a file (Node: a file: URL); undefined in browsers (inline). */
export function defaultWasmUrl(debug: boolean, shared = true): URL | undefined {
  return wasmPlatform('defaultWasmUrl').defaultUrl(buildName(shared, debug));
}

/**
 * Compiles the core: the package's copy (Node: read from disk; browsers: inline), or what `wasm` names. Compile
 * once and share the Module. A load that fails is a BrcError ELOAD naming the URL, the status and the fix.
 */
export async function compileCore(options: CompileOptions = {}): Promise<WasmModule> {
  const build = buildName(options.shared ?? true, options.debug ?? false);
  const source = chooseSource(options.wasm, build);
  if (source === undefined) return wasmPlatform('Heap.create').compileDefault(build);
  if (source instanceof WebAssembly.Module) return source;
  if (typeof source === 'string' || source instanceof URL) return wasmPlatform('Heap.create').compileUrl(source, build);
  try {
    return await WebAssembly.compile(source as BufferSource);
  } catch (error) {
    throw new BrcError('EINVAL', `Heap.create: the bytes given for the ${build} build are not a wasm module: ${String((error as Error)?.message ?? error)}`, { cause: error });
  }
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
export function createSharedMemory(options: MemoryOptions = {}): WasmMemory {
  const [initial, maximum] = memoryPages(options);
  return new WebAssembly.Memory({ initial, maximum, shared: true });
}

/** One thread's instance of the core over `memory`. */
export interface CoreInstance {
  exports: BrcExports;
  raw: WasmExports;
  memory: WasmMemory;
}

/**
 * The module's imports: the memory, and biasrc_wait, the one way it sleeps (assembly/host.ts says why it is not
 * wasm's own wait). Returns what memory.atomic.wait would: 0 woken, 1 not equal, 2 timed out.
 */
export function coreImports(memory: WasmMemory): WasmImports {
  let view = new Int32Array(memory.buffer);
  const biasrc_wait = (address: number, expected: number, timeoutMs: number): number => {
    if (view.buffer !== memory.buffer) view = new Int32Array(memory.buffer); // the memory grew
    const result = Atomics.wait(view, address >>> 2, expected, timeoutMs < 0 ? Infinity : timeoutMs);
    return result === 'ok' ? 0 : result === 'not-equal' ? 1 : 2;
  };
  return { env: { memory, biasrc_wait } };
}

export async function instantiateCore(module: WasmModule, memory: WasmMemory): Promise<CoreInstance> {
  let instance: WebAssembly.Instance;
  try {
    instance = await WebAssembly.instantiate(module as WebAssembly.Module, coreImports(memory) as WebAssembly.Imports);
  } catch (error) {
    if (!(error instanceof WebAssembly.LinkError)) throw error;
    // the usual cause: one `wasm` source for both builds, e.g. the threaded build on a page without COOP/COEP
    throw new BrcError('EINVAL', 'Heap.create: the wasm module does not fit this memory: the threaded build needs shared memory, ' +
      'the single-thread build a non-shared one. Name one location per build, Heap.create({ wasm: { threaded, single } }), ' +
      `or leave \`wasm\` out (${String(error.message)})`, { cause: error });
  }
  const raw = instance.exports;
  checkModule(raw, 'loading biasrc.wasm'); // ELAYOUT: a module of another build than src/generated/abi.ts describes
  return { exports: raw as unknown as BrcExports, raw, memory };
}
