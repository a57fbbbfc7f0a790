/**
 * The worker side, the same in every environment: `const heap = await joinHeap()` attaches this worker to the heap
 * that spawned it. The entry points (worker.ts for Node, worker.browser.ts for browsers) register how the share
 * arrives. Calling it again returns the same heap.
 */

import { BrcError } from './errors.js';
import { Heap, detachNow } from './heap.js';
import { threadPlatform } from './platform.js';
import type { JoinReport } from './thread.js';

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
  try {
    heap = await Heap.join(message.share);
    // held before the spawner hears of us: the watchdog learns we are gone when it is released
    await platform.holdLifeline(message.lifeline);
  } catch (error) {
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
