/**
 * The worker side, the same in every environment: `const heap = await joinHeap()` attaches this worker to the heap
 * that spawned it. The entry points (worker.ts for Node, worker.browser.ts for browsers) register how the share
 * arrives. Calling it again returns the same heap.
 */

import { BrcError } from './errors.js';
import { Heap, detachNow } from './heap.js';
import { threadPlatform } from './platform.js';
import { JOIN_CLAIMED, JOIN_FAILED, type JoinReport } from './thread.js';

export { Heap, BrcError };

let joined: Promise<Heap> | undefined;

/** Attaches this worker to the heap that spawned it, as a new thread. heap.workerData holds spawn's workerData. */
export function joinHeap(): Promise<Heap> {
  joined ??= join();
  return joined;
}

async function join(): Promise<Heap> {
  const platform = threadPlatform('joinHeap');
  const message = await platform.receiveShare();
  const report = (r: JoinReport) => message.port.postMessage(r);
  let heap: Heap;
  const cell = message.join;
  if (Atomics.compareExchange(cell, 0, 0, JOIN_CLAIMED) !== 0) {
    throw new BrcError('ETIMEDOUT', 'joinHeap: the spawning thread stopped waiting for this worker (its spawn timed out)');
  }
  try {
    heap = await Heap.join(message.share);
    Atomics.store(cell, 1, heap.raw.brc_thread_generation(heap.tid));
    Atomics.store(cell, 0, heap.tid); // after the generation: the spawner reads the tid first
    // held before the spawner hears of us: the watchdog learns we are gone when it is released
    await platform.holdLifeline(message.lifeline);
  } catch (error) {
    if (Atomics.load(cell, 0) === JOIN_CLAIMED) Atomics.store(cell, 0, JOIN_FAILED);
    const e = error instanceof BrcError ? error : new BrcError('EINVAL', String(error));
    report({ type: 'failed', code: e.code, message: e.message });
    throw e;
  }
  heap.workerData = message.workerData;
  // A worker that ends normally (its script done, process.exit, self.close) detaches itself: what it owned is
  // merged, not counted as orphans. One killed or crashed is detached for it (lifecycle.ts).
  platform.onThreadEnd(() => detachNow(heap));
  report({ type: 'attached', tid: heap.tid, generation: heap.raw.brc_thread_generation(heap.tid) });
  return heap;
}
