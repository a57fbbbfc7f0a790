// Objects: a 16-byte header (layout.ts), `slots` reference slots, then raw payload bytes.
//
// Slots are read and written with atomics. brc_load_ref must return a new reference even while another thread
// replaces the slot with brc_set_ref and releases the old child: between reading the slot and incrementing the
// child, the child could otherwise be freed. So load_ref marks the slot BUSY (its low bit; handles are 16-aligned)
// with a CAS, increments the child, and clears the mark; set_ref swaps only an unmarked slot. The mark is held for
// one increment, so a waiting set_ref spins briefly.
//
// Layer 6: imports the allocator, the counts and the queues.

import {
  HEADER_SIZE, HEAP_OBJECT, H_LINK, H_SLOTS, H_TID, LINK_LIVE, MAP_LARGE, MAP_SMALL, MAX_SLOTS, MAX_OBJECT_BYTES,
  PAGE_HEADER_SIZE, P_BLOCK_SIZE, P_BUMP, P_KIND, R_OBJECTS_ALLOC, R_QUEUE, SLOT_BUSY, SLOT_SIZE, H_SHARED,
} from "./layout";
import { EFREED, EINVAL, ENOMEM, OK, setError } from "./errors";
import { countStat, myRecord, myTidHigh, pagesBase } from "./instance";
import { allocBlock } from "./alloc";
import { mapGet, pageHigh, pageIndex, pageOf } from "./pages";
import { decrefAny, incref } from "./refcount";
import { drainAndFree, drainFrees } from "./queue";

/** A new object with one reference, owned by this thread; 0 with ENOMEM or EINVAL recorded. */
export function allocObject(bytes: usize, slots: u32): usize {
  // a safe point: merge what other threads queued for us before we add more
  if (atomic.load<u32>(myRecord + R_QUEUE) != 0) drainAndFree(myRecord);
  if (slots > MAX_SLOTS || bytes > MAX_OBJECT_BYTES) {
    setError(EINVAL, bytes);
    return 0;
  }
  let body = <usize>slots * SLOT_SIZE + bytes;
  let obj = allocBlock(HEADER_SIZE + body, HEAP_OBJECT);
  if (obj == 0) {
    setError(ENOMEM, HEADER_SIZE + body);
    return 0;
  }
  store<u64>(obj, myTidHigh | (<u64>slots << 48) | 1); // local = 1 (the caller's reference), tid = us, slots
  store<i32>(obj + H_SHARED, 0);
  memory.fill(obj + HEADER_SIZE, 0, body);
  // LIVE last: a detach walk or a validation that sees LIVE sees the whole header (release)
  atomic.store<u32>(obj + H_LINK, LINK_LIVE);
  countStat(R_OBJECTS_ALLOC);
  return obj;
}

@inline export function slotCount(obj: usize): u32 {
  return <u32>load<u16>(obj + H_SLOTS);
}

@inline export function slotAddress(obj: usize, index: u32): usize {
  return obj + HEADER_SIZE + <usize>index * SLOT_SIZE;
}

export function payloadAddress(obj: usize): usize {
  return obj + HEADER_SIZE + <usize>slotCount(obj) * SLOT_SIZE;
}

/** Usable payload bytes: at least what was asked for, up to the end of the allocator's block. */
export function payloadSize(obj: usize): usize {
  return <usize>load<u32>(pageOf(obj) + P_BLOCK_SIZE) - HEADER_SIZE - <usize>slotCount(obj) * SLOT_SIZE;
}

// ---- slots ------------------------------------------------------------------------------------------------------

export function setRef(obj: usize, index: u32, child: usize): void {
  if (child != 0) incref(child);
  let slot = slotAddress(obj, index);
  let old: u32;
  while (true) {
    old = atomic.load<u32>(slot); // a guess for the CAS below
    if (old & SLOT_BUSY) continue; // a load_ref is taking its reference: wait for it
    // release: the child's increment happens before another thread can read it from the slot
    if (atomic.cmpxchg<u32>(slot, old, <u32>child) == old) break;
  }
  if (old != 0) decrefAny(<usize>old);
  drainFrees();
}

@inline export function getRef(obj: usize, index: u32): usize {
  // borrowed read: pairs with set_ref's CAS, so the child's header is visible; no reference is taken
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
  atomic.store<u32>(slot, child); // release the slot; our increment is visible before a set_ref swaps it out
  return <usize>child;
}

// ---- validation -------------------------------------------------------------------------------------------------

/** OK if `obj` is the handle of a live object; EINVAL if it is no handle at all, EFREED if its object was freed. */
export function validateObject(obj: usize): i32 {
  if (obj == 0 || (obj & 15) != 0 || obj < pagesBase) return setError(EINVAL, obj);
  let index = pageIndex(obj);
  if (index >= pageHigh()) return setError(EINVAL, obj);
  let page = pageOf(obj);
  let map = mapGet(index);
  if (map == MAP_SMALL) {
    if (load<u32>(page + P_KIND) != HEAP_OBJECT) return setError(EINVAL, obj);
    let offset = obj - page;
    if (offset < PAGE_HEADER_SIZE) return setError(EINVAL, obj);
    let blockSize = <usize>load<u32>(page + P_BLOCK_SIZE);
    if (blockSize == 0) return setError(EINVAL, obj); // a page being recycled under us
    let slot = (offset - PAGE_HEADER_SIZE) / blockSize;
    if ((offset - PAGE_HEADER_SIZE) % blockSize != 0) return setError(EINVAL, obj);
    if (slot >= <usize>load<u32>(page + P_BUMP)) return setError(EFREED, obj); // never handed out in this page's use
  } else if (map == MAP_LARGE) {
    if (load<u32>(page + P_KIND) != HEAP_OBJECT || obj != page + PAGE_HEADER_SIZE) return setError(EINVAL, obj);
  } else {
    return setError(map == 0 ? EFREED : EINVAL, obj); // a free page once held objects; a TAIL page is payload
  }
  // pairs with allocObject's LIVE store and releaseObjectBlock's clear (a racy check by nature: see README)
  if ((atomic.load<u32>(obj + H_LINK) & LINK_LIVE) == 0) return setError(EFREED, obj);
  return OK;
}

/** OK if `index` is a slot of the (valid) object. */
export function validateSlot(obj: usize, index: u32): i32 {
  return index < slotCount(obj) ? OK : setError(EINVAL, index);
}

export function ownerOf(obj: usize): u32 {
  return <u32>atomic.load<u16>(obj + H_TID); // a snapshot: tid only ever changes to 0
}
