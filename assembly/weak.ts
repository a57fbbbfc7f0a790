// Weak references: make one (weakRef), and turn one back into a strong reference (upgrade).
//
// A weak reference is the number serial * 2^WEAK_INDEX_BITS + cell index (weaktable.ts draws the cells). It holds no
// count. Upgrading it takes the weak lock, finds the cell, and if the cell still names an object (same serial, not
// cleared), tries to take a reference with tryIncref (refcount.ts), which fails when the object's free is already
// decided. The free path clears the cell under the same lock before the block is released, so an upgrade can
// never return an object after its free, nor the object that reuses its block.
//
// Layer 8: imports the weak table and the counts.

import { H_SHARED, SHARED_WEAK, WEAK_INDEX_LIMIT } from "./layout";
import { ENOMEM, setError } from "./errors";
import { tryIncref } from "./refcount";
import { NO_CELL, cellSerial, cellTarget, findCell, lockWeak, newCell, unlockWeak } from "./weaktable";

const INDEX_SCALE: f64 = <f64>WEAK_INDEX_LIMIT; // 2^WEAK_INDEX_BITS

/** A weak reference to `obj` (the caller holds a reference to it): the same number for every call. -1 on ENOMEM. */
export function weakRef(obj: usize): f64 {
  lockWeak();
  let index = findCell(obj);
  if (index == NO_CELL) {
    index = newCell(obj);
    if (index == NO_CELL) {
      unlockWeak();
      setError(ENOMEM, obj);
      return -1;
    }
    // from now on the shared word is never 0, so the owner's last release takes the CAS path (refcount.ts)
    atomic.or<i32>(obj + H_SHARED, SHARED_WEAK);
  }
  let weak = <f64>cellSerial(index) * INDEX_SCALE + <f64>index;
  unlockWeak();
  return weak;
}

/** A new reference to the object `weak` names (its handle), or 0 if it was freed (or `weak` names nothing). */
export function upgrade(weak: f64): usize {
  if (!(weak >= 0) || weak != floor<f64>(weak) || weak >= 9007199254740992.0) return 0; // not a weak reference
  let serial = floor<f64>(weak / INDEX_SCALE);
  let index = <u32>(weak - serial * INDEX_SCALE);
  lockWeak();
  let obj = serial < 4294967296.0 ? cellTarget(index, <u32>serial) : 0;
  let result: usize = obj != 0 && tryIncref(obj) ? obj : 0;
  unlockWeak();
  return result;
}
