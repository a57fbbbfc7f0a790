/**
 * HeapThread: a worker that joined the heap. Node: worker_threads; browsers: module Web Workers.
 *
 * The worker gets the compiled Module and the shared Memory (in its first message; in Node, when spawn created the
 * worker from a URL, in workerData), instantiates the core and attaches (joinHeap in join.ts), then reports its tid
 * over a private MessageChannel, so internal traffic never mixes with the user's messages. Creating workers is per
 * platform (platform/node.ts, platform/browser.ts, registered by the entry points); a thread's life from spawn to
 * detach is lifecycle.ts.
 *
 * A HeapThread is an EventTarget (addEventListener: 'message' is a MessageEvent, 'error' an event with `error`,
 * 'exit' a CustomEvent whose `detail` is the exit code) with EventEmitter-style `on` / `once` / `off`, so that both
 * the DOM habits and Node's `events.once(thread, 'exit')` work. An 'error' that nobody listens for is thrown again,
 * as a Worker without an 'error' listener does in Node: it is not swallowed.
 */

import { BrcError, type BrcErrorCode } from './errors.js';
import type { WorkerSource } from './host.js';
import type { CycleOptions } from './collect.js';

/** The key under which a worker finds its heap in workerData / its first message. */
export const SHARE_KEY = '__biasrc_share__';

export interface SpawnOptions {
  /** Passed to the worker; joinHeap exposes it as heap.workerData. */
  workerData?: unknown;
  /** How long spawn waits for the worker to start and join the heap (default 30000 ms). */
  timeoutMs?: number;
  /** Node only: more worker_threads options (argv, env, resourceLimits, ...). */
  nodeOptions?: Record<string, unknown>;
  /** Browsers only: the worker's name. */
  name?: string;
}

export interface TerminateOptions {
  /** How long to wait for the thread to reach a safe point (default 10000 ms). */
  timeoutMs?: number;
  /** Terminate it even if it did not reach one (it may then die in the middle of an operation). */
  force?: boolean;
}

/** What a worker needs to join a heap; sent by spawn, read by joinHeap. */
export interface HeapShare {
  module: import('./host.js').WasmModule;
  memory: import('./host.js').WasmMemory;
  debug: boolean;
  checked: boolean;
  cycles: CycleOptions;
}

/** How the heap learns that a worker is gone even while the spawning thread is blocked (lifecycle.ts watchdog). */
export type Lifeline = { kind: 'port'; port: unknown } | { kind: 'lock'; name: string } | { kind: 'none' };

export interface ShareMessage {
  share: HeapShare;
  /** A MessagePort (browsers) or worker_threads.MessagePort (Node): the private channel for the join report. */
  port: { postMessage(message: unknown): void };
  workerData: unknown;
  lifeline: Lifeline;
  /**
   * The join handshake in shared memory, so that a spawn that gives up never leaves an attached thread behind:
   * [state, generation]. The worker claims it (0 -> JOIN_CLAIMED) before it attaches and stores its tid there
   * after (generation first); a spawn that times out cancels it (0 -> JOIN_CANCELLED), or, if the worker claimed
   * it first, waits for the tid and ends that thread as terminate() would (lifecycle.ts).
   */
  join: Int32Array;
}

export const JOIN_CANCELLED = -1;
export const JOIN_CLAIMED = -2;
export const JOIN_FAILED = -3;

/** What the worker reports on the private port. */
export type JoinReport = { type: 'attached'; tid: number; generation: number } | { type: 'failed'; code: BrcErrorCode; message: string };

type Listener = (value: never) => void;
type EventName = 'message' | 'error' | 'exit';

/** What a thread needs from its platform worker (platform/*.ts adapts worker_threads and Web Workers). */
export interface ThreadControl {
  postMessage(message: unknown, transfer: readonly object[]): void;
  /** Ends the worker at once, then resolves (the heap detaches it after). */
  terminate(): Promise<void>;
}

export class HeapThread extends EventTarget {
  readonly tid: number;
  readonly generation: number;
  /** Resolves with the exit code once the worker ended and the heap detached it. */
  readonly exited: Promise<number>;
  readonly #control: ThreadControl;
  readonly #kill: (options: TerminateOptions) => Promise<void>;
  readonly #listeners = new Map<EventName, { fn: Listener; once: boolean }[]>();
  #domErrorListeners = 0;
  #resolveExit!: (code: number) => void;
  #ended = false;

  constructor(init: { tid: number; generation: number; control: ThreadControl; kill: (options: TerminateOptions) => Promise<void> }) {
    super();
    this.tid = init.tid;
    this.generation = init.generation;
    this.#control = init.control;
    this.#kill = init.kill;
    this.exited = new Promise((resolve) => { this.#resolveExit = resolve; });
  }

  /** Sends a message to the worker; `transfer` lists what to move rather than copy (ArrayBuffers, MessagePorts...). */
  postMessage(message: unknown, transfer: readonly object[] = []): void {
    this.#control.postMessage(message, transfer);
  }

  /**
   * 'message': the data the worker posted (`T` is whatever you declare it to be: nothing checks it);
   * 'error': an uncaught error in the worker; 'exit': the exit code, once the heap detached the thread.
   */
  on<T = unknown>(event: 'message', fn: (data: T) => void): this;
  on(event: 'error', fn: (error: unknown) => void): this;
  on(event: 'exit', fn: (code: number) => void): this;
  on(event: EventName, fn: Listener): this {
    return this.#add(event, fn, false);
  }

  once<T = unknown>(event: 'message', fn: (data: T) => void): this;
  once(event: 'error', fn: (error: unknown) => void): this;
  once(event: 'exit', fn: (code: number) => void): this;
  once(event: EventName, fn: Listener): this {
    return this.#add(event, fn, true);
  }

  off<T = unknown>(event: 'message', fn: (data: T) => void): this;
  off(event: 'error', fn: (error: unknown) => void): this;
  off(event: 'exit', fn: (code: number) => void): this;
  off(event: EventName, fn: Listener): this {
    const list = this.#listeners.get(event);
    const at = list?.findIndex((l) => l.fn === fn) ?? -1;
    if (at >= 0) list!.splice(at, 1);
    return this;
  }

  /** Node's EventEmitter name for `off` (events.once uses it). */
  removeListener(event: EventName, fn: Listener): this {
    return this.off(event as 'exit', fn as (code: number) => void);
  }

  listenerCount(event: EventName): number {
    return (this.#listeners.get(event)?.length ?? 0) + (event === 'error' ? this.#domErrorListeners : 0);
  }

  // (parameter types taken from EventTarget itself: they compile with the DOM lib and with Node's types alike)
  override addEventListener(...args: Parameters<EventTarget['addEventListener']>): void {
    if (args[0] === 'error' && args[1]) this.#domErrorListeners++;
    super.addEventListener(...args);
  }

  override removeEventListener(...args: Parameters<EventTarget['removeEventListener']>): void {
    if (args[0] === 'error' && args[1]) this.#domErrorListeners = Math.max(0, this.#domErrorListeners - 1);
    super.removeEventListener(...args);
  }

  /**
   * Ends the worker: it is first asked to stop at a safe point (so it never dies inside an operation), then
   * terminated and detached. If it does not reach one within `timeoutMs`, this throws ETIMEDOUT, withdraws the stop
   * request and leaves it running as before (a later terminate() asks again), unless `force` is given.
   */
  async terminate(options: TerminateOptions = {}): Promise<void> {
    if (this.#ended) return;
    await this.#kill(options);
  }

  // ---- for lifecycle.ts --------------------------------------------------------------------------------------------

  /** Delivers an event to both kinds of listeners; an 'error' with none is thrown again. */
  emit(event: EventName, value: unknown): void {
    if (event === 'error' && this.listenerCount('error') === 0) {
      queueMicrotask(() => { throw value; }); // as Node does for a Worker without an 'error' listener
      return;
    }
    const list = this.#listeners.get(event) ?? [];
    for (const l of [...list]) {
      if (l.once) this.off(event as 'exit', l.fn as (code: number) => void);
      (l.fn as (value: unknown) => void)(value);
    }
    this.dispatchEvent(domEvent(event, value));
  }

  /** The thread ended and was detached: 'exit' fires once, and `exited` resolves. */
  ended(code: number): void {
    if (this.#ended) return;
    this.#ended = true;
    this.emit('exit', code);
    this.#resolveExit(code);
  }

  get hasEnded(): boolean {
    return this.#ended;
  }

  #add(event: EventName, fn: Listener, once: boolean): this {
    let list = this.#listeners.get(event);
    if (!list) this.#listeners.set(event, (list = []));
    list.push({ fn, once });
    return this;
  }
}

function domEvent(event: EventName, value: unknown): Event {
  if (event === 'message') return new MessageEvent('message', { data: value });
  if (event === 'exit') return new CustomEvent('exit', { detail: value });
  const e = new Event('error');
  Object.defineProperty(e, 'error', { value });
  Object.defineProperty(e, 'message', { value: String((value as Error | undefined)?.message ?? value) });
  return e;
}

export function joinFailure(report: JoinReport | undefined, fallback: string): BrcError {
  if (report?.type === 'failed') return new BrcError(report.code, report.message);
  return new BrcError('EINVAL', fallback);
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
  return "does the script load (a wrong URL, a missing file and a syntax error all stop it), and does it call joinHeap() from 'biasrc/worker'?";
}
