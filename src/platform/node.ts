/**
 * Node: threads are worker_threads; the wasm builds are read from the package's build/ folder.
 *
 * spawn accepts a URL (spawn creates the worker and hands it the heap in workerData) or the app's own
 * `new Worker(...)` / a function returning one (the heap goes in the worker's first message, which joinHeap reads).
 *
 * Lifeline: each worker keeps one end of a MessageChannel it never uses; the watchdog (a worker of its own) holds
 * the other end, and Node closes it when the worker's thread ends, however it ends. The watchdog then detaches the
 * dead thread, even while the thread that spawned it is blocked (say, waiting for a lock the dead one held).
 */

import { readFile } from 'node:fs/promises';
import { MessageChannel, Worker, workerData as nodeWorkerData, parentPort, type Transferable } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';
import { BrcError } from '../errors.js';
import type { WasmModule, WorkerSource } from '../host.js';
import { BUILD_FILES, fetchModule, loadError, type BuildName } from '../locate.js';
import { WATCHDOG_CORE, type StartedWorker, type ThreadPlatform, type WasmPlatform, type Watchdog } from '../platform.js';
import { SHARE_KEY, type HeapShare, type Lifeline, type ShareMessage, type SpawnOptions } from '../thread.js';

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

function createWorker(source: WorkerSource, message: ShareMessage, transfer: readonly object[], options: SpawnOptions): NodeWorker {
  const transferList = transfer as unknown as Transferable[];
  if (typeof source === 'string' || source instanceof URL) {
    // spawn creates it: the heap travels in workerData, available before the worker's code runs
    try {
      return new Worker(source, { ...options.nodeOptions, workerData: { [SHARE_KEY]: message }, transferList });
    } catch (error) {
      // e.g. a path that is neither absolute nor ./-relative, or bad nodeOptions: Node's own TypeError
      throw new BrcError('EINVAL', `spawn(${String(source)}): cannot start the worker: ${String((error as Error)?.message ?? error)}`, { cause: error });
    }
  }
  const worker = typeof source === 'function' ? source() : source;
  if (!(worker instanceof Worker)) {
    throw new BrcError('EINVAL', `spawn: expected a worker_threads Worker (or a function returning one), a URL or a path, not ${Object.prototype.toString.call(worker)}`);
  }
  worker.postMessage({ [SHARE_KEY]: message }, transferList);
  return worker;
}

function start(source: WorkerSource, message: ShareMessage, transfer: readonly object[], options: SpawnOptions): StartedWorker {
  const worker = createWorker(source, message, transfer, options);
  return {
    reportsStart: true,
    reportsExit: true,
    postMessage: (m, t) => worker.postMessage(m, t as unknown as Transferable[]),
    terminate: async () => { await worker.terminate(); },
    listen(event, fn) {
      worker.on(event, fn);
      return () => { worker.off(event, fn); };
    },
  };
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

/** The lifeline port closes with this thread: nothing to do but keep it from holding the event loop open. */
async function holdLifeline(lifeline: Lifeline): Promise<void> {
  if (lifeline.kind === 'port') (lifeline.port as { unref?(): void }).unref?.();
}

const WATCHDOG_NODE = `${WATCHDOG_CORE}
const { parentPort, workerData } = require('node:worker_threads');
start(workerData);
parentPort.on('message', ({ port, tid, generation }) => {
  port.on('close', () => { if (dead(tid, generation)) parentPort.postMessage({ tid, generation }); });
});
`;

function watchdog(share: HeapShare, dead: (tid: number, generation: number) => void): Watchdog {
  const thread = new Worker(WATCHDOG_NODE, { eval: true, workerData: { module: share.module, memory: share.memory } });
  thread.unref(); // it never keeps the process alive
  thread.on('message', ({ tid, generation }: { tid: number; generation: number }) => dead(tid, generation));
  return {
    lifeline() {
      const { port1, port2 } = new MessageChannel();
      return {
        lifeline: { kind: 'port', port: port2 },
        transfer: [port2],
        watch: (tid, generation) => thread.postMessage({ port: port1, tid, generation }, [port1 as unknown as Transferable]),
      };
    },
    close: () => { void thread.terminate(); },
  };
}

export const nodeThreads: ThreadPlatform = {
  start,
  receiveShare,
  holdLifeline,
  onThreadEnd: (fn) => { process.once('exit', fn); },
  watchdog,
};
