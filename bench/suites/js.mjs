// js: an incref+decref pair (= one op) called from JavaScript through the public API, measured with benchmark.js.
//   empty_call     two calls of the empty export brc_empty: the price of crossing into wasm twice, the floor
//   raw            heap.raw.brc_incref / brc_decref: the exports themselves
//   api_unchecked  heap.incref / heap.decref of Heap.create({ checked: false }) (bound straight to the exports)
//   api_checked    the same on a checked heap: every handle validated in JS before it reaches wasm
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
  const hu = unchecked.alloc(8, 0);
  const hc = checked.alloc(8, 0);
  const raw = unchecked.raw;

  const cases = {
    empty_call: () => { raw.brc_empty(); raw.brc_empty(); },
    raw: () => { raw.brc_incref(hu); raw.brc_decref(hu); },
    api_unchecked: () => { unchecked.incref(hu); unchecked.decref(hu); },
    api_checked: () => { checked.incref(hc); checked.decref(hc); },
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
    return row(bench.name, bench.stats.sample.map((s) => s * 1e9), { note: 'incref+decref pair (2 calls)' });
  });

  if (unchecked.info(hu).local !== 1) throw new Error('js: counts drifted');
  unchecked.decref(hu);
  checked.decref(hc);
  await unchecked.close();
  await checked.close();

  const ns = Object.fromEntries(rows.map((r) => [r.name, r.nsPerOp]));
  return {
    title: 'JS -> wasm calls, benchmark.js (runs = benchmark.js samples)',
    rows,
    ratios: [
      ratio('api_unchecked/empty_call', ns.api_unchecked / ns.empty_call, { op: '<=', target: 1.3, note: 'no paper figure (Swift has no FFI hop)' }),
      ratio('raw/empty_call', ns.raw / ns.empty_call),
      ratio('api_checked/empty_call', ns.api_checked / ns.empty_call),
    ],
  };
}
