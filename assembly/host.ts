// What the module imports from its host besides the memory: one function, to sleep on a memory word.
//
// Why not wasm's own memory.atomic.wait: in Node 20 (V8 11.3), a memory.atomic.wait that really sleeps can corrupt
// the locals of the function that executes it when that function runs in Liftoff, V8's first tier, which is where
// rarely-run slow paths like ours stay. A loop around the wait then works on garbage (seen here as a thread stuck
// in unparkSelf, CAS-ing a corrupted address). A call to an imported function saves and restores the caller's state
// like any call, so the sleep happens in the host: Atomics.wait in JS (src/wasm.ts), the same futex underneath.
//
//   env.biasrc_wait(address: i32, expected: i32, timeoutMs: i32) -> i32
//     sleeps while the i32 at `address` equals `expected` (timeoutMs < 0: no timeout);
//     returns 0 when woken, 1 if the value differed, 2 on timeout (the results of memory.atomic.wait).
// Waking stays in wasm (atomic.notify), which does not sleep.
//
// Layer 0: imports nothing but the host function itself.

@external("env", "biasrc_wait")
declare function hostWait(address: usize, expected: i32, timeoutMs: i32): i32;

/** Sleeps while the u32 at `address` is `expected`, until notified (atomic.notify). */
export function waitOn(address: usize, expected: u32): i32 {
  return hostWait(address, <i32>expected, -1);
}

/** Sleeps while the u32 at `address` is `expected`, for at most `timeoutMs` milliseconds (< 0: no limit). */
export function waitFor(address: usize, expected: u32, timeoutMs: i32): i32 {
  return hostWait(address, <i32>expected, timeoutMs);
}
