// The weak table: the cells that weak references name, and the map from an object to its cell.
//
// A weak reference holds no count, travels as a plain number, and must never lead to an object after it was
// freed, even when its block holds another object by then. So it names a cell, not the object:
//
//   cells (a raw block, G_WEAK_CELLS):   index: | target u32 | serial u32 |   (WEAK_CELL_SIZE bytes a cell)
//     target: the object's address while it lives; WEAK_FREE_LINK | (next free index + 1) << 1 once cleared
//     serial: bumped when the cell is cleared, so a weak reference (index, serial) to an old use of it is stale
//   map (a raw block, G_WEAK_MAP):       bucket: cell index + 1, or 0    (open addressing, linear probing)
//     keyed by the target address; at most half full (it doubles beyond); deletion shifts back, no tombstones
//
// An object gets a cell the first time a weak reference to it is made (weak.ts), and SHARED_WEAK in its shared
// word. The free path clears the cell (clearWeakCell) before the block is released, under the same lock as
// upgrades, so an upgrade either sees the object (and can try to take a reference) or sees the cell cleared.
// Everything here runs with G_WEAK_LOCK held (a futex mutex), taken by the callers' `lockWeak`.
//
// Layer 5: imports the allocator (for the table's blocks), the mutex and the instance.

import {
  GLOBAL_BASE, G_WEAK_CAPACITY, G_WEAK_CELLS, G_WEAK_FREE, G_WEAK_LOCK, G_WEAK_MAP, G_WEAK_MAP_MASK,
  G_WEAK_USED, G_WEAK_LIVE, HEAP_RAW, WEAK_CELL_SIZE, WEAK_FREE_LINK, WEAK_INDEX_LIMIT, WEAK_SERIAL_MASK,
} from "./layout";
import { DEBUG } from "./config";
import { E_PAGE_CORRUPT, fail } from "./errors";
import { mutexLock, mutexUnlock } from "./mutex";
import { allocBlock, freeBlock } from "./alloc";

const FIRST_CELLS: u32 = 64;
/** findCell / newCell: no cell. */
export const NO_CELL: u32 = 0xffffffff;

export function lockWeak(): void {
  mutexLock(GLOBAL_BASE + G_WEAK_LOCK);
}

export function unlockWeak(): void {
  mutexUnlock(GLOBAL_BASE + G_WEAK_LOCK);
}

@inline function global(field: usize): u32 {
  return load<u32>(GLOBAL_BASE + field);
}

@inline function setGlobal(field: usize, value: u32): void {
  store<u32>(GLOBAL_BASE + field, value);
}

@inline function cellAddress(index: u32): usize {
  return <usize>global(G_WEAK_CELLS) + <usize>index * WEAK_CELL_SIZE;
}

/** The object a cell names, or 0 if the cell is cleared, free, or not a cell at all. */
export function cellTarget(index: u32, serial: u32): usize {
  if (index >= global(G_WEAK_USED)) return 0;
  let cell = cellAddress(index);
  let target = load<u32>(cell);
  if ((target & WEAK_FREE_LINK) != 0 || load<u32>(cell + 4) != serial) return 0;
  return <usize>target;
}

export function cellSerial(index: u32): u32 {
  return load<u32>(cellAddress(index) + 4);
}

// ---- the map: object address -> cell index ----------------------------------------------------------------------

@inline function bucketOf(obj: usize, mask: u32): u32 {
  return ((<u32>obj >> 4) * 0x9e3779b1) & mask; // Fibonacci hashing of the 16-aligned address
}

/** The cell of `obj`, or NO_CELL. */
export function findCell(obj: usize): u32 {
  let map = <usize>global(G_WEAK_MAP);
  if (map == 0) return NO_CELL;
  let mask = global(G_WEAK_MAP_MASK);
  for (let b = bucketOf(obj, mask); ; b = (b + 1) & mask) {
    let entry = load<u32>(map + (<usize>b << 2));
    if (entry == 0) return NO_CELL;
    if (<usize>load<u32>(cellAddress(entry - 1)) == obj) return entry - 1;
  }
  return NO_CELL; // not reached
}

function mapInsert(map: usize, mask: u32, obj: usize, index: u32): void {
  let b = bucketOf(obj, mask);
  while (load<u32>(map + (<usize>b << 2)) != 0) b = (b + 1) & mask;
  store<u32>(map + (<usize>b << 2), index + 1);
}

/** Removes `obj`'s entry, shifting later entries of its probe run back (no tombstones). */
function mapRemove(obj: usize): void {
  let map = <usize>global(G_WEAK_MAP);
  let mask = global(G_WEAK_MAP_MASK);
  let hole = bucketOf(obj, mask);
  while (<usize>load<u32>(cellAddress(load<u32>(map + (<usize>hole << 2)) - 1)) != obj) hole = (hole + 1) & mask;
  for (let b = (hole + 1) & mask; ; b = (b + 1) & mask) {
    let entry = load<u32>(map + (<usize>b << 2));
    if (entry == 0) break;
    let home = bucketOf(<usize>load<u32>(cellAddress(entry - 1)), mask);
    // the entry at b may move into the hole if its home is not in the cyclic range (hole, b]
    if (((b - home) & mask) >= ((b - hole) & mask)) {
      store<u32>(map + (<usize>hole << 2), entry);
      hole = b;
    }
  }
  store<u32>(map + (<usize>hole << 2), 0);
}

/** Makes room for `cells` entries, doubling the map to keep it at most half full. False on ENOMEM. */
function growMap(cells: u32): bool {
  let old = <usize>global(G_WEAK_MAP);
  let oldMask = global(G_WEAK_MAP_MASK);
  if (old != 0 && cells * 2 <= oldMask + 1) return true;
  let buckets: u32 = old == 0 ? FIRST_CELLS * 2 : (oldMask + 1) * 2;
  let map = allocBlock(<usize>buckets << 2, HEAP_RAW);
  if (map == 0) return false;
  memory.fill(map, 0, <usize>buckets << 2);
  let mask = buckets - 1;
  if (old != 0) {
    for (let b: u32 = 0; b <= oldMask; b++) {
      let entry = load<u32>(old + (<usize>b << 2));
      if (entry != 0) mapInsert(map, mask, <usize>load<u32>(cellAddress(entry - 1)), entry - 1);
    }
    freeBlock(old);
  }
  setGlobal(G_WEAK_MAP, <u32>map);
  setGlobal(G_WEAK_MAP_MASK, mask);
  return true;
}

// ---- cells ----------------------------------------------------------------------------------------------------

/** A cell for `obj` (which has none): its index, or NO_CELL on ENOMEM (nothing changed then). */
export function newCell(obj: usize): u32 {
  if (!growMap(global(G_WEAK_USED) + 1)) return NO_CELL; // the map keeps room for every cell ever used
  let index: u32;
  let free = global(G_WEAK_FREE);
  if (free != 0) {
    index = free - 1;
    setGlobal(G_WEAK_FREE, load<u32>(cellAddress(index)) >> 1);
  } else {
    index = global(G_WEAK_USED);
    if (index >= WEAK_INDEX_LIMIT || (index == global(G_WEAK_CAPACITY) && !growCells())) return NO_CELL;
    store<u32>(cellAddress(index) + 4, 0); // a new cell's first serial
    setGlobal(G_WEAK_USED, index + 1);
  }
  store<u32>(cellAddress(index), <u32>obj);
  setGlobal(G_WEAK_LIVE, global(G_WEAK_LIVE) + 1);
  mapInsert(<usize>global(G_WEAK_MAP), global(G_WEAK_MAP_MASK), obj, index);
  return index;
}

/** Doubles the cell array, keeping every index. False on ENOMEM. */
function growCells(): bool {
  let old = <usize>global(G_WEAK_CELLS);
  let capacity = global(G_WEAK_CAPACITY);
  let grown: u32 = capacity == 0 ? FIRST_CELLS : capacity * 2;
  if (grown > WEAK_INDEX_LIMIT) grown = WEAK_INDEX_LIMIT;
  let cells = allocBlock(<usize>grown * WEAK_CELL_SIZE, HEAP_RAW);
  if (cells == 0) return false;
  if (old != 0) {
    memory.copy(cells, old, <usize>capacity * WEAK_CELL_SIZE);
    freeBlock(old);
  }
  setGlobal(G_WEAK_CELLS, <u32>cells);
  setGlobal(G_WEAK_CAPACITY, grown);
  return true;
}

/**
 * The free path of an object with SHARED_WEAK: clears its cell (every weak reference to it is now stale) and
 * frees the cell for reuse. Takes the weak lock itself.
 */
export function clearWeakCell(obj: usize): void {
  lockWeak();
  let index = findCell(obj);
  if (DEBUG) {
    if (index == NO_CELL) fail(E_PAGE_CORRUPT, obj); // WEAK set but no cell
  }
  if (index != NO_CELL) {
    mapRemove(obj);
    let cell = cellAddress(index);
    store<u32>(cell + 4, (load<u32>(cell + 4) + 1) & WEAK_SERIAL_MASK);
    store<u32>(cell, WEAK_FREE_LINK | (global(G_WEAK_FREE) << 1));
    setGlobal(G_WEAK_FREE, index + 1);
    setGlobal(G_WEAK_LIVE, global(G_WEAK_LIVE) - 1);
  }
  unlockWeak();
}

