/**
 * Browsers: threads are module Web Workers; the heap travels in the worker's first message. No `node:` import.
 *
 * spawn accepts the app's own `new Worker(new URL('./worker.js', import.meta.url), { type: 'module' })`, or a
 * function returning one: that is the form Vite and webpack find and bundle (the worker's imports included), and a
 * function creates nothing when spawn fails early (no COOP/COEP). A URL works too, for unbundled pages.
 */

import { BrcError } from '../errors.js';
import type { WorkerSource } from '../host.js';
import type { HeapShare } from '../heap.js';
import { fetchModule } from '../locate.js';
import type { ThreadPlatform, WasmPlatform } from '../platform.js';
import {
  HeapThread, SHARE_KEY, describeWorker, joinFailure, joinHint, type JoinReport, type Listener, type ShareMessage,
  type SpawnOptions, type ThreadHooks,
} from '../thread.js';

function createWorker(source: WorkerSource, options: SpawnOptions): Worker {
  if (typeof source === 'string' || source instanceof URL) return new Worker(source, { type: 'module', name: options.name });
  const worker = typeof source === 'function' ? source() : source;
  if (typeof Worker === 'undefined' || !(worker instanceof Worker)) {
    throw new BrcError('EINVAL', `spawn: expected a Worker (or a function returning one), or the worker script's URL, not ${Object.prototype.toString.call(worker)}`);
  }
  return worker;
}

async function spawn(source: WorkerSource, share: HeapShare, options: SpawnOptions, hooks: ThreadHooks): Promise<HeapThread> {
  const worker = createWorker(source, options);
  const channel = new MessageChannel();
  const message: ShareMessage = { share, port: channel.port2, workerData: options.workerData };
  worker.postMessage({ [SHARE_KEY]: message }, [channel.port2]);
  const report = await new Promise<JoinReport | undefined>((resolve) => {
    channel.port1.onmessage = (event: MessageEvent<JoinReport>) => resolve(event.data);
    worker.addEventListener('error', () => resolve(undefined), { once: true });
  });
  channel.port1.close();
  if (report?.type !== 'attached') {
    worker.terminate();
    throw joinFailure(report, `spawn(${describeWorker(source)}): the worker failed before it joined the heap (${joinHint(source)})`);
  }
  let resolveExit!: (code: number) => void;
  const exited = new Promise<number>((resolve) => { resolveExit = resolve; });
  const wrapped = new Map<Listener, EventListener>();
  return new HeapThread({
    tid: report.tid, generation: report.generation, worker, exited,
    kill: async () => {
      await hooks.stop(report.tid, report.generation);
      worker.terminate(); // synchronous in browsers: the worker runs no more code
      hooks.detach(report.tid, report.generation);
      resolveExit(1);
      return exited;
    },
    on: (event, fn) => {
      const call = fn as (value: unknown) => void;
      const listener: EventListener = event === 'message' ? (e) => call((e as MessageEvent).data) : (e) => call(e);
      wrapped.set(fn, listener);
      worker.addEventListener(event === 'exit' ? 'biasrc-exit' : event, listener);
    },
    off: (event, fn) => {
      const listener = wrapped.get(fn);
      if (listener) worker.removeEventListener(event === 'exit' ? 'biasrc-exit' : event, listener);
    },
  });
}

/** In the worker: the first message carrying the share; it is not passed on to the worker's own listeners. */
function receiveShare(): Promise<ShareMessage> {
  return new Promise((resolve) => {
    const scope = globalThis as unknown as { addEventListener: typeof addEventListener; removeEventListener: typeof removeEventListener };
    const onMessage = (event: Event) => {
      const message = ((event as MessageEvent).data as Record<string, ShareMessage> | null)?.[SHARE_KEY];
      if (!message) return;
      scope.removeEventListener('message', onMessage);
      event.stopImmediatePropagation();
      resolve(message);
    };
    scope.addEventListener('message', onMessage);
  });
}

export const browserThreads: ThreadPlatform = { spawn, receiveShare };

/** URLs the app names (relative to the page); the package's own copies are inline (browser-wasm.ts). */
export function browserWasm(compileDefault: WasmPlatform['compileDefault']): WasmPlatform {
  return {
    compileDefault,
    compileUrl: (source, build) => fetchModule(source instanceof URL ? source : new URL(source, globalThis.location.href), build),
    defaultUrl: () => undefined,
  };
}
