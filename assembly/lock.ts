// The per-object mutex: two bits of the object's link word (LINK_LOCKED, LINK_WAITERS).
//
// A futex mutex like the heap mutex (mutex.ts): take the lock with one CAS, spin a little, then advertise a waiter
// and sleep; unlock wakes one sleeper only if one advertised. Before sleeping the thread parks (park.ts), so that
// other threads merge its queue meanwhile, and asleep it is at a safe point (it may be terminated there).
//
// Layer 7: imports parking, the safe points and the instance.

import { SPIN_LIMIT } from "./config";
import { H_LINK, LINK_LOCKED, LINK_WAITERS, LOCK_TABLE_SIZE, R_LOCKS_HELD, R_LOCK_TABLE } from "./layout";
import { EBUSY, ELOCKS, ENOTLOCKED, setError, OK } from "./errors";
import { canBlockHere, myRecord } from "./instance";
import { enterOp, leaveOp } from "./safepoint";
import { parkSelf, unparkSelf } from "./park";
import { waitOn } from "./host";

// ---- object mutex: LINK_LOCKED and LINK_WAITERS in the header's link word -----------------------------------
// The other bits of the word (queue link, LIVE, ORPHAN) change under other protocols, so every change is a CAS on
// the whole word that keeps them; atomic.wait compares the whole word and just returns early if they moved.
// Each thread lists the objects it holds locked in its record (lock table), so that when a thread dies holding
// locks, whoever detaches it can release them (releaseLocksOf). Hence: unlock only what this thread locked.

@inline function lockTable(rec: usize, i: u32): usize {
  return rec + R_LOCK_TABLE + (<usize>i << 2);
}

function rememberLock(obj: usize): void {
  let n = load<u32>(myRecord + R_LOCKS_HELD);
  store<u32>(lockTable(myRecord, n), <u32>obj);
  store<u32>(myRecord + R_LOCKS_HELD, n + 1);
}

function forgetLock(obj: usize): bool {
  let n = load<u32>(myRecord + R_LOCKS_HELD);
  for (let i = n; i > 0; i--) { // usually the last one taken
    if (load<u32>(lockTable(myRecord, i - 1)) == <u32>obj) {
      store<u32>(lockTable(myRecord, i - 1), load<u32>(lockTable(myRecord, n - 1)));
      store<u32>(myRecord + R_LOCKS_HELD, n - 1);
      return true;
    }
  }
  return false;
}

@inline function tableFull(): bool {
  return load<u32>(myRecord + R_LOCKS_HELD) >= LOCK_TABLE_SIZE;
}

function casLock(obj: usize): bool {
  let w = atomic.load<u32>(obj + H_LINK); // a guess for the CAS below
  // acquire: pairs with the releasing atomic.and in objectUnlock
  return (w & LINK_LOCKED) == 0 && atomic.cmpxchg<u32>(obj + H_LINK, w, w | LINK_LOCKED) == w;
}

/** OK if taken, EBUSY if another thread holds it, ELOCKS if this thread's lock table is full. */
export function objectTryLock(obj: usize): i32 {
  if (tableFull()) return setError(ELOCKS, obj);
  if (!casLock(obj)) return EBUSY;
  rememberLock(obj);
  return OK;
}

/** OK once taken (waiting as long as it takes), or ELOCKS. */
export function objectLock(obj: usize): i32 {
  if (tableFull()) return setError(ELOCKS, obj);
  for (let i = 0; i < SPIN_LIMIT || !canBlockHere(); i++) {
    if (casLock(obj)) {
      rememberLock(obj);
      return OK;
    }
  }
  // Going to sleep: lend this thread's merge rights, so queued objects are merged on our behalf while we wait.
  // Asleep we are outside any operation (a safe point to be terminated); awake we are inside one, and check for a
  // stop request before we can take the lock, so that a lock is never taken without being on record.
  parkSelf();
  let addr = obj + H_LINK;
  while (true) {
    enterOp();
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
    leaveOp();
    waitOn(addr, w); // returns at once if the word moved since we read it (no lost wake-up)
  }
  rememberLock(obj); // before unparkSelf, which may stop us for good: the lock must be on record by then
  unparkSelf();
  return OK;
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
}

/** Detach of a dead thread (its rights held by the caller): releases every lock it still held. Returns how many. */
export function releaseLocksOf(rec: usize): u32 {
  let n = load<u32>(rec + R_LOCKS_HELD);
  for (let i: u32 = 0; i < n; i++) releaseLock(<usize>load<u32>(lockTable(rec, i)));
  store<u32>(rec + R_LOCKS_HELD, 0);
  return n;
}
