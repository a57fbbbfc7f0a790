// The raw ABI: every export of biasrc.wasm. docs/ABI.md documents each call for embedders.
//
// Conventions: handles (object addresses) and block addresses are u32 (0 = null / failure); i32 results are 0 (OK)
// or an error code (errors.ts); the last failure's code and address are kept per thread (brc_last_error*). The
// release build trusts its arguments (the TypeScript wrapper validates them in checked mode, with the object's
// generation: brc_info_generation); the debug build checks every handle and traps with the code recorded.
//
// Layer 11, the top: the only file that exports functions from the module. Each export checks its arguments (debug
// build), marks the operation for safe points (safepoint.ts), and calls one layer below.
//
// The rule that makes a pause hold (world.ts, collect.ts, docs/MODEL.md finding 8): every export that writes shared
// object state (counts, slots, link words, the heap, weak cells) or a record other than its own acknowledgement passes
// an operation boundary first (enterOp; the fast paths load ATTENTION and call enterOp when it is set), where a pause
// or a stop is attended; and a wait inside an operation either parks (a collection borrows the rights) or passes a
// boundary between tries (passBoundary: lock.ts, threads.ts). Reads (brc_get_ref, brc_info_*, brc_validate*,
// brc_holds_lock, brc_stat, brc_verify) and pure address computations need no boundary. The exceptions, each argued
// where it is: brc_thread_attach (a pause set on the free record is kept, and the first operation attends it),
// brc_thread_request_stop and brc_thread_cancel_stop (RMWs of another record's STOP bit, which the collector's CAS
// keeps), brc_safepoint (the acknowledgement itself), and the world calls of the thread that holds the world (nobody
// pauses it; brc_world_request, brc_collect_cycles and brc_merge_queues enter an operation anyway).

import { DEBUG } from "./config";
import {
  GEN_SHIFT, HEAP_RAW, H_SLOTS, H_LINK, H_LOCAL, H_SHARED, H_TID, LINK_LOCKED, LINK_WAITERS,
  R_ATTENTION, R_QUEUE, R_STATE, SHARED_FLAGS, SHARED_SHIFT, STATE_GEN_SHIFT, STATE_MASK,
} from "./layout";
import { EBUSY, EINVAL, ENOMEM, ENOTATTACHED, OK, fail, getLastError, getLastErrorAddress, setError } from "./errors";
import { layoutLoaded, loadLayout, maxThreads, myRecord, myTid, recordOf, setCanBlock } from "./instance";
import { initHeap } from "./init";
import {
  acknowledgePause, cancelStop, enterOp, leaveOp, requestStop, stopState, worldHeldByMe, worldRequestedByMe,
} from "./safepoint";
import { allocBlock, blockSize, freeBlock } from "./alloc";
import { decrefAny, decrefFast, decrefUnlessLast, ownerWord, immortalize, incref, isImmortal } from "./refcount";
import { drainAndFree, drainFrees, queueAddress } from "./queue";
import {
  allocObject, casRef, getRef, loadRef, ownerOf, payloadAddress, payloadSize, slotCount, setRef, validateObject,
  validateSlot,
} from "./object";
import { holdsLock } from "./locktable";
import { lockWaitWord, objectLock, objectTryLock, objectUnlock } from "./lock";
import { upgrade, weakRef } from "./weak";
import { attachThread, detachSelf, detachThread } from "./threads";
import {
  allocAligned, freeContaining, isLinkOf, joinLibrary, dropLibrary, linkThread, linkTls, newLibrary, unlinkThread,
} from "./embed";
import { collectCycles, drainEveryQueue, notePause } from "./collect";
import { worldPoll, worldRelease, worldRequest } from "./world";
import { stat } from "./stats";
import { verifyHeap } from "./verify";

export * from "./layout";
export {
  EINVAL, EFREED, ENOMEM, ETHREADS, EINIT, ELAYOUT, ENOTATTACHED, EATTACHED, ENOTLOCKED, EBUSY, ELOCKS, EDEADLK,
  ETIMEDOUT, E_BIASED_NEGATIVE, E_SHARED_NEGATIVE, E_QUEUED_TWICE, E_NOT_OWNER, E_DOUBLE_FREE, E_MERGED_OWNED,
  E_DEAD_REFERENCE, E_PAGE_CORRUPT, E_COUNT_MISMATCH, E_LOCK_HELD, E_OWNER_GONE,
} from "./errors";
export {
  STAT_LIVE_BLOCKS, STAT_LIVE_BYTES, STAT_PAGES_IN_USE, STAT_MEMORY_BYTES, STAT_THREADS, STAT_LIVE_OBJECTS,
  STAT_OBJECTS_ALLOCATED, STAT_OBJECTS_FREED, STAT_MERGES, STAT_QUEUED, STAT_ORPHANS, STAT_PAGE_HIGH,
  STAT_OWNER_INCREFS, STAT_OWNER_DECREFS, STAT_SHARED_INCREFS, STAT_SHARED_DECREFS, STAT_HELPED_MERGES,
  STAT_COLLECTIONS, STAT_COLLECTED_SCANNED, STAT_COLLECTED_FREED, STAT_LONGEST_PAUSE_US,
  STAT_ALLOCATIONS_SINCE_COLLECTION, STAT_WEAK_CELLS, STAT_COUNT,
} from "./stats";

// ---- debug-build argument checks ---------------------------------------------------------------------------------

@inline function checkAttached(): void {
  if (DEBUG) {
    if (myTid == 0) fail(ENOTATTACHED, 0);
  }
}

@inline function checkObject(handle: usize): void {
  if (DEBUG) {
    checkAttached();
    let e = validateObject(handle);
    if (e != OK) fail(e, handle);
  }
}

@inline function checkSlot(handle: usize, index: u32): void {
  if (DEBUG) {
    checkObject(handle);
    if (validateSlot(handle, index) != OK) fail(EINVAL, handle);
  }
}

@inline function inRange(tid: u32): bool {
  return layoutLoaded() && tid != 0 && tid <= maxThreads;
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

/** Detaches this instance: releases its locks, drains its queue, abandons its objects and pages, frees its tid. */
export function brc_thread_detach(): i32 {
  if (myTid == 0) return setError(ENOTATTACHED, 0);
  enterOp(); // detachThread ends the operation itself, before it gives the tid up
  return detachSelf();
}

/**
 * Detaches incarnation `generation` of tid `tid`, whose thread is dead (a terminated worker): ENOTATTACHED if the
 * tid is free or held by another incarnation by now (every generation is compared: 0xffffffff matches none). Never
 * call it for a thread that may still run.
 */
export function brc_thread_detach_dead(tid: u32, generation: u32): i32 {
  if (tid == myTid) return setError(EINVAL, tid);
  enterOp(tid); // a pause `tid` asked for is not sat out: it died holding the world, we end it
  let rc = detachThread(tid, generation);
  leaveOp();
  return rc;
}

/** Asks thread `tid` to stop at its next operation boundary, before another thread terminates it. */
export function brc_thread_request_stop(tid: u32): i32 {
  if (!inRange(tid)) return setError(ENOTATTACHED, tid);
  requestStop(tid);
  return OK;
}

/**
 * Withdraws brc_thread_request_stop (a terminator that gave up waiting): a thread stopped at a boundary resumes
 * there, and one that had not got there yet goes on as if never asked.
 */
export function brc_thread_cancel_stop(tid: u32): i32 {
  if (!inRange(tid)) return setError(ENOTATTACHED, tid);
  cancelStop(tid);
  return OK;
}

/** After brc_thread_request_stop: STOP_STOPPED, STOP_ASLEEP, STOP_IN_OP or STOP_OUTSIDE (layout.ts). */
export function brc_thread_stop_state(tid: u32): u32 {
  if (!inRange(tid)) return 0;
  return stopState(tid);
}

export function brc_thread_id(): u32 {
  return myTid;
}

/** The state of `tid`'s record: STATE_FREE .. STATE_RECLAIMING. */
export function brc_thread_state(tid: u32): u32 {
  if (!inRange(tid)) return 0;
  return atomic.load<u32>(recordOf(tid) + R_STATE) & STATE_MASK; // a snapshot for the caller: no ordering
}

/** The incarnation of `tid`: bumped at every attach (the state word's upper bits). */
export function brc_thread_generation(tid: u32): u32 {
  if (!inRange(tid)) return 0;
  return atomic.load<u32>(recordOf(tid) + R_STATE) >> STATE_GEN_SHIFT; // a snapshot: no ordering
}

/** 0 on a thread that must not block (a browser's main thread): locks then spin instead of sleeping. */
export function brc_set_can_block(canBlock: i32): void {
  setCanBlock(canBlock != 0);
}

/** The word an idle owner waits on (Atomics.waitAsync for value 0): notified when its queue gets work. */
export function brc_queue_address(tid: u32): usize {
  if (!inRange(tid)) return 0;
  return queueAddress(tid);
}

/** The word every fast path of `tid` reads first (ATTENTION_STOP | ATTENTION_PAUSE): JS inlines the fast path. */
export function brc_attention_address(tid: u32): usize {
  if (!inRange(tid)) return 0;
  return recordOf(tid) + R_ATTENTION;
}

/** Non-zero if this thread's queue holds objects to merge. */
export function brc_queue_pending(): i32 {
  return myTid != 0 && atomic.load<u32>(myRecord + R_QUEUE) != 0 ? 1 : 0; // a snapshot: no ordering
}

/**
 * For a thread's idle event loop: acknowledges a pause a collection asked for, without waiting for it to end.
 * 1 if it did: until the pause ends, every call that writes shared state waits at its operation boundary (and an
 * inlined fast path sees ATTENTION and calls in, to wait there too); only reads run. Else 0.
 */
export function brc_safepoint(): i32 {
  return myTid != 0 && acknowledgePause() ? 1 : 0;
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

/** A raw block of at least `size` bytes at a multiple of `align` (a power of two up to PAGE_SIZE), or 0 (EINVAL, ENOMEM). */
export function brc_malloc_aligned(size: usize, align: usize): usize {
  if (myTid == 0) { setError(ENOTATTACHED, 0); return 0; }
  enterOp();
  let p = allocAligned(size, align);
  leaveOp();
  return p;
}

/** Frees the raw block that contains `p` (a brc_malloc_aligned result, or any brc_malloc block); 0 is ignored. */
export function brc_free_aligned(p: usize): void {
  checkAttached();
  if (p == 0) return;
  enterOp();
  let rc = freeContaining(p);
  leaveOp();
  if (DEBUG && rc != OK) fail(EINVAL, p);
}

// ---- foreign modules (embed.ts): what the loader of src/link.ts asks for ------------------------------------------

/** A library: its record (one user: the caller) and its data block, zeroed; the record's address, or 0 (ENOMEM). */
export function brc_library_new(dataBytes: usize, dataAlign: usize): usize {
  if (myTid == 0) { setError(ENOTATTACHED, 0); return 0; }
  enterOp();
  let lib = newLibrary(dataBytes, dataAlign);
  leaveOp();
  return lib;
}

/** One more user of a library another thread made: OK, or EINVAL once every thread let it go. */
export function brc_library_join(library: usize): i32 {
  if (myTid == 0) return setError(ENOTATTACHED, 0);
  enterOp();
  let rc = joinLibrary(library);
  leaveOp();
  return rc;
}

/** One user fewer (a link that failed before brc_link_thread); the last frees the data block and the record. */
export function brc_library_drop(library: usize): void {
  checkAttached();
  enterOp();
  dropLibrary(library);
  leaveOp();
}

/**
 * Links `library` (joined or made by this thread) into this thread: a stack block of `stackBytes` and the link
 * that lists it in this thread's record, so that its detach (even by another thread) frees them. The link, or 0.
 */
export function brc_link_thread(library: usize, stackBytes: usize): usize {
  if (myTid == 0) { setError(ENOTATTACHED, 0); return 0; }
  enterOp();
  let link = linkThread(myRecord, library, stackBytes);
  leaveOp();
  return link;
}

/** The link's TLS block, `bytes` at a multiple of `align`; its address, or 0 (ENOMEM, EINVAL). */
export function brc_link_tls(link: usize, bytes: usize, align: usize): usize {
  if (myTid == 0 || !isLinkOf(myRecord, link)) { setError(EINVAL, link); return 0; }
  enterOp();
  let tls = linkTls(link, bytes, align);
  leaveOp();
  return tls;
}

/** Frees this thread's link with its stack and TLS, and drops its library: OK, or EINVAL if it is not ours. */
export function brc_unlink_thread(link: usize): i32 {
  if (myTid == 0) return setError(ENOTATTACHED, 0);
  enterOp();
  let rc = unlinkThread(myRecord, link);
  leaveOp();
  return rc;
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

export function brc_incref(handle: usize): void {
  checkObject(handle);
  // a pause or a stop waits for us at the boundary: the fast path below is a count change like any other.
  // One plain load, as every fast path reads ATTENTION (safepoint.ts; the JS copy and include/biasrc.h alike): a 0
  // read just before another thread sets a bit lets one more count change happen before this thread attends, as if
  // it had run a moment earlier; the acknowledgement itself is made in enterOp with SC operations.
  if (load<u32>(myRecord + R_ATTENTION) != 0) {
    enterOp();
    leaveOp();
  }
  incref(handle);
}

export function brc_decref(handle: usize): void {
  checkObject(handle);
  let obj = handle;
  let w = ownerWord(obj);
  if (load<u32>(myRecord + R_ATTENTION) == 0 && decrefFast(obj, w)) return; // plain load, one plain store, as above
  enterOp(); // attends a pause or a stop first
  decrefAny(obj); // reads the header again: it may have changed while we waited
  drainFrees();
  leaveOp();
}

/**
 * Checked mode's decref of an object this thread may hold locked: OK, or EBUSY (nothing changed) when this thread
 * holds its lock and this decrement would free it (the lock would go with it).
 */
export function brc_decref_checked(handle: usize): i32 {
  checkObject(handle);
  if (!holdsLock(handle)) {
    brc_decref(handle);
    return OK;
  }
  enterOp();
  let done = decrefUnlessLast(handle);
  drainFrees();
  leaveOp();
  return done ? OK : EBUSY;
}

/** Stores `child` (may be 0) in slot `index`, taking a new reference to it and releasing the old one. */
export function brc_set_ref(handle: usize, index: u32, child: usize): void {
  checkSlot(handle, index);
  if (DEBUG && child != 0) checkObject(child);
  enterOp();
  setRef(handle, index, child);
  leaveOp();
}

/** The slot's object (a handle), borrowed: valid while the caller keeps `obj` and nobody replaces the slot. */
export function brc_get_ref(handle: usize, index: u32): usize {
  checkSlot(handle, index);
  return getRef(handle, index);
}

/** The slot's object with a new reference for the caller; safe against a concurrent brc_set_ref of the slot. */
export function brc_load_ref(handle: usize, index: u32): usize {
  checkSlot(handle, index);
  enterOp();
  let child = loadRef(handle, index);
  leaveOp();
  return child;
}

/**
 * If slot `index` holds `expected` (0: empty), stores `desired` (may be 0) and returns 1: the slot takes a new reference
 * to `desired` and releases its reference to `expected`. Otherwise changes nothing and returns 0. The caller holds
 * references to `handle`, `expected` and `desired`. Waits, like brc_set_ref, while a brc_load_ref marks the slot.
 */
export function brc_cas_ref(handle: usize, index: u32, expected: usize, desired: usize): i32 {
  checkSlot(handle, index);
  if (DEBUG && expected != 0) checkObject(expected);
  if (DEBUG && desired != 0) checkObject(desired);
  enterOp();
  let swapped = casRef(handle, index, expected, desired);
  leaveOp();
  return swapped ? 1 : 0;
}

/** Takes the object's mutex, waiting as needed: OK, EDEADLK if this thread holds it, ELOCKS if it holds too many. */
export function brc_lock(handle: usize): i32 {
  return lockCall(handle, LOCK_WAIT);
}

/** OK if the lock was taken, EBUSY if a thread (this one included) holds it, ELOCKS if this one holds too many. */
export function brc_try_lock(handle: usize): i32 {
  return lockCall(handle, LOCK_TRY);
}

/** OK, or ENOTLOCKED if this thread does not hold the object's lock. */
export function brc_unlock(handle: usize): i32 {
  return lockCall(handle, LOCK_RELEASE);
}

const LOCK_WAIT = 0;
const LOCK_TRY = 1;
const LOCK_RELEASE = 2;

function lockCall(handle: usize, op: i32): i32 {
  if (myTid == 0) return setError(ENOTATTACHED, handle); // the lock table is in our record
  // an unlock may name an object freed while we held its lock (its last reference went in another thread): its block
  // waits, locked, for this unlock (queue.ts releaseObjectBlock), and our lock table says it is one of ours
  if (op != LOCK_RELEASE || !holdsLock(handle)) checkObject(handle);
  let obj = handle;
  enterOp(); // objectLock leaves the operation while it sleeps (park.ts)
  let rc = op == LOCK_WAIT ? objectLock(obj) : op == LOCK_TRY ? objectTryLock(obj) : objectUnlock(obj);
  leaveOp();
  return rc;
}

/** 0 if the lock is free now, else the word to wait on (Atomics.waitAsync at brc_lock_word_address) until it changes. */
export function brc_lock_wait_word(handle: usize): u32 {
  checkObject(handle);
  // it may CAS LINK_WAITERS into the link word, where a collection keeps its scratch with plain stores: a pause
  // (acknowledged from the idle loop, brc_safepoint) is attended first, as in every call that writes an object
  enterOp();
  let word = lockWaitWord(handle);
  leaveOp();
  return word;
}

/** The address of the word that holds the object's lock bits (its header's link word). */
export function brc_lock_word_address(handle: usize): usize {
  return handle + H_LINK;
}

/** 1 if this thread holds the object's lock, else 0. */
export function brc_holds_lock(handle: usize): i32 {
  // reads only our lock table, so any value is safe: also an object freed while we hold it (its block waits for us)
  return myTid != 0 && holdsLock(handle) ? 1 : 0;
}

export function brc_immortalize(handle: usize): void {
  checkObject(handle);
  enterOp();
  immortalize(handle);
  leaveOp();
}

/** Merges this thread's queue now; returns how many objects it merged. */
export function brc_collect(): i32 {
  if (myTid == 0) return 0;
  enterOp();
  let n = drainAndFree(myRecord);
  leaveOp();
  return n;
}

// ---- weak references ---------------------------------------------------------------------------------------------

/** A weak reference to the object: serial * 2^WEAK_INDEX_BITS + cell index, an integer in an f64. -1 on ENOMEM. */
export function brc_weak(handle: usize): f64 {
  checkObject(handle);
  enterOp();
  let weak = weakRef(handle);
  leaveOp();
  return weak;
}

/** A new reference (a handle) to the object a weak reference names, or 0 once that object was freed. */
export function brc_upgrade(weak: f64): usize {
  checkAttached();
  enterOp();
  let handle = upgrade(weak);
  leaveOp();
  return handle;
}

// ---- cycle collection ---------------------------------------------------------------------------------------------

/**
 * Starts holding the world for a collection (world.ts, collect.ts): OK, or EBUSY while another thread holds it (call
 * brc_safepoint, wait a little, try again: there is nothing to release, the world is not ours). After OK: poll
 * brc_world_poll until 0, run brc_collect_cycles, and always end with brc_world_release, also to give up after a
 * timeout. ENOTATTACHED without a tid.
 */
export function brc_world_request(): i32 {
  if (myTid == 0) return setError(ENOTATTACHED, 0);
  enterOp();
  let rc = worldRequest();
  leaveOp();
  return rc;
}

/**
 * 0 once every other thread is held; else the tid of one that is not yet (it has not reached a safe point).
 * -EINVAL if this thread has not requested the world (its brc_world_request did not return OK, or it has released it
 * since), -ENOTATTACHED without a tid: both recorded, G_WORLD left as it is.
 */
export function brc_world_poll(): i32 {
  if (myTid == 0) return -setError(ENOTATTACHED, 0);
  if (!worldRequestedByMe()) return -setError(EINVAL, 0);
  // inside an operation: a terminator never takes us half-way through a borrow (PARKED -> HELPED, then R_BORROWED)
  enterOp();
  let waiting = worldPoll();
  leaveOp();
  return <i32>waiting;
}

/**
 * Frees every cycle that no outside reference reaches; returns how many objects. -EINVAL if the caller does not hold
 * the world (brc_world_poll has not returned 0 to it), -ENOMEM if the marking stack could not grow (nothing freed).
 */
export function brc_collect_cycles(): f64 {
  if (!worldHeldByMe()) return -<f64>setError(EINVAL, 0);
  enterOp();
  let freed = collectCycles();
  leaveOp();
  return <f64>freed;
}

/** With the world held: merges every thread's queue, so that liveObjects counts exactly the objects not yet freed. */
export function brc_merge_queues(): i32 {
  if (!worldHeldByMe()) return setError(EINVAL, 0);
  enterOp();
  drainEveryQueue();
  leaveOp();
  return OK;
}

/**
 * Lets the world go: OK; `pauseMicros` (how long it was held, measured by the caller) goes into the statistics. EINVAL
 * if this thread has not requested the world (a request that returned EBUSY holds nothing: another thread's hold
 * must not end here), ENOTATTACHED without a tid: both recorded, nothing changed.
 */
export function brc_world_release(pauseMicros: u32): i32 {
  if (myTid == 0) return setError(ENOTATTACHED, 0);
  if (!worldRequestedByMe()) return setError(EINVAL, 0);
  enterOp(); // as brc_world_poll: a release is never cut in half (a terminated holder's detach releases it whole)
  worldRelease();
  notePause(pauseMicros);
  leaveOp();
  return OK;
}

// ---- inspection -------------------------------------------------------------------------------------------------

/** OK if `handle` names a live object, else EINVAL (not a handle) or EFREED (a freed object). */
export function brc_validate(handle: usize): i32 {
  return validateObject(handle);
}

/** OK if `index` is a slot of the live object `handle`. */
export function brc_validate_slot(handle: usize, index: u32): i32 {
  let e = validateObject(handle);
  return e != OK ? e : validateSlot(handle, index);
}

export function brc_info_owner(handle: usize): u32 {
  return ownerOf(handle);
}

export function brc_info_local(handle: usize): u32 {
  return load<u32>(handle + H_LOCAL);
}

/** The raw shared word: count << SHARED_SHIFT | WEAK | MERGED | QUEUED. */
export function brc_info_shared(handle: usize): i32 {
  return atomic.load<i32>(handle + H_SHARED); // a snapshot for inspection: no ordering
}

export function brc_info_immortal(handle: usize): i32 {
  return isImmortal(handle) ? 1 : 0;
}

/** The block's generation (0..15), bumped each time an object in it is freed: a handle's tag is checked against it. */
export function brc_info_generation(handle: usize): u32 {
  return <u32>atomic.load<u16>(handle + H_SLOTS) >> GEN_SHIFT; // untorn: a validator may race a free
}

export function brc_info_slots(handle: usize): u32 {
  return slotCount(handle);
}

export function brc_info_bytes(handle: usize): usize {
  return payloadSize(handle);
}

export function brc_info_lock(handle: usize): u32 {
  return atomic.load<u32>(handle + H_LINK) & (LINK_LOCKED | LINK_WAITERS); // a snapshot: no ordering
}

/** Address of the object's payload bytes (after its slots, 8-aligned). */
export function brc_payload(handle: usize): usize {
  return payloadAddress(handle);
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
export function brc_debug_set_counts(handle: usize, local: u32, sharedCount: i32): i32 {
  if (!DEBUG) return setError(EINVAL, handle);
  checkObject(handle);
  let obj = handle;
  enterOp(); // it writes counts: not during a pause
  if (<u32>load<u16>(obj + H_TID) == myTid) store<u32>(obj + H_LOCAL, local);
  // test hook, single-threaded use only: load and store, not a CAS
  let s = atomic.load<i32>(obj + H_SHARED);
  atomic.store<i32>(obj + H_SHARED, (sharedCount << SHARED_SHIFT) | (s & SHARED_FLAGS));
  leaveOp();
  return OK;
}

/** Does nothing: the baseline for measuring the cost of a JS -> wasm call. */
export function brc_empty(): void {}

// ==== Schedule points (debug build; issue 17) =======================================================================
// Test hooks only, kept together here: the point names and the table layout (assembly/schedule.ts), and the call
// that tells this instance where the table is. test/schedule.test.ts parks threads at the points through it.

import { setSchedule } from "./schedule";
export {
  SP_OWNERSHIP_DROPPED, SP_MERGE_PUBLISHED, SP_MERGE_LOADED, SP_MERGE_WAIT, SP_SHARED_DECREMENT, SP_QUEUED_SET,
  SP_INCREF_ADDED, SP_QUEUE_PUSH, SP_LINK_LOADED, SP_QUEUE_PUSHED, SP_QUEUE_TAKEN, SP_RIGHTS_RELEASED,
  SP_FREE_RELEASED, SP_PARK_DRAINED, SP_PARK_PARKED, SP_SLOT_SWAPPED, SP_SLOT_BUSY, SP_SLOT_LOADED, SP_REMOTE_FREED,
  SP_PAGE_FULL, SP_REMOTE_LINKED, SP_DETACH_ENTERED, SCHEDULE_RANDOM, SCHEDULE_RANDOM_MS, SCHEDULE_RANDOM_PARKS,
  SCHEDULE_PASSED, SCHEDULE_ENTRIES, SCHEDULE_ENTRY_SIZE, SE_ARM, SE_OBJECT, SE_SKIP, SE_PARKED,
} from "./schedule";

/**
 * Debug build only (EINVAL in release): this instance's schedule table (assembly/schedule.ts; 0: none) and the seed
 * of its random parks. Call it in every thread that should stop at schedule points.
 */
export function brc_debug_schedule(table: usize, seed: u32): i32 {
  if (!DEBUG) return setError(EINVAL, table);
  setSchedule(table, seed);
  return OK;
}
// ==== end of the schedule points block ===============================================================================
