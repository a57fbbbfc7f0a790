// Shared by the test workers: attach to the heap in workerData, and a barrier so that threads really overlap.
import { workerData } from 'node:worker_threads';
import { errorName, instantiateCore } from '../../dist/index.js';
import { barrier as waitAtBarrier, rng } from '../../scripts/lib/threads.mjs';

export async function attach() {
  const core = await instantiateCore(workerData.module, workerData.memory);
  const tid = core.exports.brc_thread_attach();
  if (tid === 0) throw new Error(`attach failed: ${errorName(core.exports.brc_last_error())}`);
  return { core, x: core.exports, tid };
}

/** Waits until all workData.count workers (or `parties`) have called it: they then run at the same time. */
export function barrier(parties = workerData.count) {
  waitAtBarrier(workerData.barrier, parties);
}

export { rng };
