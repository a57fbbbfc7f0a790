/**
 * What shapes (shape.ts) and strings (strings.ts) share in one thread of one heap: typed-array views of the memory of
 * every element type, the handle check that names the shape and field in its message, and the shapes this thread
 * declared (by id, for messages that say what an object is).
 *
 * The context is made on first use and kept in a WeakMap beside the Heap, so the Heap class needs no field for it.
 * It keeps its own views (HeapViews for validation, TypedMemory for fields) rather than reaching into the Heap's.
 */

import { BrcError, coreError, handleName } from './errors.js';
import { closedError } from './check.js';
import { LAYOUT } from './layout.js';
import { HeapViews } from './views.js';
import type { BrcExports } from './generated/abi.js';
import type { WasmMemory } from './host.js';
import type { Handle } from './ref.js';

/**
 * What shapes and strings use of a Heap. heap.ts hands them itself; they know it only by this, so that they sit
 * below heap.ts (which imports them) and never import it.
 */
export interface HeapCore {
  readonly raw: BrcExports;
  readonly memory: WasmMemory;
  readonly checked: boolean;
  readonly shared: boolean;
  readonly closed: boolean;
  alloc(bytes: number, slots?: number): Handle;
  decref(handle: Handle): void;
}

const TAG = 4294967296; // 2^32: a handle is (generation + 1) * 2^32 + address (views.ts)

/**
 * Views of every element type over the whole memory. They go stale when the memory grows: a shared buffer is replaced
 * by a longer one (old views stay right for what they cover), a non-shared one is detached (old views read as empty).
 * `refresh` makes them cover the whole memory again.
 */
export class TypedMemory {
  readonly memory: WasmMemory;
  buffer!: ArrayBufferLike;
  u8!: Uint8Array;
  i8!: Int8Array;
  u16!: Uint16Array;
  i16!: Int16Array;
  u32!: Uint32Array;
  i32!: Int32Array;
  f32!: Float32Array;
  f64!: Float64Array;
  i64!: BigInt64Array;
  u64!: BigUint64Array;

  constructor(memory: WasmMemory) {
    this.memory = memory;
    this.refresh();
  }

  refresh(): void {
    const buffer = this.memory.buffer;
    if (buffer === this.buffer) return;
    this.buffer = buffer;
    this.u8 = new Uint8Array(buffer);
    this.i8 = new Int8Array(buffer);
    this.u16 = new Uint16Array(buffer);
    this.i16 = new Int16Array(buffer);
    this.u32 = new Uint32Array(buffer);
    this.i32 = new Int32Array(buffer);
    this.f32 = new Float32Array(buffer);
    this.f64 = new Float64Array(buffer);
    this.i64 = new BigInt64Array(buffer);
    this.u64 = new BigUint64Array(buffer);
  }

  /** The tagged handle of the object at `address` (0 stays 0), as views.ts tag does. */
  tag(address: number): number {
    if (address === 0) return 0;
    if (address + LAYOUT.HEADER_SIZE > this.u8.length) this.refresh();
    return ((this.u16[(address + LAYOUT.H_SLOTS) >>> 1] >>> LAYOUT.GEN_SHIFT) + 1) * TAG + address;
  }

  /** A borrowed read of slot `index` of the object at `address` (SLOT_BUSY masked off), tagged. */
  slot(address: number, index: number): number {
    if (this.u8.length === 0) this.refresh(); // a non-shared memory grew: these views were detached
    return this.tag((this.u32[(address + LAYOUT.HEADER_SIZE + index * LAYOUT.SLOT_SIZE) >>> 2] & ~LAYOUT.SLOT_BUSY) >>> 0);
  }
}

/** Where a shape (or a string) keeps its id: the first u32 of the payload. */
export const ID_OFFSET = 0;

/** The shape id of string objects (strings.ts); no shape gets it (nor 0, which a fresh payload holds). */
export const STRING_ID = 0x31525453; // "STR1" little-endian

/** What the context knows about a shape, for messages (shape.ts implements it). */
export interface KnownShape {
  readonly name: string;
  readonly id: number;
  readonly slots: number;
}

export class Context {
  readonly heap: HeapCore;
  readonly raw: BrcExports;
  readonly views: HeapViews;
  readonly mem: TypedMemory;
  readonly checked: boolean;
  readonly shared: boolean;
  /** The shapes declared in this thread, by id. */
  readonly shapes = new Map<number, KnownShape>();
  /** The shapes declared in this thread, by name (a name may be declared with several layouts). */
  readonly byName = new Map<string, KnownShape[]>();

  constructor(heap: HeapCore) {
    this.heap = heap;
    this.raw = heap.raw;
    this.views = new HeapViews(heap.memory);
    this.mem = new TypedMemory(heap.memory);
    this.checked = heap.checked;
    this.shared = heap.shared;
  }

  /** The address of the live object `handle` names; a BrcError whose message starts with `what` otherwise. */
  address(handle: unknown, what: string): number {
    const rc = this.views.check(handle as number);
    if (rc === 0 && !this.heap.closed) return (handle as number) >>> 0;
    if (this.heap.closed) throw closedError(what);
    if (typeof handle !== 'number' || !Number.isInteger(handle) || handle <= 0) {
      throw new BrcError('EINVAL', `${what}: ${describeValue(handle)} is not a handle (handles are positive integers)`);
    }
    throw coreError(rc, `${what}: ${handleName(handle)}`, handle);
  }

  /** ECLOSED once the heap was closed in this thread. */
  open(what: string): void {
    if (this.heap.closed) throw closedError(what);
  }

  /** The payload's address of the object at `address` (after the header and the slots, 8-aligned). */
  payload(address: number): number {
    return this.views.payload(address);
  }

  /** The id in the object's payload, or -1 when its payload has no room for one. */
  idOf(address: number): number {
    if (this.views.payloadSize(address) < 4) return -1;
    const p = this.views.payload(address);
    if (p + 4 > this.mem.u8.length) this.mem.refresh();
    return this.mem.u32[(p + ID_OFFSET) >>> 2];
  }

  /**
   * What the live object at `address` is, for messages: "a string", "a Node", or what its id says. When it is of a
   * shape named `expected` but declared differently, the message says so, with the id.
   */
  describeObject(address: number, expected?: string): string {
    const id = this.idOf(address);
    const slots = this.views.slots(address);
    if (id === STRING_ID && slots === 0) return 'a string';
    const known = this.shapes.get(id);
    if (known !== undefined && known.slots === slots) {
      return known.name === expected ? `a ${known.name} of another declaration (shape id 0x${hex(id)})` : `a ${known.name}`;
    }
    if (id <= 0) return 'an object made without a shape';
    return `an object of shape id 0x${hex(id)}, which no shape declared in this thread has (a shape declared differently in another thread, or an object made without a shape)`;
  }

  /** A debug-build trap (WebAssembly.RuntimeError) of a raw call as a BrcError; anything else is rethrown. */
  trap(error: unknown, what: string, handle: number): BrcError {
    if (!(error instanceof WebAssembly.RuntimeError)) throw error;
    const at = this.raw.brc_last_error_address() >>> 0;
    return coreError(this.raw.brc_last_error(), `${what}: trapped at address 0x${at.toString(16)}`, handle, error);
  }
}

const contexts = new WeakMap<HeapCore, Context>();

/** The context of `heap` in this thread (made on first use). */
export function contextOf(heap: HeapCore): Context {
  let context = contexts.get(heap);
  if (context === undefined) contexts.set(heap, (context = new Context(heap)));
  return context;
}

export function hex(n: number): string {
  return (n >>> 0).toString(16).padStart(8, '0');
}

/** A value as error messages show it: strings quoted and cut, handles in hex. */
export function describeValue(value: unknown): string {
  switch (typeof value) {
    case 'string': return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value)}`;
    case 'bigint': return `${value}n`;
    case 'number': return Number.isInteger(value) && value > 0xffff ? `0x${value.toString(16)}` : String(value);
    case 'undefined': return 'undefined';
    case 'object': return value === null ? 'null' : Array.isArray(value) ? 'an array' : 'an object';
    default: return `a ${typeof value}`;
  }
}
