// Statistics, readable from any thread at any time without stopping the others.
// Object counters live in each thread's record (written by that thread only) and are summed here; blocks and bytes
// are counted from the page headers (the allocator keeps no counters on its fast path). While threads run the
// figures are a recent snapshot; at a quiescent point they are exact. Record 0 (no thread) is included.
// The atomic loads only avoid torn reads of words others write: a snapshot needs no ordering.
//
// Layer 10: reads the records and the pages.

import {
  GLOBAL_BASE, G_ATTACHED, G_ORPHANS, MAP_FREE, MAP_LARGE, MAP_SMALL, PAGE_SIZE, P_BLOCK_SIZE, P_PAGES, R_MERGES,
  R_OBJECTS_ALLOC, R_OBJECTS_FREED, R_QUEUED, R_OWNER_INCREFS, R_OWNER_DECREFS, R_SHARED_INCREFS,
  R_SHARED_DECREFS, R_HELPED, G_GC_COLLECTIONS, G_GC_SCANNED, G_GC_FREED, G_GC_LONGEST_PAUSE, G_GC_ALLOCATIONS,
  G_WEAK_LIVE, R_ALLOCATIONS,
} from "./layout";
import { maxThreads, recordOf, sumRecords } from "./instance";
import { mapGet, pageAddress, pageHigh } from "./pages";
import { liveBlocksOf } from "./alloc";

export const STAT_LIVE_BLOCKS: i32 = 0;
export const STAT_LIVE_BYTES: i32 = 1;
export const STAT_PAGES_IN_USE: i32 = 2;
export const STAT_MEMORY_BYTES: i32 = 3;
export const STAT_THREADS: i32 = 4;
export const STAT_LIVE_OBJECTS: i32 = 5;
export const STAT_OBJECTS_ALLOCATED: i32 = 6;
export const STAT_OBJECTS_FREED: i32 = 7;
export const STAT_MERGES: i32 = 8;
export const STAT_QUEUED: i32 = 9;
export const STAT_ORPHANS: i32 = 10;
export const STAT_PAGE_HIGH: i32 = 11;
export const STAT_OWNER_INCREFS: i32 = 12; // debug build only (0 in release)
export const STAT_OWNER_DECREFS: i32 = 13;
export const STAT_SHARED_INCREFS: i32 = 14;
export const STAT_SHARED_DECREFS: i32 = 15;
export const STAT_HELPED_MERGES: i32 = 16;
export const STAT_COLLECTIONS: i32 = 17; // cycle collections run
export const STAT_COLLECTED_SCANNED: i32 = 18; // live objects those collections scanned, in all
export const STAT_COLLECTED_FREED: i32 = 19; // objects those collections freed, in all
export const STAT_LONGEST_PAUSE_US: i32 = 20; // the longest time a collection held the world, in microseconds
export const STAT_ALLOCATIONS_SINCE_COLLECTION: i32 = 21; // objects allocated since the last collection
export const STAT_WEAK_CELLS: i32 = 22; // weak-table cells that name an object (objects with weak references)
export const STAT_COUNT: i32 = 23;

/** Blocks handed out (`bytes` false) or their bytes (true), over every page. */
function liveBlocks(bytes: bool): u64 {
  let total: u64 = 0;
  let high = pageHigh();
  for (let i: u32 = 0; i < high; i++) {
    let map = mapGet(i);
    if (map != MAP_SMALL && map != MAP_LARGE) continue;
    let page = pageAddress(i);
    let n: u64 = map == MAP_LARGE ? 1 : <u64>liveBlocksOf(page);
    total += bytes ? n * <u64>atomic.load<u32>(page + P_BLOCK_SIZE) : n;
    if (map == MAP_LARGE) i += atomic.load<u32>(page + P_PAGES) - 1;
  }
  return total;
}

/** The shared count plus every thread's batch not yet added to it (a snapshot). */
function allocationsSinceCollection(): u64 {
  let n = <u64>atomic.load<u32>(GLOBAL_BASE + G_GC_ALLOCATIONS);
  for (let tid: u32 = 0; tid <= maxThreads; tid++) n += <u64>atomic.load<u32>(recordOf(tid) + R_ALLOCATIONS);
  return n;
}

export function pagesInUse(): u32 {
  let n: u32 = 0;
  let high = pageHigh();
  for (let i: u32 = 0; i < high; i++) if (mapGet(i) != MAP_FREE) n++;
  return n;
}

export function stat(which: i32): f64 {
  switch (which) {
    case STAT_LIVE_BLOCKS: return <f64>liveBlocks(false);
    case STAT_LIVE_BYTES: return <f64>liveBlocks(true);
    case STAT_PAGES_IN_USE: return <f64>pagesInUse();
    case STAT_MEMORY_BYTES: return <f64>memory.size() * <f64>PAGE_SIZE;
    case STAT_THREADS: return <f64>atomic.load<u32>(GLOBAL_BASE + G_ATTACHED);
    case STAT_LIVE_OBJECTS: return <f64>(sumRecords(R_OBJECTS_ALLOC) - sumRecords(R_OBJECTS_FREED));
    case STAT_OBJECTS_ALLOCATED: return <f64>sumRecords(R_OBJECTS_ALLOC);
    case STAT_OBJECTS_FREED: return <f64>sumRecords(R_OBJECTS_FREED);
    case STAT_MERGES: return <f64>sumRecords(R_MERGES);
    case STAT_QUEUED: return <f64>sumRecords(R_QUEUED);
    case STAT_ORPHANS: return <f64>atomic.load<u32>(GLOBAL_BASE + G_ORPHANS);
    case STAT_PAGE_HIGH: return <f64>pageHigh();
    case STAT_OWNER_INCREFS: return <f64>sumRecords(R_OWNER_INCREFS);
    case STAT_OWNER_DECREFS: return <f64>sumRecords(R_OWNER_DECREFS);
    case STAT_SHARED_INCREFS: return <f64>sumRecords(R_SHARED_INCREFS);
    case STAT_SHARED_DECREFS: return <f64>sumRecords(R_SHARED_DECREFS);
    case STAT_HELPED_MERGES: return <f64>sumRecords(R_HELPED);
    case STAT_COLLECTIONS: return <f64>atomic.load<u32>(GLOBAL_BASE + G_GC_COLLECTIONS);
    case STAT_COLLECTED_SCANNED: return <f64>atomic.load<u64>(GLOBAL_BASE + G_GC_SCANNED);
    case STAT_COLLECTED_FREED: return <f64>atomic.load<u64>(GLOBAL_BASE + G_GC_FREED);
    case STAT_LONGEST_PAUSE_US: return <f64>atomic.load<u32>(GLOBAL_BASE + G_GC_LONGEST_PAUSE);
    case STAT_ALLOCATIONS_SINCE_COLLECTION: return <f64>allocationsSinceCollection();
    case STAT_WEAK_CELLS: return <f64>atomic.load<u32>(GLOBAL_BASE + G_WEAK_LIVE);
  }
  return -1;
}
