// mix: T threads (default: one per core) each run incref+decref pairs (= one op) in an in-wasm loop over an op list
// of their own objects, where a fraction p of the entries names an object owned by another thread. BRC takes the
// owner's plain path for its own objects and the shared CAS for the others; atomic-only does atomic.add/sub on the
// same header word for every op. Both loops read the same op lists, so only the counting differs.
// Read the curve with the thread count in mind: with 2 threads at p = 100 % each thread counts only the other's
// objects, so no object is counted by both at once; two threads share objects the most around p = 50 %.
import { loopsHeap } from '../lib/wasm.mjs';
import { row } from '../lib/measure.mjs';
import { ratio } from '../lib/report.mjs';
import { aggregate, runWorkers } from '../lib/workers.mjs';

export const SHARES = [0, 1, 10, 50, 100]; // percent of ops on another thread's objects

/** Runs the loop worker in `threads` threads over a fresh heap; returns per-variant ns/op runs (aggregate). */
export async function runRcWorkers(ctx, threads, p, variants) {
  const { objects, listLength, n } = ctx.pick({
    tiny: { objects: 64, listLength: 256, n: 20_000 },
    quick: { objects: 1024, listLength: 4096, n: 2_000_000 },
    full: { objects: 1024, listLength: 4096, n: 10_000_000 },
  });
  const { memory, x } = await loopsHeap(ctx.modules.loops);
  const table = new Uint32Array(new SharedArrayBuffer(threads * objects * 4));
  const results = await runWorkers('loop', threads, {
    module: ctx.modules.loops, memory, mode: 'rc', objects, listLength, p: p / 100, n, variants, table, timing: ctx.timing,
  });
  x.brc_thread_detach();
  return Object.fromEntries(variants.map((v) => [v, aggregate(results.map((r) => r.runs[v]), n * threads)]));
}

export default async function mix(ctx) {
  const threads = ctx.threads;
  const rows = [];
  const ratios = [];
  for (const p of SHARES) {
    ctx.progress(`mix: ${threads} threads, p = ${p}%`);
    const runs = await runRcWorkers(ctx, threads, p, ['brc', 'atomic']);
    const brc = row(`brc p=${p}%`, runs.brc, { impl: 'BRC', p, threads, note: 'pair, aggregate of all threads' });
    const atomic = row(`atomic p=${p}%`, runs.atomic, { impl: 'atomic-only', p, threads, note: 'pair, aggregate of all threads' });
    rows.push(brc, atomic);
    ratios.push(ratio(`brc_throughput/atomic@p=${p}%`, atomic.nsPerOp / brc.nsPerOp, {
      note: p === 0 ? 'paper: BRC wins while sharing is rare (<= 10% of RC ops are shared in its programs)' : '',
    }));
  }
  return { title: `${threads} threads, in-wasm loops`, rows, ratios };
}
