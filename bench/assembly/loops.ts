// Benchmark module: the whole core (every brc_* export, so a thread can init/attach with it) plus in-wasm loops
// over the core's real fast paths. Timing a loop inside wasm keeps the JS -> wasm call (about 3.5 ns) out of
// numbers that are themselves 1-5 ns. Built by bench/build.mjs with the core's flags; never shipped.
//
// Rules of the core apply here too: no strings, no `new`, no stdlib containers (any of them would create a data
// segment, which every instantiation re-applies over the shared memory). bench/build.mjs checks for it.

export * from "../../assembly/index";
import { incref, decrefAny } from "../../assembly/refcount";
import { allocBlock, freeBlock } from "../../assembly/alloc";
import { drainFrees } from "../../assembly/queue";
import { HEAP_RAW } from "../../assembly/layout";

// Never called in a balanced loop; kept out of line so the branch to it costs what a real "free at zero" costs.
// @ts-ignore: decorator
@inline(never) function unexpectedZero(obj: usize): void {
  store<u32>(obj + 12, load<u32>(obj + 12)); // a side effect the optimizer must keep
}

// ---- the four ways to count, on the first u32 of an object header (or the shared word for BRC non-owners) ------

// The floor: what a single-threaded runtime would do. Not thread-safe.
// @ts-ignore: decorator
@inline function plainPair(obj: usize): void {
  store<u32>(obj, load<u32>(obj) + 1);
  let c = load<u32>(obj) - 1;
  store<u32>(obj, c);
  if (c == 0) unexpectedZero(obj);
}

// What Rust's Arc (and any "just make it atomic" refcount) does: an atomic RMW for every increment and decrement.
// @ts-ignore: decorator
@inline function atomicPair(obj: usize): void {
  atomic.add<u32>(obj, 1);
  if (atomic.sub<u32>(obj, 1) == 1) unexpectedZero(obj);
}

// The real thing: the core's inlined incref / decrefAny. An owner takes the plain path, anyone else the shared CAS.
// @ts-ignore: decorator
@inline function brcPair(obj: usize): void {
  incref(obj);
  decrefAny(obj);
}

// ---- rc suite: one object, and a list of objects visited round robin (mask + 1 entries, a power of two) ----------

export function rc_plain(obj: usize, n: u32): void {
  for (let i: u32 = 0; i < n; i++) plainPair(obj);
}

export function rc_atomic(obj: usize, n: u32): void {
  for (let i: u32 = 0; i < n; i++) atomicPair(obj);
}

export function rc_brc(obj: usize, n: u32): void {
  for (let i: u32 = 0; i < n; i++) brcPair(obj);
  drainFrees(); // what brc_decref does after every decref; once per run here since nothing is freed
}

export function rc_plain_list(list: usize, mask: u32, n: u32): void {
  for (let i: u32 = 0; i < n; i++) plainPair(<usize>load<u32>(list + (<usize>(i & mask) << 2)));
}

export function rc_atomic_list(list: usize, mask: u32, n: u32): void {
  for (let i: u32 = 0; i < n; i++) atomicPair(<usize>load<u32>(list + (<usize>(i & mask) << 2)));
}

export function rc_brc_list(list: usize, mask: u32, n: u32): void {
  for (let i: u32 = 0; i < n; i++) brcPair(<usize>load<u32>(list + (<usize>(i & mask) << 2)));
  drainFrees();
}

// ---- alloc suite: alloc+free pairs through the allocator's own entry points (same loop shape as tlsf.ts) ---------

export function alloc_pairs(size: usize, n: u32): void {
  for (let i: u32 = 0; i < n; i++) {
    let p = allocBlock(size, HEAP_RAW);
    store<u32>(p, i); // touch the block, as any user would
    freeBlock(p);
  }
}

/** `rounds` times: allocate `batch` blocks of sizes cycling 16..16*sizes, then free them in allocation order. */
export function alloc_batch(scratch: usize, batch: u32, sizes: u32, rounds: u32): void {
  for (let r: u32 = 0; r < rounds; r++) {
    for (let i: u32 = 0; i < batch; i++) {
      let p = allocBlock(<usize>((i % sizes) + 1) << 4, HEAP_RAW);
      store<u32>(p, i);
      store<u32>(scratch + (<usize>i << 2), <u32>p);
    }
    for (let i: u32 = 0; i < batch; i++) freeBlock(<usize>load<u32>(scratch + (<usize>i << 2)));
  }
}

// ---- producer / consumer: one thread allocates, another frees (remote frees onto the page's thread-free stack) ----
// ring: head u32 at +0, tail u32 at +64 (64 bytes apart, against false sharing), slots from +128.
// Each side spins while the other has its own core. After `spinLimit` idle spins it returns the next index, so the
// JS caller can sleep briefly (a spinner must not burn the time slice its partner needs on a busy machine) and call
// again. The sleep is in JS on purpose: memory.atomic.wait in Liftoff code clobbers locals on Node 20 (V8 11.3).

export function pc_produce(ring: usize, capacity: u32, size: usize, from: u32, n: u32, spinLimit: u32): u32 {
  let slots = ring + 128;
  for (let i = from; i < n; i++) {
    let spins: u32 = 0;
    while (i - atomic.load<u32>(ring) >= capacity) { // full: wait for the consumer's head
      if (++spins > spinLimit) return i;
    }
    let p = allocBlock(size, HEAP_RAW);
    store<u32>(p, i);
    store<u32>(slots + (<usize>(i % capacity) << 2), <u32>p);
    atomic.store<u32>(ring + 64, i + 1); // publish after the slot write
  }
  return n;
}

export function pc_consume(ring: usize, capacity: u32, from: u32, n: u32, spinLimit: u32): u32 {
  let slots = ring + 128;
  for (let i = from; i < n; i++) {
    let spins: u32 = 0;
    while (atomic.load<u32>(ring + 64) == i) { // empty: wait for the producer's tail
      if (++spins > spinLimit) return i;
    }
    let p = <usize>load<u32>(slots + (<usize>(i % capacity) << 2));
    atomic.store<u32>(ring, i + 1);
    if (load<u32>(p) != i) unreachable(); // the block must arrive intact
    freeBlock(p);
  }
  return n;
}
