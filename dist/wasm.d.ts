/**
 * Loading the core: compile biasrc.wasm once, create the one shared memory, instantiate the module in each thread.
 *
 * There is deliberately no @assemblyscript/loader here: it is deprecated upstream and exists to marshal managed
 * objects (strings, arrays), which a module shared by threads cannot have (see README). The exports are plain
 * numbers in and out, so WebAssembly.instantiate with `{ env: { memory } }` is all it takes.
 */
import { type Layout } from './layout.js';
import { ErrorTable } from './errors.js';
/** The raw ABI (docs/ABI.md). Handles and addresses are numbers; 0 is null. */
export interface BrcExports {
    brc_init(maxThreads: number, memoryMaxPages: number): number;
    brc_attach_memory(): number;
    brc_thread_attach(): number;
    brc_thread_detach(): number;
    brc_thread_detach_dead(tid: number): number;
    brc_thread_id(): number;
    brc_thread_state(tid: number): number;
    brc_thread_generation(tid: number): number;
    brc_set_can_block(canBlock: number): void;
    brc_queue_address(tid: number): number;
    brc_queue_pending(): number;
    brc_malloc(size: number): number;
    brc_free(block: number): void;
    brc_usable_size(block: number): number;
    brc_alloc(bytes: number, refs: number): number;
    brc_incref(obj: number): void;
    brc_decref(obj: number): void;
    brc_set_ref(obj: number, index: number, child: number): void;
    brc_get_ref(obj: number, index: number): number;
    brc_load_ref(obj: number, index: number): number;
    brc_lock(obj: number): void;
    brc_try_lock(obj: number): number;
    brc_unlock(obj: number): number;
    brc_immortalize(obj: number): void;
    brc_collect(): number;
    brc_validate(obj: number): number;
    brc_validate_slot(obj: number, index: number): number;
    brc_info_owner(obj: number): number;
    brc_info_local(obj: number): number;
    brc_info_shared(obj: number): number;
    brc_info_immortal(obj: number): number;
    brc_info_refs(obj: number): number;
    brc_info_bytes(obj: number): number;
    brc_info_lock(obj: number): number;
    brc_payload(obj: number): number;
    brc_verify(): number;
    brc_stat(which: number): number;
    brc_add_leaked(n: number): void;
    brc_last_error(): number;
    brc_last_error_address(): number;
    brc_is_debug(): number;
    brc_empty(): void;
    brc_debug_set_counts(obj: number, local: number, sharedCount: number): number;
    brc_header_size(): number;
}
export type WasmSource = URL | string | WebAssembly.Module | BufferSource;
export interface CompileOptions {
    /** The debug build: invariant checks on every operation. */
    debug?: boolean;
    /** Where to load the module from, or the module itself; defaults to the build shipped with the package. */
    wasm?: WasmSource;
}
export declare function defaultWasmUrl(debug: boolean, shared?: boolean): URL;
/** Compiles the core: read from disk in Node, compileStreaming in browsers. Compile once, share the Module. */
export declare function compileCore(options?: CompileOptions): Promise<WebAssembly.Module>;
export interface MemoryOptions {
    initialMiB?: number;
    maximumMiB?: number;
}
export declare const WASM_PAGE = 65536;
/** The shared memory every thread's instance imports. */
export declare function createSharedMemory(options?: MemoryOptions): WebAssembly.Memory;
/** One thread's instance of the core over `memory`, with the layout and error table read from it. */
export interface CoreInstance {
    exports: BrcExports;
    raw: WebAssembly.Exports;
    memory: WebAssembly.Memory;
    layout: Layout;
    errors: ErrorTable;
}
export declare function instantiateCore(module: WebAssembly.Module, memory: WebAssembly.Memory): Promise<CoreInstance>;
