// Worker threads started on a barrier, so that their timed loops really overlap (a 1 ms loop otherwise ends before
// the next worker has even started).
import { Worker, workerData } from 'node:worker_threads';
import { barrier as waitAtBarrier } from '../../scripts/lib/threads.mjs';

export function newBarrier() {
  return new Int32Array(new SharedArrayBuffer(8));
}

/** Waits until `parties` threads have called it on the same [count, generation] pair. */
export function barrier(b = workerData.barrier, parties = workerData.count) {
  waitAtBarrier(b, parties);
}

/**
 * Runs `count` workers of bench/workers/<script>.mjs with `data` plus { barrier, index, count } and returns the one
 * message each posts. Rejects on a worker error or a non-zero exit.
 */
export async function runWorkers(script, count, data = {}, perWorker = () => ({})) {
  const b = newBarrier();
  const url = new URL(`../workers/${script}.mjs`, import.meta.url);
  const results = new Array(count);
  const workers = [];
  const done = Array.from({ length: count }, (_, index) => new Promise((resolve, reject) => {
    const own = perWorker(index); // { data, transfer }: e.g. one end of a MessageChannel
    const worker = new Worker(url, {
      workerData: { ...data, ...own.data, barrier: b, index, count },
      transferList: own.transfer ?? [],
    });
    workers.push(worker);
    worker.on('message', (m) => { results[index] = m; });
    worker.on('error', reject);
    worker.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${script} worker ${index} exited ${code}`))));
  }));
  try {
    await Promise.all(done);
  } catch (e) {
    // the others would wait on the barrier forever
    await Promise.all(workers.map((w) => w.terminate()));
    throw e;
  }
  return results;
}

/**
 * Turns per-worker [start, end] ns timestamps (one pair per run, same clock) into aggregate ns per op per run:
 * the wall time from the first start to the last end, over all threads' operations together (totalOps).
 */
export function aggregate(perWorker, totalOps) {
  const out = [];
  for (let r = 0; r < perWorker[0].length; r++) {
    const start = Math.min(...perWorker.map((w) => w[r][0]));
    const end = Math.max(...perWorker.map((w) => w[r][1]));
    out.push((end - start) / totalOps);
  }
  return out;
}
