// Locks: the heap mutex (a whole u32) and the per-object mutex (two bits of the object's link word).
//
// Both are futex mutexes in the manner of Drepper's "Futexes Are Tricky" (mutex #2): take the lock with one CAS,
// spin a little, then advertise a waiter and sleep in atomic.wait; unlock wakes one sleeper only if one advertised.
// A woken thread takes the lock with the waiter mark still set, because others may sleep behind it.
// Wasm atomics are sequentially consistent, so the CAS that takes a lock orders the critical section after the
// previous holder's releasing RMW, and that RMW orders the holder's writes before the next owner's reads.
//
// A browser's main thread may not block: there the instance is told (brc_set_can_block(0)) to spin only.

import { SPIN_LIMIT } from "./config";
import { H_LINK, LINK_LOCKED, LINK_WAITERS } from "./layout";
import { ENOTLOCKED, setError, OK } from "./errors";
import { parkSelf, unparkSelf } from "./threads";

let canBlock: bool = true;

export function setCanBlock(value: bool): void {
  canBlock = value;
}

// ---- heap mutex: 0 free, 1 locked, 2 locked with sleepers ------------------------------------------------------

export function mutexLock(addr: usize): void {
  // acquire: pairs with the xchg in mutexUnlock of the previous holder
  let c = atomic.cmpxchg<u32>(addr, 0, 1);
  if (c == 0) return;
  for (let i = 0; i < SPIN_LIMIT || !canBlock; i++) {
    if (atomic.load<u32>(addr) == 0 && atomic.cmpxchg<u32>(addr, 0, 1) == 0) return; // acquire, as above
  }
  // advertise a sleeper; the xchg also takes the lock if it was released meanwhile (then it returns 0)
  c = atomic.xchg<u32>(addr, 2);
  while (c != 0) {
    atomic.wait<i32>(addr, 2);
    c = atomic.xchg<u32>(addr, 2); // acquire, keeping the sleeper mark for those still asleep
  }
}

export function mutexUnlock(addr: usize): void {
  // release: publishes the critical section's writes to the next holder's acquiring RMW
  if (atomic.xchg<u32>(addr, 0) == 2) atomic.notify(addr, 1);
}

// ---- object mutex: LINK_LOCKED and LINK_WAITERS in the header's link word -----------------------------------
// The other bits of the word (queue link, LIVE) change under other protocols, so every change is a CAS on the
// whole word that keeps them; atomic.wait compares the whole word and just returns early if they moved.

export function objectTryLock(obj: usize): bool {
  let w = atomic.load<u32>(obj + H_LINK);
  // acquire: pairs with the releasing atomic.and in objectUnlock
  return (w & LINK_LOCKED) == 0 && atomic.cmpxchg<u32>(obj + H_LINK, w, w | LINK_LOCKED) == w;
}

export function objectLock(obj: usize): void {
  if (objectTryLock(obj)) return;
  for (let i = 0; i < SPIN_LIMIT; i++) {
    if (objectTryLock(obj)) return;
  }
  if (!canBlock) {
    while (!objectTryLock(obj)) {}
    return;
  }
  // Going to sleep: lend this thread's merge rights, so queued objects are merged on our behalf while we wait.
  parkSelf();
  let addr = obj + H_LINK;
  while (true) {
    let w = atomic.load<u32>(addr);
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
    atomic.wait<i32>(addr, <i32>w);
  }
  unparkSelf();
}

export function objectUnlock(obj: usize): i32 {
  // release: the critical section's writes happen before the next locker's acquiring CAS
  let old = atomic.and<u32>(obj + H_LINK, ~(LINK_LOCKED | LINK_WAITERS));
  if ((old & LINK_LOCKED) == 0) return setError(ENOTLOCKED, obj);
  if (old & LINK_WAITERS) atomic.notify(obj + H_LINK, 1);
  return OK;
}
