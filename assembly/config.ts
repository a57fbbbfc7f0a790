// Build configuration: `--use BRC_DEBUG=1` (asconfig.json, target "debug") turns on the invariant checks and the
// fast-path counters. In the release build DEBUG is a constant false and every `if (DEBUG)` block compiles away.
//
// Layer 0: imports nothing.

// @ts-ignore: BRC_DEBUG is defined on the asc command line, or not at all
export const DEBUG: bool = isDefined(BRC_DEBUG);

// Spins before a lock waiter parks in atomic.wait: long enough to ride out a short critical section on another core.
export const SPIN_LIMIT: i32 = 100;
