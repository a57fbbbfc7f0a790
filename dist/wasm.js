/**
 * Loading the core: compile biasrc.wasm once, create the one shared memory, instantiate the module in each thread.
 *
 * There is deliberately no @assemblyscript/loader here: it is deprecated upstream and exists to marshal managed
 * objects (strings, arrays), which a module shared by threads cannot have (see README). The exports are plain
 * numbers in and out, so WebAssembly.instantiate with `{ env: { memory } }` is all it takes.
 */
import { readLayout } from './layout.js';
import { ErrorTable } from './errors.js';
const isNode = typeof process !== 'undefined' && process.versions?.node !== undefined;
export function defaultWasmUrl(debug, shared = true) {
    const file = shared ? (debug ? 'biasrc.debug.wasm' : 'biasrc.wasm') : (debug ? 'biasrc.single.debug.wasm' : 'biasrc.single.wasm');
    return new URL(`../build/${file}`, import.meta.url);
}
/** Compiles the core: read from disk in Node, compileStreaming in browsers. Compile once, share the Module. */
export async function compileCore(options = {}) {
    const source = options.wasm ?? defaultWasmUrl(options.debug ?? false);
    if (source instanceof WebAssembly.Module)
        return source;
    if (typeof source !== 'string' && !(source instanceof URL))
        return WebAssembly.compile(source);
    const url = source instanceof URL ? source : new URL(source, isNode ? `file://${process.cwd()}/` : location.href);
    if (isNode && url.protocol === 'file:') {
        const { readFile } = await import('node:fs/promises');
        return WebAssembly.compile(await readFile(url));
    }
    return WebAssembly.compileStreaming(fetch(url));
}
export const WASM_PAGE = 65536;
/** The shared memory every thread's instance imports. */
export function createSharedMemory(options = {}) {
    const initial = Math.max(1, Math.ceil(((options.initialMiB ?? 16) * 1024 * 1024) / WASM_PAGE));
    const maximum = Math.ceil(((options.maximumMiB ?? 1024) * 1024 * 1024) / WASM_PAGE);
    return new WebAssembly.Memory({ initial: Math.min(initial, maximum), maximum, shared: true });
}
export async function instantiateCore(module, memory) {
    const instance = await WebAssembly.instantiate(module, { env: { memory } });
    const raw = instance.exports;
    return { exports: raw, raw, memory, layout: readLayout(raw), errors: new ErrorTable(raw) };
}
//# sourceMappingURL=wasm.js.map