// The thread lifecycle: attach, detach (of oneself, or of a thread that died).
//
// Each thread that uses the heap runs its own instance of this module and attaches once, getting a tid (1..max).
// Every object it allocates carries that tid; the owner alone changes the object's local count, with plain stores.
// The record's state word says who holds that right at this moment:
//
//   FREE --attach--> ACTIVE --park (blocking wait)--> PARKED --helper CAS--> HELPED
//    ^                 |  ^------------unpark-----------'  ^------helper done-----'
//    |               detach (self, or another thread for a dead one)
//    '---- RECLAIMING <'        (also FREE --> RECLAIMING --> FREE: a queuer drains a stale queue)
//
// Only the holder of the rights (the owner when ACTIVE, a helper when HELPED, a detacher when RECLAIMING) may read
// and write local counts, drop ownership, or drain the queue. Every transition is a CAS on the state word, so
// exactly one thread holds the rights at any time. park.ts and queue.ts implement the middle of the diagram.
//
// A detach also frees the blocks of the foreign modules the thread linked (embed.ts): a thread that died cannot, and
// whoever detaches it (the thread that spawned it, or a watchdog) holds its rights here, before the tid is released.
//
// Tid reuse rule: a tid becomes FREE only after its queue is drained and every object it owned has been abandoned
// (merged, tid set to 0). So when a new thread takes the tid, no object names the old thread, and the new thread
// cannot mistake an old object for its own. The generation, bumped at each attach and kept in the state word above
// the state (generation << STATE_GEN_SHIFT | state), tells the two apart: every CAS on the word is exact about
// which incarnation it acts on, so detaching a dead thread can never take a new holder of its tid.
//
// Layer 9: drives everything below it.

import {
  ATTENTION_STOP, GLOBAL_BASE, G_ATTACHED, G_ORPHANS, H_LINK, H_TID, HEAP_OBJECT, PAGE_HEADER_SIZE, P_BLOCK_SIZE,
  LINK_LIVE, LINK_ORPHAN, R_ATTENTION, R_IN_OP, R_LOCKS_HELD, R_STATE, R_STOPPED, STATE_ACTIVE, STATE_FREE,
  STATE_GEN_SHIFT, STATE_HELPED, STATE_MASK, STATE_PARKED, STATE_RECLAIMING,
} from "./layout";
import { EATTACHED, ENOTATTACHED, ETHREADS, OK, setError } from "./errors";
import {
  becomeTid, canBlockHere, dropTid, layoutLoaded, loadLayout, maxThreads, myTid, recordOf,
} from "./instance";
import { lockHeap, unlockHeap } from "./mutex";
import { abandonPagesOf, blocksEnd, nextPageOf, pagesOf } from "./alloc";
import { pageAddress } from "./pages";
import { abandonObject } from "./refcount";
import { drainAndFree, drainFrees, releaseRights } from "./queue";
import { releaseLocksOf } from "./lock";
import { unlinkAll } from "./embed";
import { passBoundary, waitForWorld, worldHeldByOther } from "./safepoint";
import { SP_DETACH_ENTERED, schedulePoint } from "./schedule";
import { releaseWorldOf } from "./world";
import { waitFor } from "./host";

/** Takes the lowest FREE tid. Returns the tid, or 0 with the error recorded. */
export function attachThread(): u32 {
  if (myTid != 0) { setError(EATTACHED, myTid); return 0; }
  if (loadLayout() != OK) return 0;
  for (let tid: u32 = 1; tid <= maxThreads; tid++) {
    let rec = recordOf(tid);
    let s = atomic.load<u32>(rec + R_STATE); // a guess for the CAS
    if ((s & STATE_MASK) != STATE_FREE) continue;
    let generation = ((s >> STATE_GEN_SHIFT) + 1) & (0xffffffff >> STATE_GEN_SHIFT);
    // acquire: the previous holder's detach (its final FREE store) happens before we use the record
    if (atomic.cmpxchg<u32>(rec + R_STATE, s, (generation << STATE_GEN_SHIFT) | STATE_ACTIVE) != s) continue;
    store<u32>(rec + R_IN_OP, 0);
    store<u32>(rec + R_LOCKS_HELD, 0);
    // a new incarnation starts unstopped; we hold the record (ACTIVE), a stale request of the old one is void
    atomic.store<u32>(rec + R_STOPPED, 0);
    atomic.and<u32>(rec + R_ATTENTION, ~ATTENTION_STOP); // not PAUSE: a collection under way asked every record
    atomic.add<u32>(GLOBAL_BASE + G_ATTACHED, 1); // statistics only
    // a collection under way set PAUSE on this record while it was FREE: our first operation acknowledges it
    becomeTid(tid);
    return tid;
  }
  setError(ETHREADS, maxThreads);
  return 0;
}

/** Detaches this thread: its own incarnation of its tid (the caller is inside an operation, holding its rights). */
export function detachSelf(): i32 {
  // we are ACTIVE and hold our rights: only an attach, from FREE, changes the generation
  return detachThread(myTid, atomic.load<u32>(recordOf(myTid) + R_STATE) >> STATE_GEN_SHIFT);
}

/**
 * Detaches incarnation `generation` of `tid`: this thread's own (detachSelf), or a thread known to be dead (a
 * terminated worker: brc_thread_detach_dead). Drains its queue, abandons its objects and pages, then frees the tid.
 * The generation is always compared exactly: no value stands for "any incarnation".
 */
export function detachThread(tid: u32, generation: u32): i32 {
  if (!layoutLoaded()) {
    let e = loadLayout();
    if (e != OK) return e;
  }
  if (tid == 0 || tid > maxThreads) return setError(ENOTATTACHED, tid);
  let rec = recordOf(tid);
  let e = takeRights(tid, generation);
  if (e != OK) return setError(e, tid);
  let dead = tid != myTid;
  releaseWorldOf(tid); // a collector that leaves (or died) holding the world would keep everyone paused
  releaseLocksOf(rec); // a dead thread's locks would stay held forever; a leaving thread's too
  unlinkAll(rec); // the stacks, TLS and last-user libraries of the foreign modules it linked (embed.ts)
  drainAndFree(rec);
  abandonObjectsOf(tid, dead); // merges every live object of tid: tid = 0, MERGED (and ORPHAN if it died)
  drainFrees();
  drainAndFree(rec); // objects queued while we abandoned
  abandonPagesOf(tid);
  atomic.sub<u32>(GLOBAL_BASE + G_ATTACHED, 1); // a statistic: no ordering
  if (!dead) store<u32>(rec + R_IN_OP, 0); // our operation ends before the tid can be someone else's
  releaseRights(rec, STATE_FREE);
  if (!dead) dropTid(); // after the release another thread may take the tid: nothing more under it here
  return OK;
}

/** The longest sleep of a detacher waiting for borrowed rights before it looks at its own attention word again. */
const HELPED_WAIT_MS: i32 = 1;

/**
 * Takes the rights of `tid`'s record from its owner (ourselves) or from a dead owner, of incarnation `generation`,
 * waiting out a helper that borrowed them, and backing off while a collection holds the world. OK, or ENOTATTACHED.
 */
function takeRights(tid: u32, generation: u32): i32 {
  let rec = recordOf(tid);
  schedulePoint(SP_DETACH_ENTERED, rec);
  while (true) {
    let s = atomic.load<u32>(rec + R_STATE); // a guess for the CAS below
    let state = s & STATE_MASK;
    if ((s >> STATE_GEN_SHIFT) != generation) return ENOTATTACHED; // another incarnation: long gone
    if (state == STATE_ACTIVE || state == STATE_PARKED) {
      let taken = (s & ~STATE_MASK) | STATE_RECLAIMING;
      if (atomic.cmpxchg<u32>(rec + R_STATE, s, taken) != s) continue;
      // acquire the rights (SC, then that read: see safepoint.ts); the world held by `tid` itself is ours to release
      if (!worldHeldByOther(tid)) return OK;
      atomic.store<u32>(rec + R_STATE, s); // a collection holds the world: give them back, wait, try again
      waitForWorld();
    } else if (state == STATE_HELPED) {
      // Borrowed: by a helper for a moment, or by a collection until its release, and that collection waits for us
      // (inside our operation, unacknowledged) while we wait for it. So between waits we pass an operation boundary,
      // as a lock waiter that may not block does (lock.ts). We hold nothing yet. The sleep is bounded: a pause
      // changes our attention word, not the word we sleep on.
      passBoundary(tid);
      if (canBlockHere()) waitFor(rec + R_STATE, s, HELPED_WAIT_MS); // the helper notifies when it gives them back
    } else {
      return ENOTATTACHED;
    }
  }
  return OK; // not reached
}

/** Merges every live object that `tid` owns. Frees are scheduled, run by the caller. */
function abandonObjectsOf(tid: u32, orphan: bool): void {
  lockHeap(); // pages cannot change hands or be re-carved while we walk them
  for (let i = nextPageOf(HEAP_OBJECT, tid, 0); i >= 0; i = nextPageOf(HEAP_OBJECT, tid, <u32>i + pagesOf(i))) {
    let page = pageAddress(<u32>i);
    let size = <usize>load<u32>(page + P_BLOCK_SIZE);
    for (let obj = page + PAGE_HEADER_SIZE, end = blocksEnd(page); obj < end; obj += size) {
      // LIVE is stored last when an object is made, and cleared before its block is freed
      if ((atomic.load<u32>(obj + H_LINK) & LINK_LIVE) == 0) continue;
      if (<u32>atomic.load<u16>(obj + H_TID) != tid) continue; // written before LIVE by allocObject, so stable here
      if (orphan) {
        // counted as an orphan while it lives: its owner died, so its own references can never be released
        atomic.or<u32>(obj + H_LINK, LINK_ORPHAN); // an RMW: lock and queue bits of the same word change concurrently
        atomic.add<u32>(GLOBAL_BASE + G_ORPHANS, 1); // a statistic: no ordering
      }
      abandonObject(obj);
    }
  }
  unlockHeap();
}
