// Foreign modules' blocks (docs/EMBEDDING.md): aligned raw blocks, and the library records and thread links that the
// loader (src/link.ts) asks for when it links a C or Rust module into a thread.
//
// A foreign module linked as position-independent code puts nothing at a fixed address: its static data goes in one
// block per heap (a library), its stack and thread-locals in blocks per thread. The core keeps the list of a
// thread's blocks in memory, from its record (R_EMBED, layout.ts), because a thread that dies cannot free them: it
// is detached by whichever thread notices first (the thread that spawned it, or a watchdog without a tid), and that
// detach (threads.ts) frees them with unlinkAll, before the tid is released.
//
//   record.R_EMBED --> thread link --> thread link --> 0          (TL_NEXT; only the thread, or its detacher)
//                        | library        | library
//                        v                v
//                      library record (LB_USERS links name it) --> data block
//
// Layer 5: imports the allocator and the page map.

import {
  BLOCK_ALIGN, HEAP_RAW, LB_DATA, LB_DATA_BYTES, LB_INIT, LB_MAGIC, LB_USERS, LIBRARY_MAGIC, LIBRARY_NEW, LIBRARY_SIZE,
  MAP_LARGE, MAP_SMALL, MAP_TAIL, MAX_BLOCK_SIZE, PAGE_HEADER_SIZE, PAGE_SIZE, P_BLOCK_SIZE, P_KIND, R_EMBED,
  THREAD_LINK_SIZE, TL_LIBRARY, TL_NEXT, TL_STACK, TL_TLS,
} from "./layout";
import { EINVAL, ENOMEM, OK, setError } from "./errors";
import { layoutLoaded } from "./instance";
import { allocBlock, freeBlock } from "./alloc";
import { mapGet, pageHigh, pageIndex, pageOf } from "./pages";

// ---- aligned raw blocks -----------------------------------------------------------------------------------------

/**
 * A raw block of at least `size` bytes at a multiple of `align` (a power of two up to PAGE_SIZE), or 0 with EINVAL
 * or ENOMEM recorded. Up to BLOCK_ALIGN it is a plain block; above, the block is `align - BLOCK_ALIGN` bytes longer
 * and the aligned address inside it is returned: no header, freeContaining finds the block from the page.
 */
export function allocAligned(size: usize, align: usize): usize {
  if (align == 0 || (align & (align - 1)) != 0 || align > PAGE_SIZE) {
    setError(EINVAL, align);
    return 0;
  }
  if (size == 0) size = 1; // so that the aligned address is inside the block
  let extra = align > BLOCK_ALIGN ? align - BLOCK_ALIGN : 0;
  if (size > MAX_BLOCK_SIZE - extra) {
    setError(ENOMEM, size);
    return 0;
  }
  let block = allocBlock(size + extra, HEAP_RAW);
  if (block == 0) {
    setError(ENOMEM, size + extra);
    return 0;
  }
  return (block + align - 1) & ~(align - 1);
}

/** The raw block that contains address `p` (a block's start or any address inside it), or 0 if there is none. */
export function blockContaining(p: usize): usize {
  if (!layoutLoaded()) return 0;
  let index = pageIndex(p); // an address below the pages wraps to a large index
  if (index >= pageHigh()) return 0;
  let page = pageOf(p);
  let map = mapGet(index);
  while (map == MAP_TAIL && index > 0) { // inside a large run: its header is on the run's first page
    index--;
    page -= PAGE_SIZE;
    map = mapGet(index);
  }
  if (map != MAP_SMALL && map != MAP_LARGE) return 0;
  if (load<u32>(page + P_KIND) != HEAP_RAW || p < page + PAGE_HEADER_SIZE) return 0; // objects are freed by count
  if (map == MAP_LARGE) return page + PAGE_HEADER_SIZE;
  let size = <usize>load<u32>(page + P_BLOCK_SIZE);
  if (size == 0) return 0;
  return page + PAGE_HEADER_SIZE + (p - page - PAGE_HEADER_SIZE) / size * size;
}

/** Frees the raw block that contains `p`. EINVAL (nothing freed) if `p` is in no raw block. */
export function freeContaining(p: usize): i32 {
  let block = blockContaining(p);
  if (block == 0) return setError(EINVAL, p);
  freeBlock(block);
  return OK;
}

// ---- libraries --------------------------------------------------------------------------------------------------

/**
 * A library record with one user (the caller) and a data block of `dataBytes` bytes at a multiple of `dataAlign`,
 * zeroed: wasm-ld's start function copies the module's data in only when the flag inside the block is 0. Returns
 * the record, or 0 (ENOMEM, EINVAL) with nothing taken.
 */
export function newLibrary(dataBytes: usize, dataAlign: usize): usize {
  let data = allocAligned(dataBytes, dataAlign > BLOCK_ALIGN ? dataAlign : BLOCK_ALIGN);
  if (data == 0) return 0;
  let lib = allocBlock(LIBRARY_SIZE, HEAP_RAW);
  if (lib == 0) {
    freeContaining(data);
    setError(ENOMEM, LIBRARY_SIZE);
    return 0;
  }
  memory.fill(data, 0, dataBytes > 0 ? dataBytes : 1);
  memory.fill(lib, 0, LIBRARY_SIZE);
  store<u32>(lib + LB_DATA, <u32>data);
  store<u32>(lib + LB_DATA_BYTES, <u32>dataBytes);
  store<u32>(lib + LB_INIT, LIBRARY_NEW);
  store<u32>(lib + LB_USERS, 1);
  atomic.store<u32>(lib + LB_MAGIC, LIBRARY_MAGIC); // release: a thread that sees the magic sees the rest
  return lib;
}

/** True if `lib` looks like a live library record (a raw block holding the magic). A snapshot. */
function isLibrary(lib: usize): bool {
  if ((lib & (BLOCK_ALIGN - 1)) != 0 || blockContaining(lib) != lib) return false;
  return atomic.load<u32>(lib + LB_MAGIC) == LIBRARY_MAGIC;
}

/**
 * One more user of a library another thread made (its share). EINVAL if `lib` is no library, or every thread let
 * it go already (then its data is gone; a share is valid while some thread keeps the library linked).
 */
export function joinLibrary(lib: usize): i32 {
  if (!isLibrary(lib)) return setError(EINVAL, lib);
  while (true) {
    let users = atomic.load<u32>(lib + LB_USERS); // a guess for the CAS below
    if (users == 0) return setError(EINVAL, lib); // going: never raised from 0
    if (atomic.cmpxchg<u32>(lib + LB_USERS, users, users + 1) == users) return OK;
  }
  return OK; // not reached
}

/** One user fewer; the last frees the data block and the record (whatever the data still points to stays counted). */
export function dropLibrary(lib: usize): void {
  if (atomic.sub<u32>(lib + LB_USERS, 1) != 1) return;
  let data = <usize>load<u32>(lib + LB_DATA);
  atomic.store<u32>(lib + LB_MAGIC, 0);
  freeContaining(data);
  freeBlock(lib);
}

// ---- thread links -----------------------------------------------------------------------------------------------

/**
 * Links library `lib` (the caller counted as a user) into the thread whose record is `rec`: a thread link and a
 * stack block of `stackBytes` (16-aligned), listed from the record. Returns the link, or 0 (ENOMEM) with nothing
 * taken. The caller fills in the TLS block later (linkTls), once the module is instantiated and knows its size.
 */
export function linkThread(rec: usize, lib: usize, stackBytes: usize): usize {
  let stack = allocBlock(stackBytes > 0 ? stackBytes : 1, HEAP_RAW);
  if (stack == 0) {
    setError(ENOMEM, stackBytes);
    return 0;
  }
  let link = allocBlock(THREAD_LINK_SIZE, HEAP_RAW);
  if (link == 0) {
    freeBlock(stack);
    setError(ENOMEM, THREAD_LINK_SIZE);
    return 0;
  }
  store<u32>(link + TL_LIBRARY, <u32>lib);
  store<u32>(link + TL_STACK, <u32>stack);
  store<u32>(link + TL_TLS, 0);
  store<u32>(link + TL_NEXT, load<u32>(rec + R_EMBED));
  atomic.store<u32>(rec + R_EMBED, <u32>link); // release: a detacher that reads the head sees the whole link
  return link;
}

/** The link's TLS block: `bytes` at a multiple of `align` (at least 16). Its address, or 0 (ENOMEM, EINVAL). */
export function linkTls(link: usize, bytes: usize, align: usize): usize {
  if (load<u32>(link + TL_TLS) != 0) {
    setError(EINVAL, link); // one TLS block per link
    return 0;
  }
  let tls = allocAligned(bytes, align > BLOCK_ALIGN ? align : BLOCK_ALIGN);
  if (tls != 0) store<u32>(link + TL_TLS, <u32>tls);
  return tls;
}

/** True if `link` is on the list of `rec`. */
export function isLinkOf(rec: usize, link: usize): bool {
  for (let at = <usize>load<u32>(rec + R_EMBED); at != 0; at = <usize>load<u32>(at + TL_NEXT)) {
    if (at == link) return true;
  }
  return false;
}

/** Takes `link` off the list of `rec` and frees it with its blocks; drops its library. EINVAL if it is not there. */
export function unlinkThread(rec: usize, link: usize): i32 {
  let at = rec + R_EMBED; // the word that points at the current link: the head, then each link's TL_NEXT
  while (true) {
    let next = <usize>load<u32>(at);
    if (next == 0) return setError(EINVAL, link);
    if (next == link) break;
    at = next + TL_NEXT;
  }
  atomic.store<u32>(at, load<u32>(link + TL_NEXT));
  releaseLink(link);
  return OK;
}

/** Detach (threads.ts): frees every link of `rec`, their blocks, and the libraries whose last user they were. */
export function unlinkAll(rec: usize): void {
  let link = <usize>atomic.load<u32>(rec + R_EMBED); // acquire: pairs with linkThread's store
  atomic.store<u32>(rec + R_EMBED, 0);
  while (link != 0) {
    let next = <usize>load<u32>(link + TL_NEXT);
    releaseLink(link);
    link = next;
  }
}

function releaseLink(link: usize): void {
  let lib = <usize>load<u32>(link + TL_LIBRARY);
  freeBlock(<usize>load<u32>(link + TL_STACK));
  let tls = <usize>load<u32>(link + TL_TLS);
  if (tls != 0) freeContaining(tls);
  freeBlock(link);
  dropLibrary(lib);
}
