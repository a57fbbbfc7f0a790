// Watches a stress run from outside: if a thread makes no step for `stallMs`, prints what every thread record
// says (state, stop state, queue, locks held) and what each thread was doing, so a hang explains itself even when
// the main thread is stuck inside wasm and can report nothing.
import { workerData } from 'node:worker_threads';
import { instantiateCore } from '../../dist/index.js';

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
  const lines = [];
  for (let tid = 1; tid <= shared.threads + 1; tid++) {
    const rec = x.brc_queue_address(tid) - R('R_QUEUE');
    const held = i32[(rec + R('R_LOCKS_HELD')) >> 2];
    const table = Array.from(i32.subarray((rec + R('R_LOCK_TABLE')) >> 2, ((rec + R('R_LOCK_TABLE')) >> 2) + held));
    lines.push(`tid ${tid}: state ${x.brc_thread_state(tid)} stop ${x.brc_thread_stop_state(tid)} ` +
      `queue 0x${(i32[(rec + R('R_QUEUE')) >> 2] >>> 0).toString(16)} inOp ${i32[(rec + R('R_IN_OP')) >> 2]} ` +
      `locks [${table.map((h) => (h >>> 0).toString(16)).join(',')}]`);
  }
  const heapLock = i32[(R('GLOBAL_BASE') + R('G_HEAP_LOCK')) >> 2];
  console.error(`WATCHDOG seed ${seed}: no progress for ${still} ms; phase ${phase}; heartbeat ${now}; doing ${Array.from(shared.doing)}; heap lock ${heapLock}\n  ${lines.join('\n  ')}`);
  still = 0;
}
