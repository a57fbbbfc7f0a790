// Safe points: where a thread may be terminated, or held still while a collection scans the heap.
//
// A thread marks the multi-step part of every operation (enterOp / leaveOp). Between operations it touches no
// shared state except through the fast paths (an owner's plain increment or decrement, in wasm or inlined in
// JavaScript), and every fast path first reads the thread's ATTENTION word with one plain load. Two requests use it:
//
// - STOP (termination). worker.terminate() can stop a thread between any two instructions that check for
//   interrupts; inside a multi-step operation that would leave a half-done merge, a held heap lock or a BUSY slot
//   behind. So a terminator first sets STOP (requestStop) and waits (src/lifecycle.ts) until the target either sits
//   blocked at its next boundary (STOPPED) or is seen outside any operation twice, a grace period apart: the in-op
//   mark is a plain store, and x86-TSO drains stores in order, in far less than that period. A terminator that
//   gives up (ETIMEDOUT) withdraws its request (cancelStop): a thread stopped meanwhile resumes where it stopped,
//   and one that never got there never notices (model/collect.pml, STOPPER).
// - PAUSE (a cycle collection, collect.ts). The collector needs every other thread's counts and slots to hold still
//   while it scans. A thread acknowledges by storing PAUSED = 1 and touches nothing until the pause ends: at its
//   next operation boundary (attend, here: it sleeps until PAUSE is cleared), or from its idle event loop
//   (brc_safepoint: it goes on running JavaScript, whose fast paths now see ATTENTION and call in, and block here).
//   The acknowledgement is the epoch the thread read with PAUSE, in the same load: one that arrives late, after its
//   collection ended, names an old epoch and never counts for the next one (found by the model: docs/MODEL.md).
//
//   record line 3:  R_IN_OP (plain, by the thread)   R_ATTENTION (atomic RMW, by others)   R_STOPPED   R_PAUSED
//
// Layer 2: imports the instance and the host's wait.

import {
  ATTENTION_EPOCH_SHIFT, ATTENTION_PAUSE, ATTENTION_STOP, GLOBAL_BASE, G_WORLD, R_ATTENTION, R_IN_OP, R_PAUSED, R_STATE, R_STOPPED,
  STATE_HELPED, STATE_MASK, STATE_PARKED, STOP_ASLEEP, STOP_IN_OP, STOP_OUTSIDE, STOP_STOPPED, WORLD_HELD,
} from "./layout";
import { canBlockHere, myRecord, myTid, recordOf } from "./instance";
import { waitOn } from "./host";

/**
 * Starts the multi-step part of an operation, attending a stop or a pause first. `detaching` (brc_thread_detach_dead
 * only; 0 everywhere else) names the dead thread being detached: a pause that thread asked for itself is not sat out.
 * It was terminated holding the world (between two world calls: each runs inside one operation, so no scan is under
 * way) and would otherwise keep its detacher asleep for good; the detach releases that world (world.ts
 * releaseWorldOf). Not acknowledging keeps us unheld for any later collection, which waits for our next boundary.
 */
@inline export function enterOp(detaching: u32 = 0): void {
  store<u32>(myRecord + R_IN_OP, 1);
  // after our in-op store; see STOP's grace period
  if (atomic.load<u32>(myRecord + R_ATTENTION) != 0) attend(detaching);
}

@inline export function leaveOp(): void {
  store<u32>(myRecord + R_IN_OP, 0);
}

/**
 * An operation boundary in the middle of a wait that holds nothing half done (a lock waiter that may not block, a
 * detacher waiting for borrowed rights): a stop or a pause is attended here, so that a collection never waits for a
 * thread that waits for it. `detaching` as for enterOp.
 */
@inline export function passBoundary(detaching: u32 = 0): void {
  leaveOp();
  enterOp(detaching);
}

/** At an operation boundary with ATTENTION set: stop, or sit out a pause (unless `detaching` asked for it). */
function attend(detaching: u32): void {
  let attention = myRecord + R_ATTENTION;
  while (true) {
    let a = atomic.load<u32>(attention);
    if (a & ATTENTION_STOP) {
      stopHere();
      continue; // the stop was withdrawn: look again (a pause may have been counted on our STOPPED meanwhile)
    }
    if ((a & ATTENTION_PAUSE) == 0) return;
    if (detaching != 0 && (atomic.load<u32>(GLOBAL_BASE + G_WORLD) & ~WORLD_HELD) == detaching) return;
    store<u32>(myRecord + R_IN_OP, 0);
    // The acknowledgement, stored again before every sleep: a new collection may have asked meanwhile.
    // SC store: everything we did happens before the collector's load that sees it.
    atomic.store<u32>(myRecord + R_PAUSED, a >> ATTENTION_EPOCH_SHIFT);
    atomic.notify(GLOBAL_BASE + G_WORLD); // the collector waits there for acknowledgements
    if (canBlockHere()) waitOn(attention, a); // until PAUSE is cleared (the collector notifies)
    if ((atomic.load<u32>(attention) & ATTENTION_PAUSE) != 0) continue;
    // Leaving the pause: withdraw the acknowledgement BEFORE looking at ATTENTION again (both SC). A collector that
    // set PAUSE meanwhile and still saw our old PAUSED = 1 is fine: between the two we touched nothing, and the
    // load below sees its PAUSE and acknowledges again.
    atomic.store<u32>(myRecord + R_PAUSED, 0);
    store<u32>(myRecord + R_IN_OP, 1);
  }
}

/**
 * Called from a thread's idle event loop (brc_safepoint): acknowledges a pause without waiting for its end. True if
 * a pause was acknowledged. From then on this thread's fast paths see ATTENTION and call in, where they wait.
 */
export function acknowledgePause(): bool {
  let a = atomic.load<u32>(myRecord + R_ATTENTION);
  if ((a & ATTENTION_PAUSE) == 0) return false;
  atomic.store<u32>(myRecord + R_PAUSED, a >> ATTENTION_EPOCH_SHIFT); // SC: as in attend
  atomic.notify(GLOBAL_BASE + G_WORLD);
  return true;
}

/**
 * Blocks this thread, outside any operation, until it is terminated or the stop is withdrawn (cancelStop): it
 * sleeps, or spins where it may not block (a browser's main thread, where the host's wait would throw: an exception
 * out of here would run the caller's JavaScript on, past the boundary it was stopped at). Returns inside the
 * operation again, STOPPED withdrawn; the caller must then look at ATTENTION again before it touches anything.
 */
function stopHere(): void {
  let attention = myRecord + R_ATTENTION;
  store<u32>(myRecord + R_IN_OP, 0);
  atomic.store<u32>(myRecord + R_STOPPED, 1); // release: everything we did is visible to the detacher
  atomic.notify(myRecord + R_STOPPED);
  atomic.notify(GLOBAL_BASE + G_WORLD); // a stopped thread counts as held for a collection too
  while (true) { // termination ends it here, or a withdrawn request lets it out
    let a = atomic.load<u32>(attention);
    if ((a & ATTENTION_STOP) == 0) break;
    if (canBlockHere()) waitOn(attention, a);
  }
  // In-op first: a terminator that sees STOPPED = 0 (acquire) then sees IN_OP = 1, never a thread "outside".
  store<u32>(myRecord + R_IN_OP, 1);
  // SC, and BEFORE attend loads ATTENTION again: a collector stores PAUSE, then loads STOPPED (both SC). If it saw
  // our STOPPED = 1 and counted us held, our next load sees its PAUSE and we acknowledge before touching anything;
  // loading first (the value of the loop above) would let us run under its scan (model: broken-resume-order).
  atomic.store<u32>(myRecord + R_STOPPED, 0);
}

/**
 * A detacher of another (dead) thread must not change objects while a collection holds the world: true while one
 * does, other than this thread's and `detached`'s own (a holder that died: its detacher releases the world for it).
 * Read after the detacher took the dead thread's rights (SC); the collector sets WORLD_HELD, then reads every
 * thread's state (world.ts worldPoll), so one of the two sees the other.
 */
export function worldHeldByOther(detached: u32): bool {
  let w = atomic.load<u32>(GLOBAL_BASE + G_WORLD);
  let holder = w & ~WORLD_HELD;
  return (w & WORLD_HELD) != 0 && holder != myTid && holder != detached;
}

/**
 * True from this thread's brc_world_request that returned OK to its brc_world_release: G_WORLD names it, held yet or
 * not. Only that thread writes G_WORLD meanwhile, so the answer cannot change under it.
 */
export function worldRequestedByMe(): bool {
  return myTid != 0 && (atomic.load<u32>(GLOBAL_BASE + G_WORLD) & ~WORLD_HELD) == myTid;
}

/** True while this thread collects with the world held: it then acts as the holder of every thread's rights. */
export function worldHeldByMe(): bool {
  return atomic.load<u32>(GLOBAL_BASE + G_WORLD) == (myTid | WORLD_HELD);
}

/** Sleeps (or spins, where this thread may not block) until no collection holds the world. */
export function waitForWorld(): void {
  let at = GLOBAL_BASE + G_WORLD;
  while (true) {
    let w = atomic.load<u32>(at);
    if ((w & WORLD_HELD) == 0) return;
    if (canBlockHere()) waitOn(at, w);
  }
}

/** Asks `tid` to stop at its next operation boundary. */
export function requestStop(tid: u32): void {
  atomic.or<u32>(recordOf(tid) + R_ATTENTION, ATTENTION_STOP); // SC, then the caller polls R_IN_OP / R_STOPPED
}

/**
 * Withdraws a stop request (a terminator that gave up): the thread resumes if it stopped, and never stops for it
 * otherwise. Only STOP is cleared: a pause set meanwhile stays (model: broken-cancel-clears-pause).
 */
export function cancelStop(tid: u32): void {
  let attention = recordOf(tid) + R_ATTENTION;
  atomic.and<u32>(attention, ~ATTENTION_STOP); // SC; stopHere's loop loads the word after every wake-up
  atomic.notify(attention);
}

/** Where a thread asked to stop is now: one of STOP_OUTSIDE, STOP_IN_OP, STOP_STOPPED, STOP_ASLEEP (layout.ts). */
export function stopState(tid: u32): u32 {
  let rec = recordOf(tid);
  if (atomic.load<u32>(rec + R_STOPPED) != 0) return STOP_STOPPED; // acquire: pairs with stopHere's release
  if (atomic.load<u32>(rec + R_IN_OP) != 0) return STOP_IN_OP; // a plain store on the other side: grace period
  let s = atomic.load<u32>(rec + R_STATE) & STATE_MASK; // parkSelf stores PARKED before it leaves the operation
  return s == STATE_PARKED || s == STATE_HELPED ? STOP_ASLEEP : STOP_OUTSIDE;
}
