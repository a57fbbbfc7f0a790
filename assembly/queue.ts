// Merge queues and the deferred-free list.
//
// A thread that would take an object's shared count below zero instead sets QUEUED (in the same CAS that leaves
// the count alone) and pushes the object onto its owner's queue, handing its reference to the queue. The owner,
// or whoever holds the owner's rights (threads.ts), later pops the whole queue at once and merges each object:
// local + shared - 1 (the queued reference) goes into the shared count, MERGED is set, and the object is freed if
// that total is zero. QUEUED is set by exactly one thread, so an object is in at most one queue, once.
//
// The queue is a Treiber stack linked through the object's own header (bits 4..31 of the link word), so queueing
// never allocates. Many threads push; the rights holder takes the whole stack with one xchg, so there is no ABA.
//
//   record.queue --> obj A --> obj B --> 0          (link word: next | LIVE | WAITERS | LOCKED)

import { H_LINK, H_TID, LINK_BITS, R_QUEUE, R_QUEUED, H_LOCAL, HEADER_SIZE, H_REFS, SLOT_SIZE, SLOT_BUSY } from "./layout";
import { myRecord, recordOf, wakeOrHelp } from "./threads";
import { mergeQueued, decrefAny } from "./refcount";
import { releaseObjectBlock } from "./object";

/** Pushes `obj` (QUEUED just set by the caller) onto the queue of its owner, or merges it if there is none. */
export function enqueue(obj: usize): void {
  store<u64>(myRecord + R_QUEUED, load<u64>(myRecord + R_QUEUED) + 1);
  // QUEUED was set by our CAS before this load, so an owner that later drops ownership does so after seeing it
  let tid = <u32>atomic.load<u16>(obj + H_TID);
  if (tid == 0) {
    // Ownership was dropped (merged or abandoned) around our CAS: the merge kept QUEUED, so nobody will pop
    // this object; apply the queued reference here.
    mergeQueued(obj);
    return;
  }
  let rec = recordOf(tid);
  let head: u32;
  do {
    head = atomic.load<u32>(rec + R_QUEUE); // a guess for the head CAS below
    setLink(obj, head);
    // release: our link store happens before the object is reachable from the head (pairs with drainQueue's xchg)
  } while (atomic.cmpxchg<u32>(rec + R_QUEUE, head, <u32>obj) != head);
  wakeOrHelp(rec, head == 0);
}

/** Sets the queue link, keeping the lock and LIVE bits that other threads change with CAS. */
function setLink(obj: usize, next: u32): void {
  let w: u32;
  do {
    w = atomic.load<u32>(obj + H_LINK);
    // a CAS, not a store: lockers change the low bits of the same word at the same time
  } while (atomic.cmpxchg<u32>(obj + H_LINK, w, (w & LINK_BITS) | next) != w);
}

/** Pops and merges every queued object of `rec`. The caller holds that tid's rights. Returns how many. */
export function drainQueue(rec: usize): i32 {
  let n = 0;
  // acquire: pairs with the pushers' CAS, so their link stores are visible as we walk
  let obj = <usize>atomic.xchg<u32>(rec + R_QUEUE, 0);
  while (obj != 0) {
    let next = <usize>(atomic.load<u32>(obj + H_LINK) & ~LINK_BITS); // read before the merge may free obj
    mergeQueued(obj);
    obj = next;
    n++;
  }
  return n;
}

/** The queue of this thread, for waiting on it (idle owners) and for tests. */
export function queueAddress(tid: u32): usize {
  return recordOf(tid) + R_QUEUE;
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
    let refs = <usize>load<u16>(obj + H_REFS);
    for (let i: usize = 0; i < refs; i++) {
      // nobody else holds a reference, so no load_ref can be in the middle of this slot
      let child = <usize>(atomic.load<u32>(obj + HEADER_SIZE + i * SLOT_SIZE) & ~SLOT_BUSY);
      if (child != 0) decrefAny(child);
    }
    releaseObjectBlock(obj);
  }
  draining = false;
}
