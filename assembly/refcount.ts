// Biased reference counting (Choi, Shull, Torrellas, PACT 2018; CPython's free-threaded build).
//
// Every object is biased toward the thread that allocated it, its owner. The owner changes the local count with a
// plain load and store; other threads change the shared count with CAS. The true count is
//
//     local + shared count - (1 if QUEUED)
//
// When the owner's local count reaches zero it merges: with no shared references the object is freed at once,
// otherwise the owner gives up ownership (tid = 0) and sets MERGED, after which every thread uses the shared count.
// Other threads increment the shared count with one atomic add; they decrement it with a CAS, because a decrement
// that would go below zero sets QUEUED instead, in the same step.
// When another thread's decrement would take the shared count below zero, it sets QUEUED instead and queues the
// object for its owner (queue.ts), who merges it later. An object is freed when its shared count is zero, MERGED is
// set and QUEUED is not: by then the local count has been folded in and no queue holds it. SHARED_WEAK (a weak
// reference names the object) changes none of this; it only keeps the shared word from ever being 0, so that the
// owner's last release takes the CAS path that a weak upgrade's CAS can order against (tryIncref).
//
// Store order (CPython needed gh-117657, gh-119999 and gh-121794 to get this right): a merger clears local and tid
// BEFORE the CAS that publishes MERGED, because a thread that sees MERGED may free the object at once.
//
// Layer 6, with queue.ts: the one import cycle of assembly/ (a decrement may queue; a merge may free, and freeing
// releases the children's references). CPython has the same pair in Objects/object.c and Python/brc.c.

import {
  H_LOCAL, H_LINK, H_SHARED, H_TID, LINK_LIVE, LOCAL_IMMORTAL, OWNER_WORD_MASK, R_MERGES, R_OWNER_DECREFS,
  R_OWNER_INCREFS, R_SHARED_DECREFS, R_SHARED_INCREFS, SHARED_MERGED, SHARED_ONE, SHARED_QUEUED,
  SHARED_SATURATED, SHARED_SHIFT, SHARED_WEAK, SHARED_FLAGS, R_STATE, STATE_ACTIVE, STATE_MASK, LINK_LOCKED,
} from "./layout";
import { DEBUG } from "./config";
import { E_BIASED_NEGATIVE, E_DOUBLE_FREE, E_NOT_OWNER, E_SHARED_NEGATIVE, EFREED, fail } from "./errors";
import { countStat, myTid, myTidHigh, recordOf } from "./instance";
import { worldHeldByMe } from "./safepoint";
import { enqueue, scheduleFree } from "./queue";
import {
  SP_INCREF_ADDED, SP_MERGE_LOADED, SP_MERGE_PUBLISHED, SP_MERGE_WAIT, SP_OWNERSHIP_DROPPED, SP_QUEUED_SET,
  SP_SHARED_DECREMENT, schedulePoint,
} from "./schedule";

@inline function sharedCount(s: i32): i32 {
  return s >> SHARED_SHIFT;
}

/** A count below saturation that a merge raises to or past it saturates there (it is immortal from then on). */
@inline function encodeCount(count: i64, flags: i32): i32 {
  if (count >= <i64>SHARED_SATURATED) count = SHARED_SATURATED;
  return (<i32>count << SHARED_SHIFT) | flags;
}

/** Debug build: every operation first checks that the handle names a live object. */
@inline export function checkLive(obj: usize): void {
  if (DEBUG) {
    if ((atomic.load<u32>(obj + H_LINK) & LINK_LIVE) == 0) fail(EFREED, obj); // a snapshot: the caller holds a reference
  }
}

// ---- increment --------------------------------------------------------------------------------------------------

@inline export function incref(obj: usize): void {
  checkLive(obj);
  // one load serves the owner check and the count: d < 2^32 exactly when tid is ours, and then d is local
  let w = load<u64>(obj);
  let d = (w - myTidHigh) & OWNER_WORD_MASK;
  if (d < <u64>(LOCAL_IMMORTAL - 1)) {
    // owner: plain store, no other thread writes local.
    // The whole u64 is stored (tid, slots and generation unchanged, no carry): a u32 store followed by the next operation's
    // u64 load of the same address would defeat store-to-load forwarding (a 10x stall).
    store<u64>(obj, w + 1);
    if (DEBUG) countStat(R_OWNER_INCREFS);
    return;
  }
  increfSlow(obj, d);
}

function increfSlow(obj: usize, d: u64): void {
  if (d == <u64>(LOCAL_IMMORTAL - 1)) immortalize(obj); // ours, and one more would wrap: saturate instead
  else if (d != <u64>LOCAL_IMMORTAL) increfShared(obj); // not ours (an immortal of ours needs nothing)
}

/**
 * One atomic add, as CPython's _Py_INCREF does for other threads. The caller holds a reference, so the object is not
 * being freed and no flag needs looking at. Immortality is always visible in the shared count (immortalize
 * saturates it, whoever calls it): an add that finds the count saturated is taken back, so an immortal count stays
 * within SHARED_SATURATED + (threads adding at this moment), far below the i32's limit.
 */
function increfShared(obj: usize): void {
  if (DEBUG) countStat(R_SHARED_INCREFS);
  // no ordering needed beyond the RMW itself: the caller already holds a reference, so the object stays alive
  let old = atomic.add<i32>(obj + H_SHARED, SHARED_ONE);
  schedulePoint(SP_INCREF_ADDED, obj);
  if (sharedCount(old) >= SHARED_SATURATED) atomic.sub<i32>(obj + H_SHARED, SHARED_ONE);
}

// ---- decrement --------------------------------------------------------------------------------------------------

@inline export function decrefAny(obj: usize): void {
  let w = ownerWord(obj);
  if (!decrefFast(obj, w)) decrefSlow(obj, ownerDelta(w));
}

/** The header's first u64: local | tid << 32 | refs << 48. */
@inline export function ownerWord(obj: usize): u64 {
  checkLive(obj);
  return load<u64>(obj);
}

/** The owner word minus (myTid << 32), 48 bits: below 2^32 exactly when the object is ours, and then local. */
@inline export function ownerDelta(w: u64): u64 {
  return (w - myTidHigh) & OWNER_WORD_MASK;
}

/** Owner with local in [2, immortal): plain store, done. False when the slow path must run. */
@inline export function decrefFast(obj: usize, w: u64): bool {
  if (ownerDelta(w) - 2 < <u64>(LOCAL_IMMORTAL - 2)) {
    store<u64>(obj, w - 1); // the whole word, as in incref: no borrow, since local >= 2
    if (DEBUG) countStat(R_OWNER_DECREFS);
    return true;
  }
  return false;
}

export function decrefSlow(obj: usize, d: u64): void {
  if (d == 1) {
    if (DEBUG) countStat(R_OWNER_DECREFS);
    mergeZeroLocal(obj);
  } else if (d == 0) {
    fail(E_BIASED_NEGATIVE, obj); // ours with local 0: ownership should have been dropped at zero
  } else if (d != <u64>LOCAL_IMMORTAL) {
    decrefShared(obj, false);
  }
}

/**
 * A decrement that refuses (false, nothing changed) when it would free the object: checked mode's decref of an
 * object this thread holds locked (freeing it would free the lock with it). Exact when this call alone would
 * release the last reference; a release racing it on another thread may still leave the free to it.
 */
export function decrefUnlessLast(obj: usize): bool {
  let w = ownerWord(obj);
  if (decrefFast(obj, w)) return true;
  let d = ownerDelta(w);
  if (d == 1 && (atomic.load<i32>(obj + H_SHARED) & ~SHARED_WEAK) == 0) return false; // ours is the last reference
  if (d <= 1 || d == <u64>LOCAL_IMMORTAL) {
    decrefSlow(obj, d);
    return true;
  }
  return decrefShared(obj, true);
}

/** A non-owner's decrement. With `refuseLast`, returns false (nothing changed) instead of deciding a free. */
@inline function decrefShared(obj: usize, refuseLast: bool): bool {
  if (DEBUG) countStat(R_SHARED_DECREFS);
  let s = atomic.load<i32>(obj + H_SHARED); // a guess for the CAS
  let next: i32;
  while (true) {
    if (sharedCount(s) >= SHARED_SATURATED) return true; // immortal
    // count 0, not merged, not queued: our reference is counted in the owner's local count. Hand it to the owner's
    // queue by setting QUEUED in place of a decrement (same CAS, so count and flags stay consistent).
    next = (s & ~SHARED_WEAK) == 0 ? s | SHARED_QUEUED : s - SHARED_ONE;
    if (DEBUG) {
      if (sharedCount(next) < 0 && (next & SHARED_QUEUED) == 0) fail(E_SHARED_NEGATIVE, obj);
    }
    if (refuseLast && isDead(next)) return false;
    schedulePoint(SP_SHARED_DECREMENT, obj);
    // acquire and release: a thread that frees after this CAS sees every write made before earlier decrements
    let seen = atomic.cmpxchg<i32>(obj + H_SHARED, s, next);
    if (seen == s) break;
    s = seen;
  }
  if ((s & ~SHARED_WEAK) == 0) {
    schedulePoint(SP_QUEUED_SET, obj);
    enqueue(obj);
  } else if (isDead(next)) {
    scheduleFree(obj); // merged, count zero, in no queue: we held the last reference
  }
  return true;
}

// ---- merging ----------------------------------------------------------------------------------------------------

/** The owner's local count went from 1 to 0. */
function mergeZeroLocal(obj: usize): void {
  // acquire: other threads' shared updates; s == 0 means nobody else holds or owes a reference
  let s = atomic.load<i32>(obj + H_SHARED);
  schedulePoint(SP_MERGE_LOADED, obj);
  if (s == 0) {
    // no shared references and not queued: ours was the last reference, and nobody else can add one
    store<u32>(obj + H_LOCAL, 0);
    scheduleFree(obj);
    return;
  }
  dropOwnership(obj);
  publishMerged(obj, s, 0, SHARED_QUEUED); // a queued object stays queued: its owner's queue still holds it
}

/** Merged, count zero and not queued (WEAK aside): nobody holds or owes a reference; whoever made it so frees it. */
@inline function isDead(s: i32): bool {
  return (s & ~SHARED_WEAK) == SHARED_MERGED;
}

/**
 * Folds `add` into the shared count and sets MERGED in one CAS (retried from `s`, a guess), keeping WEAK and the
 * flags in `keep`; frees the object if that leaves it dead (isDead). The caller dropped ownership first:
 * this CAS publishes those stores to any thread that sees MERGED (pairs with decrefShared's CAS on the freeing side).
 */
function publishMerged(obj: usize, s: i32, add: i64, keep: i32): void {
  let next: i32;
  while (true) {
    let count = <i64>sharedCount(s);
    let flags = SHARED_MERGED | (s & (keep | SHARED_WEAK));
    // An immortal count is never lowered: it may stand above SHARED_SATURATED while increments that found it
    // saturated are about to take theirs back (increfShared); clamping it to SATURATED here would let those
    // subtractions make it mortal again (found by the model: docs/MODEL.md, brc.pml "clamp").
    if (count >= <i64>SHARED_SATURATED) {
      next = (s & ~SHARED_FLAGS) | flags;
    } else {
      count += add;
      if (DEBUG) {
        if (count < 0 && (flags & SHARED_QUEUED) == 0) fail(E_SHARED_NEGATIVE, obj);
      }
      next = encodeCount(count, flags);
    }
    let seen = atomic.cmpxchg<i32>(obj + H_SHARED, s, next);
    if (seen == s) break;
    s = seen;
  }
  schedulePoint(SP_MERGE_PUBLISHED, obj);
  countStat(R_MERGES);
  if (isDead(next)) scheduleFree(obj);
}

/** Clears local and tid. Called by the holder of the owner's rights, before MERGED is published (gh-121794). */
@inline function dropOwnership(obj: usize): void {
  if (DEBUG) {
    // debug check only: snapshots
    let tid = <u32>atomic.load<u16>(obj + H_TID);
    let state = atomic.load<u32>(recordOf(tid) + R_STATE) & STATE_MASK;
    if (tid != myTid && state == STATE_ACTIVE && !worldHeldByMe()) fail(E_NOT_OWNER, obj);
  }
  store<u32>(obj + H_LOCAL, 0);
  atomic.store<u16>(obj + H_TID, 0); // other threads read tid atomically to pick their path; release for local = 0
  schedulePoint(SP_OWNERSHIP_DROPPED, obj);
}

/**
 * Applies the queued reference of an object taken from a queue (or queued when ownership was already dropped).
 * If the object is still owned, the caller holds the owner's rights (threads.ts) and folds the local count in.
 */
export function mergeQueued(obj: usize): void {
  let s = atomic.load<i32>(obj + H_SHARED); // a guess for the CAS in publishMerged
  // tid and MERGED: only the rights holder (us, if tid != 0) clears tid, so a non-zero tid here stays non-zero
  let tid = <u32>atomic.load<u16>(obj + H_TID);
  let local: i64 = 0; // nothing to fold in when ownership is already dropped
  if (tid != 0 && (s & SHARED_MERGED) == 0) {
    let l = load<u32>(obj + H_LOCAL);
    local = l == LOCAL_IMMORTAL ? <i64>SHARED_SATURATED : <i64>l;
    dropOwnership(obj);
  } else {
    // tid is 0: if MERGED is not set yet, a merger is between dropOwnership and its CAS, which keeps QUEUED; wait
    // for it (MERGED, once set, stays), so that our count goes on top of its
    while ((s & SHARED_MERGED) == 0) {
      schedulePoint(SP_MERGE_WAIT, obj);
      s = atomic.load<i32>(obj + H_SHARED);
    }
  }
  publishMerged(obj, s, local - 1, 0); // the queue's reference goes, and QUEUED with it: the object left the queue
}

/** Detach: folds a dead owner's local count into the shared count. The caller holds that tid's rights. */
export function abandonObject(obj: usize): void {
  let l = load<u32>(obj + H_LOCAL);
  let local: i64 = l == LOCAL_IMMORTAL ? <i64>SHARED_SATURATED : <i64>l;
  dropOwnership(obj);
  publishMerged(obj, atomic.load<i32>(obj + H_SHARED), local, SHARED_QUEUED); // a queued object stays queued
}

/** Makes the object immortal: every later incref and decref returns at once, and it is never freed. */
export function immortalize(obj: usize): void {
  checkLive(obj);
  if (<u32>atomic.load<u16>(obj + H_TID) == myTid) { // our own tid cannot change under us
    store<u32>(obj + H_LOCAL, LOCAL_IMMORTAL); // owner: only we write local
  }
  // for every thread: a saturated shared count is immortal too
  let s = atomic.load<i32>(obj + H_SHARED); // a guess for the CAS
  while (sharedCount(s) < SHARED_SATURATED) {
    // keeps the flags: count and flags change together, as everywhere
    let seen = atomic.cmpxchg<i32>(obj + H_SHARED, s, encodeCount(SHARED_SATURATED, s & SHARED_FLAGS));
    if (seen == s) return;
    s = seen;
  }
}

@inline export function isImmortal(obj: usize): bool {
  // snapshots: immortality, once set, never goes away
  return atomic.load<u32>(obj + H_LOCAL) == LOCAL_IMMORTAL ||
    sharedCount(atomic.load<i32>(obj + H_SHARED)) >= SHARED_SATURATED;
}

/**
 * Weak upgrade (weak.ts), with the weak lock held, so the object's block cannot be released meanwhile: a new
 * reference, unless the object's free is decided. The owner increments its local count (it cannot be merging: that
 * would be this very thread); any other thread CASes the shared count up, failing when the object is merged with
 * nothing left (count zero, or only the queue's reference). That CAS orders against every CAS that decides a free
 * (decrefShared, publishMerged): whichever comes first wins. The owner's plain free (mergeZeroLocal, shared == 0)
 * cannot race it, because an object with a weak reference has SHARED_WEAK and so a shared word that is never 0.
 */
export function tryIncref(obj: usize): bool {
  let w = load<u64>(obj);
  let d = (w - myTidHigh) & OWNER_WORD_MASK;
  if (d - 1 < <u64>(LOCAL_IMMORTAL - 2)) { // ours, local in [1, immortal - 1)
    store<u64>(obj, w + 1);
    return true;
  }
  if (d == <u64>(LOCAL_IMMORTAL - 1)) { // ours, and one more would wrap: saturate
    immortalize(obj);
    return true;
  }
  if (d == <u64>LOCAL_IMMORTAL) return true;
  let s = atomic.load<i32>(obj + H_SHARED); // a guess for the CAS
  while (true) {
    let count = sharedCount(s);
    if (count >= SHARED_SATURATED) return true; // immortal
    if ((s & SHARED_MERGED) != 0 && count - (s & SHARED_QUEUED) <= 0) return false; // its free is decided
    let seen = atomic.cmpxchg<i32>(obj + H_SHARED, s, s + SHARED_ONE);
    if (seen == s) return true;
    s = seen;
  }
  return false; // not reached
}

/**
 * Debug build: an object about to be freed must be live (else: double free). It may be locked by another thread,
 * which then released its last reference while holding the lock (or never held one): the block waits for that
 * thread's unlock (queue.ts releaseObjectBlock), so that is no corruption.
 */
export function checkFreeable(obj: usize): void {
  if (DEBUG) {
    if ((atomic.load<u32>(obj + H_LINK) & LINK_LIVE) == 0) fail(E_DOUBLE_FREE, obj);
  }
}
