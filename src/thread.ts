/**
 * HeapThread: a worker that joined the heap. Node: worker_threads; browsers: module Web Workers.
 *
 * The worker gets the compiled Module and the shared Memory (in its first message; in Node, when spawn created the
 * worker from a URL, in workerData), instantiates the core and attaches (joinHeap in join.ts), then reports its tid
 * over a private MessageChannel, so internal traffic never mixes with the user's messages. Creating workers is per
 * platform (platform/node.ts, platform/browser.ts, registered by the entry points). When the worker exits or is
 * terminated, the heap detaches its tid (unless the worker detached itself): its queue is drained, its objects and
 * pages abandoned.
 */

import { BrcError, type BrcErrorCode } from './errors.js';
import type { WorkerLike, WorkerSource } from './host.js';
import type { HeapShare } from './heap.js';
import { threadPlatform } from './platform.js';

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
  /** A MessagePort (browsers) or worker_threads.MessagePort (Node): the private channel for the join report. */
  port: { postMessage(message: unknown): void };
  workerData: unknown;
}

/** What the worker reports on the private port. */
export type JoinReport = { type: 'attached'; tid: number; generation: number } | { type: 'failed'; code: BrcErrorCode; message: string };

/** A listener as the platform registers it: 'message' gets the data, 'error' the error, 'exit' the exit code. */
export type Listener = (value: never) => void;

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

  /** Sends a message to the worker; `transfer` lists what to move rather than copy (ArrayBuffers, MessagePorts...). */
  postMessage(message: unknown, transfer: readonly object[] = []): void {
    this.#worker.postMessage(message, transfer as never);
  }

  /**
   * 'message': the data the worker posted (`T` is whatever you declare it to be: nothing checks it);
   * 'error': an uncaught error in the worker; 'exit' (Node): the exit code.
   */
  on<T = unknown>(event: 'message', fn: (data: T) => void): this;
  on(event: 'error', fn: (error: unknown) => void): this;
  on(event: 'exit', fn: (code: number) => void): this;
  on(event: 'message' | 'error' | 'exit', fn: (value: never) => void): this {
    this.#on(event, fn);
    return this;
  }

  off<T = unknown>(event: 'message', fn: (data: T) => void): this;
  off(event: 'error', fn: (error: unknown) => void): this;
  off(event: 'exit', fn: (code: number) => void): this;
  off(event: 'message' | 'error' | 'exit', fn: (value: never) => void): this {
    this.#off(event, fn);
    return this;
  }

  /** Stops the worker at once; resolves after the heap detached it. */
  async terminate(): Promise<void> {
    await this.#kill();
  }
}

export function joinFailure(report: JoinReport | undefined, fallback: string): BrcError {
  if (report?.type === 'failed') return new BrcError(report.code, report.message);
  return new BrcError('EINVAL', fallback);
}

/** What the heap does around a thread's end: stop it at a safe point before terminating it, detach it after. */
export interface ThreadHooks {
  stop(tid: number, generation: number): Promise<void>;
  detach(tid: number, generation: number): void;
}

/** What spawn started: a URL (spawn creates the worker) or the app's own Worker (given, or made by a function). */
export function describeWorker(worker: WorkerSource): string {
  if (typeof worker === 'string' || worker instanceof URL) return String(worker);
  return typeof worker === 'function' ? 'the worker made by the function given' : 'the Worker given';
}

/** The hint for a worker that ended before it joined: the usual causes, per kind of source. */
export function joinHint(worker: WorkerSource): string {
  const url = typeof worker === 'string' || worker instanceof URL ? String(worker) : '';
  if (url.startsWith('data:')) {
    return 'a data: URL usually means a bundler inlined the script as a file without bundling it: pass ' +
      "() => new Worker(new URL('./worker.js', import.meta.url), { type: 'module' }) so that the bundler bundles it";
  }
  return "does the script load (the browser's console shows a 404 or a syntax error), and does it call joinHeap() from 'biasrc/worker'?";
}

export async function spawnThread(worker: WorkerSource, share: HeapShare, options: SpawnOptions, hooks: ThreadHooks): Promise<HeapThread> {
  return threadPlatform('spawn').spawn(worker, share, options, hooks);
}
