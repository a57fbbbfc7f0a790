// brc_verify: a full walk of the heap at a quiescent point (no other thread inside a biasrc call).
// Checks every page header and free list, every live object's counts and slots against the paper's invariants,
// every queue, and that the allocation counters agree with what the walk finds.
// Returns OK or the first error code; brc_last_error_address names the page or object.
// Every atomic load here only avoids torn reads of words others may write: verify needs no ordering, because by
// contract no other thread is inside a biasrc call while it runs.
//
// Layer 10: reads everything, changes nothing.

import {
  HEAP_OBJECT, H_LINK, H_LOCAL, H_SHARED, H_TID, LINK_BITS, LINK_LIVE, LOCAL_IMMORTAL, MAP_FREE, MAP_LARGE,
  MAP_SMALL, MAP_TAIL, PAGE_ABANDONED, PAGE_HEADER_SIZE, PAGE_SIZE, P_BLOCK_SIZE, P_BUMP, P_CAPACITY, P_CLASS,
  P_KIND, P_LOCAL_FREE, P_OWNER, P_PAGES, P_STATE, P_THREAD_FREE, P_USED, R_OBJECTS_ALLOC, R_OBJECTS_FREED, R_QUEUE, R_STATE, SHARED_MERGED, SHARED_QUEUED, SHARED_SATURATED,
  SHARED_SHIFT, SIZE_CLASSES, SLOT_BUSY, STATE_ACTIVE, STATE_PARKED, THREAD_FREE_FULL, HEAP_KINDS, LARGE_CLASS,
  STATE_MASK, SHARED_WEAK, STATE_HELPED,
} from "./layout";
import { NO_CELL, findCell } from "./weaktable";
import {
  E_COUNT_MISMATCH, E_DEAD_REFERENCE, E_MERGED_OWNED, E_OWNER_GONE, E_PAGE_CORRUPT, E_QUEUED_TWICE,
  E_SHARED_NEGATIVE, E_BIASED_NEGATIVE, OK, setError,
} from "./errors";
import { maxThreads, recordOf, sumRecords } from "./instance";
import { mapGet, pageAddress, pageHigh } from "./pages";
import { classBlockSize } from "./alloc";
import { slotCount, slotAddress, validateBlock } from "./object";

let liveObjects: u64 = 0;
let queuedObjects: u64 = 0;

export function verifyHeap(): i32 {
  liveObjects = 0;
  queuedObjects = 0;
  let queueEntries: u64 = 0;
  for (let tid: u32 = 0; tid <= maxThreads; tid++) {
    let n = verifyQueue(recordOf(tid));
    if (n < 0) return <i32>-n;
    queueEntries += <u64>n;
  }
  let high = pageHigh();
  for (let i: u32 = 0; i < high; i++) {
    let map = mapGet(i);
    let page = pageAddress(i);
    let e = OK;
    if (map == MAP_SMALL) e = verifySmallPage(page);
    else if (map == MAP_LARGE) e = verifyLargeRun(page, i, high);
    else if (map == MAP_TAIL) e = setError(E_PAGE_CORRUPT, page); // a tail without its LARGE head before it
    if (e != OK) return e;
    if (map == MAP_LARGE) i += load<u32>(page + P_PAGES) - 1;
  }
  if (queueEntries != queuedObjects) return setError(E_QUEUED_TWICE, 0);
  if (liveObjects != sumRecords(R_OBJECTS_ALLOC) - sumRecords(R_OBJECTS_FREED)) return setError(E_COUNT_MISMATCH, 0);
  return OK;
}

/** Entries in a queue, or -code. Every entry must be a live object marked QUEUED. */
function verifyQueue(rec: usize): i64 {
  let n: i64 = 0;
  let obj = <usize>atomic.load<u32>(rec + R_QUEUE);
  while (obj != 0) {
    if (validateBlock(obj) != OK) return -<i64>setError(E_DEAD_REFERENCE, obj);
    if ((atomic.load<i32>(obj + H_SHARED) & SHARED_QUEUED) == 0) return -<i64>setError(E_QUEUED_TWICE, obj);
    if (++n > (1 << 28)) return -<i64>setError(E_QUEUED_TWICE, obj); // a cycle
    obj = <usize>(atomic.load<u32>(obj + H_LINK) & ~LINK_BITS);
  }
  return n;
}

function verifySmallPage(page: usize): i32 {
  let cls = load<u32>(page + P_CLASS);
  let kind = load<u32>(page + P_KIND);
  if (cls >= SIZE_CLASSES || kind >= HEAP_KINDS) return setError(E_PAGE_CORRUPT, page);
  let blockSize = classBlockSize(cls);
  let capacity = load<u32>(page + P_CAPACITY);
  let bump = load<u32>(page + P_BUMP);
  if (load<u32>(page + P_BLOCK_SIZE) != <u32>blockSize) return setError(E_PAGE_CORRUPT, page);
  if (capacity != <u32>((PAGE_SIZE - PAGE_HEADER_SIZE) / blockSize) || bump > capacity) {
    return setError(E_PAGE_CORRUPT, page);
  }
  let owner = load<u32>(page + P_OWNER);
  if (owner > maxThreads) return setError(E_PAGE_CORRUPT, page);
  if ((owner == 0) != (load<u32>(page + P_STATE) == PAGE_ABANDONED)) return setError(E_PAGE_CORRUPT, page);
  if (owner != 0 && !attached(owner)) return setError(E_OWNER_GONE, page);
  let local = freeListLength(page, <usize>load<u32>(page + P_LOCAL_FREE), blockSize, bump);
  let remote = freeListLength(page, <usize>(atomic.load<u32>(page + P_THREAD_FREE) & ~THREAD_FREE_FULL), blockSize, bump);
  if (local < 0 || remote < 0) return setError(E_PAGE_CORRUPT, page);
  if (<i64>load<u32>(page + P_USED) != <i64>bump - local) return setError(E_PAGE_CORRUPT, page);
  let live = <i64>bump - local - remote;
  if (live < 0) return setError(E_PAGE_CORRUPT, page);
  if (kind != HEAP_OBJECT) return OK;
  let objects: i64 = 0;
  let block = page + PAGE_HEADER_SIZE;
  for (let j: u32 = 0; j < bump; j++, block += blockSize) {
    if ((atomic.load<u32>(block + H_LINK) & LINK_LIVE) == 0) continue;
    let e = verifyObject(block);
    if (e != OK) return e;
    objects++;
  }
  // a LIVE block is never on a free list, so LIVE blocks and allocated blocks must agree
  if (objects != live) return setError(E_PAGE_CORRUPT, page);
  return OK;
}

/** Length of a free list, or -1 if it leaves the page, is misaligned, or is longer than the carved blocks. */
function freeListLength(page: usize, block: usize, blockSize: usize, bump: u32): i64 {
  let n: i64 = 0;
  let first = page + PAGE_HEADER_SIZE;
  while (block != 0) {
    if (block < first || block >= first + <usize>bump * blockSize || (block - first) % blockSize != 0) return -1;
    if (++n > <i64>bump) return -1;
    if (atomic.load<u32>(block + H_LINK) & LINK_LIVE && load<u32>(page + P_KIND) == HEAP_OBJECT) return -1;
    block = <usize>load<u32>(block);
  }
  return n;
}

function verifyLargeRun(page: usize, index: u32, high: u32): i32 {
  let pages = load<u32>(page + P_PAGES);
  if (pages == 0 || index + pages > high || load<u32>(page + P_CLASS) != LARGE_CLASS) {
    return setError(E_PAGE_CORRUPT, page);
  }
  for (let k: u32 = 1; k < pages; k++) if (mapGet(index + k) != MAP_TAIL) return setError(E_PAGE_CORRUPT, page);
  if (load<u32>(page + P_KIND) != HEAP_OBJECT) return OK;
  let obj = page + PAGE_HEADER_SIZE;
  if ((atomic.load<u32>(obj + H_LINK) & LINK_LIVE) == 0) return setError(E_PAGE_CORRUPT, obj);
  return verifyObject(obj);
}

@inline function attached(tid: u32): bool {
  let s = atomic.load<u32>(recordOf(tid) + R_STATE) & STATE_MASK;
  return s == STATE_ACTIVE || s == STATE_PARKED || s == STATE_HELPED;
}

/** The paper's invariants for one live object, and its slots. */
function verifyObject(obj: usize): i32 {
  liveObjects++;
  let tid = <u32>atomic.load<u16>(obj + H_TID);
  let local = load<u32>(obj + H_LOCAL);
  let s = atomic.load<i32>(obj + H_SHARED);
  let count = s >> SHARED_SHIFT;
  let queued = (s & SHARED_QUEUED) != 0;
  if (queued) queuedObjects++;
  if (tid != 0) {
    if (s & SHARED_MERGED) return setError(E_MERGED_OWNED, obj); // only the owner merges, and it drops tid first
    if (!attached(tid)) return setError(E_OWNER_GONE, obj);
    if (local == 0) return setError(E_BIASED_NEGATIVE, obj); // ownership is dropped when local reaches zero
  } else {
    if ((s & SHARED_MERGED) == 0) return setError(E_MERGED_OWNED, obj);
    if (local != 0) return setError(E_MERGED_OWNED, obj);
  }
  if (count < 0 && !queued) return setError(E_SHARED_NEGATIVE, obj);
  let immortal = local == LOCAL_IMMORTAL || count >= SHARED_SATURATED;
  if ((s & SHARED_WEAK) != 0 && findCell(obj) == NO_CELL) return setError(E_PAGE_CORRUPT, obj); // WEAK without a cell
  if (!immortal && <i64>local + <i64>count - (queued ? 1 : 0) <= 0) return setError(E_DEAD_REFERENCE, obj);
  let slots = slotCount(obj);
  for (let i: u32 = 0; i < slots; i++) {
    let child = atomic.load<u32>(slotAddress(obj, i));
    if (child & SLOT_BUSY) return setError(E_PAGE_CORRUPT, obj);
    if (child != 0 && validateBlock(<usize>child) != OK) return setError(E_DEAD_REFERENCE, obj);
  }
  return OK;
}
