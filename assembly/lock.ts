// The per-object mutex: two bits of the object's link word (LINK_LOCKED, LINK_WAITERS).
//
// A futex mutex like the heap mutex (mutex.ts): take the lock with one CAS, spin a little, then advertise a waiter
// and sleep; unlock wakes one sleeper only if one advertised. The other bits of the word (queue link, LIVE,
// ORPHAN) change under other protocols, so every change is a CAS on the whole word that keeps them; the wait
// compares the whole word and just returns early if they moved.
//
// Before sleeping the thread parks (park.ts): other threads merge its queue meanwhile, a collection may borrow its
// rights, and asleep it is at a safe point (it may be terminated there). It touches the lock word again only after
// unparking, so a thread whose rights are borrowed changes nothing. A thread that may not block (a browser's main
// thread) never parks: it spins, and between tries it passes an operation boundary, where it acknowledges a pause
// (and spins there until the pause ends) or stops; otherwise a collection would wait for it, while it waits for a
// holder that the collection has paused, until the collector's timeout (docs/MODEL.md, broken-spin-no-ack).
//
// Each thread lists the locks it holds (locktable.ts): locking one it holds is EDEADLK at once (the wait would
// never end), and whoever detaches a dead thread releases its locks. An object freed while another thread holds
// its lock (a bug of that thread: it holds no reference) keeps its block until that lock is released (queue.ts).
//
// Layer 8: imports parking, the lock table, the safe points and the allocator (to free such a block).

import { SPIN_LIMIT } from "./config";
import { H_LINK, LINK_LIVE, LINK_LOCKED, LINK_WAITERS, R_LOCKS_HELD } from "./layout";
import { EBUSY, EDEADLK, ELOCKS, ENOTLOCKED, setError, OK } from "./errors";
import { canBlockHere } from "./instance";
import { forgetLock, holdsLock, lockTableEntry, lockTableFull, rememberLock } from "./locktable";
import { freeBlock } from "./alloc";
import { parkSelf, unparkSelf } from "./park";
import { passBoundary } from "./safepoint";
import { waitOn } from "./host";

function casLock(obj: usize): bool {
  let w = atomic.load<u32>(obj + H_LINK); // a guess for the CAS below
  // acquire: pairs with the releasing atomic.and in releaseLock
  return (w & LINK_LOCKED) == 0 && atomic.cmpxchg<u32>(obj + H_LINK, w, w | LINK_LOCKED) == w;
}

/** EDEADLK if this thread holds the lock already, ELOCKS if its table is full, else OK. */
function mayLock(obj: usize): i32 {
  if (holdsLock(obj)) return setError(EDEADLK, obj);
  if (lockTableFull()) return setError(ELOCKS, obj);
  return OK;
}

/** OK if taken, EBUSY if a thread holds it (this one too, as glibc's error-checking mutexes), ELOCKS (table full). */
export function objectTryLock(obj: usize): i32 {
  if (holdsLock(obj)) return EBUSY;
  if (lockTableFull()) return setError(ELOCKS, obj);
  if (!casLock(obj)) return EBUSY;
  rememberLock(obj);
  return OK;
}

/** OK once taken (waiting as long as it takes), EDEADLK or ELOCKS. Called inside an operation. */
export function objectLock(obj: usize): i32 {
  let e = mayLock(obj);
  if (e != OK) return e;
  for (let i = 0; i < SPIN_LIMIT || !canBlockHere(); i++) {
    if (casLock(obj)) {
      rememberLock(obj);
      return OK;
    }
    if (!canBlockHere()) {
      // spinning for as long as the lock is held: an operation boundary between tries (nothing is half done here,
      // and we hold our rights), so a pause is acknowledged as a parked waiter counts as held
      passBoundary();
    }
  }
  let addr = obj + H_LINK;
  while (true) {
    // here we hold our rights (ACTIVE) and are inside the operation
    let w = atomic.load<u32>(addr); // a guess for the CASes below
    if ((w & LINK_LOCKED) == 0) {
      // acquire with the sleeper mark: others may be asleep behind us
      if (atomic.cmpxchg<u32>(addr, w, w | LINK_LOCKED | LINK_WAITERS) == w) break;
      continue;
    }
    if ((w & LINK_WAITERS) == 0) {
      // advertise; orders before our wait so the holder's unlock sees the mark and notifies
      if (atomic.cmpxchg<u32>(addr, w, w | LINK_WAITERS) != w) continue;
      w |= LINK_WAITERS;
    }
    parkSelf(); // lends our rights and leaves the operation: a safe point while we sleep
    waitOn(addr, w); // returns at once if the word moved since we read it (no lost wake-up)
    unparkSelf(); // takes the rights back (after any borrower) and enters the operation again
  }
  rememberLock(obj);
  return OK;
}

/**
 * For a waiter that sleeps outside wasm (Atomics.waitAsync: an async critical section, src/locks.ts): 0 if the lock
 * is free now (try again), else the link word with LINK_WAITERS set, to wait on until it changes (the holder's
 * unlock notifies, since WAITERS is set). Called inside an operation (index.ts): its CAS writes the link word.
 */
export function lockWaitWord(obj: usize): u32 {
  while (true) {
    let w = atomic.load<u32>(obj + H_LINK); // a guess for the CAS below
    if ((w & LINK_LOCKED) == 0) return 0;
    if ((w & LINK_WAITERS) != 0) return w;
    // advertise a waiter, as objectLock does before it sleeps
    if (atomic.cmpxchg<u32>(obj + H_LINK, w, w | LINK_WAITERS) == w) return w | LINK_WAITERS;
  }
  return 0; // not reached
}

/** OK, or ENOTLOCKED if this thread does not hold the object's lock. */
export function objectUnlock(obj: usize): i32 {
  if (!forgetLock(obj)) return setError(ENOTLOCKED, obj);
  releaseLock(obj);
  return OK;
}

function releaseLock(obj: usize): void {
  // release: the critical section's writes happen before the next locker's acquiring CAS
  let old = atomic.and<u32>(obj + H_LINK, ~(LINK_LOCKED | LINK_WAITERS));
  if (old & LINK_WAITERS) atomic.notify(obj + H_LINK, 1); // after the release above: the woken thread sees it free
  if ((old & LINK_LIVE) == 0) freeBlock(obj); // the object was freed while we held it: its block waited for us
}

/** Detach of a dead thread (its rights held by the caller): releases every lock it still held. Returns how many. */
export function releaseLocksOf(rec: usize): u32 {
  let n = load<u32>(rec + R_LOCKS_HELD);
  for (let i: u32 = 0; i < n; i++) releaseLock(<usize>load<u32>(lockTableEntry(rec, i)));
  store<u32>(rec + R_LOCKS_HELD, 0);
  return n;
}
