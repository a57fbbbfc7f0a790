// The heap mutex: one u32 futex word in the global header (G_HEAP_LOCK), taken for page-level changes.
//
// A futex mutex in the manner of Drepper's "Futexes Are Tricky" (mutex #2): take the lock with one CAS, spin a
// little, then advertise a sleeper and sleep; unlock wakes one sleeper only if one advertised. A woken thread takes
// the lock with the sleeper mark still set, because others may sleep behind it. Wasm atomics are sequentially
// consistent, so the RMW that takes the lock orders the critical section after the previous holder's releasing RMW.
//
//   word: 0 free, 1 locked, 2 locked with sleepers
//
// A browser's main thread may not block: there it spins only (canBlockHere). Sleeping goes through the host
// (host.ts): wasm's own wait is not safe in Node 20's V8.
//
// Layer 2: imports the instance and the host's wait.

import { SPIN_LIMIT } from "./config";
import { GLOBAL_BASE, G_HEAP_LOCK } from "./layout";
import { canBlockHere } from "./instance";
import { waitOn } from "./host";

export function mutexLock(addr: usize): void {
  // acquire: pairs with the xchg in mutexUnlock of the previous holder
  let c = atomic.cmpxchg<u32>(addr, 0, 1);
  if (c == 0) return;
  for (let i = 0; i < SPIN_LIMIT || !canBlockHere(); i++) {
    if (atomic.load<u32>(addr) == 0 && atomic.cmpxchg<u32>(addr, 0, 1) == 0) return; // acquire, as above
  }
  // advertise a sleeper; the xchg also takes the lock if it was released meanwhile (then it returns 0)
  c = atomic.xchg<u32>(addr, 2);
  while (c != 0) {
    waitOn(addr, 2); // sleeps only while the word is still 2: an unlock in between makes it return
    c = atomic.xchg<u32>(addr, 2); // acquire, keeping the sleeper mark for those still asleep
  }
}

export function mutexUnlock(addr: usize): void {
  // release: publishes the critical section's writes to the next holder's acquiring RMW
  if (atomic.xchg<u32>(addr, 0) == 2) atomic.notify(addr, 1);
}

/** The heap lock: page map, page pool, abandoned lists, reclaim lists, page ownership. */
export function lockHeap(): void {
  mutexLock(GLOBAL_BASE + G_HEAP_LOCK);
}

export function unlockHeap(): void {
  mutexUnlock(GLOBAL_BASE + G_HEAP_LOCK);
}
