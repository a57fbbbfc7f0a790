// alloc: one op = one allocation plus its free, in in-wasm loops of the same shape for both allocators:
//   biasrc  allocBlock / freeBlock from assembly/alloc.ts (what brc_malloc / brc_free and brc_alloc run), owner path
//   tlsf    AssemblyScript's own TLSF allocator (heap.alloc / heap.free, --runtime incremental), single-threaded
// Two shapes: "pair" frees each block at once (32 bytes); "batch" keeps 256 blocks of 16..512 bytes live, then frees
// them in allocation order. Then a cross-thread producer/consumer: one worker allocates, another frees.
import { loopsHeap } from '../lib/wasm.mjs';
import { calibrate, row, timeInterleaved } from '../lib/measure.mjs';
import { ratio } from '../lib/report.mjs';
import { aggregate, runWorkers } from '../lib/workers.mjs';

const PAIR_SIZE = 32;
const BATCH = 256;
const SIZES = 32; // batch sizes cycle 16, 32, ..., 512

export default async function alloc(ctx) {
  const { memory, x } = await loopsHeap(ctx.modules.loops);
  const tlsf = (await WebAssembly.instantiate(ctx.modules.tlsf, {
    env: { abort: () => { throw new Error('tlsf: abort'); } },
  })).exports;
  const scratchBrc = x.brc_malloc(BATCH * 4);
  const scratchTlsf = tlsf.scratch(BATCH * 4);

  const loops = {
    biasrc_pair: (n) => x.alloc_pairs(PAIR_SIZE, n),
    tlsf_pair: (n) => tlsf.alloc_pairs(PAIR_SIZE, n),
    biasrc_batch: (rounds) => x.alloc_batch(scratchBrc, BATCH, SIZES, rounds),
    tlsf_batch: (rounds) => tlsf.alloc_batch(scratchTlsf, BATCH, SIZES, rounds),
  };
  const cases = Object.entries(loops).map(([name, fn]) => {
    ctx.progress(`alloc: calibrating ${name}`);
    const batch = name.endsWith('batch');
    const n = calibrate(fn, ctx.targetMs, batch ? 4 : 1000);
    return { name, fn, n, ops: batch ? n * BATCH : n };
  });
  ctx.progress(`alloc: ${ctx.timing.runs} interleaved runs of ${cases.length} loops`);
  const times = timeInterleaved(cases, ctx.timing);
  const rows = cases.map((c) => row(c.name, times[c.name], {
    note: c.name.endsWith('pair') ? `alloc+free, ${PAIR_SIZE} B` : `alloc+free, 16..512 B, ${BATCH} live`,
  }));
  x.brc_free(scratchBrc);
  const live = x.brc_stat(x.STAT_LIVE_BLOCKS.value);
  if (live !== 0) throw new Error(`alloc: ${live} blocks leaked`);
  x.brc_thread_detach();

  // producer/consumer over a ring in the shared memory (bench/assembly/loops.ts: pc_produce / pc_consume)
  ctx.progress('alloc: producer/consumer across two threads');
  const n = ctx.pick({ tiny: 20_000, quick: 500_000, full: 5_000_000 });
  const capacity = 1024;
  const pc = await loopsHeap(ctx.modules.loops);
  const ring = pc.x.brc_malloc(128 + capacity * 4); // head +0, tail +64 (apart, against false sharing), slots +128
  new Uint8Array(pc.memory.buffer, ring, 128).fill(0);
  const results = await runWorkers('loop', 2, {
    module: ctx.modules.loops, memory: pc.memory, mode: 'pc', ring, capacity, size: PAIR_SIZE, n, timing: ctx.timing,
  });
  rows.push(row('biasrc_cross_thread', aggregate(results.map((r) => r.runs), n), {
    note: `one block (${PAIR_SIZE} B) allocated in thread A, freed in thread B`,
  }));

  const ns = Object.fromEntries(rows.map((r) => [r.name, r.nsPerOp]));
  return {
    title: 'allocator, in-wasm loops',
    rows,
    ratios: [
      ratio('biasrc/tlsf', ns.biasrc_pair / ns.tlsf_pair, { op: '<=', target: 1.0, note: 'pair shape, 32 B' }),
      ratio('biasrc/tlsf (batch)', ns.biasrc_batch / ns.tlsf_batch),
      ratio('cross_thread/biasrc', ns.biasrc_cross_thread / ns.biasrc_pair, { note: 'per block handed over, vs a local pair' }),
    ],
  };
}
