// The page pool: whole pages and page runs, handed out under the heap lock.
//
// The page map has one byte a page (FREE, SMALL, LARGE, TAIL). Pages below `page high` have been used before;
// pages at or above it are fresh, zero-filled memory, grown with memory.grow when first needed. A run of n pages is
// found first-fit from `free hint`, the lowest page that may be free; when none fits, the heap extends at `page high`.
// Page allocation happens once per page of small blocks or once per large block, so a linear scan is affordable.
//
//   pages_base                                                                      memory.size()   memory max
//   | SMALL | SMALL | LARGE TAIL TAIL | FREE | SMALL | ... | page high (fresh ...)   |  (grow)       |
//
// Every function that changes the map or the pool runs with the heap lock held (mutex.ts lockHeap), by its caller.
//
// Layer 3: imports the instance (where the map and the pages are).

import { GLOBAL_BASE, G_FREE_HINT, G_PAGE_HIGH, MAP_FREE, MAP_TAIL, PAGE_SHIFT, PAGE_MASK, P_PAGES } from "./layout";
import { pageLimit, pageMapBase, pagesBase } from "./instance";

@inline export function pageAddress(index: u32): usize {
  return pagesBase + (<usize>index << PAGE_SHIFT);
}

@inline export function pageIndex(addr: usize): u32 {
  return <u32>((addr - pagesBase) >> PAGE_SHIFT);
}

@inline export function pageOf(addr: usize): usize {
  return addr & ~PAGE_MASK;
}

@inline export function pageHigh(): u32 {
  return atomic.load<u32>(GLOBAL_BASE + G_PAGE_HIGH); // pairs with the store in reservePages (after the grow)
}

/** The map byte of a page; atomic because validation reads it without the lock. */
@inline export function mapGet(index: u32): u8 {
  return atomic.load<u8>(pageMapBase + index); // pairs with mapSet: a map byte is written after its page header
}

@inline export function mapSet(index: u32, kind: u8): void {
  atomic.store<u8>(pageMapBase + index, kind); // release: the page header written before it is visible with it
}

/** Set by reservePages: whether the pages it returned were never used (so they are still zero-filled). */
export let reservedFresh: bool = false;

/** Reserves `n` consecutive pages (heap lock held). Returns the first page's address, or 0 at the memory maximum. */
export function reservePages(n: u32): usize {
  let g = GLOBAL_BASE;
  let high = load<u32>(g + G_PAGE_HIGH);
  let hint = load<u32>(g + G_FREE_HINT);
  let firstFree: u32 = high;
  let run: u32 = 0;
  let start: u32 = 0;
  for (let i = hint; i < high; i++) {
    if (mapGet(i) == MAP_FREE) {
      if (firstFree == high) firstFree = i;
      if (run == 0) start = i;
      if (++run == n) break;
    } else {
      run = 0;
    }
  }
  if (run == n && n > 0) {
    reservedFresh = false;
  } else {
    // extend at the end; a free run that reaches `high` is part of the new run
    if (run == 0) start = high;
    let end = start + n;
    if (end > pageLimit || end < start) return 0;
    let needPages = <i32>(pagesBase >> PAGE_SHIFT) + <i32>end; // in wasm pages (biasrc pages are wasm pages)
    let have = memory.size();
    if (needPages > have && memory.grow(needPages - have) < 0) return 0;
    // pages from `start` to `high` were used before (not zero); the caller treats the run as used
    reservedFresh = start >= high;
    atomic.store<u32>(g + G_PAGE_HIGH, end); // read without the lock by validation and stats
  }
  for (let i: u32 = 1; i < n; i++) mapSet(start + i, MAP_TAIL);
  // the caller sets the first page's map byte once its header is written
  if (firstFree == start) store<u32>(g + G_FREE_HINT, start + n);
  else store<u32>(g + G_FREE_HINT, firstFree);
  return pageAddress(start); // the caller writes the page header, with the run length
}

/** Returns a page or run to the pool (heap lock held). */
export function releasePages(page: usize): void {
  let first = pageIndex(page);
  let n = load<u32>(page + P_PAGES);
  for (let i: u32 = 0; i < n; i++) mapSet(first + i, MAP_FREE);
  let g = GLOBAL_BASE;
  if (first < load<u32>(g + G_FREE_HINT)) store<u32>(g + G_FREE_HINT, first);
}
