// The raw ABI: every export of biasrc.wasm. docs/ABI.md documents each call for embedders.
//
// Conventions: handles and addresses are u32 (0 = null / failure); i32 results are 0 (OK) or an error code
// (errors.ts); the last failure's code and address are kept per thread (brc_last_error*). The release build trusts
// its arguments (the TypeScript wrapper validates them in checked mode with brc_validate); the debug build checks
// every handle and traps with the code recorded.
//
// Layer 10, the top: the only file that exports functions from the module. Each export checks its arguments (debug
// build), marks the operation for safe termination (safepoint.ts), and calls one layer below.

import { DEBUG } from "./config";
import {
  HEAP_RAW, R_QUEUE, R_STATE, R_GENERATION, H_SHARED, H_LINK, H_TID, H_LOCAL, LINK_LOCKED, LINK_WAITERS,
  SHARED_FLAGS, SHARED_SHIFT,
} from "./layout";
import { EINVAL, ENOMEM, ENOTATTACHED, OK, fail, getLastError, getLastErrorAddress, setError } from "./errors";
import { layoutLoaded, loadLayout, maxThreads, myRecord, myTid, recordOf, setCanBlock } from "./instance";
import { initHeap } from "./init";
import { enterOp, leaveOp, requestStop, stopState } from "./safepoint";
import { allocBlock, blockSize, freeBlock } from "./alloc";
import { decrefFast, decrefSlow, ownerDelta, ownerWord, immortalize, incref, isImmortal } from "./refcount";
import { drainAndFree, drainFrees, queueAddress } from "./queue";
import {
  allocObject, getRef, loadRef, ownerOf, payloadAddress, payloadSize, slotCount, setRef, validateObject,
  validateSlot,
} from "./object";
import { objectLock, objectTryLock, objectUnlock } from "./lock";
import { attachThread, detachThread } from "./threads";
import { stat } from "./stats";
import { verifyHeap } from "./verify";

export * from "./layout";
export {
  EINVAL, EFREED, ENOMEM, ETHREADS, EINIT, ELAYOUT, ENOTATTACHED, EATTACHED, ENOTLOCKED, EBUSY, ELOCKS,
  E_BIASED_NEGATIVE, E_SHARED_NEGATIVE, E_QUEUED_TWICE, E_NOT_OWNER, E_DOUBLE_FREE, E_MERGED_OWNED,
  E_DEAD_REFERENCE, E_PAGE_CORRUPT, E_COUNT_MISMATCH, E_LOCK_HELD, E_OWNER_GONE,
} from "./errors";
export {
  STAT_LIVE_BLOCKS, STAT_LIVE_BYTES, STAT_PAGES_IN_USE, STAT_MEMORY_BYTES, STAT_THREADS, STAT_LIVE_OBJECTS,
  STAT_OBJECTS_ALLOCATED, STAT_OBJECTS_FREED, STAT_MERGES, STAT_QUEUED, STAT_ORPHANS, STAT_PAGE_HIGH,
  STAT_OWNER_INCREFS, STAT_OWNER_DECREFS, STAT_SHARED_INCREFS, STAT_SHARED_DECREFS, STAT_HELPED_MERGES, STAT_COUNT,
} from "./stats";

// ---- debug-build argument checks ---------------------------------------------------------------------------------

@inline function checkAttached(): void {
  if (DEBUG) {
    if (myTid == 0) fail(ENOTATTACHED, 0);
  }
}

@inline function checkObject(obj: usize): void {
  if (DEBUG) {
    checkAttached();
    let e = validateObject(obj);
    if (e != OK) fail(e, obj);
  }
}

@inline function checkSlot(obj: usize, index: u32): void {
  if (DEBUG) {
    checkObject(obj);
    if (validateSlot(obj, index) != OK) fail(EINVAL, obj);
  }
}

// ---- heap and threads ----------------------------------------------------------------------------------------------

/** Lays out a fresh memory (once); `memoryMaxPages` is the maximum the JS side gave the Memory. */
export function brc_init(maxThreads: u32, memoryMaxPages: u32): i32 {
  return initHeap(maxThreads, memoryMaxPages);
}

/** Checks the memory holds a heap of this layout version and caches its layout (attach does this too). */
export function brc_attach_memory(): i32 {
  return loadLayout();
}

/** Gives this instance a tid (>= 1); 0 on failure (ETHREADS, EATTACHED, ELAYOUT). */
export function brc_thread_attach(): u32 {
  return attachThread();
}

/** Detaches this instance: drains its queue, abandons its objects and pages, frees its tid. */
export function brc_thread_detach(): i32 {
  if (myTid == 0) return setError(ENOTATTACHED, 0);
  enterOp(); // detachThread ends the operation itself, before it gives the tid up
  return detachThread(myTid);
}

/** Detaches a tid whose thread is dead (a terminated worker). Never call it for a thread that may still run. */
export function brc_thread_detach_dead(tid: u32): i32 {
  if (tid == myTid) return setError(EINVAL, tid);
  enterOp();
  let rc = detachThread(tid);
  leaveOp();
  return rc;
}

/** Asks thread `tid` to stop at its next operation boundary, before another thread terminates it. */
export function brc_thread_request_stop(tid: u32): i32 {
  if (!layoutLoaded() || tid == 0 || tid > maxThreads) return setError(ENOTATTACHED, tid);
  requestStop(tid);
  return OK;
}

/** After brc_thread_request_stop: 2 stopped at a boundary, 3 asleep in a lock wait, 1 inside an operation, 0 outside. */
export function brc_thread_stop_state(tid: u32): u32 {
  if (!layoutLoaded() || tid == 0 || tid > maxThreads) return 0;
  return stopState(tid);
}

export function brc_thread_id(): u32 {
  return myTid;
}

export function brc_thread_state(tid: u32): u32 {
  if (!layoutLoaded() || tid == 0 || tid > maxThreads) return 0;
  return atomic.load<u32>(recordOf(tid) + R_STATE); // a snapshot for the caller: no ordering
}

export function brc_thread_generation(tid: u32): u32 {
  if (!layoutLoaded() || tid == 0 || tid > maxThreads) return 0;
  return atomic.load<u32>(recordOf(tid) + R_GENERATION); // a snapshot: no ordering
}

/** 0 on a thread that must not block (a browser's main thread): locks then spin instead of sleeping. */
export function brc_set_can_block(canBlock: i32): void {
  setCanBlock(canBlock != 0);
}

/** The word an idle owner waits on (Atomics.waitAsync for value 0): notified when its queue gets work. */
export function brc_queue_address(tid: u32): usize {
  if (!layoutLoaded() || tid == 0 || tid > maxThreads) return 0;
  return queueAddress(tid);
}

/** Non-zero if this thread's queue holds objects to merge. */
export function brc_queue_pending(): i32 {
  return myTid != 0 && atomic.load<u32>(myRecord + R_QUEUE) != 0 ? 1 : 0; // a snapshot: no ordering
}

// ---- raw blocks -----------------------------------------------------------------------------------------------

/** A 16-byte aligned block of at least `size` bytes, or 0 (ENOMEM). */
export function brc_malloc(size: usize): usize {
  if (myTid == 0) { setError(ENOTATTACHED, 0); return 0; }
  enterOp();
  let block = allocBlock(size, HEAP_RAW);
  leaveOp();
  if (block == 0) setError(ENOMEM, size);
  return block;
}

export function brc_free(block: usize): void {
  checkAttached();
  enterOp();
  freeBlock(block);
  leaveOp();
}

export function brc_usable_size(block: usize): usize {
  return blockSize(block);
}

// ---- objects ----------------------------------------------------------------------------------------------------

/** A new object of `bytes` payload bytes and `slots` null slots, holding one reference for the caller. 0 on failure. */
export function brc_alloc(bytes: usize, slots: u32): usize {
  if (myTid == 0) { setError(ENOTATTACHED, 0); return 0; }
  enterOp();
  let obj = allocObject(bytes, slots);
  leaveOp();
  return obj;
}

export function brc_incref(obj: usize): void {
  checkObject(obj);
  incref(obj);
}

export function brc_decref(obj: usize): void {
  checkObject(obj);
  let w = ownerWord(obj);
  if (decrefFast(obj, w)) return; // one plain store: nothing to guard
  enterOp();
  decrefSlow(obj, ownerDelta(w));
  drainFrees();
  leaveOp();
}

/** Stores `child` (may be 0) in slot `index`, taking a new reference to it and releasing the old one. */
export function brc_set_ref(obj: usize, index: u32, child: usize): void {
  checkSlot(obj, index);
  if (DEBUG && child != 0) checkObject(child);
  enterOp();
  setRef(obj, index, child);
  leaveOp();
}

/** The slot's object, borrowed: valid while the caller keeps `obj` and nobody replaces the slot. */
export function brc_get_ref(obj: usize, index: u32): usize {
  checkSlot(obj, index);
  return getRef(obj, index);
}

/** The slot's object with a new reference for the caller; safe against a concurrent brc_set_ref of the slot. */
export function brc_load_ref(obj: usize, index: u32): usize {
  checkSlot(obj, index);
  enterOp();
  let child = loadRef(obj, index);
  leaveOp();
  return child;
}

/** Takes the object's mutex, waiting as needed: OK, or ELOCKS if this thread already holds LOCK_TABLE_SIZE locks. */
export function brc_lock(obj: usize): i32 {
  return lockCall(obj, LOCK_WAIT);
}

/** OK if the lock was taken, EBUSY if another thread holds it, ELOCKS if this thread holds too many. */
export function brc_try_lock(obj: usize): i32 {
  return lockCall(obj, LOCK_TRY);
}

/** OK, or ENOTLOCKED if this thread does not hold the object's lock. */
export function brc_unlock(obj: usize): i32 {
  return lockCall(obj, LOCK_RELEASE);
}

const LOCK_WAIT = 0;
const LOCK_TRY = 1;
const LOCK_RELEASE = 2;

function lockCall(obj: usize, op: i32): i32 {
  checkObject(obj);
  if (myTid == 0) return setError(ENOTATTACHED, obj); // the lock table is in our record
  enterOp(); // objectLock leaves the operation while it sleeps (parkSelf)
  let rc = op == LOCK_WAIT ? objectLock(obj) : op == LOCK_TRY ? objectTryLock(obj) : objectUnlock(obj);
  leaveOp();
  return rc;
}

export function brc_immortalize(obj: usize): void {
  checkObject(obj);
  immortalize(obj);
}

/** Merges this thread's queue now; returns how many objects it merged. */
export function brc_collect(): i32 {
  if (myTid == 0) return 0;
  enterOp();
  let n = drainAndFree(myRecord);
  leaveOp();
  return n;
}

// ---- inspection -------------------------------------------------------------------------------------------------

/** OK if `obj` names a live object, else EINVAL (not a handle) or EFREED. Never traps. */
export function brc_validate(obj: usize): i32 {
  return validateObject(obj);
}

/** OK if `index` is a slot of the live object `obj`. */
export function brc_validate_slot(obj: usize, index: u32): i32 {
  let e = validateObject(obj);
  return e != OK ? e : validateSlot(obj, index);
}

export function brc_info_owner(obj: usize): u32 {
  return ownerOf(obj);
}

export function brc_info_local(obj: usize): u32 {
  return load<u32>(obj);
}

/** The raw shared word: count << 2 | MERGED (2) | QUEUED (1). */
export function brc_info_shared(obj: usize): i32 {
  return atomic.load<i32>(obj + H_SHARED); // a snapshot for inspection: no ordering
}

export function brc_info_immortal(obj: usize): i32 {
  return isImmortal(obj) ? 1 : 0;
}

export function brc_info_slots(obj: usize): u32 {
  return slotCount(obj);
}

export function brc_info_bytes(obj: usize): usize {
  return payloadSize(obj);
}

export function brc_info_lock(obj: usize): u32 {
  return atomic.load<u32>(obj + H_LINK) & (LINK_LOCKED | LINK_WAITERS); // a snapshot for inspection: no ordering
}

/** Address of the object's payload bytes (after its slots). */
export function brc_payload(obj: usize): usize {
  return payloadAddress(obj);
}

/** Walks the whole heap at a quiescent point; OK or the first error code (address: brc_last_error_address). */
export function brc_verify(): i32 {
  return verifyHeap();
}

export function brc_stat(which: i32): f64 {
  return stat(which);
}

export function brc_last_error(): i32 {
  return getLastError();
}

export function brc_last_error_address(): usize {
  return getLastErrorAddress();
}

export function brc_is_debug(): i32 {
  return DEBUG ? 1 : 0;
}

/**
 * Debug build only (EINVAL in release): overwrites an owned object's local count and the shared count, so tests
 * can reach saturation without four billion increments. Never for production use.
 */
export function brc_debug_set_counts(obj: usize, local: u32, sharedCount: i32): i32 {
  if (!DEBUG) return setError(EINVAL, obj);
  checkObject(obj);
  if (<u32>load<u16>(obj + H_TID) == myTid) store<u32>(obj + H_LOCAL, local);
  // test hook, single-threaded use only: load and store, not a CAS
  let s = atomic.load<i32>(obj + H_SHARED);
  atomic.store<i32>(obj + H_SHARED, (sharedCount << SHARED_SHIFT) | (s & SHARED_FLAGS));
  return OK;
}

/** Does nothing: the baseline for measuring the cost of a JS -> wasm call. */
export function brc_empty(): void {}
