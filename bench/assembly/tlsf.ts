// Baseline for the alloc suite: AssemblyScript's own allocator (TLSF, from `--runtime incremental`), single-threaded
// in its own private memory. The loops have exactly the shape of alloc_pairs / alloc_batch in loops.ts.

export function alloc_pairs(size: usize, n: u32): void {
  for (let i: u32 = 0; i < n; i++) {
    let p = heap.alloc(size);
    store<u32>(p, i);
    heap.free(p);
  }
}

export function alloc_batch(scratch: usize, batch: u32, sizes: u32, rounds: u32): void {
  for (let r: u32 = 0; r < rounds; r++) {
    for (let i: u32 = 0; i < batch; i++) {
      let p = heap.alloc(<usize>((i % sizes) + 1) << 4);
      store<u32>(p, i);
      store<u32>(scratch + (<usize>i << 2), <u32>p);
    }
    for (let i: u32 = 0; i < batch; i++) heap.free(<usize>load<u32>(scratch + (<usize>i << 2)));
  }
}

/** Scratch space for alloc_batch's pointers, from the same allocator. */
export function scratch(bytes: usize): usize {
  return heap.alloc(bytes);
}
