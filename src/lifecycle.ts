/**
 * The threads a heap spawned, from start to end:
 *
 *   spawn      the platform starts the worker (platform/*.ts) and sends it the heap; the worker joins (join.ts) and
 *              reports its tid. Bounded by a timeout that says what did not happen (never started, or started but
 *              never called joinHeap). A worker's errors reach the HeapThread, and are thrown again if nobody
 *              listens, as Node does for a Worker.
 *   stop       before a worker is terminated it is asked to stop at an operation boundary, so it never dies in the
 *              middle of one; if it does not get there in time, terminate() throws ETIMEDOUT, withdraws the request
 *              (a worker that stopped meanwhile resumes) and leaves it running.
 *   detach     a thread that ended without detaching itself (killed, crashed, closed by the browser) is detached:
 *              its queue drained, its objects and pages abandoned, its locks released. The spawning thread does it
 *              when it sees the end; a watchdog thread does it too (platform watchdog), so that it happens even while
 *              the spawning thread is blocked, for instance waiting for a lock the dead thread held.
 *
 * Only the thread that created the heap spawns (a spawn from a worker is ENESTED): terminating a worker would end
 * its own workers with no stop handshake, which could leave the heap in the middle of an operation.
 */

import { BrcError } from './errors.js';
import { LAYOUT } from './layout.js';
import type { WorkerSource } from './host.js';
import { threadPlatform, type StartedWorker, type Watchdog } from './platform.js';
import {
  HeapThread, JOIN_CANCELLED, JOIN_CLAIMED, describeWorker, joinFailure, joinHint, type HeapShare, type JoinReport,
  type ShareMessage, type SpawnOptions, type TerminateOptions,
} from './thread.js';
import type { BrcExports } from './generated/abi.js';

const SPAWN_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;
const STOP_POLL_MS = 1;

export class ThreadGroup {
  readonly #raw: BrcExports;
  readonly #share: () => HeapShare;
  readonly #threads = new Map<HeapThread, StartedWorker>();
  readonly #pending = new Set<Promise<unknown>>();
  /** terminate() calls under way per thread: the last one to give up withdraws the stop request */
  readonly #stopping = new Map<HeapThread, number>();
  #watchdog: Watchdog | undefined;
  #closing = false;

  constructor(raw: BrcExports, share: () => HeapShare) {
    this.#raw = raw;
    this.#share = share;
  }

  /** Starts a worker that joins the heap; resolves once it attached. */
  async spawn(source: WorkerSource, options: SpawnOptions): Promise<HeapThread> {
    if (this.#closing) throw new BrcError('ECLOSED', 'spawn: the heap is closing in this thread');
    const pending = this.#spawn(source, options);
    this.#pending.add(pending);
    try {
      return await pending;
    } finally {
      this.#pending.delete(pending);
    }
  }

  async #spawn(source: WorkerSource, options: SpawnOptions): Promise<HeapThread> {
    const platform = threadPlatform('spawn');
    const share = this.#share();
    // the watchdog detached a dead thread; where the platform reports exits itself (Node), the HeapThread ends with
    // the real exit code when that report arrives, else (browsers: a worker that closed itself) with 0 now
    this.#watchdog ??= platform.watchdog(share, (tid, generation) => this.#ended(tid, generation, 0, true));
    const lifeline = this.#watchdog.lifeline();
    const { port1, port2 } = new MessageChannel();
    const join = new Int32Array(new SharedArrayBuffer(8));
    const message: ShareMessage = { share, port: port2, workerData: options.workerData, lifeline: lifeline.lifeline, join };
    const worker = platform.start(source, message, [port2, ...lifeline.transfer], options);
    const report = await this.#awaitJoin(worker, port1 as MessagePort, source, options.timeoutMs ?? SPAWN_TIMEOUT_MS, join);
    const thread = new HeapThread({
      tid: report.tid, generation: report.generation, control: worker,
      kill: (terminate) => this.#kill(thread, worker, terminate),
    });
    worker.listen('message', (data) => thread.emit('message', data));
    worker.listen('error', (error) => thread.emit('error', error));
    worker.listen('exit', (code) => this.#ended(thread.tid, thread.generation, code as number));
    this.#threads.set(thread, worker);
    lifeline.watch(report.tid, report.generation);
    if (this.#closing) {
      await thread.terminate({ force: true }); // close() began while this worker was joining
      throw new BrcError('ECLOSED', `spawn(${describeWorker(source)}): the heap was closed in this thread meanwhile`);
    }
    return thread;
  }

  /** Waits for the worker's join report; everything it listened to is removed again, whatever the outcome. */
  async #awaitJoin(worker: StartedWorker, port: MessagePort, source: WorkerSource, timeoutMs: number, join: Int32Array): Promise<JoinReport & { type: 'attached' }> {
    let started = false;
    const unlisten: (() => void)[] = [];
    let timer: ReturnType<typeof setTimeout> | undefined;
    const report = await new Promise<JoinReport | Error | undefined>((resolve) => {
      port.onmessage = (event: MessageEvent<JoinReport>) => resolve(event.data);
      unlisten.push(worker.listen('online', () => { started = true; }));
      unlisten.push(worker.listen('error', (error) => resolve(error instanceof Error ? error : new Error(String(error)))));
      unlisten.push(worker.listen('exit', () => resolve(undefined)));
      timer = setTimeout(() => resolve(timeoutError(source, timeoutMs, worker.reportsStart, started)), timeoutMs);
    });
    clearTimeout(timer);
    for (const off of unlisten) off();
    port.close();
    if (report instanceof Error || report?.type !== 'attached') {
      // what the worker throws from here on (joinHeap rejecting at its top level) is the failure spawn rejects with:
      // a Worker's 'error' without a listener would be thrown again in this thread
      worker.listen('error', () => {});
      const joinedLate = await this.#cancelJoin(worker, join);
      if (joinedLate && report instanceof BrcError && report.code === 'ETIMEDOUT') {
        throw new BrcError('ETIMEDOUT', `spawn(${describeWorker(source)}): the worker joined the heap, but not before the ${timeoutMs} ms ` +
          'timeout (this thread was busy, or the worker slow to start); it was ended and detached again: raise spawn\'s timeoutMs');
      }
      if (report instanceof BrcError) throw report;
      if (report instanceof Error) {
        throw new BrcError('EINVAL', `spawn(${describeWorker(source)}): the worker failed before it joined the heap: ${report.message} (${joinHint(source)})`, { cause: report });
      }
      throw joinFailure(report, `spawn(${describeWorker(source)}): the worker ended before it joined the heap (${joinHint(source)})`);
    }
    return report;
  }

  /**
   * A spawn that gave up (timeout, error, early exit): makes sure its worker is ended and attached to nothing. If
   * the worker has not claimed the join cell, the cancel stops it from ever attaching; if it has, it is (about to
   * be) attached, and it is ended as terminate() ends a thread: stopped at a safe point, terminated, detached.
   * Returns whether it had attached.
   */
  async #cancelJoin(worker: StartedWorker, join: Int32Array): Promise<boolean> {
    if (Atomics.compareExchange(join, 0, 0, JOIN_CANCELLED) === 0) {
      await worker.terminate();
      return false;
    }
    // claimed: attaching takes one instantiation and one call, so this wait is short (and bounded all the same)
    for (const deadline = Date.now() + STOP_TIMEOUT_MS; Atomics.load(join, 0) === JOIN_CLAIMED && Date.now() < deadline;) {
      await new Promise((resolve) => setTimeout(resolve, STOP_POLL_MS));
    }
    const tid = Atomics.load(join, 0);
    if (tid <= 0) {
      await worker.terminate(); // its attach failed (it said so), or it never finished
      return false;
    }
    const generation = Atomics.load(join, 1);
    await this.#stop(tid, generation, STOP_TIMEOUT_MS);
    await worker.terminate();
    this.#raw.brc_thread_detach_dead(tid, generation); // ENOTATTACHED if it detached itself on its way out
    return true;
  }

  /** Threads started here that are still running. */
  get running(): HeapThread[] {
    return [...this.#threads.keys()];
  }

  /** Waits for spawns under way, then terminates every thread started here; after it, nothing more is detached here. */
  async close(): Promise<void> {
    this.#closing = true;
    await Promise.allSettled([...this.#pending]);
    const results = await Promise.allSettled([...this.#threads.keys()].map((thread) => thread.terminate()));
    this.#watchdog?.close();
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  async #kill(thread: HeapThread, worker: StartedWorker, options: TerminateOptions): Promise<void> {
    const timeoutMs = options.timeoutMs ?? STOP_TIMEOUT_MS;
    this.#stopping.set(thread, (this.#stopping.get(thread) ?? 0) + 1);
    let stopped: boolean;
    try {
      stopped = await this.#stop(thread.tid, thread.generation, timeoutMs);
    } finally {
      const left = this.#stopping.get(thread)! - 1;
      if (left > 0) this.#stopping.set(thread, left);
      else this.#stopping.delete(thread);
    }
    if (!stopped && !options.force) {
      // Withdrawn, unless another terminate() of this thread still waits: its "outside twice" needs STOP kept set
      // until the kill (safepoint.ts). Same generation: the tid may belong to a thread attached since.
      const x = this.#raw;
      if (!this.#stopping.has(thread) && x.brc_thread_generation(thread.tid) === thread.generation) x.brc_thread_cancel_stop(thread.tid);
      throw new BrcError('ETIMEDOUT', `terminate: thread ${thread.tid} did not reach a safe point within ${timeoutMs} ms, so it was ` +
        'not terminated and goes on running (the stop request is withdrawn; terminate({ force: true }) ends it anyway, maybe in the middle of an operation)');
    }
    await worker.terminate();
    this.#ended(thread.tid, thread.generation, 1);
    await thread.exited;
  }

  /**
   * Asks the thread to stop at its next operation boundary and waits until it sits there, or is seen outside any
   * operation twice a poll apart (safepoint.ts: the in-op mark is a plain store). False if it did not within
   * `timeoutMs`.
   */
  async #stop(tid: number, generation: number, timeoutMs: number): Promise<boolean> {
    const x = this.#raw;
    if (x.brc_thread_generation(tid) !== generation || x.brc_thread_state(tid) === LAYOUT.STATE_FREE) return true;
    x.brc_thread_request_stop(tid);
    const deadline = Date.now() + timeoutMs;
    for (let outside = 0; ;) {
      const state = x.brc_thread_stop_state(tid);
      if (state === LAYOUT.STOP_STOPPED) return true;
      outside = state === LAYOUT.STOP_OUTSIDE || state === LAYOUT.STOP_ASLEEP ? outside + 1 : 0;
      if (outside >= 2) return true;
      if (Date.now() > deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, STOP_POLL_MS));
    }
  }

  /** A thread ended (its worker exited, was terminated, or the watchdog saw it go): detach it if needed, tell. */
  #ended(tid: number, generation: number, code: number, fromWatchdog = false): void {
    // ENOTATTACHED when it detached itself, was detached by the watchdog already, or its tid was reused
    this.#raw.brc_thread_detach_dead(tid, generation);
    for (const [thread, worker] of this.#threads) {
      if (thread.tid !== tid || thread.generation !== generation) continue;
      if (fromWatchdog && worker.reportsExit) return;
      this.#threads.delete(thread);
      thread.ended(code);
    }
  }
}

function timeoutError(source: WorkerSource, timeoutMs: number, reportsStart: boolean, started: boolean): BrcError {
  const what = `spawn(${describeWorker(source)})`;
  if (reportsStart && !started) {
    return new BrcError('ETIMEDOUT', `${what}: the worker did not start within ${timeoutMs} ms: is the URL right, and does its script load? ` +
      '(raise spawn\'s timeoutMs for a slow start)');
  }
  if (reportsStart) {
    return new BrcError('ETIMEDOUT', `${what}: the worker started but did not join the heap within ${timeoutMs} ms: does it call joinHeap() from 'biasrc/worker'?`);
  }
  return new BrcError('ETIMEDOUT', `${what}: the worker did not join the heap within ${timeoutMs} ms: does its script load (the console ` +
    "shows a 404 or a syntax error), and does it call joinHeap() from 'biasrc/worker'?");
}
