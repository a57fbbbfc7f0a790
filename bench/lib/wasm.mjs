// Loading the benchmark modules, and a heap made with the loops module (which carries the whole core).
import { readFile } from 'node:fs/promises';
import { coreImports } from '../../dist/index.js';

export async function compileFile(path) {
  return WebAssembly.compile(await readFile(path));
}

/** A new shared memory with a biasrc heap laid out in it by the loops module; this instance is attached. */
export async function loopsHeap(module, { maxThreads = 64, initialPages = 64, maximumPages = 16384 } = {}) {
  const memory = new WebAssembly.Memory({ initial: initialPages, maximum: maximumPages, shared: true });
  const x = (await WebAssembly.instantiate(module, coreImports(memory))).exports;
  if (x.brc_init(maxThreads, maximumPages) !== 0) throw new Error(`brc_init failed: ${x.brc_last_error()}`);
  if (x.brc_thread_attach() === 0) throw new Error(`attach failed: ${x.brc_last_error()}`);
  return { memory, x };
}

/** Another instance over the same memory, attached as its own tid (a second "thread" in this JS thread). */
export async function attachLoops(module, memory) {
  const x = (await WebAssembly.instantiate(module, coreImports(memory))).exports;
  if (x.brc_thread_attach() === 0) throw new Error(`attach failed: ${x.brc_last_error()}`);
  return x;
}

/** A u32 view of the memory as it is now (memory.grow replaces the buffer). */
export const u32 = (memory) => new Uint32Array(memory.buffer);
