// Stopping a thread at a safe point, so that terminating it never leaves a half-done operation behind.
//
// worker.terminate() can stop a thread between any two wasm instructions that check for interrupts (function
// entries, loop back-edges). Inside a multi-step operation that would leave a half-done merge, a held heap lock or
// a BUSY slot behind. So a thread marks the multi-step part of every operation (enterOp / leaveOp), and a thread
// that wants to terminate another first asks it to stop (requestStop) and waits (JS side, src/lifecycle.ts) until
// the target either sits blocked at its next operation boundary (STOPPED) or is seen outside any operation.
// The mark is a plain store; a terminator that sees it clear waits a grace period and looks again, so a store still
// in the target's store buffer is seen (x86-TSO drains stores in order, in far less than the grace period).
//
//   record line 3:  R_IN_OP (plain, by the thread)   R_STOP (atomic, by the terminator)   R_STOPPED (atomic)
//
// Layer 2: imports the instance and the host's wait.

import {
  R_IN_OP, R_STATE, R_STOP, R_STOPPED, STATE_HELPED, STATE_PARKED, STOP_ASLEEP, STOP_IN_OP, STOP_OUTSIDE,
  STOP_STOPPED,
} from "./layout";
import { myRecord, recordOf } from "./instance";
import { waitOn } from "./host";

@inline export function enterOp(): void {
  store<u32>(myRecord + R_IN_OP, 1);
  if (atomic.load<u32>(myRecord + R_STOP) != 0) stopHere(); // after our in-op store; see the grace period above
}

@inline export function leaveOp(): void {
  store<u32>(myRecord + R_IN_OP, 0);
}

/** Blocks this thread for good, outside any operation, until it is terminated. */
function stopHere(): void {
  store<u32>(myRecord + R_IN_OP, 0);
  atomic.store<u32>(myRecord + R_STOPPED, 1); // release: everything we did is visible to the detacher
  atomic.notify(myRecord + R_STOPPED);
  while (true) waitOn(myRecord + R_STOP, 1); // never woken for good: termination ends it
}

/** Asks `tid` to stop at its next operation boundary. */
export function requestStop(tid: u32): void {
  atomic.store<u32>(recordOf(tid) + R_STOP, 1); // SC store, then the caller polls R_IN_OP / R_STOPPED
}

/** Where a thread asked to stop is now: one of STOP_OUTSIDE, STOP_IN_OP, STOP_STOPPED, STOP_ASLEEP (layout.ts). */
export function stopState(tid: u32): u32 {
  let rec = recordOf(tid);
  if (atomic.load<u32>(rec + R_STOPPED) != 0) return STOP_STOPPED; // acquire: pairs with stopHere's release
  if (atomic.load<u32>(rec + R_IN_OP) != 0) return STOP_IN_OP; // a plain store on the other side: grace period
  let s = atomic.load<u32>(rec + R_STATE); // parkSelf stores PARKED before it leaves the operation
  return s == STATE_PARKED || s == STATE_HELPED ? STOP_ASLEEP : STOP_OUTSIDE;
}
