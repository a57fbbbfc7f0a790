/**
 * Browsers: threads are module Web Workers; the heap travels in the worker's first message. No `node:` import.
 *
 * spawn accepts the app's own `new Worker(new URL('./worker.js', import.meta.url), { type: 'module' })`, or a
 * function returning one: that is the form Vite and webpack find and bundle (the worker's imports included), and a
 * function creates nothing when spawn fails early (no COOP/COEP). A URL works too, for unbundled pages.
 *
 * Lifeline: each worker holds a Web Lock (navigator.locks) named for its tid and generation for as long as it lives;
 * the watchdog (a worker of its own, from a Blob URL) asks for the same lock, which it gets when the worker ends
 * however it ends (self.close(), terminate(), a crash), and detaches it. Without Web Locks, or where a Blob worker is
 * refused (a strict Content-Security-Policy), the spawning thread asks for the locks itself.
 */

import { BrcError } from '../errors.js';
import type { WorkerSource } from '../host.js';
import { fetchModule } from '../locate.js';
import { WATCHDOG_CORE, type StartedWorker, type ThreadPlatform, type WasmPlatform, type Watchdog } from '../platform.js';
import { SHARE_KEY, type HeapShare, type Lifeline, type ShareMessage, type SpawnOptions } from '../thread.js';

function createWorker(source: WorkerSource, options: SpawnOptions): Worker {
  if (typeof source === 'string' || source instanceof URL) return new Worker(source, { type: 'module', name: options.name });
  const worker = typeof source === 'function' ? source() : source;
  if (typeof Worker === 'undefined' || !(worker instanceof Worker)) {
    throw new BrcError('EINVAL', `spawn: expected a Worker (or a function returning one), or the worker script's URL, not ${Object.prototype.toString.call(worker)}`);
  }
  return worker;
}

function start(source: WorkerSource, message: ShareMessage, transfer: readonly object[], options: SpawnOptions): StartedWorker {
  const worker = createWorker(source, options);
  worker.postMessage({ [SHARE_KEY]: message }, transfer as Transferable[]);
  return {
    reportsStart: false,
    reportsExit: false,
    postMessage: (m, t) => worker.postMessage(m, t as Transferable[]),
    terminate: async () => { worker.terminate(); }, // synchronous: the worker runs no more code
    listen(event, fn) {
      if (event === 'online' || event === 'exit') return () => {}; // browsers tell neither (the lifeline tells the end)
      const listener = event === 'message' ? (e: Event) => fn((e as MessageEvent).data) : (e: Event) => fn((e as ErrorEvent).error ?? e);
      worker.addEventListener(event, listener);
      return () => worker.removeEventListener(event, listener);
    },
  };
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

interface LockManager {
  request(name: string, callback: () => Promise<unknown> | unknown): Promise<unknown>;
}

function locks(): LockManager | undefined {
  return (globalThis as { navigator?: { locks?: LockManager } }).navigator?.locks;
}

/** Takes the lifeline lock and keeps it until this worker ends; resolves once it is held. */
function holdLifeline(lifeline: Lifeline): Promise<void> {
  const manager = locks();
  if (lifeline.kind !== 'lock' || !manager) return Promise.resolve();
  return new Promise((held) => {
    void manager.request(lifeline.name, () => {
      held();
      return new Promise(() => {}); // released when this worker's global scope goes away
    });
  });
}

/** self.close() ends the worker with no event: detach first (a normal end leaves no orphans). */
function onThreadEnd(fn: () => void): void {
  const scope = globalThis as unknown as { close?: () => void };
  const close = scope.close;
  if (typeof close !== 'function') return;
  scope.close = () => {
    fn();
    close.call(globalThis);
  };
}

const WATCHDOG_BROWSER = `${WATCHDOG_CORE}
self.onmessage = ({ data }) => {
  if (data.share) return start(data.share);
  navigator.locks.request(data.name, () => {
    // tell the spawner whether we detached it or it had detached itself (self.close()): browsers give no 'exit'
    dead(data.tid, data.generation);
    postMessage({ tid: data.tid, generation: data.generation });
  });
};
`;

let lifelines = 0;

function watchdog(share: HeapShare, dead: (tid: number, generation: number) => void): Watchdog {
  const manager = locks();
  const prefix = `biasrc:${Math.random().toString(36).slice(2)}:`;
  let thread: Worker | undefined;
  if (manager) {
    try {
      thread = new Worker(URL.createObjectURL(new Blob([WATCHDOG_BROWSER], { type: 'text/javascript' })));
      thread.postMessage({ share: { module: share.module, memory: share.memory } });
      thread.onmessage = ({ data }: MessageEvent<{ tid: number; generation: number }>) => dead(data.tid, data.generation);
    } catch {
      thread = undefined; // a Content-Security-Policy without blob: workers: watch from this thread instead
    }
  }
  return {
    lifeline() {
      if (!manager) return { lifeline: { kind: 'none' }, transfer: [], watch: () => {} };
      const name = `${prefix}${++lifelines}`;
      return {
        lifeline: { kind: 'lock', name },
        transfer: [],
        watch(tid, generation) {
          if (thread) thread.postMessage({ name, tid, generation });
          else void manager.request(name, () => dead(tid, generation)); // the spawner detaches (lifecycle.ts)
        },
      };
    },
    close: () => thread?.terminate(),
  };
}

export const browserThreads: ThreadPlatform = { start, receiveShare, holdLifeline, onThreadEnd, watchdog };

/** URLs the app names (relative to the page); the package's own copies are inline (browser-wasm.ts). */
export function browserWasm(compileDefault: WasmPlatform['compileDefault']): WasmPlatform {
  return {
    compileDefault,
    compileUrl: (source, build) => fetchModule(source instanceof URL ? source : new URL(source, globalThis.location.href), build),
    defaultUrl: () => undefined,
  };
}
