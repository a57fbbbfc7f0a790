// This thread's own instance: who it is in the heap and where the heap's parts are.
//
// Every thread runs its own instance of the module, and module globals are per instance, so each global here is
// thread-local for free. Everything threads share lives in memory (layout.ts); this file only caches what this
// thread reads often: its tid, its record, and the layout that brc_init wrote into the global header.
//
// Layer 1: imports only the constants of layer 0. Everything above reads these globals; only this file writes them.

import {
  G_INIT, G_MAGIC, G_MAX_THREADS, G_PAGE_LIMIT, G_PAGE_MAP, G_PAGES_BASE, G_RECORDS, G_VERSION, GLOBAL_BASE,
  INIT_READY, LAYOUT_MAGIC, LAYOUT_VERSION, NO_TID_HIGH, RECORD_SIZE,
} from "./layout";
import { ELAYOUT, OK, setError } from "./errors";

export let myTid: u32 = 0;
// myTid << 32: the owner check subtracts it from the header's first u64. Without a tid it is NO_TID, which no object
// carries, so an unattached instance can never take the owner's path on an object (tid 0 included).
export let myTidHigh: u64 = 0xffff_0000_0000; // NO_TID_HIGH, written as a literal: a computed initial value would need a start function
export let myRecord: usize = 0;

export let recordsBase: usize = 0;
export let pageMapBase: usize = 0;
export let pagesBase: usize = 0;
export let pageLimit: u32 = 0;
export let maxThreads: u32 = 0;

// False on a thread that must not block (a browser's main thread): waits there spin instead of sleeping.
let canBlock: bool = true;

export function setCanBlock(value: bool): void {
  canBlock = value;
}

export function canBlockHere(): bool {
  return canBlock;
}

/** Record 0 belongs to no thread: it takes the counters of instances that hold no tid. */
@inline export function recordOf(tid: u32): usize {
  return recordsBase + <usize>tid * RECORD_SIZE;
}

/** Adds to one of this thread's u64 counters (layout.ts record line 1 and 2): only this thread writes them. */
@inline export function countStat(field: usize, n: u64 = 1): void {
  store<u64>(myRecord + field, load<u64>(myRecord + field) + n);
}

/** One u64 counter summed over every record, record 0 included. A snapshot: others keep counting meanwhile. */
export function sumRecords(field: usize): u64 {
  let total: u64 = 0;
  for (let tid: u32 = 0; tid <= maxThreads; tid++) total += atomic.load<u64>(recordOf(tid) + field); // untorn reads
  return total;
}

/** Reads the layout into this instance's globals; ELAYOUT if the memory holds no heap of this version. */
export function loadLayout(): i32 {
  let g = GLOBAL_BASE;
  // acquire: pairs with the READY store in initHeap
  if (atomic.load<u32>(g + G_INIT) != INIT_READY) return setError(ELAYOUT, g);
  if (load<u32>(g + G_MAGIC) != LAYOUT_MAGIC || load<u32>(g + G_VERSION) != LAYOUT_VERSION) {
    return setError(ELAYOUT, g);
  }
  recordsBase = load<u32>(g + G_RECORDS);
  pageMapBase = load<u32>(g + G_PAGE_MAP);
  pagesBase = load<u32>(g + G_PAGES_BASE);
  pageLimit = load<u32>(g + G_PAGE_LIMIT);
  maxThreads = load<u32>(g + G_MAX_THREADS);
  if (myTid == 0) myRecord = recordOf(0);
  return OK;
}

/** True once loadLayout succeeded in this instance. */
@inline export function layoutLoaded(): bool {
  return recordsBase != 0;
}

/** Attach took `tid` for this thread. */
export function becomeTid(tid: u32): void {
  myTid = tid;
  myTidHigh = <u64>tid << 32;
  myRecord = recordOf(tid);
}

/** Detach gave the tid up: this instance does nothing more under it. */
export function dropTid(): void {
  myTid = 0;
  myTidHigh = NO_TID_HIGH;
  myRecord = recordOf(0);
}
