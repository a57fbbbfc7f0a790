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
import type { HeapShare } from './heap.js';
import type { HeapThread, SpawnOptions, ShareMessage, ThreadHooks } from './thread.js';

export interface ThreadPlatform {
  spawn(worker: WorkerSource, share: HeapShare, options: SpawnOptions, hooks: ThreadHooks): Promise<HeapThread>;
  /** In a worker: the share that spawn sent. */
  receiveShare(): Promise<ShareMessage>;
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
