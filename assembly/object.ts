// Objects: a 16-byte header (layout.ts), `slots` reference slots, then raw payload bytes from an 8-aligned address.
//
//   obj: | header 16 | slot 0 | ... | slot n-1 | (4 bytes of padding if n is odd) | payload ... to the block's end |
//
// The block generation (u16 at H_SLOTS, bits 12..15) is bumped each time an object in the block is freed; the
// TypeScript wrapper tags the handles it gives out with it, so that checked mode refuses a stale handle.
//
// Slots are read and written with atomics. brc_load_ref must return a new reference even while another thread
// replaces the slot with brc_set_ref and releases the old child: between reading the slot and incrementing the
// child, the child could otherwise be freed. So load_ref marks the slot BUSY (its low bit; handles are 16-aligned)
// with a CAS, increments the child, and clears the mark; set_ref swaps only an unmarked slot. The mark is held for
// one increment, so a waiting set_ref spins briefly.
//
// Layer 7: imports the allocator, the counts and the queues.

import {
  BLOCK_ALIGN as HEADER_ALIGN, HEADER_SIZE, HEAP_OBJECT, H_LINK, H_SLOTS, H_TID, LINK_LIVE, MAP_LARGE, MAP_SMALL,
  MAX_SLOTS, MAX_OBJECT_BYTES, PAGE_HEADER_SIZE, PAYLOAD_ALIGN, P_BLOCK_SIZE, P_BUMP, P_KIND, R_OBJECTS_ALLOC,
  R_QUEUE, SLOT_BUSY, SLOT_SIZE, SLOTS_MASK, H_SHARED, GC_ALLOCATION_BATCH, GLOBAL_BASE, G_GC_ALLOCATIONS,
  R_ALLOCATIONS,
} from "./layout";
import { EFREED, EINVAL, ENOMEM, OK, setError } from "./errors";
import { countStat, myRecord, myTidHigh, pagesBase } from "./instance";
import { allocBlock } from "./alloc";
import { mapGet, pageHigh, pageIndex, pageOf } from "./pages";
import { decrefAny, incref } from "./refcount";
import { drainAndFree, drainFrees } from "./queue";
import { SP_SLOT_BUSY, SP_SLOT_LOADED, SP_SLOT_SWAPPED, schedulePoint } from "./schedule";

/** A new object with one reference, owned by this thread; 0 with ENOMEM or EINVAL recorded. */
export function allocObject(bytes: usize, slots: u32): usize {
  // a safe point: merge what other threads queued for us before we add more
  if (atomic.load<u32>(myRecord + R_QUEUE) != 0) drainAndFree(myRecord);
  if (slots > MAX_SLOTS || bytes > MAX_OBJECT_BYTES) {
    setError(EINVAL, bytes);
    return 0;
  }
  let size = HEADER_SIZE + slotBytes(slots) + bytes;
  let obj = allocBlock(size, HEAP_OBJECT);
  if (obj == 0) {
    setError(ENOMEM, size);
    return 0;
  }
  // the generation survives the block's time on a free list (the allocator links free blocks through word 0 only)
  let gen = <u32>load<u16>(obj + H_SLOTS) & ~SLOTS_MASK;
  store<u64>(obj, myTidHigh | (<u64>(slots | gen) << 48) | 1); // local = 1 (the caller's reference), tid = us
  store<i32>(obj + H_SHARED, 0);
  // slots, padding and the whole usable payload (bytes(h) exposes the block up to its end), not just what was asked
  memory.fill(obj + HEADER_SIZE, 0, <usize>load<u32>(pageOf(obj) + P_BLOCK_SIZE) - HEADER_SIZE);
  // LIVE last: a detach walk or a validation that sees LIVE sees the whole header (release)
  atomic.store<u32>(obj + H_LINK, LINK_LIVE);
  countStat(R_OBJECTS_ALLOC);
  countAllocation();
  return obj;
}

/** Counts toward the automatic collection's threshold: one shared RMW per GC_ALLOCATION_BATCH allocations. */
@inline function countAllocation(): void {
  let n = load<u32>(myRecord + R_ALLOCATIONS) + 1;
  if (n == GC_ALLOCATION_BATCH) {
    atomic.add<u32>(GLOBAL_BASE + G_GC_ALLOCATIONS, n); // a statistic: no ordering
    n = 0;
  }
  store<u32>(myRecord + R_ALLOCATIONS, n);
}

@inline export function slotCount(obj: usize): u32 {
  return <u32>load<u16>(obj + H_SLOTS) & SLOTS_MASK;
}

/** Bytes the slots take, padded so that the payload after them is PAYLOAD_ALIGN-aligned (headers are 16-aligned). */
@inline function slotBytes(slots: u32): usize {
  return (<usize>slots * SLOT_SIZE + PAYLOAD_ALIGN - 1) & ~(PAYLOAD_ALIGN - 1);
}


@inline export function slotAddress(obj: usize, index: u32): usize {
  return obj + HEADER_SIZE + <usize>index * SLOT_SIZE;
}

export function payloadAddress(obj: usize): usize {
  return obj + HEADER_SIZE + slotBytes(slotCount(obj));
}

/** Usable payload bytes: at least what was asked for, up to the end of the allocator's block. */
export function payloadSize(obj: usize): usize {
  return <usize>load<u32>(pageOf(obj) + P_BLOCK_SIZE) - HEADER_SIZE - slotBytes(slotCount(obj));
}

// ---- slots ------------------------------------------------------------------------------------------------------

export function setRef(obj: usize, index: u32, child: usize): void {
  if (child != 0) incref(child);
  let slot = slotAddress(obj, index);
  let old: u32;
  while (true) {
    old = atomic.load<u32>(slot); // a guess for the CAS below
    if (old & SLOT_BUSY) { // a load_ref is taking its reference: wait for it
      schedulePoint(SP_SLOT_BUSY, obj);
      continue;
    }
    // release: the child's increment happens before another thread can read it from the slot
    if (atomic.cmpxchg<u32>(slot, old, <u32>child) == old) break;
  }
  schedulePoint(SP_SLOT_SWAPPED, obj);
  if (old != 0) decrefAny(<usize>old);
  drainFrees();
}

/** The slot's child (0 if empty), borrowed: no reference is taken. */
@inline export function getRef(obj: usize, index: u32): usize {
  // pairs with set_ref's CAS, so the child's header is visible
  return <usize>(atomic.load<u32>(slotAddress(obj, index)) & ~SLOT_BUSY);
}

export function loadRef(obj: usize, index: u32): usize {
  let slot = slotAddress(obj, index);
  let child: u32;
  while (true) {
    child = atomic.load<u32>(slot); // a guess for the CAS below
    if (child == 0) return 0;
    if (child & SLOT_BUSY) continue;
    // acquire the slot: set_ref cannot release `child` until we clear the mark
    if (atomic.cmpxchg<u32>(slot, child, child | SLOT_BUSY) == child) break;
  }
  incref(<usize>child);
  schedulePoint(SP_SLOT_LOADED, obj);
  atomic.store<u32>(slot, child); // release the slot; our increment is visible before a set_ref swaps it out
  return <usize>child;
}

/**
 * If slot `index` holds `expected` (0: empty), stores `desired` (may be 0) and returns true: the slot takes a new
 * reference to `desired` and releases its reference to `expected`. Otherwise changes nothing and returns false. The
 * caller holds references to all three, so none of them can be freed and its block reused meanwhile (no ABA). The
 * slot protocol of setRef: `desired` is counted before it becomes visible in the slot, and a BUSY slot (a loadRef
 * taking its reference to `expected`) is waited for, never swapped.
 */
export function casRef(obj: usize, index: u32, expected: usize, desired: usize): bool {
  let slot = slotAddress(obj, index);
  if ((atomic.load<u32>(slot) & ~SLOT_BUSY) != <u32>expected) return false; // bound to fail: no count touched
  if (desired != 0) incref(desired);
  let swapped = false;
  while (true) {
    let seen = atomic.load<u32>(slot); // a guess for the CAS below
    if ((seen & ~SLOT_BUSY) != <u32>expected) break;
    if (seen & SLOT_BUSY) continue; // a load_ref is taking its reference to `expected`: wait for it
    // release: desired's increment (and what the caller wrote into it) happens before another thread can read it
    // from the slot; acquire: the slot's reference to `expected` is ours now
    if (atomic.cmpxchg<u32>(slot, seen, <u32>desired) == seen) {
      swapped = true;
      break;
    }
  }
  if (swapped) {
    if (expected != 0) decrefAny(expected); // the slot's reference, now ours
  } else if (desired != 0) {
    decrefAny(desired); // undo; the caller still holds its own reference, so this never frees
  }
  drainFrees();
  return swapped;
}

// ---- validation -------------------------------------------------------------------------------------------------

/** OK if `obj` names a live object; EINVAL if it is no handle at all, EFREED if its object was freed. */
export function validateObject(obj: usize): i32 {
  let e = validateBlock(obj);
  return e == OK ? OK : setError(e, obj);
}

/** OK if `obj` is the address of a live object's block (no generation), else EINVAL or EFREED (not recorded). */
export function validateBlock(obj: usize): i32 {
  if (obj == 0 || (obj & (HEADER_ALIGN - 1)) != 0 || obj < pagesBase) return EINVAL;
  let index = pageIndex(obj);
  if (index >= pageHigh()) return EINVAL;
  let page = pageOf(obj);
  let map = mapGet(index);
  if (map == MAP_SMALL) {
    if (load<u32>(page + P_KIND) != HEAP_OBJECT) return EINVAL;
    let offset = obj - page;
    if (offset < PAGE_HEADER_SIZE) return EINVAL;
    let blockSize = <usize>load<u32>(page + P_BLOCK_SIZE);
    if (blockSize == 0) return EINVAL; // a page being recycled under us
    if ((offset - PAGE_HEADER_SIZE) % blockSize != 0) return EINVAL; // inside another object
    // never handed out in this use of the page
    if ((offset - PAGE_HEADER_SIZE) / blockSize >= <usize>load<u32>(page + P_BUMP)) return EFREED;
  } else if (map == MAP_LARGE) {
    if (load<u32>(page + P_KIND) != HEAP_OBJECT || obj != page + PAGE_HEADER_SIZE) return EINVAL;
  } else {
    return map == 0 ? EFREED : EINVAL; // a free page once held objects; a TAIL page is payload
  }
  // pairs with allocObject's LIVE store and releaseObjectBlock's clear (a racy check by nature: see README)
  if ((atomic.load<u32>(obj + H_LINK) & LINK_LIVE) == 0) return EFREED;
  return OK;
}

/** OK if `index` is a slot of the (valid) object. */
export function validateSlot(obj: usize, index: u32): i32 {
  return index < slotCount(obj) ? OK : setError(EINVAL, index);
}

export function ownerOf(obj: usize): u32 {
  return <u32>atomic.load<u16>(obj + H_TID); // a snapshot: tid only ever changes to 0
}
