/**
 * The threads a heap spawned, from start to end: spawn (the worker joins the heap as a new tid), stop (before a
 * worker is terminated it is asked to stop at an operation boundary, so it never dies in the middle of one), and the
 * detach of a thread that ended without detaching itself (its queue is drained, its objects and pages abandoned).
 *
 * The worker side of spawning (joinHeap) is in worker.ts; starting a worker on each platform is in thread.ts.
 */

import { LAYOUT } from './layout.js';
import { HeapThread, spawnThread, type SpawnOptions } from './thread.js';
import type { BrcExports } from './generated/abi.js';
import type { HeapShare } from './thread.js';

/** Milliseconds a thread asked to stop may take to reach a boundary before it is terminated anyway. */
const STOP_PATIENCE_STEPS = 10_000;

export class ThreadGroup {
  readonly #raw: BrcExports;
  readonly #threads = new Set<HeapThread>();
  #closed = false;

  constructor(raw: BrcExports) {
    this.#raw = raw;
  }

  /** Starts a worker that joins the heap; resolves once it attached. */
  async spawn(url: URL | string, share: HeapShare, options: SpawnOptions): Promise<HeapThread> {
    const thread = await spawnThread(url, share, options, {
      detach: (tid, generation) => this.#detachDead(tid, generation),
      stop: (tid, generation) => this.#stopThread(tid, generation),
    });
    this.#threads.add(thread);
    void thread.exited.then(() => this.#threads.delete(thread));
    return thread;
  }

  /** Threads started here that are still running. */
  get running(): HeapThread[] {
    return [...this.#threads];
  }

  /** Terminates every thread started here; after it, dead threads are no longer detached from this thread. */
  async close(): Promise<void> {
    await Promise.all([...this.#threads].map((thread) => thread.terminate()));
    this.#closed = true;
  }

  /**
   * Before terminating a worker: ask it to stop at its next operation boundary and wait until it sits there, or is
   * seen outside any operation twice a grace period apart, so it never dies in the middle of one (safepoint.ts).
   */
  async #stopThread(tid: number, generation: number): Promise<void> {
    const x = this.#raw;
    if (this.#closed || x.brc_thread_generation(tid) !== generation || x.brc_thread_state(tid) === LAYOUT.STATE_FREE) return;
    x.brc_thread_request_stop(tid);
    let outside = 0;
    for (let waited = 0; waited < STOP_PATIENCE_STEPS; waited += 1) {
      const state = x.brc_thread_stop_state(tid);
      if (state === LAYOUT.STOP_STOPPED) return;
      // outside any operation (or asleep in a lock wait): safe if still so a grace period later, because a thread
      // that marked an operation just before we asked may not have made its mark visible yet
      outside = state === LAYOUT.STOP_OUTSIDE || state === LAYOUT.STOP_ASLEEP ? outside + 1 : 0;
      if (outside >= 2) return;
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  }

  /** A worker exited or was terminated: detach its tid unless it detached itself (or the tid was reused). */
  #detachDead(tid: number, generation: number): void {
    if (this.#closed) return;
    this.#raw.brc_thread_detach_dead(tid, generation); // ENOTATTACHED if it detached itself or the tid was reused
  }
}
