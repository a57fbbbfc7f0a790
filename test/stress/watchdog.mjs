// Watches a stress run from outside: if a thread makes no step for `stallMs`, prints what every thread record
// says (state, stop state, queue, locks held) and what each thread was doing, so a hang explains itself even when
// the main thread is stuck inside wasm and can report nothing.
import { workerData } from 'node:worker_threads';
import { instantiateCore } from '../../dist/index.js';
import { describeThreads } from './records.mjs';

const { module, memory, shared, stallMs, seed } = workerData;
const core = await instantiateCore(module, memory);
core.exports.brc_attach_memory(); // reads the layout; no tid needed for the inspection calls
const x = core.exports;
let last = Array.from(shared.heartbeat);
let still = 0;
for (;;) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1000);
  const now = Array.from(shared.heartbeat);
  const phase = Atomics.load(shared.control, 0);
  still = now.some((n, i) => n === last[i]) && phase === 1 ? still + 1000 : 0;
  last = now;
  if (still < stallMs) continue;
  const i32 = new Int32Array(memory.buffer);
  const R = (name) => Number(core.raw[name].value); // offsets from the module (layout.ts)
  const lines = describeThreads(core.raw, memory, Array.from({ length: shared.threads + 1 }, (_, i) => i + 1));
  const heapLock = i32[(R('GLOBAL_BASE') + R('G_HEAP_LOCK')) >> 2];
  console.error(`WATCHDOG seed ${seed}: no progress for ${still} ms; phase ${phase}; heartbeat ${now}; doing ${Array.from(shared.doing)}; heap lock ${heapLock}\n  ${lines.join('\n  ')}`);
  still = 0;
}
