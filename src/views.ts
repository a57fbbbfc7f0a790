/**
 * Typed-array views of the heap's memory, and what JavaScript reads through them without calling into wasm: object
 * headers (for the owner's fast path, validation, slots and payload), the page map and page headers.
 *
 * Handles. A handle is a plain number: the object's address, plus (generation + 1) * 2^32 when the handle came from
 * this API (`tag`). The generation is the block's (layout.ts: bumped each time an object in the block is freed), so
 * checked mode refuses a handle whose object was freed even after its block was reused (15 of 16 reuses). Wasm's
 * i32 parameters take a number modulo 2^32, so a tagged handle passed to `heap.raw` is just the address, and
 * `handle >>> 0` is the address in JavaScript. A handle below 2^32 (from `heap.raw`) carries no generation.
 *
 * Views go stale when the memory grows (a shared buffer is replaced by a longer one; a non-shared one is detached):
 * a read past a stale view's end gives `undefined`, which every fast path treats as "not mine" and sends to the
 * slow path, and the slow path calls `refresh`.
 */

import { LAYOUT } from './layout.js';
import { Abi } from './generated/abi.js';
import type { WasmMemory } from './host.js';

const L = LAYOUT;
const TAG = 4294967296; // 2^32
const MAX_TAG = L.GEN_MASK + 1;
/**
 * liveAddress's constants: literals in the emitted JavaScript (a const enum), so that the function stays short enough
 * in bytecode for V8 to inline it twice into a caller's incref/decref loop.
 */
const enum Live {
  PAGE_SHIFT = Abi.PAGE_SHIFT,
  PAGE_MASK = Abi.PAGE_MASK,
  PAGE_WORD_MASK = ~Abi.PAGE_MASK >>> 2, // a page header's i32 index from an object's
  P_KIND_WORD = Abi.P_KIND >>> 2,
  P_BLOCK_SIZE_WORD = Abi.P_BLOCK_SIZE >>> 2,
  P_BUMP_WORD = Abi.P_BUMP >>> 2,
  H_LINK_WORD = Abi.H_LINK >>> 2,
  GEN_WORD = Abi.H_SLOTS >>> 2, // the generation: top bits of the u16 at H_SLOTS, read as part of its i32 word
  GEN_WORD_SHIFT = (Abi.H_SLOTS & 3) * 8 + Abi.GEN_SHIFT, // (little-endian)
  FIRST_BLOCK = Abi.PAGE_HEADER_SIZE,
  MAP_SMALL = Abi.MAP_SMALL,
  HEAP_OBJECT = Abi.HEAP_OBJECT,
  LINK_LIVE = Abi.LINK_LIVE,
  INVERSE_TAG = 1 / 4294967296, // 2^-32: exact
}

/** The tag of a handle: 0 (none), or generation + 1. Anything above is no handle. */
export function tagOf(handle: number): number {
  return Math.floor(handle / TAG);
}

export class HeapViews {
  readonly memory: WasmMemory;
  u8!: Uint8Array;
  u16!: Uint16Array;
  u32!: Uint32Array;
  i32!: Int32Array;
  /** Where the page map and the pages are (written once by brc_init). */
  readonly pageMap: number;
  /** The page map alone (one byte per page that fits below the memory's maximum): its length is the page bound. */
  pages!: Uint8Array;
  readonly #pageLimit: number;
  readonly pagesBase: number;
  readonly #pageHighIndex: number;
  #buffer!: ArrayBufferLike;

  constructor(memory: WasmMemory) {
    this.memory = memory;
    this.refresh();
    this.pageMap = this.u32[(L.GLOBAL_BASE + L.G_PAGE_MAP) >>> 2];
    this.pagesBase = this.u32[(L.GLOBAL_BASE + L.G_PAGES_BASE) >>> 2];
    this.#pageHighIndex = (L.GLOBAL_BASE + L.G_PAGE_HIGH) >>> 2;
    this.#pageLimit = this.u32[(L.GLOBAL_BASE + L.G_PAGE_LIMIT) >>> 2];
    this.pages = new Uint8Array(this.u8.buffer, this.pageMap, this.#pageLimit);
  }

  /** Makes the views cover the whole memory again, if it grew. */
  refresh(): void {
    const buffer = this.memory.buffer;
    if (buffer === this.#buffer) return;
    this.#buffer = buffer;
    this.u8 = new Uint8Array(buffer);
    this.u16 = new Uint16Array(buffer);
    this.u32 = new Uint32Array(buffer);
    this.i32 = new Int32Array(buffer);
    if (this.pageMap !== undefined) this.pages = new Uint8Array(buffer, this.pageMap, this.#pageLimit); // (not in the constructor's first call)
  }

  /** The handle of the object at `address`: tagged with its block's current generation. 0 stays 0. */
  tag(address: number): number {
    if (address === 0) return 0;
    if (address + L.HEADER_SIZE > this.u8.length) this.refresh();
    return (this.generation(address) + 1) * TAG + address;
  }

  generation(address: number): number {
    return this.u16[(address + L.H_SLOTS) >>> 1] >>> L.GEN_SHIFT;
  }

  slots(address: number): number {
    return this.u16[(address + L.H_SLOTS) >>> 1] & L.SLOTS_MASK;
  }

  /** The payload's address: after the header and the slots, 8-aligned. */
  payload(address: number): number {
    return address + L.HEADER_SIZE + ((this.slots(address) * L.SLOT_SIZE + L.PAYLOAD_ALIGN - 1) & ~(L.PAYLOAD_ALIGN - 1));
  }

  /** Usable payload bytes: to the end of the allocator's block. */
  payloadSize(address: number): number {
    const page = (address & ~L.PAGE_MASK) >>> 0;
    return this.u32[(page + L.P_BLOCK_SIZE) >>> 2] - (this.payload(address) - address);
  }

  /**
   * The address of the live object `handle` names, or 0: `check` cut to the common case (a small object), short
   * enough for V8 to inline into every checked call. It never accepts what `check` refuses; 0 (never an object's
   * address, and no negative number, so the result stays an unsigned 32-bit integer for the JIT) sends the caller
   * to `check`, which also accepts large objects and refreshes
   * stale views (reads past a stale view's end give undefined, and every comparison with undefined fails).
   * Non-integers fall out on the way: a fraction leaves a fractional tag, NaN and negatives a tag that is no
   * generation, and an address that is no block start fails the offset test.
   */
  liveAddress(handle: unknown): number {
    if (typeof handle !== 'number') return 0;
    const address = handle >>> 0;
    const index = (address - this.pagesBase) >>> Live.PAGE_SHIFT; // below pagesBase: wraps far above the high mark
    const i32 = this.i32; // not u32: every value read here fits an int32, which keeps V8 on integer arithmetic
    if (this.pages[index] !== Live.MAP_SMALL) return 0; // past the map: undefined; never handed out: MAP_FREE
    const page = (address >>> 2) & Live.PAGE_WORD_MASK;
    const offset = (address & Live.PAGE_MASK) - Live.FIRST_BLOCK; // an int32, so % is an integer division, not fmod
    const size = i32[page + Live.P_BLOCK_SIZE_WORD];
    if (i32[page + Live.P_KIND_WORD] !== Live.HEAP_OBJECT || offset < 0 || offset % size !== 0 || offset >= i32[page + Live.P_BUMP_WORD] * size) return 0;
    const word = address >>> 2;
    if ((i32[word + Live.H_LINK_WORD] & Live.LINK_LIVE) === 0) return 0;
    const tag = (handle - address) * Live.INVERSE_TAG; // 0 for an untagged handle, else generation + 1
    return tag === 0 || tag === (i32[word + Live.GEN_WORD] >>> Live.GEN_WORD_SHIFT) + 1 ? address : 0;
  }

  /**
   * 0 if `handle` names a live object (its address is then `handle >>> 0`), else the core's code: EINVAL (no
   * handle at all) or EFREED (its object was freed; its block may hold another object by now). The same checks as
   * the core's validateObject (assembly/object.ts), plus the generation. Racy by nature against a concurrent free.
   */
  check(handle: number): number {
    // not a number at all (a BigInt or a Symbol would throw below), NaN, fractions
    if (typeof handle !== 'number' || !(handle > 0) || handle !== Math.floor(handle)) return L.EINVAL;
    const tag = tagOf(handle);
    if (tag > MAX_TAG) return L.EINVAL;
    const address = handle >>> 0;
    if ((address & (L.BLOCK_ALIGN - 1)) !== 0 || address < this.pagesBase) return L.EINVAL;
    const u32 = this.u32;
    const index = (address - this.pagesBase) >>> L.PAGE_SHIFT;
    if (index >= u32[this.#pageHighIndex]) return L.EINVAL;
    const page = (address & ~L.PAGE_MASK) >>> 0;
    if (page + L.PAGE_HEADER_SIZE > u32.length * 4) {
      this.refresh();
      return this.check(handle);
    }
    const map = this.u8[this.pageMap + index];
    if (map === L.MAP_SMALL) {
      if (u32[(page + L.P_KIND) >>> 2] !== L.HEAP_OBJECT) return L.EINVAL;
      const offset = address - page - L.PAGE_HEADER_SIZE;
      const size = u32[(page + L.P_BLOCK_SIZE) >>> 2];
      if (offset < 0 || size === 0 || offset % size !== 0) return L.EINVAL; // inside another object
      if (offset >= u32[(page + L.P_BUMP) >>> 2] * size) return L.EFREED; // never handed out in this use of the page
    } else if (map === L.MAP_LARGE) {
      if (u32[(page + L.P_KIND) >>> 2] !== L.HEAP_OBJECT || address !== page + L.PAGE_HEADER_SIZE) return L.EINVAL;
    } else {
      return map === L.MAP_FREE ? L.EFREED : L.EINVAL; // a free page once held objects; a TAIL page is payload
    }
    if ((u32[(address + L.H_LINK) >>> 2] & L.LINK_LIVE) === 0) return L.EFREED;
    if (tag !== 0 && tag !== this.generation(address) + 1) return L.EFREED; // freed, and the block reused since
    return 0;
  }
}
