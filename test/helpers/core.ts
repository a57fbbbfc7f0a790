// Test helpers for the raw ABI: a fresh heap in this thread, and worker threads started on a barrier.
import { Worker } from 'node:worker_threads';
import { compileCore, createSharedMemory, errorName, instantiateCore, type CoreInstance } from '../../dist/index.js';

export interface TestHeap {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  core: CoreInstance;
  tid: number;
}

const modules = new Map<boolean, Promise<WebAssembly.Module>>();

export function coreModule(debug: boolean): Promise<WebAssembly.Module> {
  let m = modules.get(debug);
  if (!m) modules.set(debug, (m = compileCore({ debug })));
  return m;
}

/** A fresh heap in a new memory, with this thread attached. */
export async function freshHeap(options: { debug?: boolean; maxThreads?: number; initialMiB?: number; maximumMiB?: number } = {}): Promise<TestHeap> {
  const module = await coreModule(options.debug ?? true);
  const maximumMiB = options.maximumMiB ?? 256;
  const memory = createSharedMemory({ initialMiB: options.initialMiB ?? 1, maximumMiB });
  const core = await instantiateCore(module, memory);
  const rc = core.exports.brc_init(options.maxThreads ?? 64, (maximumMiB * 1024 * 1024) / 65536);
  if (rc !== 0) throw new Error(`brc_init failed: ${rc}`);
  const tid = core.exports.brc_thread_attach();
  if (tid === 0) throw new Error(`attach failed: ${core.exports.brc_last_error()}`);
  return { module, memory, core, tid };
}

export function stat(core: CoreInstance, name: string): number {
  return core.exports.brc_stat(Number((core.raw[name] as WebAssembly.Global).value));
}

/** verify() result with the error name, for readable assertion failures. */
export function verify(core: CoreInstance): string {
  const rc = core.exports.brc_verify();
  if (rc === 0) return 'ok';
  return `${errorName(rc)} at 0x${core.exports.brc_last_error_address().toString(16)}`;
}

export interface WorkerRun<T> {
  results: T[];
  exitCodes: number[];
}

/**
 * Starts `count` workers running test/workers/<script>.mjs with the heap's module and memory and a shared barrier,
 * and collects the one result message each posts. A worker error rejects with the worker's message.
 */
export async function runWorkers<T = unknown>(heap: TestHeap, script: string, count: number, data: Record<string, unknown> = {}): Promise<WorkerRun<T>> {
  const barrier = new Int32Array(new SharedArrayBuffer(8));
  const url = new URL(`../workers/${script}.mjs`, import.meta.url);
  const workers = Array.from({ length: count }, (_, index) => new Worker(url, {
    workerData: { module: heap.module, memory: heap.memory, barrier, index, count, ...data },
  }));
  const results: T[] = new Array(count);
  const exitCodes: number[] = new Array(count);
  await Promise.all(workers.map((worker, index) => new Promise<void>((resolve, reject) => {
    worker.on('message', (message) => { results[index] = message as T; });
    worker.on('error', reject);
    worker.on('exit', (code) => { exitCodes[index] = code; resolve(); });
  })));
  return { results, exitCodes };
}
