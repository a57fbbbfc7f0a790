// Cycle collection, with the world held at safe points (CPython's gc_free_threading.c, adapted to biased counts).
//
// Reference counting never frees a cycle. A collection finds every object that only other objects' slots keep
// alive: for each live object, gc = its true count (local + shared - queued) minus the references that slots of
// live objects hold to it. An object with gc > 0 is referenced from outside the heap (a handle some thread holds, a
// reference in flight in a message, an immortal): a root. Everything reachable from a root lives; the rest is
// garbage, and it is freed by the ordinary free path, without recursion.
//
// The counts must hold still while they are read, so the collector first holds the world (world.ts: every other
// thread acknowledged a pause, stopped, detached, or parked and borrowed), then drains every queue, then runs the
// phases below, then lets the world go.
//
// Scratch space: no extra header bytes. With every queue drained, bits 4..31 of each live object's link word are
// free (layout.ts); they hold gc (at most GC_MAX; larger true counts are clamped: such an object counts as a root),
// then GC_ALIVE for marked objects, then the garbage list. Bits 0..3 (LOCKED, WAITERS, LIVE, ORPHAN) are kept.
// The marking stack lives in raw blocks taken for the collection (ENOMEM: the collection is undone, nothing freed).
//
// Layer 9: imports the heap walk, the counts, the queues, objects and the weak table.

import {
  GLOBAL_BASE, G_GC_ALLOCATIONS, G_GC_COLLECTIONS, G_GC_FREED, G_GC_LONGEST_PAUSE, G_GC_SCANNED, R_ALLOCATIONS,
  H_LINK, H_LOCAL, H_SHARED, HEAP_OBJECT, HEAP_RAW, LINK_BITS, LINK_LIVE, LOCAL_IMMORTAL, R_QUEUE, R_STATE,
  SHARED_QUEUED, SHARED_SATURATED, SHARED_SHIFT, SHARED_WEAK, STATE_FREE, STATE_MASK, GC_MAX, GC_ALIVE,
  GC_STACK_ENTRIES, SLOT_BUSY, PAGE_HEADER_SIZE, P_BLOCK_SIZE,
} from "./layout";
import { E_DEAD_REFERENCE, ENOMEM, fail, setError } from "./errors";
import { maxThreads, recordOf } from "./instance";
import { allocBlock, blocksEnd, freeBlock, nextPageOf, pagesOf } from "./alloc";
import { pageAddress } from "./pages";
import { DEBUG } from "./config";
import { decrefAny } from "./refcount";
import { drainAndFree, drainFrees, scheduleFree, wakeOrHelp } from "./queue";
import { slotAddress, slotCount } from "./object";
import { clearWeakCell } from "./weaktable";

// ---- the collection ----------------------------------------------------------------------------------------------

let scanned: u64 = 0;
let stackChunk: usize = 0; // the marking stack: chunks of GC_STACK_ENTRIES u32, each linked to the one below
let stackTop: u32 = 0; // entries used in the top chunk

/** With the world held by this thread: frees every cycle no root reaches. Returns how many objects, or -ENOMEM. */
export function collectCycles(): i64 {
  drainEveryQueue();
  scanned = 0;
  countReferences();
  subtractInternalReferences();
  if (!markFromRoots()) {
    walk(RESTORE);
    return -<i64>setError(ENOMEM, 0);
  }
  garbage = 0;
  walk(CHAIN);
  let freed = garbage != 0 ? freeGarbage(garbage) : 0;
  garbage = 0;
  let g = GLOBAL_BASE;
  store<u32>(g + G_GC_COLLECTIONS, load<u32>(g + G_GC_COLLECTIONS) + 1);
  store<u64>(g + G_GC_SCANNED, load<u64>(g + G_GC_SCANNED) + scanned);
  store<u64>(g + G_GC_FREED, load<u64>(g + G_GC_FREED) + <u64>freed);
  // the threshold counts from here: the heap-wide sum, and each thread's batch not yet added to it (every other
  // thread is held at a safe point, outside allocation, so its record's counter holds still)
  atomic.store<u32>(g + G_GC_ALLOCATIONS, 0);
  for (let tid: u32 = 0; tid <= maxThreads; tid++) store<u32>(recordOf(tid) + R_ALLOCATIONS, 0);
  return freed;
}

/** Merges every queue (ours too), until a pass finds them all empty: merging frees, and a free may queue again. */
export function drainEveryQueue(): void {
  let again = true;
  while (again) {
    again = false;
    for (let tid: u32 = 0; tid <= maxThreads; tid++) {
      let rec = recordOf(tid);
      if (atomic.load<u32>(rec + R_QUEUE) == 0) continue;
      again = true;
      // every holder of rights is held (or is us): drain as their holder. A FREE record's queue is drained under
      // RECLAIMING, as any queuer would (queue.ts wakeOrHelp).
      if ((atomic.load<u32>(rec + R_STATE) & STATE_MASK) == STATE_FREE) wakeOrHelp(rec, false);
      else drainAndFree(rec);
    }
  }
}

// The walks: every carved block of every object page, live ones only, in one loop that a phase parameterises
// (a tight inner loop per page: no call per block).
const COUNT: i32 = 0; // gc = the true count
const SUBTRACT: i32 = 1; // each live object's slots: the child's gc - 1
const MARK: i32 = 2; // each root (gc > 0): it and all it reaches become GC_ALIVE
const CHAIN: i32 = 3; // ALIVE: scratch cleared; the rest chained into `garbage`
const RESTORE: i32 = 4; // scratch cleared (after an ENOMEM, to undo)

let garbage: usize = 0; // the first garbage object, chained through bits 4..31 of the link word

/** Runs `phase` over every live object; false if marking ran out of memory. */
function walk(phase: i32): bool {
  for (let i = nextPageOf(HEAP_OBJECT, 0, 0); i >= 0; i = nextPageOf(HEAP_OBJECT, 0, <u32>i + pagesOf(i))) {
    let page = pageAddress(<u32>i);
    let size = <usize>load<u32>(page + P_BLOCK_SIZE);
    for (let obj = page + PAGE_HEADER_SIZE, end = blocksEnd(page); obj < end; obj += size) {
      let link = load<u32>(obj + H_LINK);
      if ((link & LINK_LIVE) == 0) continue;
      if (phase == COUNT) {
        scanned++;
        setGc(obj, link, trueCount(obj));
      } else if (phase == SUBTRACT) {
        subtractSlots(obj);
      } else if (phase == MARK) {
        let gc = link >> 4;
        if (gc != 0 && gc != GC_ALIVE && !markFrom(obj, link)) return false;
      } else if (phase == CHAIN) {
        if ((link >> 4) == GC_ALIVE) store<u32>(obj + H_LINK, link & LINK_BITS);
        else chain(obj, link);
      } else {
        store<u32>(obj + H_LINK, link & LINK_BITS);
      }
    }
  }
  return true;
}

@inline function countReferences(): void {
  walk(COUNT);
}

@inline function subtractInternalReferences(): void {
  walk(SUBTRACT);
}

function subtractSlots(obj: usize): void {
  let slots = slotCount(obj);
  for (let i: u32 = 0; i < slots; i++) {
    let child = <usize>(load<u32>(slotAddress(obj, i)) & ~SLOT_BUSY);
    if (child == 0) continue;
    let cl = load<u32>(child + H_LINK);
    let gc = cl >> 4;
    if (DEBUG) {
      if (gc == 0) fail(E_DEAD_REFERENCE, child); // more slots name it than its count says
    }
    if (gc < GC_MAX) store<u32>(child + H_LINK, cl - (1 << 4)); // a clamped count stays a root
  }
}

/** local + shared count - queued, clamped to GC_MAX (immortal objects too): what gc starts from. */
function trueCount(obj: usize): u32 {
  let local = load<u32>(obj + H_LOCAL);
  let s = load<i32>(obj + H_SHARED);
  let count = <i64>(s >> SHARED_SHIFT);
  if (local == LOCAL_IMMORTAL || count >= <i64>SHARED_SATURATED) return GC_MAX;
  let total = <i64>local + count - <i64>(s & SHARED_QUEUED);
  return total >= <i64>GC_MAX ? GC_MAX : <u32>total;
}

@inline function setGc(obj: usize, link: u32, gc: u32): void {
  store<u32>(obj + H_LINK, (link & LINK_BITS) | (gc << 4));
}

/** Marks GC_ALIVE every root and everything reachable from one. False on ENOMEM (the stack could not grow). */
function markFromRoots(): bool {
  let done = walk(MARK);
  freeStack();
  return done;
}

/** Marks the root `obj` and everything it reaches (depth first, on the stack). False on ENOMEM. */
function markFrom(obj: usize, link: u32): bool {
  setGc(obj, link, GC_ALIVE);
  if (!push(obj)) return false;
  while (true) {
    let parent = pop();
    if (parent == 0) return true;
    let slots = slotCount(parent);
    for (let i: u32 = 0; i < slots; i++) {
      let child = <usize>(load<u32>(slotAddress(parent, i)) & ~SLOT_BUSY);
      if (child == 0) continue;
      let cl = load<u32>(child + H_LINK);
      if ((cl >> 4) == GC_ALIVE) continue;
      setGc(child, cl, GC_ALIVE);
      if (!push(child)) return false;
    }
  }
  return true; // not reached
}

function push(obj: usize): bool {
  if (stackChunk == 0 || stackTop == GC_STACK_ENTRIES) {
    let chunk = allocBlock(<usize>(GC_STACK_ENTRIES + 1) << 2, HEAP_RAW);
    if (chunk == 0) return false;
    store<u32>(chunk, <u32>stackChunk); // the chunk below
    stackChunk = chunk;
    stackTop = 0;
  }
  stackTop++;
  store<u32>(stackChunk + (<usize>stackTop << 2), <u32>obj);
  return true;
}

/** The top object, or 0 when the stack is empty (its last chunk is kept for the next root). */
function pop(): usize {
  while (stackTop == 0) {
    let below = <usize>load<u32>(stackChunk);
    if (below == 0) return 0;
    freeBlock(stackChunk);
    stackChunk = below;
    stackTop = GC_STACK_ENTRIES;
  }
  let obj = <usize>load<u32>(stackChunk + (<usize>stackTop << 2));
  stackTop--;
  return obj;
}

function freeStack(): void {
  while (stackChunk != 0) {
    let below = <usize>load<u32>(stackChunk);
    freeBlock(stackChunk);
    stackChunk = below;
  }
  stackTop = 0;
}

/**
 * Chains a garbage object (not ALIVE) into `garbage`, through bits 4..31 of its link word (the last one holds
 * GARBAGE_END, so that every garbage object has non-zero bits there and every other live object zero), and clears
 * its weak cell: an upgrade from now on finds nothing.
 */
function chain(obj: usize, link: u32): void {
  let s = load<i32>(obj + H_SHARED);
  if (s & SHARED_WEAK) {
    clearWeakCell(obj);
    store<i32>(obj + H_SHARED, s & ~SHARED_WEAK); // the free path must not look for the cell again
  }
  store<u32>(obj + H_LINK, (link & LINK_BITS) | <u32>(garbage != 0 ? garbage : GARBAGE_END));
  garbage = obj;
}

// Ends the garbage chain: not an object's address (nothing of the heap lies below GLOBAL_BASE), and 16-aligned.
const GARBAGE_END: usize = 16;

@inline function isGarbage(obj: usize): bool {
  return (load<u32>(obj + H_LINK) & ~LINK_BITS) != 0;
}

/**
 * Frees the garbage. Nothing outside the garbage references it and every other thread is held, so no count needs
 * changing: each garbage object's slots are cleared (a child that lives loses the reference the garbage held: an
 * ordinary decrement), then each is freed by the ordinary free path (weak cell, generation, lock, block), without
 * recursion. Returns how many.
 */
function freeGarbage(first: usize): u32 {
  for (let obj = first; obj != GARBAGE_END; obj = <usize>(load<u32>(obj + H_LINK) & ~LINK_BITS)) {
    let slots = slotCount(obj);
    for (let i: u32 = 0; i < slots; i++) {
      let slot = slotAddress(obj, i);
      let child = <usize>(load<u32>(slot) & ~SLOT_BUSY);
      store<u32>(slot, 0);
      if (child != 0 && !isGarbage(child)) decrefAny(child);
    }
  }
  drainFrees(); // (a live child never reaches zero here: a root reaches it)
  let n: u32 = 0;
  let obj = first;
  while (obj != GARBAGE_END) {
    let link = load<u32>(obj + H_LINK);
    store<u32>(obj + H_LINK, link & LINK_BITS);
    scheduleFree(obj); // links through H_LOCAL, which nothing reads any more
    obj = <usize>(link & ~LINK_BITS);
    n++;
  }
  drainFrees();
  return n;
}

/** Records a pause measured by the caller (microseconds) if it is the longest yet. */
export function notePause(micros: u32): void {
  let at = GLOBAL_BASE + G_GC_LONGEST_PAUSE;
  let seen = atomic.load<u32>(at);
  while (micros > seen) {
    let was = atomic.cmpxchg<u32>(at, seen, micros);
    if (was == seen) return;
    seen = was;
  }
}
