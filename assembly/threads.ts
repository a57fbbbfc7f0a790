// Thread registry: tids, the global layout cache, and the rights to a tid's local counts.
//
// Each thread that uses the heap runs its own instance of this module and attaches once, getting a tid (1..max).
// Every object it allocates carries that tid; the owner alone changes the object's local count, with plain stores.
// The record's state word says who holds that right at this moment:
//
//   FREE --attach--> ACTIVE --park (blocking wait)--> PARKED --helper CAS--> HELPED
//    ^                 |  ^------------unpark-----------'  ^------helper done-----'
//    |               detach (self, or the main thread for a dead worker)
//    '---- RECLAIMING <'        (also FREE --> RECLAIMING --> FREE: a queuer drains a stale queue)
//
// Only the holder of the rights (the owner when ACTIVE, a helper when HELPED, a detacher when RECLAIMING) may read
// and write local counts, drop ownership, or drain the queue. Every transition is a CAS on the state word, so
// exactly one thread holds the rights at any time.
//
// Tid reuse rule: a tid becomes FREE only after its queue is drained and every object it owned has been abandoned
// (merged, tid set to 0). So when a new thread takes the tid, no object names the old thread, and the new thread
// cannot mistake an old object for its own. The record's generation, bumped at each attach, tells the two apart
// for the JS side.

import {
  G_ATTACHED, G_INIT, G_MAGIC, G_MAX_THREADS, G_PAGE_MAP, G_PAGES_BASE, G_PAGE_LIMIT, G_RECORDS, G_VERSION,
  G_MEMORY_MAX, G_BUILD_FLAGS, GLOBAL_BASE, GLOBAL_SIZE, INIT_BUSY, INIT_NONE, INIT_READY, LAYOUT_MAGIC,
  LAYOUT_VERSION, MAX_THREADS_LIMIT, PAGE_SHIFT, PAGE_SIZE, RECORD_SIZE, R_GENERATION, R_QUEUE, R_STATE,
  STATE_ACTIVE, STATE_FREE, STATE_HELPED, STATE_PARKED, STATE_RECLAIMING, WASM_MAX_PAGES, CACHE_LINE,
  BUILD_DEBUG, G_PAGE_HIGH, G_FREE_HINT, R_HELPED, R_IN_OP, R_STOP, R_STOPPED, R_LOCKS_HELD, NO_TID,
} from "./layout";
import { DEBUG } from "./config";
import { EATTACHED, EINIT, EINVAL, ELAYOUT, ENOMEM, ENOTATTACHED, ETHREADS, OK, setError } from "./errors";
import { drainQueue, drainFrees } from "./queue";
import { abandonObjectsOf, abandonPagesOf } from "./alloc";
import { canBlockHere, releaseLocksOf } from "./lock";
import { waitOn } from "./host";

// ---- per-instance (thread-local) state ------------------------------------------------------------------------

export let myTid: u32 = 0;
// myTid << 32: the owner check subtracts it from the header's first u64. Without a tid it is NO_TID, which no object
// carries, so an unattached instance can never take the owner's path on an object (tid 0 included).
export let myTidHigh: u64 = <u64>NO_TID << 32;
export let myRecord: usize = 0;

export let recordsBase: usize = 0;
export let pageMapBase: usize = 0;
export let pagesBase: usize = 0;
export let pageLimit: u32 = 0;
export let maxThreads: u32 = 0;

/** Record 0 belongs to no thread: it takes the counters of instances that hold no tid. */
@inline export function recordOf(tid: u32): usize {
  return recordsBase + <usize>tid * RECORD_SIZE;
}

@inline function alignUp(x: usize, a: usize): usize {
  return (x + a - 1) & ~(a - 1);
}

// ---- layout -------------------------------------------------------------------------------------------------

/** Lays the heap out in a fresh memory. Exactly one call succeeds; later ones return EINIT. */
export function initHeap(threads: u32, memoryMaxPages: u32): i32 {
  if (threads == 0 || threads > MAX_THREADS_LIMIT) return setError(EINVAL, threads);
  if (memoryMaxPages == 0 || memoryMaxPages > WASM_MAX_PAGES) return setError(EINVAL, memoryMaxPages);
  let g = GLOBAL_BASE;
  // claims the one initialisation; a loser sees BUSY or READY and must not touch the layout
  if (atomic.cmpxchg<u32>(g + G_INIT, INIT_NONE, INIT_BUSY) != INIT_NONE) return setError(EINIT, 0);

  let records = alignUp(g + GLOBAL_SIZE, CACHE_LINE);
  let pageMap = records + <usize>(threads + 1) * RECORD_SIZE;
  let firstPageAddress = alignUp(pageMap + <usize>memoryMaxPages, PAGE_SIZE);
  let firstPage = <u32>(firstPageAddress >> PAGE_SHIFT);
  if (firstPage >= memoryMaxPages) {
    atomic.store<u32>(g + G_INIT, INIT_NONE); // gives the claim back: nothing was written
    return setError(ENOMEM, firstPageAddress);
  }
  let have = <u32>memory.size();
  if (have < firstPage && memory.grow(firstPage - have) < 0) {
    atomic.store<u32>(g + G_INIT, INIT_NONE); // gives the claim back: nothing was written
    return setError(ENOMEM, firstPageAddress);
  }
  memory.fill(g, 0, firstPageAddress - g);
  store<u32>(g + G_MAGIC, LAYOUT_MAGIC);
  store<u32>(g + G_VERSION, LAYOUT_VERSION);
  store<u32>(g + G_MAX_THREADS, threads);
  store<u32>(g + G_MEMORY_MAX, memoryMaxPages);
  store<u32>(g + G_RECORDS, <u32>records);
  store<u32>(g + G_PAGE_MAP, <u32>pageMap);
  store<u32>(g + G_PAGES_BASE, <u32>firstPageAddress);
  store<u32>(g + G_PAGE_LIMIT, memoryMaxPages - firstPage);
  store<u32>(g + G_PAGE_HIGH, 0);
  store<u32>(g + G_FREE_HINT, 0);
  store<u32>(g + G_BUILD_FLAGS, DEBUG ? BUILD_DEBUG : 0);
  // release: every field above is written before any instance can see READY (pairs with loadLayout's load)
  atomic.store<u32>(g + G_INIT, INIT_READY);
  return OK;
}

/** Reads the layout into this instance's globals; ELAYOUT if the memory holds no heap of this version. */
export function loadLayout(): i32 {
  let g = GLOBAL_BASE;
  // acquire: pairs with the READY store in initHeap
  if (atomic.load<u32>(g + G_INIT) != INIT_READY) return setError(ELAYOUT, g);
  if (load<u32>(g + G_MAGIC) != LAYOUT_MAGIC || load<u32>(g + G_VERSION) != LAYOUT_VERSION) {
    return setError(ELAYOUT, g);
  }
  recordsBase = load<u32>(g + G_RECORDS);
  pageMapBase = load<u32>(g + G_PAGE_MAP);
  pagesBase = load<u32>(g + G_PAGES_BASE);
  pageLimit = load<u32>(g + G_PAGE_LIMIT);
  maxThreads = load<u32>(g + G_MAX_THREADS);
  if (myTid == 0) myRecord = recordOf(0);
  return OK;
}

// ---- attach / detach ----------------------------------------------------------------------------------------

/** Takes the lowest FREE tid. Returns the tid, or 0 with the error recorded. */
export function attachThread(): u32 {
  if (myTid != 0) { setError(EATTACHED, myTid); return 0; }
  if (loadLayout() != OK) return 0;
  for (let tid: u32 = 1; tid <= maxThreads; tid++) {
    let rec = recordOf(tid);
    // acquire: the previous holder's detach (its final FREE store) happens before we use the record
    if (atomic.cmpxchg<u32>(rec + R_STATE, STATE_FREE, STATE_ACTIVE) == STATE_FREE) {
      atomic.add<u32>(rec + R_GENERATION, 1); // read by other threads to tell incarnations apart
      store<u32>(rec + R_IN_OP, 0);
      store<u32>(rec + R_LOCKS_HELD, 0);
      // a new incarnation starts unstopped; we hold the record (ACTIVE), a stale request of the old one is void
      atomic.store<u32>(rec + R_STOPPED, 0);
      atomic.store<u32>(rec + R_STOP, 0);
      atomic.add<u32>(GLOBAL_BASE + G_ATTACHED, 1); // statistics only
      myTid = tid;
      myTidHigh = <u64>tid << 32;
      myRecord = rec;
      return tid;
    }
  }
  setError(ETHREADS, maxThreads);
  return 0;
}

/**
 * Detaches `tid`: this thread's own, or that of a thread known to be dead (a terminated worker).
 * Drains its queue, abandons its objects and pages, then frees the tid.
 */
export function detachThread(tid: u32): i32 {
  if (recordsBase == 0 && loadLayout() != OK) return ELAYOUT;
  if (tid == 0 || tid > maxThreads) return setError(ENOTATTACHED, tid);
  let rec = recordOf(tid);
  // take the rights from the owner (self) or from a dead owner; wait out a helper that borrowed them
  while (true) {
    let s = atomic.load<u32>(rec + R_STATE); // a guess for the CAS below
    if (s == STATE_ACTIVE || s == STATE_PARKED) {
      if (atomic.cmpxchg<u32>(rec + R_STATE, s, STATE_RECLAIMING) == s) break; // acquire the rights
    } else if (s == STATE_HELPED) {
      // the helper notifies when it gives the rights back
      if (canBlockHere()) waitOn(rec + R_STATE, STATE_HELPED);
    } else {
      return setError(ENOTATTACHED, tid);
    }
  }
  let dead = tid != myTid;
  releaseLocksOf(rec); // a dead thread's locks would stay held forever; a leaving thread's too
  drainQueue(rec);
  drainFrees();
  abandonObjectsOf(tid, dead); // merges every live object of tid: tid = 0, MERGED (and ORPHAN if it died)
  drainFrees();
  drainQueue(rec); // objects queued while we abandoned
  drainFrees();
  abandonPagesOf(tid);
  atomic.sub<u32>(GLOBAL_BASE + G_ATTACHED, 1); // a statistic: no ordering
  if (!dead) store<u32>(rec + R_IN_OP, 0); // our operation ends before the tid can be someone else's
  releaseRights(rec, STATE_FREE);
  if (myTid == tid) {
    // after the release another thread may take the tid; this instance does nothing more under it
    myTid = 0;
    myTidHigh = <u64>NO_TID << 32;
    myRecord = recordOf(0);
  }
  return OK;
}

// ---- rights: park, unpark, help ---------------------------------------------------------------------------------

/** Before blocking: lets other threads merge this thread's queue while it sleeps. */
export function parkSelf(): void {
  if (myTid == 0) return;
  drainQueue(myRecord);
  drainFrees();
  // release: our local-count stores happen before a helper's acquiring CAS PARKED -> HELPED
  atomic.store<u32>(myRecord + R_STATE, STATE_PARKED);
  // A push between our drain and the store above saw ACTIVE and only notified, which nobody waits for while we
  // sleep on a lock: look again now that we are PARKED, and merge it ourselves (as a helper would). Found by the
  // model (docs/MODEL.md).
  if (atomic.load<u32>(myRecord + R_QUEUE) != 0) wakeOrHelp(myRecord, false);
  leaveOp(); // asleep and parked is a safe point: we may be terminated here
}

/** After blocking: takes the rights back, waiting while a helper holds them. */
export function unparkSelf(): void {
  if (myTid == 0) return;
  let state = myRecord + R_STATE;
  // acquire: the helper's writes (merged counts) happen before our next local-count access
  enterOp();
  while (atomic.cmpxchg<u32>(state, STATE_PARKED, STATE_ACTIVE) != STATE_PARKED) {
    waitOn(state, STATE_HELPED); // releaseRights notifies after storing PARKED
  }
}

/**
 * Gives the rights back (`to` = PARKED after helping, FREE after detaching), then re-checks the queue: an object
 * pushed after our last drain but before this store would otherwise wait for a merge nobody is going to run.
 * Push-then-check (queue.ts) and store-then-check (here) are both sequentially consistent, so one side sees the other.
 */
export function releaseRights(rec: usize, to: u32): void {
  let held = to == STATE_PARKED ? STATE_HELPED : STATE_RECLAIMING;
  while (true) {
    atomic.store<u32>(rec + R_STATE, to); // release the rights
    if (to == STATE_PARKED) atomic.notify(rec + R_STATE); // the owner may be waiting in unparkSelf
    if (atomic.load<u32>(rec + R_QUEUE) == 0) return; // after our store above: a push we miss sees our release
    if (atomic.cmpxchg<u32>(rec + R_STATE, to, held) != to) return; // someone else holds them now and will drain
    drainQueue(rec);
    drainFrees(); // while we still hold the rights: frees never run under a tid we no longer hold
  }
}

/** Called by a queuer after it pushed onto `rec`'s queue: make sure somebody will merge it. */
export function wakeOrHelp(rec: usize, wasEmpty: bool): void {
  let s = atomic.load<u32>(rec + R_STATE); // after our push (SC): if we miss a release, its re-check sees the push
  if (s == STATE_ACTIVE) {
    // an idle owner waits (Atomics.waitAsync) on its queue word going non-zero
    if (wasEmpty) atomic.notify(rec + R_QUEUE);
  } else if (s == STATE_PARKED) {
    // the owner sleeps inside biasrc: borrow its rights and merge for it (acquire: pairs with parkSelf's store)
    if (atomic.cmpxchg<u32>(rec + R_STATE, STATE_PARKED, STATE_HELPED) == STATE_PARKED) {
      if (DEBUG) store<u64>(myRecord + R_HELPED, load<u64>(myRecord + R_HELPED) + 1);
      drainQueue(rec);
      drainFrees();
      releaseRights(rec, STATE_PARKED);
    }
  } else if (s == STATE_FREE) {
    // the owner is gone: the queue holds only abandoned (MERGED) objects; drain it under RECLAIMING
    if (atomic.cmpxchg<u32>(rec + R_STATE, STATE_FREE, STATE_RECLAIMING) == STATE_FREE) {
      drainQueue(rec);
      drainFrees();
      releaseRights(rec, STATE_FREE);
    }
  }
  // HELPED / RECLAIMING: the holder drains again in releaseRights before letting go
}

// ---- stopping a thread at a safe point --------------------------------------------------------------------------
// worker.terminate() can stop a thread between any two wasm instructions that check for interrupts (function
// entries, loop back-edges). Inside a multi-step operation that would leave a half-done merge, a held heap lock or
// a BUSY slot behind. So a thread marks the multi-step part of every operation (enterOp / leaveOp), and a thread
// that wants to terminate another first asks it to stop (requestStop) and waits (JS side, thread.ts) until the
// target either sits blocked at its next operation boundary (STOPPED) or is seen outside any operation.
// The mark is a plain store; a terminator that sees it clear waits a grace period and looks again, so a store still
// in the target's store buffer is seen (x86-TSO drains stores in order, in far less than the grace period).

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

/**
 * 2: stopped at a boundary; 3: asleep inside biasrc (parked in a lock wait), also a safe point; 1: inside an
 * operation; 0: outside any operation, in its own code (look again after a grace period).
 */
export function stopState(tid: u32): u32 {
  let rec = recordOf(tid);
  if (atomic.load<u32>(rec + R_STOPPED) != 0) return 2; // acquire: pairs with stopHere's release
  if (atomic.load<u32>(rec + R_IN_OP) != 0) return 1; // a plain store on the other side: see the grace period
  let s = atomic.load<u32>(rec + R_STATE); // parkSelf stores PARKED before it leaves the operation
  return s == STATE_PARKED || s == STATE_HELPED ? 3 : 0;
}
