// The memory layout of a biasrc heap: the one place that defines every offset and constant.
//
// One shared WebAssembly.Memory holds everything; every thread runs its own instance of this module over it.
// Module globals are per instance (= per thread), so nothing shared may live in a global: it all lives here.
//
//   0        GLOBAL_BASE                  records                         page map        pages_base (64 KiB aligned)
//   +--------+----------------------------+-------------------------------+---------------+---------+--------+----
//   | unused | global header (GLOBAL_SIZE)| record 0 | record 1 | ... | N | 1 byte a page | padding | page 0 | page 1 ...
//   +--------+----------------------------+-------------------------------+---------------+---------+--------+----
//   Address 0 .. GLOBAL_BASE-1 is never used, so handle 0 is null and small numbers are never valid handles.
//   Record 0 belongs to no thread (counters of instances without a tid); records 1..N belong to tids 1..N.
//
// index.ts exports every constant here as an immutable wasm global. Everything outside assembly/ takes them from the
// built module: scripts/gen-abi.mjs writes src/generated/abi.ts from it at build time, and a test checks the tables of
// docs/LAYOUT.md against it. No other file holds a copy.
//
// Layer 0: imports nothing.

// ---- Geometry --------------------------------------------------------------------------------------------------

export const LAYOUT_MAGIC: u32 = 0x31435242; // "BRC1" little-endian
export const LAYOUT_VERSION: u32 = 2; // 2: handles carry a generation, the weak table, collection, attention

export const GLOBAL_BASE: usize = 256;
export const CACHE_LINE: usize = 64;
export const PAGE_SHIFT: u32 = 16; // one biasrc page = one wasm page, so memory.grow works in whole pages
export const PAGE_SIZE: usize = 1 << PAGE_SHIFT;
export const PAGE_MASK: usize = PAGE_SIZE - 1;
export const BLOCK_ALIGN: usize = 16;
export const WASM_MAX_PAGES: u32 = 65536; // 4 GiB

export const DEFAULT_MAX_THREADS: u32 = 64;
export const MAX_THREADS_LIMIT: u32 = 4096; // tids fit the object header's u16 with room to spare

// ---- Global header (at GLOBAL_BASE) ------------------------------------------------------------------------------
//
//   +0  magic          +4  version       +8  init state     +12 max threads
//   +16 memory max     +20 records base  +24 page map base  +28 pages base
//   +32 page limit     +36 page high     +40 heap lock      +44 threads attached
//   +48 free hint      +52 build flags   +56 orphans        +60 world (the collector's tid, or 0)
//   +64 world epoch    +68 weak lock     +72 weak cells     +76 weak capacity
//   +80 weak used      +84 weak free     +88 weak map       +92 weak map mask
//   +96 collections    +100 longest pause (us)              +104 objects scanned (u64)
//   +112 objects freed by collections (u64)                 +120 allocations since the last collection
//   +124 weak cells in use
//   +128 abandoned page lists [HEAP_KINDS][SIZE_CLASSES] u32 (page addresses, linked through P_NEXT)
//
// Written once by brc_init (immutable once init state is READY), except: page high, free hint and the
// abandoned lists (under the heap lock), threads attached (atomic), heap lock (the lock itself), the weak table
// (under the weak lock, weak.ts), world and the collection statistics (by the collector, collect.ts).

export const G_MAGIC: usize = 0;
export const G_VERSION: usize = 4;
export const G_INIT: usize = 8;
export const G_MAX_THREADS: usize = 12;
export const G_MEMORY_MAX: usize = 16; // wasm pages the memory may grow to
export const G_RECORDS: usize = 20;
export const G_PAGE_MAP: usize = 24;
export const G_PAGES_BASE: usize = 28;
export const G_PAGE_LIMIT: usize = 32; // biasrc pages that fit below the memory maximum
export const G_PAGE_HIGH: usize = 36; // pages below this index have been handed out at least once
export const G_HEAP_LOCK: usize = 40;
export const G_ATTACHED: usize = 44;
export const G_FREE_HINT: usize = 48; // no free page below this index
export const G_BUILD_FLAGS: usize = 52;
export const G_ORPHANS: usize = 56; // live objects that a dead thread owned when it was detached (LINK_ORPHAN)
export const G_WORLD: usize = 60; // tid of the thread collecting cycles with the world held, or 0 (world.ts)
export const G_WORLD_EPOCH: usize = 64; // numbers the pauses: a thread's acknowledgement names the one it answers
export const G_WEAK_LOCK: usize = 68; // the weak table's mutex (weak.ts)
export const G_WEAK_CELLS: usize = 72; // address of the cell array (a raw block), 0 before the first weak reference
export const G_WEAK_CAPACITY: usize = 76; // cells the array holds
export const G_WEAK_USED: usize = 80; // cells ever handed out (the array's high-water mark)
export const G_WEAK_FREE: usize = 84; // index + 1 of the first free cell (linked through the cells), or 0
export const G_WEAK_MAP: usize = 88; // address of the map object address -> cell index (open addressing)
export const G_WEAK_MAP_MASK: usize = 92; // map buckets - 1 (a power of two minus one)
export const G_GC_COLLECTIONS: usize = 96;
export const G_GC_LONGEST_PAUSE: usize = 100; // microseconds, reported by the caller of brc_collect_cycles
export const G_GC_SCANNED: usize = 104; // u64
export const G_GC_FREED: usize = 112; // u64
export const G_GC_ALLOCATIONS: usize = 120; // objects allocated since the last collection (per-thread batches)
export const G_WEAK_LIVE: usize = 124; // cells that name an object
export const G_ABANDONED: usize = 128;

export const INIT_NONE: u32 = 0;
export const INIT_BUSY: u32 = 1;
export const INIT_READY: u32 = 2;

export const BUILD_DEBUG: u32 = 1;

// ---- Size classes --------------------------------------------------------------------------------------------
//
//   class  0..7 : 16, 32, ..., 128 bytes (steps of 16)
//   class  8..38: four steps per doubling, 160 .. 28672 bytes
//   larger     : a run of whole pages ("large"), one block per run
// The last classes still fit two or three blocks in a page (20480 x 3, 24576 x 2, 28672 x 2); a 32 KiB class would
// fit only one, as wasteful as a large run, so that is where small ends.
//
// Computed, not tabled: a table would be a data segment, and data segments are re-applied by every instantiation.

export const SIZE_CLASSES: u32 = 39;
export const SMALL_MAX: usize = 28672;
export const HEAP_RAW: u32 = 0; // brc_malloc blocks
export const HEAP_OBJECT: u32 = 1; // reference-counted objects: kept apart so detach can walk objects without guessing
export const HEAP_KINDS: u32 = 2;

export const GLOBAL_SIZE: usize = G_ABANDONED + <usize>(HEAP_KINDS * SIZE_CLASSES) * 4;

// ---- Thread record (one per tid, at records + tid * RECORD_SIZE; record 0 is nobody's) -----------------------
//
//   line 0  (read and written by any thread)
//     +0  state        generation << 3 | FREE / ACTIVE / PARKED / HELPED / RECLAIMING: who holds the right to
//                      merge this tid's counts; the generation, bumped at every attach, tells one holder of the
//                      tid from the next, and being in the same word makes every CAS exact about which one
//     +4  allocations  objects allocated since this thread last added its batch to G_GC_ALLOCATIONS
//     +8  queue        head of the merge queue (objects linked through H_LINK); also the futex an idle owner waits on
//     +12 reclaim      pages with remote frees handed back while the owner had given up on them (heap lock)
//   line 1  slow-path counters (u64, written only by the thread whose record it is, read by anyone)
//     +64 objects allocated  +72 objects freed  +80 merges (queue, zero local, abandon)  +88 objects queued
//     (the allocator keeps no counters: live blocks and bytes are derived from the page headers when asked)
//   line 2  debug counters (debug build only: the release fast path touches nothing but the header)
//     +128 owner increfs +136 owner decrefs +144 shared increfs +152 shared decrefs +160 helped merges
//   line 3  safe points (safepoint.ts): written by the thread, read by others, except attention
//     +192 in op       1 while the thread is inside a multi-step operation (plain stores by the thread)
//     +196 attention   ATTENTION_STOP (terminate me at the next boundary) | ATTENTION_PAUSE (a collection holds
//                      the world) | that pause's epoch << ATTENTION_EPOCH_SHIFT: set by other threads; every fast
//                      path of the thread reads it with one load
//     +200 stopped     set by the thread once it sits, blocked for good, at a boundary
//     +204 locks held  entries used in the lock table
//     +208 paused      the epoch of the pause the thread acknowledges (it touches no count until it ends), or 0
//     +212 borrowed    tid of a collector that borrowed this parked thread's rights (collect.ts), else 0
//     +216 embed       the thread's first thread link (foreign modules it linked, embed.ts), or 0: whoever detaches
//                      the thread frees what they hold
//   +256    lock table: the objects whose mutex this thread holds (LOCK_TABLE_SIZE u32), so a dead thread's locks
//           can be released by whoever detaches it
//   +320    available pages [HEAP_KINDS][SIZE_CLASSES] u32, owner only (doubly linked through P_PREV/P_NEXT)

export const R_STATE: usize = 0;
export const R_ALLOCATIONS: usize = 4;
export const R_QUEUE: usize = 8;
export const R_RECLAIM: usize = 12;
export const R_OBJECTS_ALLOC: usize = 64;
export const R_OBJECTS_FREED: usize = 72;
export const R_MERGES: usize = 80;
export const R_QUEUED: usize = 88;
export const R_OWNER_INCREFS: usize = 128;
export const R_OWNER_DECREFS: usize = 136;
export const R_SHARED_INCREFS: usize = 144;
export const R_SHARED_DECREFS: usize = 152;
export const R_HELPED: usize = 160;
export const R_IN_OP: usize = 192;
export const R_ATTENTION: usize = 196;
export const R_STOPPED: usize = 200;
export const R_LOCKS_HELD: usize = 204;
export const R_PAUSED: usize = 208;
export const R_BORROWED: usize = 212;
export const R_EMBED: usize = 216;
export const R_LOCK_TABLE: usize = 256;
export const LOCK_TABLE_SIZE: u32 = 16;
export const R_AVAIL: usize = 320;
// rounded up to whole cache lines, so that records never share one
export const RECORD_SIZE: usize = (R_AVAIL + <usize>(HEAP_KINDS * SIZE_CLASSES) * 4 + CACHE_LINE - 1) & ~(CACHE_LINE - 1); // 640

export const STATE_FREE: u32 = 0; // no thread; the tid may be taken by brc_thread_attach
export const STATE_ACTIVE: u32 = 1; // the owner runs and alone may touch its objects' local counts
export const STATE_PARKED: u32 = 2; // the owner is blocked inside biasrc; another thread may borrow its rights
export const STATE_HELPED: u32 = 3; // borrowed: a helper merges the parked owner's queue; the owner waits to unpark
export const STATE_RECLAIMING: u32 = 4; // the owner is gone; a detacher holds its rights
export const STATE_MASK: u32 = 7; // the state in the state word; the generation is above it
export const STATE_GEN_SHIFT: u32 = 3;

export const ATTENTION_STOP: u32 = 1; // terminate: block for good at the next operation boundary
export const ATTENTION_PAUSE: u32 = 2; // a collection wants the world: acknowledge, touch no count until it ends
export const ATTENTION_EPOCH_SHIFT: u32 = 2; // the pause's epoch (G_WORLD_EPOCH, never 0) above the two flags
// G_WORLD: the collector's tid, | WORLD_HELD once every other thread is held (world.ts).
export const WORLD_HELD: u32 = 0x8000_0000;
// A collection's scratch in bits 4..31 of each live object's link word (collect.ts): a count up to GC_MAX (larger
// true counts are clamped there and count as roots), or GC_ALIVE once marked reachable.
export const GC_MAX: u32 = 0x0fff_fffe;
export const GC_ALIVE: u32 = 0x0fff_ffff;
// Entries per chunk of the marking stack (raw blocks taken for the collection).
export const GC_STACK_ENTRIES: u32 = 16383;
// Objects a thread allocates before it adds them to G_GC_ALLOCATIONS (one shared RMW per batch, as CPython's 512).
export const GC_ALLOCATION_BATCH: u32 = 512;

// What brc_thread_stop_state reports about a thread asked to stop (safepoint.ts stopState).
export const STOP_OUTSIDE: u32 = 0; // outside any operation, in its own code: look again after a grace period
export const STOP_IN_OP: u32 = 1; // inside a multi-step operation: wait
export const STOP_STOPPED: u32 = 2; // blocked for good at an operation boundary: safe to terminate
export const STOP_ASLEEP: u32 = 3; // asleep inside biasrc (parked in a lock wait): safe to terminate

// ---- Page header (first PAGE_HEADER_SIZE bytes of every in-use page or page run) --------------------------------
//
//   +0  owner       tid that allocates from this page (0: abandoned; a large run keeps its allocator's tid)
//   +4  kind        heap kind (HEAP_RAW / HEAP_OBJECT)
//   +8  class       size class, or LARGE_CLASS (= SIZE_CLASSES) for a large run
//   +12 block size  bytes per block
//   +16 capacity    blocks that fit
//   +20 bump        blocks carved so far (blocks at or past it were never handed out in this use of the page)
//   +24 used        blocks handed out minus blocks freed locally or collected (owner only)
//   +28 local free  owner's free list (blocks linked through their first word)
//   +32 thread free other threads' frees: an atomic stack; bit 0 set = FULL, the owner stopped looking here
//   +36 prev        \ owner's available list, or the abandoned list
//   +40 next        /
//   +44 reclaim next link in the owner's reclaim list
//   +48 pages       length of the run in pages (1 for small pages)
//   +52 state       AVAIL (in the owner's list) / FULL (owner gave up; the FULL bit is set) /
//                   RECLAIM (handed back through the owner's reclaim list) / ABANDONED (no owner; global list)
//   +56 epoch       bumped each time the page is set up again: object blocks carved in this use of the page start
//                   their generation from it (kept across uses, so a stale handle rarely matches a new object)
//
//   block i of a small page is at page + PAGE_HEADER_SIZE + i * block size; a large run's one block at + PAGE_HEADER_SIZE.

export const PAGE_HEADER_SIZE: usize = 64;
export const P_OWNER: usize = 0;
export const P_KIND: usize = 4;
export const P_CLASS: usize = 8;
export const P_BLOCK_SIZE: usize = 12;
export const P_CAPACITY: usize = 16;
export const P_BUMP: usize = 20;
export const P_USED: usize = 24;
export const P_LOCAL_FREE: usize = 28;
export const P_THREAD_FREE: usize = 32;
export const P_PREV: usize = 36;
export const P_NEXT: usize = 40;
export const P_RECLAIM_NEXT: usize = 44;
export const P_PAGES: usize = 48;
export const P_STATE: usize = 52;
export const P_EPOCH: usize = 56;

export const PAGE_AVAIL: u32 = 1;
export const PAGE_FULL: u32 = 2;
export const PAGE_RECLAIM: u32 = 3;
export const PAGE_ABANDONED: u32 = 4;

export const THREAD_FREE_FULL: u32 = 1;
export const LARGE_CLASS: u32 = SIZE_CLASSES;

// Page map: one byte a page, written under the heap lock, read by handle validation.
export const MAP_FREE: u8 = 0;
export const MAP_SMALL: u8 = 1;
export const MAP_LARGE: u8 = 2; // first page of a large run
export const MAP_TAIL: u8 = 3; // later pages of a large run

// ---- Foreign modules (embed.ts): library records and thread links ------------------------------------------------
//
// A foreign module (C, Rust: docs/EMBEDDING.md) linked into the heap gets raw blocks for everything it would put at
// a fixed address: one data block per heap ("library"), a stack and a TLS block per thread. The loader (src/link.ts)
// asks the core for them, and the core lists a thread's blocks from its record (R_EMBED), so that whoever detaches
// the thread (the thread itself, the one that spawned it, or a watchdog) frees them.
//
//   library record (LIBRARY_SIZE bytes, a raw block):
//     +0  magic   LIBRARY_MAGIC while the library lives, 0 once freed
//     +4  users   thread links that name it (atomic); the last one to go frees the data block and the record
//     +8  init    the loader's: LIBRARY_NEW -> LIBRARY_BUSY -> LIBRARY_READY (relocations, constructors: once)
//     +12 data    the module's data block (__memory_base), zeroed when the library is made
//     +16 bytes   its size
//   thread link (THREAD_LINK_SIZE bytes, a raw block; one per thread and library), listed from the record's R_EMBED:
//     +0  next    the thread's next link, or 0
//     +4  library
//     +8  stack   the thread's stack block for this library
//     +12 tls     its TLS block (0 until the loader asks for it)
// Only the thread changes its own list (in an operation), and a detacher once it holds the thread's rights.

export const LB_MAGIC: usize = 0;
export const LB_USERS: usize = 4;
export const LB_INIT: usize = 8;
export const LB_DATA: usize = 12;
export const LB_DATA_BYTES: usize = 16;
export const LIBRARY_SIZE: usize = 32;
export const LIBRARY_MAGIC: u32 = 0x4c435242; // "BRCL" little-endian
export const LIBRARY_NEW: u32 = 0;
export const LIBRARY_BUSY: u32 = 1;
export const LIBRARY_READY: u32 = 2;
export const TL_NEXT: usize = 0;
export const TL_LIBRARY: usize = 4;
export const TL_STACK: usize = 8;
export const TL_TLS: usize = 12;
export const THREAD_LINK_SIZE: usize = 16;

// ---- Object header (16 bytes) and handles --------------------------------------------------------------------
//
//    0               4       6       8               12              16
//   +---------------+-------+-------+---------------+---------------+------------------+---------------+
//   | local   u32   | tid   | slots | shared   i32  | link     u32  | slots x u32      | payload bytes |
//   |               |       | +gen  |               |               | (then 0..4 bytes | (8-aligned)   |
//   |               |       |       |               |               |  of padding)     |               |
//   +---------------+-------+-------+---------------+---------------+------------------+---------------+
//   local : biased count, plain loads and stores by the owner only; LOCAL_IMMORTAL = immortal
//   tid   : owner (0 = none: merged or abandoned); with local it forms the u64 the owner checks in one load
//   u16@6 : slot count (bits 0..11, immutable) | block generation (bits 12..15, bumped when the object is freed)
//   shared: count << 3 | WEAK | MERGED | QUEUED, changed only by atomic RMW (count and flags move together)
//   link  : next object in the owner's merge queue (bits 4..31) | ORPHAN | LIVE | LOCK_WAITERS | LOCKED
//           ORPHAN: owned by a thread that died (detached by another thread); counted in G_ORPHANS while live
//           While a collection holds the world, bits 4..31 hold its per-object scratch (collect.ts).
//
// local, tid and the u16 share the first u64: the owner's fast path loads it once, subtracts (myTid << 32) and keeps
// 48 bits; the result is below 2^32 exactly when tid is ours, and is then the local count itself.
//
// A handle is the object's address. The block generation (u16@6, bits 12..15) is bumped each time an object in the
// block is freed; the TypeScript wrapper carries it in its handles (above bit 32, where JavaScript numbers have room
// and wasm's i32 conversion drops it), so checked mode refuses a handle whose object was freed and whose block holds
// another object, for 15 of every 16 reuses of a block (exactly, while its page is not returned to the pool).

export const HEADER_SIZE: usize = 16;
export const H_LOCAL: usize = 0;
export const H_TID: usize = 4;
export const H_SLOTS: usize = 6;
export const H_SHARED: usize = 8;
export const H_LINK: usize = 12;
export const SLOT_SIZE: usize = 4;
export const MAX_SLOTS: u32 = 0x0fff;
export const SLOTS_MASK: u32 = 0x0fff; // in the u16 at H_SLOTS
export const GEN_SHIFT: u32 = 12; // the generation in the u16 at H_SLOTS
export const GEN_MASK: u32 = 15; // the generation, once shifted down
export const PAYLOAD_ALIGN: usize = 8; // the payload starts 8-aligned whatever the slot count

export const LOCAL_IMMORTAL: u32 = 0xffffffff;
export const OWNER_WORD_MASK: u64 = 0x0000_ffff_ffff_ffff; // local + tid, without the slots and generation

export const SHARED_QUEUED: i32 = 1;
export const SHARED_MERGED: i32 = 2;
export const SHARED_WEAK: i32 = 4; // a weak reference names the object: its last merge takes the CAS path (weak.ts)
export const SHARED_FLAGS: i32 = 7;
export const SHARED_SHIFT: i32 = 3;
export const SHARED_ONE: i32 = 1 << SHARED_SHIFT;
// A shared count at or above this is immortal: decrements leave it, and an increment that reaches it is undone, so
// the count stays below SHARED_SATURATED + (threads incrementing at once), far from the i32's limit (2^28).
export const SHARED_SATURATED: i32 = 1 << 27;

export const LINK_LOCKED: u32 = 1;
export const LINK_WAITERS: u32 = 2;
export const LINK_LIVE: u32 = 4;
export const LINK_ORPHAN: u32 = 8;
export const LINK_BITS: u32 = 15;

// ---- Weak references (weaktable.ts) -----------------------------------------------------------------------------
// A weak reference is one number, serial * 2^WEAK_INDEX_BITS + cell index: exact in an f64 (53 bits), so it travels
// as a plain JavaScript number. A cell's serial wraps after 2^WEAK_SERIAL_BITS reuses of that one cell.
export const WEAK_CELL_SIZE: usize = 8; // target u32, serial u32
export const WEAK_FREE_LINK: u32 = 1; // in a free cell's target (addresses are 16-aligned): the free list
export const WEAK_INDEX_BITS: u32 = 24;
export const WEAK_INDEX_LIMIT: u32 = 1 << WEAK_INDEX_BITS;
export const WEAK_SERIAL_BITS: u32 = 29;
export const WEAK_SERIAL_MASK: u32 = (1 << WEAK_SERIAL_BITS) - 1;

// A slot holds an object's address, or address | SLOT_BUSY while brc_load_ref takes its reference (object.ts).
export const SLOT_BUSY: u32 = 1;

// Largest payload one object may have (a large run must still fit the 4 GiB address space).
export const MAX_OBJECT_BYTES: usize = 0x7fff_0000;
export const MAX_BLOCK_SIZE: usize = 0xffff_0000;
// Unattached instances use this as their tid for the owner check: no object has it, so they take the shared path.
export const NO_TID: u32 = 0xffff;
export const NO_TID_HIGH: u64 = <u64>NO_TID << 32; // NO_TID where the owner check wants it (instance.ts myTidHigh)
