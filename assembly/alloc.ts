// The allocator: thread-owned pages of one size class each, in the manner of mimalloc.
//
// Fast path (owner): pop the first block of the local free list of the first available page of the class. That is
// four loads (the page from the record, the block from the page, the block's link, the page's used count) and two
// stores (the list head, used + 1): no atomic RMW, and no counter beyond the page's own used count (statistics are
// derived from the page headers when asked, stats.ts). A block freed by its page's owner goes back on that local
// list. A block freed by any other thread is pushed on the page's atomic thread-free stack; the owner takes that
// whole stack with one xchg when its local list runs dry (collectThreadFree). Fresh blocks are carved from a bump
// index.
//
// A page with nothing left is unlinked and marked FULL with a CAS of its thread-free word (0 -> FULL bit): the
// owner stops looking at it. The first remote free that replaces the FULL bit then owes the page back to its owner
// and hands it over through the owner's reclaim list (deliverPage). A page whose blocks are all free returns to the
// page pool, unless it is the last page of its class. Blocks larger than SMALL_MAX get a run of pages each.
//
// When a thread detaches, its pages with live blocks go on global abandoned lists (owner 0), from which other
// threads adopt them; empty ones return to the pool. At the memory maximum the allocator sweeps those lists and its
// own for pages that became empty before giving up, so nothing is lost to a dead thread.
//
//   record.avail[kind][class] --> page <--> page <--> page          (owner only, through P_PREV / P_NEXT)
//   page: | header | block | block | ... | block | (not yet carved) |
//   page.local free --> block --> block      page.thread free (atomic) --> block --> block
//
// Layer 4: imports the page pool, the heap mutex and the instance. It knows blocks, never what is in them: the
// objects of a detaching thread are abandoned by threads.ts, which walks them with nextBlock.

import {
  GLOBAL_BASE, G_ABANDONED, HEAP_KINDS, HEAP_OBJECT, LARGE_CLASS, MAP_LARGE, MAP_SMALL, P_EPOCH, H_LINK, H_SLOTS,
  GEN_SHIFT, GEN_MASK,
  PAGE_ABANDONED, PAGE_AVAIL, PAGE_FULL, PAGE_HEADER_SIZE, PAGE_RECLAIM, PAGE_SHIFT, PAGE_SIZE, P_BLOCK_SIZE, P_BUMP,
  P_CAPACITY, P_CLASS, P_KIND, P_LOCAL_FREE, P_NEXT, P_OWNER, P_PAGES, P_PREV, P_RECLAIM_NEXT, P_STATE,
  P_THREAD_FREE, P_USED, R_AVAIL, R_RECLAIM, SIZE_CLASSES, SMALL_MAX, THREAD_FREE_FULL, BLOCK_ALIGN,
  MAX_BLOCK_SIZE,
} from "./layout";
import { myRecord, myTid, recordOf } from "./instance";
import { lockHeap, unlockHeap } from "./mutex";
import { SP_PAGE_FULL, SP_REMOTE_FREED, SP_REMOTE_LINKED, schedulePoint } from "./schedule";
import { mapGet, mapSet, pageAddress, pageHigh, pageIndex, pageOf, releasePages, reservePages, reservedFresh } from "./pages";

// ---- size classes -----------------------------------------------------------------------------------------------

/** 1..128: steps of 16 (classes 0..7); then four classes per doubling up to SMALL_MAX (classes 8..38). */
export function sizeClass(size: usize): u32 {
  if (size <= 128) return size <= 16 ? 0 : <u32>((size - 1) >> 4);
  let p = 31 - clz<u32>(<u32>size - 1); // size is in (2^p, 2^(p+1)]
  return 8 + (p - 7) * 4 + ((<u32>size - 1 - (1 << p)) >> (p - 2));
}

export function classBlockSize(cls: u32): usize {
  if (cls < 8) return <usize>(cls + 1) << 4;
  let p = ((cls - 8) >> 2) + 7;
  return (<usize>1 << p) + (<usize>(((cls - 8) & 3) + 1) << (p - 2));
}

@inline function availSlot(kind: u32, cls: u32): usize {
  return myRecord + R_AVAIL + (<usize>(kind * SIZE_CLASSES + cls) << 2);
}

@inline function abandonedSlot(kind: u32, cls: u32): usize {
  return GLOBAL_BASE + G_ABANDONED + (<usize>(kind * SIZE_CLASSES + cls) << 2);
}

// ---- allocation -------------------------------------------------------------------------------------------------

/** A 16-byte aligned block of at least `size` bytes from heap `kind`, or 0 at the memory maximum. */
export function allocBlock(size: usize, kind: u32): usize {
  if (size > SMALL_MAX) return allocLarge(size, kind);
  let cls = sizeClass(size);
  let page = <usize>load<u32>(availSlot(kind, cls));
  if (page != 0) {
    let block = <usize>load<u32>(page + P_LOCAL_FREE);
    if (block != 0) {
      store<u32>(page + P_LOCAL_FREE, load<u32>(block));
      store<u32>(page + P_USED, load<u32>(page + P_USED) + 1);
      return block;
    }
  }
  return allocSmallSlow(kind, cls);
}

/** A block from `page`'s local list or its uncarved tail, or 0. */
function takeBlock(page: usize): usize {
  let block = <usize>load<u32>(page + P_LOCAL_FREE);
  if (block != 0) {
    store<u32>(page + P_LOCAL_FREE, load<u32>(block));
  } else {
    let bump = load<u32>(page + P_BUMP);
    if (bump >= load<u32>(page + P_CAPACITY)) return 0;
    store<u32>(page + P_BUMP, bump + 1);
    block = page + PAGE_HEADER_SIZE + <usize>bump * load<u32>(page + P_BLOCK_SIZE);
  }
  store<u32>(page + P_USED, load<u32>(page + P_USED) + 1);
  return block;
}

function allocSmallSlow(kind: u32, cls: u32): usize {
  // a racy peek; the list itself is taken under the heap lock, which orders it against deliverPage
  if (atomic.load<u32>(myRecord + R_RECLAIM) != 0) takeReclaimed();
  let swept = false;
  while (true) {
    let block = takeFromAvailable(kind, cls);
    if (block != 0) return block;
    // Another page: an abandoned one (which may turn out to be full: then the scan above marks it FULL, as its
    // own, and we come back here for the next one), a fresh one, or, at the memory maximum, one that a sweep for
    // empty pages gives back to the pool.
    let page = adoptAbandoned(kind, cls);
    if (page == 0) page = newSmallPage(kind, cls);
    if (page == 0 && !swept) {
      swept = true;
      if (sweepEmptyPages()) page = newSmallPage(kind, cls);
    }
    if (page == 0) return 0;
    availPush(page);
  }
  return 0; // not reached
}

/** A block from the first available page of the class that has one; pages found full are marked FULL. */
function takeFromAvailable(kind: u32, cls: u32): usize {
  let page = <usize>load<u32>(availSlot(kind, cls));
  while (page != 0) {
    collectThreadFree(page);
    let block = takeBlock(page);
    if (block != 0) return block;
    let next = <usize>load<u32>(page + P_NEXT);
    availUnlink(page);
    if (!markFull(page)) {
      availPush(page); // remote frees arrived meanwhile: keep using it
      continue;
    }
    page = next;
  }
  return 0;
}

function newSmallPage(kind: u32, cls: u32): usize {
  lockHeap();
  let page = reservePages(1);
  if (page != 0) {
    let blockSize = classBlockSize(cls);
    let capacity = <u32>((PAGE_SIZE - PAGE_HEADER_SIZE) / blockSize);
    let epoch = setUpPage(page, kind, cls, blockSize, capacity, 1);
    if (kind == HEAP_OBJECT) prepareObjectBlocks(page + PAGE_HEADER_SIZE, blockSize, capacity, epoch);
    store<u32>(page + P_STATE, PAGE_AVAIL);
    mapSet(pageIndex(page), MAP_SMALL); // after the header: validation reads the map first
  }
  unlockHeap();
  return page;
}

/**
 * Writes the header of a page (or run) taken from the pool; returns its epoch: 0 for fresh memory, else one more
 * than the page's previous epoch (whatever its header held: a page that was a run's tail holds payload there).
 */
function setUpPage(page: usize, kind: u32, cls: u32, blockSize: usize, capacity: u32, pages: u32): u32 {
  let epoch = reservedFresh ? 0 : load<u32>(page + P_EPOCH) + 1;
  memory.fill(page, 0, PAGE_HEADER_SIZE);
  store<u32>(page + P_EPOCH, epoch);
  store<u32>(page + P_OWNER, myTid);
  store<u32>(page + P_KIND, kind);
  store<u32>(page + P_CLASS, cls);
  store<u32>(page + P_BLOCK_SIZE, <u32>blockSize);
  store<u32>(page + P_CAPACITY, capacity);
  store<u32>(page + P_PAGES, pages);
  return epoch;
}

/**
 * Object pages only. The allocator hands out blocks and never reads what is in them, with one exception: the first
 * two words objects keep across a free. Each block of an object page starts with its link word clear (so a block
 * carved in this use of the page can never look LIVE from an earlier use) and its generation (layout.ts, u16 at
 * H_SLOTS) at the page's epoch, so that a stale handle from an earlier use rarely matches a new object. Fresh
 * memory is zero already.
 */
function prepareObjectBlocks(first: usize, blockSize: usize, count: u32, epoch: u32): void {
  if (reservedFresh) return;
  let gen = <u16>((epoch & GEN_MASK) << GEN_SHIFT);
  for (let block = first, end = first + <usize>count * blockSize; block < end; block += blockSize) {
    store<u32>(block + H_LINK, 0);
    store<u16>(block + H_SLOTS, gen);
  }
}

function allocLarge(size: usize, kind: u32): usize {
  if (size > MAX_BLOCK_SIZE) return 0;
  let blockSize = (size + BLOCK_ALIGN - 1) & ~(BLOCK_ALIGN - 1);
  let pages = <u32>((blockSize + PAGE_HEADER_SIZE + PAGE_SIZE - 1) >> PAGE_SHIFT);
  let page = newLargeRun(kind, blockSize, pages);
  if (page == 0 && sweepEmptyPages()) page = newLargeRun(kind, blockSize, pages);
  if (page == 0) return 0;
  return page + PAGE_HEADER_SIZE;
}

function newLargeRun(kind: u32, blockSize: usize, pages: u32): usize {
  lockHeap();
  let page = reservePages(pages);
  if (page != 0) {
    let epoch = setUpPage(page, kind, LARGE_CLASS, blockSize, 1, pages);
    if (kind == HEAP_OBJECT) prepareObjectBlocks(page + PAGE_HEADER_SIZE, blockSize, 1, epoch);
    store<u32>(page + P_BUMP, 1);
    store<u32>(page + P_USED, 1);
    mapSet(pageIndex(page), MAP_LARGE); // in the same lock hold as the reservation: the run is never seen free
  }
  unlockHeap();
  return page;
}

// ---- free -------------------------------------------------------------------------------------------------------

/** Frees a block from any thread. */
export function freeBlock(block: usize): void {
  if (block == 0) return; // like free(NULL)
  let page = pageOf(block);
  if (mapGet(pageIndex(page)) == MAP_LARGE) {
    lockHeap();
    releasePages(page);
    unlockHeap();
  } else if (myTid != 0 && load<u32>(page + P_OWNER) == myTid) {
    localFree(page, block); // only we change the owner away from us (detach), so this read is stable
  } else {
    remoteFree(page, block);
  }
}

function localFree(page: usize, block: usize): void {
  store<u32>(block, load<u32>(page + P_LOCAL_FREE));
  store<u32>(page + P_LOCAL_FREE, <u32>block);
  let used = load<u32>(page + P_USED) - 1;
  store<u32>(page + P_USED, used);
  let state = load<u32>(page + P_STATE);
  if (state == PAGE_FULL) {
    // take the page back from FULL; if a remote free beat us to it, the page arrives through the reclaim list
    if (atomic.cmpxchg<u32>(page + P_THREAD_FREE, THREAD_FREE_FULL, 0) != THREAD_FREE_FULL) return;
    store<u32>(page + P_STATE, PAGE_AVAIL);
    availPush(page);
  }
  if (used == 0 && load<u32>(page + P_STATE) == PAGE_AVAIL) retireIfSpare(page);
}

function remoteFree(page: usize, block: usize): void {
  let old: u32;
  do {
    old = atomic.load<u32>(page + P_THREAD_FREE); // only a guess for the CAS below, which validates it
    store<u32>(block, old & ~THREAD_FREE_FULL);
    schedulePoint(SP_REMOTE_LINKED, block);
    // release: the link store above happens before the owner's xchg can see the block
  } while (atomic.cmpxchg<u32>(page + P_THREAD_FREE, old, <u32>block) != old);
  schedulePoint(SP_REMOTE_FREED, block);
  if (old & THREAD_FREE_FULL) deliverPage(page);
}

/** We replaced the FULL bit: the owner had given up on this page, so hand it back to it. */
function deliverPage(page: usize): void {
  lockHeap();
  // the owner wrote FULL before its CAS set the bit, so we see it; a detach in between made it ABANDONED
  if (load<u32>(page + P_STATE) == PAGE_FULL) {
    let rec = recordOf(load<u32>(page + P_OWNER));
    store<u32>(page + P_STATE, PAGE_RECLAIM);
    store<u32>(page + P_RECLAIM_NEXT, load<u32>(rec + R_RECLAIM));
    atomic.store<u32>(rec + R_RECLAIM, <u32>page); // the owner polls this word without the lock
  }
  unlockHeap();
}

function takeReclaimed(): void {
  lockHeap();
  let page = <usize>load<u32>(myRecord + R_RECLAIM);
  atomic.store<u32>(myRecord + R_RECLAIM, 0); // under the heap lock; atomic for the lock-free peek above
  while (page != 0) {
    let next = <usize>load<u32>(page + P_RECLAIM_NEXT);
    store<u32>(page + P_STATE, PAGE_AVAIL);
    availPush(page);
    page = next;
  }
  unlockHeap();
}

/** Owner: moves the page's remote frees onto its local list. */
function collectThreadFree(page: usize): void {
  if (atomic.load<u32>(page + P_THREAD_FREE) == 0) return; // a peek: skip the RMW when nothing was freed remotely
  // acquire: pairs with the pushers' CAS, so their link stores are visible as we walk
  let list = <usize>(atomic.xchg<u32>(page + P_THREAD_FREE, 0) & ~THREAD_FREE_FULL);
  if (list == 0) return;
  let n: u32 = 1;
  let tail = list;
  while (load<u32>(tail) != 0) {
    tail = <usize>load<u32>(tail);
    n++;
  }
  store<u32>(tail, load<u32>(page + P_LOCAL_FREE));
  store<u32>(page + P_LOCAL_FREE, <u32>list);
  store<u32>(page + P_USED, load<u32>(page + P_USED) - n);
}

/** Owner: gives up on a page with no free block. False if remote frees arrived first. */
function markFull(page: usize): bool {
  store<u32>(page + P_STATE, PAGE_FULL); // before the CAS: a deliverer that replaces the bit must see FULL
  // succeeds only on an empty list; the first remote push after it replaces the bit and sees PAGE_FULL (stored above)
  if (atomic.cmpxchg<u32>(page + P_THREAD_FREE, 0, THREAD_FREE_FULL) == 0) {
    schedulePoint(SP_PAGE_FULL, page);
    return true;
  }
  store<u32>(page + P_STATE, PAGE_AVAIL);
  return false;
}

/** Returns an empty page to the pool unless it is the only page of its class. */
function retireIfSpare(page: usize): void {
  let slot = availSlot(load<u32>(page + P_KIND), load<u32>(page + P_CLASS));
  if (load<u32>(slot) == <u32>page && load<u32>(page + P_NEXT) == 0) return;
  availUnlink(page);
  lockHeap();
  store<u32>(page + P_OWNER, 0);
  releasePages(page);
  unlockHeap();
}

// ---- page lists ------------------------------------------------------------------------------------------------

function availPush(page: usize): void {
  listPush(availSlot(load<u32>(page + P_KIND), load<u32>(page + P_CLASS)), page);
}

function availUnlink(page: usize): void {
  listUnlink(availSlot(load<u32>(page + P_KIND), load<u32>(page + P_CLASS)), page);
}

function listPush(head: usize, page: usize): void {
  let first = <usize>load<u32>(head);
  store<u32>(page + P_PREV, 0);
  store<u32>(page + P_NEXT, <u32>first);
  if (first != 0) store<u32>(first + P_PREV, <u32>page);
  store<u32>(head, <u32>page);
}

function listUnlink(head: usize, page: usize): void {
  let prev = <usize>load<u32>(page + P_PREV);
  let next = <usize>load<u32>(page + P_NEXT);
  if (prev != 0) store<u32>(prev + P_NEXT, <u32>next);
  else store<u32>(head, <u32>next);
  if (next != 0) store<u32>(next + P_PREV, <u32>prev);
  store<u32>(page + P_PREV, 0);
  store<u32>(page + P_NEXT, 0);
}

// ---- abandoned pages ------------------------------------------------------------------------------------------

function adoptAbandoned(kind: u32, cls: u32): usize {
  let head = abandonedSlot(kind, cls);
  if (atomic.load<u32>(head) == 0) return 0; // a peek; the list is read and changed under the heap lock
  lockHeap();
  let page = <usize>load<u32>(head);
  if (page != 0) {
    listUnlink(head, page);
    store<u32>(page + P_OWNER, myTid);
    store<u32>(page + P_STATE, PAGE_AVAIL);
  }
  unlockHeap();
  if (page != 0) collectThreadFree(page);
  return page;
}

/** Detach: gives the pages of `tid` up, once its objects were abandoned (threads.ts abandonObjectsOf). */
export function abandonPagesOf(tid: u32): void {
  let rec = recordOf(tid);
  lockHeap();
  let high = pageHigh();
  for (let i: u32 = 0; i < high; i++) {
    if (mapGet(i) != MAP_SMALL) continue;
    let page = pageAddress(i);
    if (load<u32>(page + P_OWNER) != tid) continue;
    // takes remote frees and the FULL bit; a deliverer waiting for the lock will then find the page ABANDONED
    collectThreadFree(page);
    store<u32>(page + P_RECLAIM_NEXT, 0);
    store<u32>(page + P_OWNER, 0);
    if (load<u32>(page + P_USED) == 0) {
      releasePages(page);
    } else {
      store<u32>(page + P_STATE, PAGE_ABANDONED);
      listPush(abandonedSlot(load<u32>(page + P_KIND), load<u32>(page + P_CLASS)), page);
    }
  }
  memory.fill(rec + R_AVAIL, 0, <usize>(HEAP_KINDS * SIZE_CLASSES) << 2);
  atomic.store<u32>(rec + R_RECLAIM, 0); // under the heap lock, like every other write of the list
  unlockHeap();
}

/** At the memory maximum: returns to the pool every abandoned page, and every page of ours, that is now empty. */
function sweepEmptyPages(): bool {
  let released = false;
  lockHeap();
  for (let kind: u32 = 0; kind < HEAP_KINDS; kind++) {
    for (let cls: u32 = 0; cls < SIZE_CLASSES; cls++) {
      released = sweepList(abandonedSlot(kind, cls)) || released;
      released = sweepList(availSlot(kind, cls)) || released;
    }
  }
  unlockHeap();
  return released;
}

function sweepList(head: usize): bool {
  let released = false;
  let page = <usize>load<u32>(head);
  while (page != 0) {
    let next = <usize>load<u32>(page + P_NEXT);
    collectThreadFree(page); // abandoned pages: we act as owner under the heap lock, as adoption does
    if (load<u32>(page + P_USED) == 0) {
      listUnlink(head, page);
      store<u32>(page + P_OWNER, 0);
      releasePages(page);
      released = true;
    }
    page = next;
  }
  return released;
}

/** Usable bytes of a block. */
export function blockSize(block: usize): usize {
  return load<u32>(pageOf(block) + P_BLOCK_SIZE);
}

// ---- walking the heap ------------------------------------------------------------------------------------------
// Detach, verify and the statistics walk every block ever carved on the pages of one kind: for small pages the
// blocks below the bump index (live or free), for a large run its one block. The caller holds the heap lock, so no
// page changes hands, kind or size class while it walks; blocks may be allocated and freed meanwhile.

/**
 * The index of the first in-use page of heap `kind` at or after page index `from`: a small page (skipped unless
 * `owner` is 0 or owns it) or the head of a large run (always included); -1 when there is none. Walk its blocks
 * from page + PAGE_HEADER_SIZE to blocksEnd(page), by P_BLOCK_SIZE; the next page to look at is the index +
 * P_PAGES. The loops stay in the caller, so a walk costs no call per block:
 *
 *   for (let i = nextPageOf(kind, owner, 0); i >= 0; i = nextPageOf(kind, owner, <u32>i + pagesOf(i))) {
 *     let page = pageAddress(<u32>i), size = <usize>load<u32>(page + P_BLOCK_SIZE);
 *     for (let b = page + PAGE_HEADER_SIZE, end = blocksEnd(page); b < end; b += size) { ... }
 *   }
 */
export function nextPageOf(kind: u32, owner: u32, from: u32): i32 {
  let high = pageHigh();
  for (let i = from; i < high; i++) {
    let map = mapGet(i);
    if (map != MAP_SMALL && map != MAP_LARGE) continue; // free, or a TAIL page (payload, not a header)
    let page = pageAddress(i);
    if (load<u32>(page + P_KIND) != kind) continue;
    if (map == MAP_SMALL && owner != 0 && load<u32>(page + P_OWNER) != owner) continue;
    return <i32>i;
  }
  return -1;
}

/** Pages that page index `i` (a small page or a run's head) spans. */
@inline export function pagesOf(i: i32): u32 {
  return load<u32>(pageAddress(<u32>i) + P_PAGES);
}

/** Past the last carved block of a page (a small page's bump index; a large run's one block). */
@inline export function blocksEnd(page: usize): usize {
  return page + PAGE_HEADER_SIZE + <usize>load<u32>(page + P_BUMP) * <usize>load<u32>(page + P_BLOCK_SIZE);
}

/** Blocks of a small page that are handed out: used minus the remote frees not yet collected. A snapshot. */
export function liveBlocksOf(page: usize): u32 {
  let pending: u32 = 0;
  let capacity = load<u32>(page + P_CAPACITY);
  // racy when the owner runs: the list may be taken while we walk it; the length bound keeps the walk finite
  let block = <usize>(atomic.load<u32>(page + P_THREAD_FREE) & ~THREAD_FREE_FULL);
  while (block != 0 && pending < capacity) {
    pending++;
    block = <usize>atomic.load<u32>(block);
  }
  let used = atomic.load<u32>(page + P_USED);
  return used > pending ? used - pending : 0;
}
