// Worker for the multi-thread suites (mix, scaling, alloc's producer/consumer). It instantiates the loops module
// over the shared memory, attaches (its own tid), and runs in-wasm loops that start on the barrier. Each timed run
// records [start, end] on the process-wide clock; the main thread turns them into aggregate throughput.
import { parentPort, workerData } from 'node:worker_threads';
import { barrier } from '../lib/workers.mjs';
import { nowNs } from '../lib/measure.mjs';
import { coreImports } from '../../dist/index.js';
import { rng } from '../../scripts/lib/threads.mjs';

const { module, memory, index, count, mode } = workerData;
const x = (await WebAssembly.instantiate(module, coreImports(memory))).exports;
if (x.brc_thread_attach() === 0) throw new Error(`attach failed: ${x.brc_last_error()}`);
const u32 = () => new Uint32Array(memory.buffer);

/**
 * warmup untimed + runs timed calls of each loop, each call between barriers so that every thread runs the same loop
 * at the same time; the loops take turns round by round, so a burst of outside load hits them alike.
 */
function rounds(loops, { warmup, runs }) {
  const out = Object.fromEntries(Object.keys(loops).map((k) => [k, []]));
  for (let r = 0; r < warmup + runs; r++) {
    for (const [name, fn] of Object.entries(loops)) {
      barrier();
      const t0 = nowNs();
      fn();
      const t1 = nowNs();
      if (r >= warmup) out[name].push([t0, t1]);
    }
  }
  barrier();
  return out;
}

/**
 * mix / scaling: each thread owns `objects` objects; its op list (listLength handles, a power of two) names another
 * thread's object in a fraction p of its entries (exactly round(p * listLength) of them, at random positions).
 */
function rc() {
  const { objects, listLength, p, n, variants, table, timing } = workerData;
  const rand = rng(0x5eed + index);
  const mine = [];
  for (let k = 0; k < objects; k++) {
    const obj = x.brc_alloc(8, 0); // one reference, local count 1, owned by this thread
    mine.push(obj);
    table[index * objects + k] = obj;
  }
  barrier(); // every thread's objects exist
  const list = x.brc_malloc(listLength * 4);
  const remote = count > 1 ? Math.round(p * listLength) : 0;
  const entries = Array.from({ length: listLength }, (_, j) => j < remote);
  for (let j = listLength - 1; j > 0; j--) { const i = Math.floor(rand() * (j + 1)); [entries[i], entries[j]] = [entries[j], entries[i]]; }
  const view = u32();
  entries.forEach((isRemote, j) => {
    let owner = index;
    if (isRemote) owner = (index + 1 + Math.floor(rand() * (count - 1))) % count;
    view[(list >>> 2) + j] = table[owner * objects + Math.floor(rand() * objects)];
  });
  const mask = listLength - 1;
  const all = { brc: () => x.rc_brc_list(list, mask, n), atomic: () => x.rc_atomic_list(list, mask, n) };
  const runs = rounds(Object.fromEntries(variants.map((v) => [v, all[v]])), timing);
  // every pair was balanced, so each object is back at its one reference: the owner's decref frees it
  for (const obj of mine) x.brc_decref(obj);
  x.brc_free(list);
  return { runs };
}

/** alloc: worker 0 allocates and hands blocks over a ring to worker 1, which frees them (remote frees). */
function pc() {
  const { ring, capacity, size, n, timing } = workerData;
  const nap = new Int32Array(new SharedArrayBuffer(4));
  const SPINS = 20_000;
  const out = [];
  for (let r = 0; r < timing.warmup + timing.runs; r++) {
    barrier();
    const t0 = nowNs();
    // the wasm loop returns when it has spun too long on an empty or full ring: sleep 20 µs, then go on
    let i = 0;
    for (;;) {
      i = index === 0 ? x.pc_produce(ring, capacity, size, i, n, SPINS) : x.pc_consume(ring, capacity, i, n, SPINS);
      if (i === n) break;
      Atomics.wait(nap, 0, 0, 0.02); // nobody notifies: a 20 µs sleep
    }
    const t1 = nowNs();
    barrier(); // both sides done: the ring is empty
    if (index === 0) { const v = u32(); v[ring >>> 2] = 0; v[(ring + 64) >>> 2] = 0; }
    if (r >= timing.warmup) out.push([t0, t1]);
  }
  barrier();
  return { runs: out };
}

const result = mode === 'rc' ? rc() : pc();
barrier(); // nobody detaches while another thread may still touch its objects
x.brc_thread_detach();
parentPort.postMessage(result);
