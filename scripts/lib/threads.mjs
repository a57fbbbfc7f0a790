// Helpers shared by the test and benchmark workers: a barrier so that threads really start together, and a seeded
// PRNG so that a run can be replayed.

/**
 * Sense-reversing barrier over an Int32Array [count, generation] in shared memory, for `parties` threads: each call
 * blocks (Atomics.wait) until all of them have called it.
 */
export function barrier(b, parties) {
  const generation = Atomics.load(b, 1);
  if (Atomics.add(b, 0, 1) === parties - 1) {
    Atomics.store(b, 0, 0);
    Atomics.add(b, 1, 1);
    Atomics.notify(b, 1);
  } else {
    while (Atomics.load(b, 1) === generation) Atomics.wait(b, 1, generation);
  }
}

/** mulberry32: a small, fast, deterministic PRNG; rng(seed)() returns a number in [0, 1). */
export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
