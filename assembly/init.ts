// brc_init: lays the heap out in a fresh memory (layout.ts, section "The whole memory").
//
// Layer 1: writes only memory; instances read the result with loadLayout (instance.ts).

import {
  CACHE_LINE, G_BUILD_FLAGS, G_FREE_HINT, G_INIT, G_MAGIC, G_MAX_THREADS, G_MEMORY_MAX, G_PAGE_HIGH, G_PAGE_LIMIT,
  G_PAGE_MAP, G_PAGES_BASE, G_RECORDS, G_VERSION, GLOBAL_BASE, GLOBAL_SIZE, BUILD_DEBUG, INIT_BUSY, INIT_NONE,
  INIT_READY, LAYOUT_MAGIC, LAYOUT_VERSION, MAX_THREADS_LIMIT, PAGE_SHIFT, PAGE_SIZE, RECORD_SIZE, WASM_MAX_PAGES,
} from "./layout";
import { DEBUG } from "./config";
import { EINIT, EINVAL, ENOMEM, OK, setError } from "./errors";

@inline function alignUp(x: usize, a: usize): usize {
  return (x + a - 1) & ~(a - 1);
}

/** Lays the heap out in a fresh memory. Exactly one call succeeds; later ones return EINIT. */
export function initHeap(threads: u32, memoryMaxPages: u32): i32 {
  if (threads == 0 || threads > MAX_THREADS_LIMIT) return setError(EINVAL, threads);
  if (memoryMaxPages == 0 || memoryMaxPages > WASM_MAX_PAGES) return setError(EINVAL, memoryMaxPages);
  let g = GLOBAL_BASE;
  // claims the one initialisation; a loser sees BUSY or READY and must not touch the layout
  if (atomic.cmpxchg<u32>(g + G_INIT, INIT_NONE, INIT_BUSY) != INIT_NONE) return setError(EINIT, 0);

  let records = alignUp(g + GLOBAL_SIZE, CACHE_LINE);
  let pageMap = records + <usize>(threads + 1) * RECORD_SIZE;
  let firstPageAddress = alignUp(pageMap + <usize>memoryMaxPages, PAGE_SIZE);
  let firstPage = <u32>(firstPageAddress >> PAGE_SHIFT);
  let have = <u32>memory.size();
  if (firstPage >= memoryMaxPages || (have < firstPage && memory.grow(firstPage - have) < 0)) {
    atomic.store<u32>(g + G_INIT, INIT_NONE); // gives the claim back: nothing was written
    return setError(ENOMEM, firstPageAddress);
  }
  memory.fill(g, 0, firstPageAddress - g);
  store<u32>(g + G_MAGIC, LAYOUT_MAGIC);
  store<u32>(g + G_VERSION, LAYOUT_VERSION);
  store<u32>(g + G_MAX_THREADS, threads);
  store<u32>(g + G_MEMORY_MAX, memoryMaxPages);
  store<u32>(g + G_RECORDS, <u32>records);
  store<u32>(g + G_PAGE_MAP, <u32>pageMap);
  store<u32>(g + G_PAGES_BASE, <u32>firstPageAddress);
  store<u32>(g + G_PAGE_LIMIT, memoryMaxPages - firstPage);
  store<u32>(g + G_PAGE_HIGH, 0);
  store<u32>(g + G_FREE_HINT, 0);
  store<u32>(g + G_BUILD_FLAGS, DEBUG ? BUILD_DEBUG : 0);
  // release: every field above is written before any instance can see READY (pairs with loadLayout's load)
  atomic.store<u32>(g + G_INIT, INIT_READY);
  return OK;
}
