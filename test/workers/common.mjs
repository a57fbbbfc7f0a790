// Shared by the test workers: attach to the heap in workerData, and a barrier so that threads really overlap.
import { workerData } from 'node:worker_threads';
import { instantiateCore } from '../../dist/index.js';

export async function attach() {
  const core = await instantiateCore(workerData.module, workerData.memory);
  const tid = core.exports.brc_thread_attach();
  if (tid === 0) throw new Error(`attach failed: ${core.errors.name(core.exports.brc_last_error())}`);
  return { core, x: core.exports, tid };
}

/** Sense-reversing barrier over workerData.barrier ([count, generation]) for workerData.count threads. */
export function barrier(parties = workerData.count) {
  const b = workerData.barrier;
  const generation = Atomics.load(b, 1);
  if (Atomics.add(b, 0, 1) === parties - 1) {
    Atomics.store(b, 0, 0);
    Atomics.add(b, 1, 1);
    Atomics.notify(b, 1);
  } else {
    while (Atomics.load(b, 1) === generation) Atomics.wait(b, 1, generation);
  }
}

/** A small deterministic PRNG (mulberry32), so a failing run can be replayed from its seed. */
export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
