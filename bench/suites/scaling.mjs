// scaling: owner-local BRC throughput (every op on the thread's own objects, the mix suite at p = 0) at 1..N
// threads. Owner-local counting touches no shared cache line, so it should scale linearly with cores.
import { row } from '../lib/measure.mjs';
import { ratio } from '../lib/report.mjs';
import { runRcWorkers } from './mix.mjs';

export default async function scaling(ctx) {
  // at least 2 threads, so that t2/t1 exists even with --threads 1 (it then oversubscribes a single core)
  const max = Math.max(2, ctx.threads);
  const rows = [];
  for (let t = 1; t <= max; t++) {
    ctx.progress(`scaling: ${t} thread(s)`);
    const runs = await runRcWorkers(ctx, t, 0, ['brc']);
    rows.push(row(`t${t}`, runs.brc, { threads: t, note: 'pair, aggregate of all threads' }));
  }
  const ops = (t) => rows[t - 1].opsPerSec;
  const ratios = [ratio('t2/t1', ops(2) / ops(1), { op: '>=', target: 1.85, note: 'no paper figure; linear would be 2' })];
  for (let t = 3; t <= max; t++) ratios.push(ratio(`t${t}/t1`, ops(t) / ops(1)));
  return { title: `owner-local BRC, 1..${max} threads`, rows, ratios };
}
