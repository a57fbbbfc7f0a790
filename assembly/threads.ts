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
// Tid reuse rule: a tid becomes FREE only after its queue is drained and every object it owned has been abandoned
// (merged, tid set to 0). So when a new thread takes the tid, no object names the old thread, and the new thread
// cannot mistake an old object for its own. The record's generation, bumped at each attach, tells the two apart
// for the JS side.
//
// Layer 8: drives everything below it.

import {
  GLOBAL_BASE, G_ATTACHED, G_ORPHANS, H_LINK, H_TID, HEAP_OBJECT, LINK_LIVE, LINK_ORPHAN, R_GENERATION, R_IN_OP,
  R_LOCKS_HELD, R_STATE, R_STOP, R_STOPPED, STATE_ACTIVE, STATE_FREE, STATE_HELPED, STATE_PARKED,
  STATE_RECLAIMING,
} from "./layout";
import { EATTACHED, ENOTATTACHED, ETHREADS, OK, setError } from "./errors";
import {
  becomeTid, canBlockHere, dropTid, layoutLoaded, loadLayout, maxThreads, myTid, recordOf,
} from "./instance";
import { lockHeap, unlockHeap } from "./mutex";
import { abandonPagesOf, nextBlock } from "./alloc";
import { abandonObject } from "./refcount";
import { drainAndFree, drainFrees, releaseRights } from "./queue";
import { releaseLocksOf } from "./lock";
import { waitOn } from "./host";

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
      becomeTid(tid);
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
  if (!layoutLoaded()) {
    let e = loadLayout();
    if (e != OK) return e;
  }
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

/** Merges every live object that `tid` owns. Frees are scheduled, run by the caller. */
function abandonObjectsOf(tid: u32, orphan: bool): void {
  lockHeap(); // pages cannot change hands or be re-carved while we walk them
  for (let obj = nextBlock(HEAP_OBJECT, tid, 0); obj != 0; obj = nextBlock(HEAP_OBJECT, tid, obj)) {
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
  unlockHeap();
}
