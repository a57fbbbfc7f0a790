// Merge queues, who merges them, and the deferred-free list.
//
// A thread that would take an object's shared count below zero instead sets QUEUED (in the same CAS that leaves
// the count alone) and pushes the object onto its owner's queue, handing its reference to the queue. The owner,
// or whoever holds the owner's rights, later pops the whole queue at once and merges each object: local + shared - 1
// (the queued reference) goes into the shared count, MERGED is set, and the object is freed if that total is zero.
// QUEUED is set by exactly one thread, so an object is in at most one queue, once.
//
// The queue is a Treiber stack linked through the object's own header (bits 4..31 of the link word), so queueing
// never allocates. Many threads push; the rights holder takes the whole stack with one xchg, so there is no ABA.
//
//   record.queue --> obj A --> obj B --> 0          (link word: next | ORPHAN | LIVE | WAITERS | LOCKED)
//
// The rights to a tid's local counts are in its record's state word (threads.ts draws the state machine). Only
// their holder drains the queue: the owner when ACTIVE, a helper when the owner is PARKED (asleep in a lock wait),
// a detacher when the owner is gone. A queuer makes sure somebody will drain (wakeOrHelp), and every holder re-checks
// the queue as it gives the rights back (releaseRights), so no object waits for a merge nobody will run.
//
// Layer 6, with refcount.ts (the one import cycle: see there).

import {
  GEN_SHIFT, GLOBAL_BASE, G_ORPHANS, H_LINK, H_LOCAL, H_SHARED, H_SLOTS, H_TID, GEN_MASK, HEADER_SIZE,
  LINK_BITS, LINK_LOCKED, LINK_ORPHAN, LINK_WAITERS, R_HELPED, R_OBJECTS_FREED, R_QUEUE, R_QUEUED, R_STATE,
  SHARED_WEAK, SLOT_BUSY, SLOT_SIZE, SLOTS_MASK, STATE_ACTIVE, STATE_FREE, STATE_HELPED, STATE_MASK, STATE_PARKED,
  STATE_RECLAIMING,
} from "./layout";
import { DEBUG } from "./config";
import { countStat, recordOf } from "./instance";
import { forgetLock } from "./locktable";
import { freeBlock } from "./alloc";
import { clearWeakCell } from "./weaktable";
import { checkFreeable, decrefAny, mergeQueued } from "./refcount";
import {
  SP_FREE_RELEASED, SP_LINK_LOADED, SP_QUEUE_PUSH, SP_QUEUE_PUSHED, SP_QUEUE_TAKEN, SP_RIGHTS_RELEASED, schedulePoint,
} from "./schedule";

/** Pushes `obj` (QUEUED just set by the caller) onto the queue of its owner, or merges it if there is none. */
export function enqueue(obj: usize): void {
  countStat(R_QUEUED);
  // QUEUED was set by our CAS before this load, so an owner that later drops ownership does so after seeing it
  let tid = <u32>atomic.load<u16>(obj + H_TID);
  if (tid == 0) {
    // Ownership was dropped (merged or abandoned) around our CAS: the merge kept QUEUED, so nobody will pop
    // this object; apply the queued reference here.
    mergeQueued(obj);
    return;
  }
  let rec = recordOf(tid);
  schedulePoint(SP_QUEUE_PUSH, obj);
  let head: u32;
  do {
    head = atomic.load<u32>(rec + R_QUEUE); // a guess for the head CAS below
    setLink(obj, head);
    // release: our link store happens before the object is reachable from the head (pairs with drainQueue's xchg)
  } while (atomic.cmpxchg<u32>(rec + R_QUEUE, head, <u32>obj) != head);
  schedulePoint(SP_QUEUE_PUSHED, obj);
  wakeOrHelp(rec, head == 0);
}

/** Sets the queue link, keeping the lock and LIVE bits that other threads change with CAS. */
function setLink(obj: usize, next: u32): void {
  let w: u32;
  do {
    w = atomic.load<u32>(obj + H_LINK);
    schedulePoint(SP_LINK_LOADED, obj);
    // a CAS, not a store: lockers change the low bits of the same word at the same time
  } while (atomic.cmpxchg<u32>(obj + H_LINK, w, (w & LINK_BITS) | next) != w);
}

/** Pops and merges every queued object of `rec`. The caller holds that tid's rights. Returns how many. */
export function drainQueue(rec: usize): i32 {
  let n = 0;
  // acquire: pairs with the pushers' CAS, so their link stores are visible as we walk
  let obj = <usize>atomic.xchg<u32>(rec + R_QUEUE, 0);
  schedulePoint(SP_QUEUE_TAKEN, obj);
  while (obj != 0) {
    let next = <usize>(atomic.load<u32>(obj + H_LINK) & ~LINK_BITS); // read before the merge may free obj
    mergeQueued(obj);
    obj = next;
    n++;
  }
  return n;
}

/** The word an idle owner waits on (and tests read): the head of `tid`'s queue. */
export function queueAddress(tid: u32): usize {
  return recordOf(tid) + R_QUEUE;
}

// ---- who drains: the rights to a tid's local counts ---------------------------------------------------------------

/**
 * Gives the rights back (`to` = PARKED after helping, FREE after detaching), then re-checks the queue: an object
 * pushed after our last drain but before this store would otherwise wait for a merge nobody is going to run.
 * Push-then-check (enqueue) and store-then-check (here) are both sequentially consistent, so one side sees the other.
 */
export function releaseRights(rec: usize, to: u32): void {
  // we hold the rights, so the generation cannot change under us (only an attach, from FREE, bumps it)
  let generation = atomic.load<u32>(rec + R_STATE) & ~STATE_MASK;
  let released = generation | to;
  let held = generation | (to == STATE_PARKED ? STATE_HELPED : STATE_RECLAIMING);
  while (true) {
    atomic.store<u32>(rec + R_STATE, released); // release the rights
    if (to == STATE_PARKED) atomic.notify(rec + R_STATE); // the owner may be waiting in unparkSelf
    schedulePoint(SP_RIGHTS_RELEASED, rec);
    if (atomic.load<u32>(rec + R_QUEUE) == 0) return; // after our store above: a push we miss sees our release
    // someone else (or a new incarnation of the tid) holds them now and will drain
    if (atomic.cmpxchg<u32>(rec + R_STATE, released, held) != released) return;
    drainAndFree(rec); // while we still hold the rights: frees never run under a tid we no longer hold
  }
}

/** Called by a queuer after it pushed onto `rec`'s queue: make sure somebody will merge it. */
export function wakeOrHelp(rec: usize, wasEmpty: bool): void {
  let s = atomic.load<u32>(rec + R_STATE); // after our push (SC): if we miss a release, its re-check sees the push
  let state = s & STATE_MASK;
  if (state == STATE_ACTIVE) {
    // an idle owner waits (Atomics.waitAsync) on its queue word going non-zero
    if (wasEmpty) atomic.notify(rec + R_QUEUE);
  } else if (state == STATE_PARKED) {
    // the owner sleeps inside biasrc: borrow its rights and merge for it (acquire: pairs with parkSelf's store)
    if (atomic.cmpxchg<u32>(rec + R_STATE, s, (s & ~STATE_MASK) | STATE_HELPED) == s) {
      if (DEBUG) countStat(R_HELPED);
      drainAndFree(rec);
      releaseRights(rec, STATE_PARKED);
    }
  } else if (state == STATE_FREE) {
    // the owner is gone: the queue holds only abandoned (MERGED) objects; drain it under RECLAIMING
    if (atomic.cmpxchg<u32>(rec + R_STATE, s, (s & ~STATE_MASK) | STATE_RECLAIMING) == s) {
      drainAndFree(rec);
      releaseRights(rec, STATE_FREE);
    }
  }
  // HELPED / RECLAIMING: the holder drains again in releaseRights before letting go
}

/** Drains `rec`'s queue and runs the frees it caused. The caller holds that tid's rights. */
export function drainAndFree(rec: usize): i32 {
  let n = drainQueue(rec);
  drainFrees();
  return n;
}

// ---- deferred frees ---------------------------------------------------------------------------------------------
// Freeing an object releases its slots, which can free their children, and so on. Recursing would overflow the wasm
// stack on a long chain, so a freed object is pushed on this thread's pending list (linked through its local count,
// which is dead by then) and the list is drained in a loop at the end of every operation that can free.

let pendingFrees: usize = 0;
let draining: bool = false;

export function scheduleFree(obj: usize): void {
  store<u32>(obj + H_LOCAL, <u32>pendingFrees);
  pendingFrees = obj;
}

export function drainFrees(): void {
  if (draining) return;
  draining = true;
  while (pendingFrees != 0) {
    let obj = pendingFrees;
    pendingFrees = <usize>load<u32>(obj + H_LOCAL);
    let slots = <usize>(<u32>load<u16>(obj + H_SLOTS) & SLOTS_MASK);
    for (let i: usize = 0; i < slots; i++) {
      // nobody else holds a reference, so no load_ref can be in the middle of this slot
      let child = <usize>(atomic.load<u32>(obj + HEADER_SIZE + i * SLOT_SIZE) & ~SLOT_BUSY);
      if (child != 0) decrefAny(child);
    }
    releaseObjectBlock(obj);
  }
  draining = false;
}

/**
 * The last step of freeing an object: its weak cell is cleared, its generation bumped, LIVE cleared, its block
 * given back. If this thread holds the object's lock, the lock goes with it. If another thread holds it (a bug of
 * that thread: it holds no reference), the block is kept, locked, until that thread unlocks it or is detached
 * (lock.ts releaseLock frees it then), so no lock table ever names a block that holds another object.
 */
function releaseObjectBlock(obj: usize): void {
  let ours = forgetLock(obj);
  checkFreeable(obj);
  if (atomic.load<i32>(obj + H_SHARED) & SHARED_WEAK) clearWeakCell(obj); // before anything can reuse the block
  bumpGeneration(obj); // a handle to this object is stale from now on (validation compares generations)
  countStat(R_OBJECTS_FREED);
  let link: u32;
  let kept: u32;
  do {
    link = atomic.load<u32>(obj + H_LINK); // a guess for the CAS: a holder may unlock meanwhile
    kept = ours ? 0 : link & (LINK_LOCKED | LINK_WAITERS);
    // clears LIVE (a stale handle now reads "freed") in the same step that decides who frees the block
  } while (atomic.cmpxchg<u32>(obj + H_LINK, link, kept) != link);
  if (link & LINK_ORPHAN) atomic.sub<u32>(GLOBAL_BASE + G_ORPHANS, 1); // an orphan was freed after all
  if (ours && (link & LINK_WAITERS) != 0) atomic.notify(obj + H_LINK); // waiters on a freed object: a bug; wake them
  if (kept == 0) freeBlock(obj);
  schedulePoint(SP_FREE_RELEASED, obj);
}

@inline function bumpGeneration(obj: usize): void {
  let g = <u32>load<u16>(obj + H_SLOTS) >> GEN_SHIFT;
  store<u16>(obj + H_SLOTS, <u16>(((g + 1) & GEN_MASK) << GEN_SHIFT));
}
