// js: an incref+decref pair (= one op) called from JavaScript, measured with benchmark.js.
//   js_plain       a plain counter in a typed array, ++ then --: what a single-threaded JS program pays (the floor)
//   js_atomics     Atomics.add / Atomics.sub on an Int32Array over a SharedArrayBuffer: what a JS developer writes
//                  for a shared reference count today
//   empty_call     two calls of the empty export brc_empty: the price of crossing into wasm twice
//   raw            heap.raw.brc_incref / brc_decref: the exports themselves (two crossings)
//   api_unchecked  heap.incref / heap.decref of Heap.create({ checked: false }): the owner fast path inlined in JS
//   api_checked    the same on a checked heap: every handle validated in JS first, still without a crossing
// Each timed call does one op on each of 64 counters (64 objects, 64 array slots), so that benchmark.js's own cost
// per call (about 3 ns here, more than the ops it would be added to) is spread over 64 ops, and nothing is folded
// away: the counters differ, as a program's objects do.
import Benchmark from 'benchmark';
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { row } from '../lib/measure.mjs';
import { ratio } from '../lib/report.mjs';

export default async function js(ctx) {
  const { Heap } = await import(pathToFileURL(join(ctx.root, 'dist', 'index.js')).href);
  if (!Heap) throw new Error('dist/index.js exports no Heap: rebuild the TypeScript (npm run build)');
  const unchecked = await Heap.create({ checked: false });
  const checked = await Heap.create({ checked: true });
  const N = 64;
  const hu = Array.from({ length: N }, () => unchecked.alloc(8, 0));
  const hc = Array.from({ length: N }, () => checked.alloc(8, 0));
  const slots = Array.from({ length: N }, (_, i) => i * 4); // a counter per cache line, as objects' counts are
  const raw = unchecked.raw;
  const plain = new Int32Array(N * 4);
  const shared = new Int32Array(new SharedArrayBuffer(N * 16));

  const cases = {
    js_plain: () => { for (let i = 0; i < N; i++) { const k = slots[i]; plain[k]++; plain[k]--; } },
    js_atomics: () => { for (let i = 0; i < N; i++) { const k = slots[i]; Atomics.add(shared, k, 1); Atomics.sub(shared, k, 1); } },
    empty_call: () => { for (let i = 0; i < N; i++) { raw.brc_empty(); raw.brc_empty(); } },
    raw: () => { for (let i = 0; i < N; i++) { const h = hu[i]; raw.brc_incref(h); raw.brc_decref(h); } },
    api_unchecked: () => { for (let i = 0; i < N; i++) { const h = hu[i]; unchecked.incref(h); unchecked.decref(h); } },
    api_checked: () => { for (let i = 0; i < N; i++) { const h = hc[i]; checked.incref(h); checked.decref(h); } },
  };
  const options = {
    tiny: { minSamples: 5, maxTime: 0.02, minTime: 0.002 },
    quick: { minSamples: 5, maxTime: 0.4, minTime: 0.02 },
    full: { minSamples: 20, maxTime: 3 },
  }[ctx.scale];

  const suite = new Benchmark.Suite('js');
  // fn is a closure, and no string setup/teardown is given, so benchmark.js calls it instead of decompiling it
  for (const [name, fn] of Object.entries(cases)) suite.add(name, fn, options);
  suite.on('cycle', (event) => ctx.progress(`js: ${event.target}`));
  suite.run({ async: false });

  const rows = suite.map((bench) => {
    if (bench.error) throw bench.error;
    // each sample is one timed cycle of many calls (seconds per op); benchmark.js's calibration cycles are not kept
    return row(bench.name, bench.stats.sample.map((s) => (s * 1e9) / N), { note: `incref+decref pair (2 calls), ${N} per timed call` });
  });

  const drifted = hu.some((h) => unchecked.info(h).local !== 1) || hc.some((h) => checked.info(h).local !== 1)
    || plain.some((v) => v !== 0) || shared.some((v) => v !== 0);
  if (drifted) throw new Error('js: counts drifted');
  for (const h of hu) unchecked.decref(h);
  for (const h of hc) checked.decref(h);
  await unchecked.close();
  await checked.close();

  const ns = Object.fromEntries(rows.map((r) => [r.name, r.nsPerOp]));
  return {
    title: 'JS -> wasm calls, benchmark.js (runs = benchmark.js samples)',
    rows,
    ratios: [
      ratio('api_unchecked/js_plain', ns.api_unchecked / ns.js_plain, { op: '<=', target: 1.3 }),
      ratio('js_atomics/api_unchecked', ns.js_atomics / ns.api_unchecked, { op: '>=', target: 8 }),
      ratio('api_checked/api_unchecked', ns.api_checked / ns.api_unchecked, { op: '<=', target: 2 }),
      ratio('api_unchecked/empty_call', ns.api_unchecked / ns.empty_call),
      ratio('raw/empty_call', ns.raw / ns.empty_call),
    ],
  };
}
