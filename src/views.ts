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

const L = LAYOUT;
const TAG = 4294967296; // 2^32
const MAX_TAG = L.GEN_MASK + 1;

/** The tag of a handle: 0 (none), or generation + 1. Anything above is no handle. */
export function tagOf(handle: number): number {
  return Math.floor(handle / TAG);
}

export class HeapViews {
  readonly memory: WebAssembly.Memory;
  u8!: Uint8Array;
  u16!: Uint16Array;
  u32!: Uint32Array;
  i32!: Int32Array;
  /** Where the page map and the pages are (written once by brc_init). */
  readonly pageMap: number;
  readonly pagesBase: number;
  readonly #pageHighIndex: number;
  #buffer!: ArrayBufferLike;

  constructor(memory: WebAssembly.Memory) {
    this.memory = memory;
    this.refresh();
    this.pageMap = this.u32[(L.GLOBAL_BASE + L.G_PAGE_MAP) >>> 2];
    this.pagesBase = this.u32[(L.GLOBAL_BASE + L.G_PAGES_BASE) >>> 2];
    this.#pageHighIndex = (L.GLOBAL_BASE + L.G_PAGE_HIGH) >>> 2;
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
