/**
 * HeapThread: a worker that joined the heap. Node: worker_threads; browsers: module Web Workers.
 *
 * The worker gets the compiled Module and the shared Memory (Node: in workerData; browsers: in its first message),
 * instantiates the core and attaches (joinHeap in worker.ts), then reports its tid over a private MessageChannel,
 * so internal traffic never mixes with the user's messages. When the worker exits or is terminated, the heap
 * detaches its tid (unless the worker detached itself): its queue is drained, its objects and pages abandoned.
 */

import { BrcError, type BrcErrorCode } from './errors.js';
import { isNode } from './env.js';
import type { CycleOptions } from './collect.js';

/** What a worker needs to join a heap; sent by spawn, read by joinHeap. */
export interface HeapShare {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  debug: boolean;
  checked: boolean;
  cycles: CycleOptions;
}

/** The key under which a worker finds its heap in workerData / its first message. */
export const SHARE_KEY = '__biasrc_share__';

export interface SpawnOptions {
  /** Passed to the worker; joinHeap exposes it as heap.workerData. */
  workerData?: unknown;
  /** Node only: more worker_threads options (argv, env, resourceLimits, ...). */
  nodeOptions?: Record<string, unknown>;
  /** Browsers only: the worker's name. */
  name?: string;
}

export interface ShareMessage {
  share: HeapShare;
  port: MessagePort;
  workerData: unknown;
}

/** What the worker reports on the private port. */
export type JoinReport = { type: 'attached'; tid: number; generation: number } | { type: 'failed'; code: BrcErrorCode; message: string };

type Listener = (value: any) => void;

interface WorkerLike {
  postMessage(message: unknown, transfer?: any): void;
  terminate(): unknown;
}

export class HeapThread {
  readonly tid: number;
  readonly generation: number;
  /** Resolves with the exit code once the worker ended and the heap detached it. */
  readonly exited: Promise<number>;
  readonly #worker: WorkerLike;
  readonly #on: (event: string, fn: Listener) => void;
  readonly #off: (event: string, fn: Listener) => void;
  readonly #kill: () => Promise<number>;

  constructor(init: {
    tid: number; generation: number; worker: WorkerLike; exited: Promise<number>; kill: () => Promise<number>;
    on: (event: string, fn: Listener) => void; off: (event: string, fn: Listener) => void;
  }) {
    this.tid = init.tid;
    this.generation = init.generation;
    this.#worker = init.worker;
    this.exited = init.exited;
    this.#on = init.on;
    this.#off = init.off;
    this.#kill = init.kill;
  }

  postMessage(message: unknown, transfer?: Transferable[]): void {
    this.#worker.postMessage(message, transfer);
  }

  /** 'message' (with the data), 'error' (an uncaught error in the worker), 'exit' (Node: the exit code). */
  on(event: 'message' | 'error' | 'exit', fn: Listener): this {
    this.#on(event, fn);
    return this;
  }

  off(event: 'message' | 'error' | 'exit', fn: Listener): this {
    this.#off(event, fn);
    return this;
  }

  /** Stops the worker at once; resolves after the heap detached it. */
  async terminate(): Promise<void> {
    await this.#kill();
  }
}

function joinFailure(report: JoinReport | undefined, fallback: string): BrcError {
  if (report?.type === 'failed') return new BrcError(report.code, report.message);
  return new BrcError('EINVAL', fallback);
}

/** What the heap does around a thread's end: stop it at a safe point before terminating it, detach it after. */
export interface ThreadHooks {
  stop(tid: number, generation: number): Promise<void>;
  detach(tid: number, generation: number): void;
}

export async function spawnThread(url: URL | string, share: HeapShare, options: SpawnOptions, hooks: ThreadHooks): Promise<HeapThread> {
  return isNode ? spawnNode(url, share, options, hooks) : spawnBrowser(url, share, options, hooks);
}

async function spawnNode(url: URL | string, share: HeapShare, options: SpawnOptions, hooks: ThreadHooks): Promise<HeapThread> {
  const { Worker, MessageChannel } = await import('node:worker_threads');
  const { port1, port2 } = new MessageChannel();
  const message = { share, port: port2, workerData: options.workerData };
  const worker = new Worker(url, {
    ...options.nodeOptions,
    workerData: { [SHARE_KEY]: message },
    transferList: [port2 as unknown as Transferable] as never,
  });
  const report = await new Promise<JoinReport | undefined>((resolve, reject) => {
    port1.once('message', (m: JoinReport) => resolve(m));
    worker.once('error', reject);
    worker.once('exit', () => resolve(undefined));
  });
  port1.close();
  if (report?.type !== 'attached') {
    await worker.terminate();
    throw joinFailure(report, `spawn(${String(url)}): the worker ended before it joined the heap (does it call joinHeap()?)`);
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
    on: (event, fn) => { worker.on(event, fn); },
    off: (event, fn) => { worker.off(event, fn); },
  });
}

async function spawnBrowser(url: URL | string, share: HeapShare, options: SpawnOptions, hooks: ThreadHooks): Promise<HeapThread> {
  const worker = new Worker(url, { type: 'module', name: options.name });
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
    throw joinFailure(report, `spawn(${String(url)}): the worker failed before it joined the heap (does it call joinHeap()?)`);
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
      const listener: EventListener = event === 'message' ? (e) => fn((e as MessageEvent).data) : (e) => fn(e);
      wrapped.set(fn, listener);
      worker.addEventListener(event === 'exit' ? 'biasrc-exit' : event, listener);
    },
    off: (event, fn) => {
      const listener = wrapped.get(fn);
      if (listener) worker.removeEventListener(event, listener);
    },
  });
}
