/**
 * Node: threads are worker_threads; the wasm builds are read from the package's build/ folder.
 *
 * spawn accepts a URL (spawn creates the worker and hands it the heap in workerData) or the app's own
 * `new Worker(...)` / a function returning one (the heap goes in the worker's first message, which joinHeap reads).
 */

import { readFile } from 'node:fs/promises';
import { MessageChannel, Worker, workerData as nodeWorkerData, parentPort, type Transferable } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';
import { BrcError } from '../errors.js';
import type { WasmModule, WorkerSource } from '../host.js';
import { BUILD_FILES, fetchModule, loadError, type BuildName } from '../locate.js';
import type { HeapShare } from '../heap.js';
import type { ThreadPlatform, WasmPlatform } from '../platform.js';
import {
  HeapThread, SHARE_KEY, describeWorker, joinFailure, joinHint, type JoinReport, type Listener, type ShareMessage,
  type SpawnOptions, type ThreadHooks,
} from '../thread.js';

// literal URLs: the files next to the package (dist/platform/node.js -> build/)
const FILE_URLS: Record<BuildName, URL> = {
  threaded: new URL('../../build/biasrc.wasm', import.meta.url),
  single: new URL('../../build/biasrc.single.wasm', import.meta.url),
  debug: new URL('../../build/biasrc.debug.wasm', import.meta.url),
  singleDebug: new URL('../../build/biasrc.single.debug.wasm', import.meta.url),
};

async function compileFile(url: URL, build: BuildName): Promise<WasmModule> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(url);
  } catch (error) {
    const code = (error as { code?: string }).code ?? String(error);
    throw loadError(build, url.href, code, error);
  }
  try {
    return await WebAssembly.compile(bytes as Uint8Array<ArrayBuffer>);
  } catch (error) {
    throw loadError(build, url.href, `not a wasm module: ${String((error as Error)?.message ?? error)}`, error);
  }
}

export const nodeWasm: WasmPlatform = {
  compileDefault: (build) => compileFile(FILE_URLS[build], build),
  compileUrl(source, build) {
    const url = source instanceof URL ? source : new URL(source, pathToFileURL(`${process.cwd()}/`));
    if (url.protocol === 'file:') return compileFile(url, build);
    if (url.protocol === 'http:' || url.protocol === 'https:' || url.protocol === 'data:') return fetchModule(url, build);
    throw new BrcError('EINVAL', `Heap.create: cannot load the ${build} wasm build from ${url.href}: Node reads file:, http:, https: and data: URLs (${BUILD_FILES[build]})`);
  },
  defaultUrl: (build) => FILE_URLS[build],
};

type NodeWorker = InstanceType<typeof Worker>;

function isNodeWorker(value: unknown): value is NodeWorker {
  return value instanceof Worker;
}

function createWorker(source: WorkerSource, message: ShareMessage, transfer: Transferable[], options: SpawnOptions): NodeWorker {
  if (typeof source === 'string' || source instanceof URL) {
    // spawn creates it: the heap travels in workerData, available before the worker's code runs
    return new Worker(source, { ...options.nodeOptions, workerData: { [SHARE_KEY]: message }, transferList: transfer });
  }
  const worker = typeof source === 'function' ? source() : source;
  if (!isNodeWorker(worker)) {
    throw new BrcError('EINVAL', `spawn: expected a worker_threads Worker (or a function returning one), a URL or a path, not ${Object.prototype.toString.call(worker)}`);
  }
  worker.postMessage({ [SHARE_KEY]: message }, transfer);
  return worker;
}

async function spawn(source: WorkerSource, share: HeapShare, options: SpawnOptions, hooks: ThreadHooks): Promise<HeapThread> {
  const { port1, port2 } = new MessageChannel();
  const message = { share, port: port2, workerData: options.workerData };
  const worker = createWorker(source, message, [port2], options);
  const report = await new Promise<JoinReport | undefined>((resolve, reject) => {
    port1.once('message', (m: JoinReport) => resolve(m));
    worker.once('error', reject);
    worker.once('exit', () => resolve(undefined));
  });
  port1.close();
  if (report?.type !== 'attached') {
    await worker.terminate();
    throw joinFailure(report, `spawn(${describeWorker(source)}): the worker ended before it joined the heap (${joinHint(source)})`);
  }
  let hasExited = false;
  const exited = new Promise<number>((resolve) => {
    worker.once('exit', (code: number) => {
      hasExited = true;
      hooks.detach(report.tid, report.generation);
      resolve(code);
    });
  });
  return new HeapThread({
    tid: report.tid, generation: report.generation, worker, exited,
    kill: async () => {
      if (!hasExited) await hooks.stop(report.tid, report.generation);
      await worker.terminate();
      return exited;
    },
    on: (event, fn: Listener) => { worker.on(event, fn as (value: unknown) => void); },
    off: (event, fn: Listener) => { worker.off(event, fn as (value: unknown) => void); },
  });
}

/** In the worker: the share is in workerData (spawn made the worker) or in its first message (the app made it). */
function receiveShare(): Promise<ShareMessage> {
  const given = (nodeWorkerData as Record<string, ShareMessage> | null)?.[SHARE_KEY];
  if (given) return Promise.resolve(given);
  if (!parentPort) return Promise.reject(new BrcError('EINVAL', 'joinHeap(): this is not a worker (call it in a worker started by heap.spawn())'));
  const port = parentPort;
  return new Promise((resolve) => {
    const onMessage = (data: unknown) => {
      const message = (data as Record<string, ShareMessage> | null)?.[SHARE_KEY];
      if (!message) return;
      port.off('message', onMessage);
      resolve(message);
    };
    port.on('message', onMessage);
  });
}

export const nodeThreads: ThreadPlatform = { spawn, receiveShare };
