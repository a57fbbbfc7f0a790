/**
 * biasrc/worker: the worker side. `const heap = await joinHeap()` attaches this worker to the heap that spawned it.
 */

import { BrcError } from './errors.js';
import { isNode } from './env.js';
import { Heap } from './heap.js';
import { SHARE_KEY, type JoinReport, type ShareMessage } from './thread.js';

export { Heap, BrcError };

async function receiveShare(): Promise<ShareMessage> {
  if (isNode) {
    const { workerData } = await import('node:worker_threads');
    const message = (workerData as Record<string, ShareMessage> | null)?.[SHARE_KEY];
    if (!message) throw new BrcError('EINVAL', 'joinHeap(): this worker was not started by heap.spawn()');
    return message;
  }
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

/** Attaches this worker to the heap that spawned it, as a new thread. heap.workerData holds spawn's workerData. */
export async function joinHeap(): Promise<Heap> {
  const message = await receiveShare();
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
