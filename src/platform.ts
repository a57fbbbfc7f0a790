/**
 * What differs between Node and browsers, registered by the entry points (package.json `exports` picks one per
 * environment), so that a browser's module graph has no `node:` import and Node's no DOM code:
 *
 *   dist/index.js          Node, 'biasrc'            node threads + the wasm files read from disk
 *   dist/worker.js         Node, 'biasrc/worker'     node threads
 *   dist/index.browser.js  browsers, 'biasrc'        browser threads + the wasm inline (dist/inline/*.js)
 *   dist/worker.browser.js browsers, 'biasrc/worker' browser threads (no wasm: a worker gets the compiled module)
 *
 * Registration is a side effect of those four files; package.json lists them in `sideEffects`.
 */

import { BrcError } from './errors.js';
import type { WasmModule, WorkerSource } from './host.js';
import type { BuildName } from './locate.js';
import type { HeapShare, Lifeline, ShareMessage, SpawnOptions, ThreadControl } from './thread.js';

/** A worker the platform started, before it joined: what lifecycle.ts watches. */
export interface StartedWorker extends ThreadControl {
  /** Calls `fn` for each message, uncaught error, start (Node's 'online') and exit of the worker; returns an unsubscribe. */
  listen(event: 'message' | 'error' | 'online' | 'exit', fn: (value: unknown) => void): () => void;
  /** Whether the platform tells that the worker started running, and that it exited (Node does, browsers do not). */
  readonly reportsStart: boolean;
  readonly reportsExit: boolean;
}

/** Notices workers that end without detaching, from a thread of its own, even while the spawner is blocked. */
export interface Watchdog {
  /** A lifeline for a worker about to be started (goes to the worker in its share message). */
  lifeline(): { lifeline: Lifeline; transfer: readonly object[]; watch(tid: number, generation: number): void };
  close(): void;
}

export interface ThreadPlatform {
  /** Creates (or takes) the worker and sends it the share message. */
  start(worker: WorkerSource, message: ShareMessage, transfer: readonly object[], options: SpawnOptions): StartedWorker;
  /** In a worker: the share that spawn sent. */
  receiveShare(): Promise<ShareMessage>;
  /** In a worker that joined: keeps the lifeline the watchdog watches, and calls `fn` when the thread ends normally. */
  holdLifeline(lifeline: Lifeline): Promise<void>;
  onThreadEnd(fn: () => void): void;
  /** A watchdog for the heap: `dead(tid, generation)` is called (in the spawning thread) after it detached one. */
  watchdog(share: HeapShare, dead: (tid: number, generation: number) => void): Watchdog;
}

export interface WasmPlatform {
  /** The package's own copy of a build. */
  compileDefault(build: BuildName): Promise<WasmModule>;
  /** A URL or path given by the app (relative: to the page in browsers, to the working directory in Node). */
  compileUrl(url: URL | string, build: BuildName): Promise<WasmModule>;
  /** The URL of the package's own copy, where there is one (Node: a file: URL). */
  defaultUrl(build: BuildName): URL | undefined;
}

let threads: ThreadPlatform | undefined;
let wasm: WasmPlatform | undefined;

export function registerThreads(platform: ThreadPlatform): void {
  threads ??= platform;
}

export function registerWasm(platform: WasmPlatform): void {
  wasm ??= platform;
}

const ENTRY_HINT = "import it from 'biasrc' (or 'biasrc/worker' in workers), the package's entry points, not from a file inside dist/";

export function threadPlatform(what: string): ThreadPlatform {
  if (!threads) throw new BrcError('EINVAL', `${what}: no thread support was loaded: ${ENTRY_HINT}`);
  return threads;
}

export function wasmPlatform(what: string): WasmPlatform {
  if (!wasm) {
    throw new BrcError('EINVAL', `${what}: the wasm loader is not part of this bundle: create the heap with Heap.create from 'biasrc' ` +
      "(a worker that only imports 'biasrc/worker' joins a heap, it does not create one), or pass a compiled module as `wasm`");
  }
  return wasm;
}

/**
 * The watchdog thread's code, the same on both platforms apart from how it learns of a death: it runs its own
 * instance of the core (no tid: it only detaches dead threads, brc_thread_detach_dead with the generation, which
 * never takes a new holder of the tid), and tells the spawning thread. Plain JavaScript, started from a string (Node:
 * eval; browsers: a Blob URL), so that no bundler has to find a file for it.
 */
export const WATCHDOG_CORE = `
let core, memory, view;
function biasrc_wait(address, expected, timeoutMs) {
  if (view.buffer !== memory.buffer) view = new Int32Array(memory.buffer);
  const r = Atomics.wait(view, address >>> 2, expected, timeoutMs < 0 ? Infinity : timeoutMs);
  return r === 'ok' ? 0 : r === 'not-equal' ? 1 : 2;
}
function start(share) {
  memory = share.memory;
  view = new Int32Array(memory.buffer);
  core = new WebAssembly.Instance(share.module, { env: { memory, biasrc_wait } }).exports;
  core.brc_attach_memory();
}
function dead(tid, generation) {
  return core.brc_thread_detach_dead(tid, generation) === 0;
}
`;
