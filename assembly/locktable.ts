// Each thread's lock table: the objects whose mutex it holds, in its record (R_LOCK_TABLE, R_LOCKS_HELD).
//
// The table lets whoever detaches a dead thread release the locks it held (lock.ts releaseLocksOf), lets a thread
// refuse to wait for a lock it already holds (EDEADLK), and lets the free path drop the lock of an object freed by
// the thread that holds it (queue.ts). Entries are bare object addresses, in no order. Only the table's thread
// writes it, or the holder of its rights once it is dead.
//
//   record + R_LOCK_TABLE:  | obj | obj | ... | (R_LOCKS_HELD entries used, at most LOCK_TABLE_SIZE)
//
// Layer 2: imports the instance.

import { LOCK_TABLE_SIZE, R_LOCKS_HELD, R_LOCK_TABLE } from "./layout";
import { myRecord } from "./instance";

@inline export function lockTableEntry(rec: usize, i: u32): usize {
  return rec + R_LOCK_TABLE + (<usize>i << 2);
}

export function rememberLock(obj: usize): void {
  let n = load<u32>(myRecord + R_LOCKS_HELD);
  store<u32>(lockTableEntry(myRecord, n), <u32>obj);
  store<u32>(myRecord + R_LOCKS_HELD, n + 1);
}

/** Removes `obj` from this thread's table; false if it is not there. */
export function forgetLock(obj: usize): bool {
  let n = load<u32>(myRecord + R_LOCKS_HELD);
  for (let i = n; i > 0; i--) { // usually the last one taken
    if (load<u32>(lockTableEntry(myRecord, i - 1)) == <u32>obj) {
      store<u32>(lockTableEntry(myRecord, i - 1), load<u32>(lockTableEntry(myRecord, n - 1)));
      store<u32>(myRecord + R_LOCKS_HELD, n - 1);
      return true;
    }
  }
  return false;
}

export function holdsLock(obj: usize): bool {
  let n = load<u32>(myRecord + R_LOCKS_HELD);
  for (let i: u32 = 0; i < n; i++) if (load<u32>(lockTableEntry(myRecord, i)) == <u32>obj) return true;
  return false;
}

@inline export function lockTableFull(): bool {
  return load<u32>(myRecord + R_LOCKS_HELD) >= LOCK_TABLE_SIZE;
}
