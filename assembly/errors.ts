// Error codes shared by the raw ABI and the TypeScript side (src/errors.ts maps them to BrcError codes and messages).
//
// Calls that return a handle or address return 0 on failure; calls that return i32 return 0 or a code; the code of
// the last failure is kept per thread (brc_last_error, brc_last_error_address). Invariant violations found by the
// debug build trap (wasm `unreachable`) after recording their code here, so the JS side can explain the trap.
//
// Layer 0: imports nothing; its globals (the last error) are per instance like every global.

export const OK: i32 = 0;
export const EINVAL: i32 = 1; // not a handle, bad slot index, bad size
export const EFREED: i32 = 2; // the handle names a freed object
export const ENOMEM: i32 = 3; // the memory maximum is reached
export const ETHREADS: i32 = 4; // every tid is taken
export const EINIT: i32 = 5; // brc_init on a memory that is already initialised
export const ELAYOUT: i32 = 6; // the memory holds no biasrc heap, or one of another layout version
export const ENOTATTACHED: i32 = 7; // this instance has no tid (or the tid named is not attached)
export const EATTACHED: i32 = 8; // this instance already has a tid
export const ENOTLOCKED: i32 = 9; // unlock of an object that is not locked
export const EBUSY: i32 = 10; // brc_try_lock: another thread holds the lock (not recorded as the last error)
export const ELOCKS: i32 = 11; // this thread already holds LOCK_TABLE_SIZE object locks
export const EDEADLK: i32 = 12; // this thread already holds the lock it asks for (waiting would never end)
// a thread did not reach a safe point in time. No call of the core returns it (the core never gives up by itself): it is
// for wrappers that bound their wait for brc_world_poll or brc_thread_stop_state (src/collect.ts, src/lifecycle.ts)
export const ETIMEDOUT: i32 = 13;

// Invariant violations (debug build traps, brc_verify results).
export const E_BIASED_NEGATIVE: i32 = 100; // a decref would take the biased count below zero
export const E_SHARED_NEGATIVE: i32 = 101; // shared count < 0 while the object is not queued
export const E_QUEUED_TWICE: i32 = 102; // an object is in a queue twice, or queued but in no queue
export const E_NOT_OWNER: i32 = 103; // ownership dropped by a thread that does not hold the owner's rights
export const E_DOUBLE_FREE: i32 = 104; // an object freed twice
export const E_MERGED_OWNED: i32 = 105; // MERGED set while a tid still owns the object, or unowned without MERGED
export const E_DEAD_REFERENCE: i32 = 106; // a live object with a total count of zero, or a slot naming a freed object
export const E_PAGE_CORRUPT: i32 = 107; // a page header or free list is inconsistent
export const E_COUNT_MISMATCH: i32 = 108; // live blocks or objects differ from the allocation counters
export const E_LOCK_HELD: i32 = 109; // reserved: no longer reported (an object freed while another thread holds its lock waits for its unlock)
export const E_OWNER_GONE: i32 = 110; // an object owned by a tid that is not attached

let lastError: i32 = 0;
let lastErrorAddress: usize = 0;

export function setError(code: i32, address: usize): i32 {
  lastError = code;
  lastErrorAddress = address;
  return code;
}

/** Records the code, then traps: for states that must never happen, so continuing could corrupt the heap. */
export function fail(code: i32, address: usize): void {
  setError(code, address);
  unreachable();
}

export function getLastError(): i32 {
  return lastError;
}

export function getLastErrorAddress(): usize {
  return lastErrorAddress;
}
