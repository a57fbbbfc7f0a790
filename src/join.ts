/**
 * The worker side, the same in every environment: `const heap = await joinHeap()` attaches this worker to the heap
 * that spawned it. The entry points (worker.ts for Node, worker.browser.ts for browsers) register how the share arrives.
 */

import { BrcError } from './errors.js';
import { Heap } from './heap.js';
import { threadPlatform } from './platform.js';
import type { JoinReport } from './thread.js';

export { Heap, BrcError };

/** Attaches this worker to the heap that spawned it, as a new thread. heap.workerData holds spawn's workerData. */
export async function joinHeap(): Promise<Heap> {
  const message = await threadPlatform('joinHeap').receiveShare();
  const report = (r: JoinReport) => message.port.postMessage(r);
  let heap: Heap;
  try {
    heap = await Heap.join(message.share);
  } catch (error) {
    const e = error instanceof BrcError ? error : new BrcError('EINVAL', String(error));
    report({ type: 'failed', code: e.code, message: e.message });
    throw e;
  }
  heap.workerData = message.workerData;
  report({ type: 'attached', tid: heap.tid, generation: heap.raw.brc_thread_generation(heap.tid) });
  return heap;
}
