/**
 * Heap: the public API over the raw ABI. One Heap per thread; the main thread creates it, workers join it.
 *
 * The owner's fast path runs in JavaScript, as CPython's Py_INCREF runs in its header: incref and decref read the
 * object's header through a typed array and, when this thread owns the object and its local count stays in the
 * fast range, store the new count with one plain store, exactly as the core's fast path (assembly/refcount.ts)
 * does. Every other case calls the core. The thread's ATTENTION word is read first (one plain load): a pending
 * termination or collection sends every fast path into the core, which holds it at a safe point.
 *
 * Checked mode (the default) validates every argument in JavaScript (views.ts) before anything happens, so a bad
 * call throws a BrcError and never changes the heap. Unchecked mode (`checked: false`) skips the validation.
 * The debug build always calls the core, so that its invariant checks run.
 */

import { BrcError, coreError, handleName } from './errors.js';
import { canBlock, NOT_SHARED_MESSAGE, sharedMemoryAvailable } from './env.js';
import { LAYOUT, STAT_INDICES, type Layout, type Stats } from './layout.js';
import { Ref, type Handle } from './ref.js';
import { Checker, closedError } from './check.js';
import { Locks } from './locks.js';
import { HeapViews } from './views.js';
import { ownerDecref, ownerIncref } from './fastpath.js';
import { collectCycles, mergeEveryQueue, type CycleOptions } from './collect.js';
import { startIdleWaiter } from './idle.js';
import { ThreadGroup } from './lifecycle.js';
import type { HeapShare, HeapThread, SpawnOptions } from './thread.js';
import { link, runDetachHooks, type ForeignExports, type LinkedModule, type LinkOptions, type LinkSource } from './link.js';
import type { WasmMemory, WasmModule, WorkerSource } from './host.js';
import {
  compileCore, createSharedMemory, instantiateCore, memoryPages, type BrcExports, type CoreInstance,
  type MemoryOptions, type WasmLocations, type WasmSource,
} from './wasm.js';
import { declareShape, type Shape, type ShapeDescription, type ShapeFields } from './shape.js';
import { heapReadString, heapString, stringsOf, type StringHandle, type Strings } from './strings.js';

/** Detaches `heap`'s thread at once, without ending its spawned threads: for a worker that ends (join.ts). */
export let detachNow: (heap: Heap) => void;

export type { Handle } from './ref.js';
export type { HeapShare } from './thread.js';
export type { CycleOptions } from './collect.js';

export interface HeapOptions {
  /** Most threads attached at once (default 64, at most 4096). */
  maxThreads?: number;
  memory?: MemoryOptions;
  /** The debug build: checks the protocol's invariants inside every operation (slower). */
  debug?: boolean;
  /** Validate every handle and index before anything happens (default true). */
  checked?: boolean;
  /**
   * The wasm to use: a URL, bytes or a compiled WebAssembly.Module, or one of those per build
   * (`{ threaded, single, debug, singleDebug }`, so that an app serving the files itself keeps the single-thread
   * fallback); by default the builds that come with the package.
   */
  wasm?: WasmSource | WasmLocations;
  /** Force the shared (threads) or the single-thread build; by default shared where SharedArrayBuffer is usable. */
  shared?: boolean;
  /** Cycle collection: when it runs by itself and how long it waits for threads (default: only when called). */
  cycles?: CycleOptions;
}

export interface ObjectInfo {
  /** Owner thread id; 0 once the object is merged (shared by all threads). */
  owner: number;
  local: number;
  shared: number;
  merged: boolean;
  queued: boolean;
  immortal: boolean;
  locked: boolean;
  slots: number;
  bytes: number;
  /** Weak references name it. */
  weak: boolean;
}

/** A weak reference: holds no count, travels in postMessage as a plain number; `heap.upgrade` turns it back. */
export type WeakHandle = number;

export class Heap {
  /** The wasm exports (the raw ABI, docs/ABI.md): no checks at all. They take handles modulo 2^32 (addresses). */
  readonly raw: BrcExports;
  readonly memory: WasmMemory;
  readonly module: WasmModule;
  /** Every constant of the core, by its name in assembly/ (offsets, limits, flags, error codes). */
  readonly layout: Layout = LAYOUT;
  readonly checked: boolean;
  readonly debug: boolean;
  /** True for the threaded build over shared memory; false for the single-thread fallback. */
  readonly shared: boolean;
  /** This thread's id in the heap (1 for the thread that created it). */
  readonly tid: number;
  /** In a worker: the workerData given to spawn. */
  workerData: unknown = undefined;

  // The fast path's fields are TypeScript-private, not #private: V8 (Node 20) reads #fields markedly slower in a hot
  // loop (bench: a pair 3.8 ns against 1.9 ns), and these three are read on every incref and decref.
  private readonly views: HeapViews;
  /** The tid the fast path compares with: ours, or -1 (never equal) in the debug build, which always calls in. */
  private readonly fastTid: number;
  /** Index of this thread's ATTENTION word in the i32 view. */
  private readonly attention: number;
  readonly #check: Checker;
  readonly #locks: Locks;
  readonly #threads: ThreadGroup;
  readonly #cycles: CycleOptions;
  /** This heap was joined by a worker (not created here): it does not spawn (ENESTED). */
  readonly #joined: boolean;
  #closed = false;
  #queueIndex = -1;
  #autoCollecting = false;

  private constructor(core: CoreInstance, module: WasmModule, options: { debug: boolean; checked: boolean; shared: boolean; cycles: CycleOptions; joined: boolean }) {
    this.raw = core.exports;
    this.memory = core.memory;
    this.module = module;
    this.debug = options.debug;
    this.checked = options.checked;
    this.shared = options.shared;
    this.#cycles = options.cycles;
    this.#joined = options.joined;
    const tid = this.raw.brc_thread_attach();
    if (tid === 0) throw coreError(this.raw.brc_last_error(), 'attaching this thread to the heap');
    this.tid = tid;
    this.views = new HeapViews(core.memory);
    this.#check = new Checker(this.raw, this.views, () => this.#closed);
    this.#locks = new Locks(this.raw, this.#check, this.views);
    this.#threads = new ThreadGroup(this.raw, () => this.#share());
    this.fastTid = options.debug ? -1 : tid;
    this.attention = (this.raw.brc_attention_address(tid) >>> 0) >>> 2;
    this.raw.brc_set_can_block(canBlock() ? 1 : 0);
    this.#armQueueWaiter();
  }

  /** Creates a heap in a new memory, with this thread attached as tid 1. */
  static async create(options: HeapOptions = {}): Promise<Heap> {
    const maxThreads = options.maxThreads ?? 64;
    if (!Number.isInteger(maxThreads) || maxThreads < 1 || maxThreads > LAYOUT.MAX_THREADS_LIMIT) {
      throw new BrcError('EINVAL', `Heap.create: maxThreads must be an integer from 1 to ${LAYOUT.MAX_THREADS_LIMIT}, not ${String(maxThreads)}`);
    }
    const { initialMiB = 16, maximumMiB = 1024 } = options.memory ?? {};
    if (!(initialMiB > 0) || !(maximumMiB >= initialMiB) || maximumMiB > 4096) {
      throw new BrcError('EINVAL', `Heap.create: memory sizes must satisfy 0 < initialMiB <= maximumMiB <= 4096 (got ${initialMiB}, ${maximumMiB})`);
    }
    const shared = options.shared ?? sharedMemoryAvailable();
    if (shared && !sharedMemoryAvailable()) throw new BrcError('ENOTSHARED', `Heap.create: ${NOT_SHARED_MESSAGE}`);
    const debug = options.debug ?? false;
    const module = await compileCore({ debug, wasm: options.wasm, shared });
    const [initial, maximum] = memoryPages({ initialMiB, maximumMiB });
    const memory = shared ? createSharedMemory({ initialMiB, maximumMiB }) : new WebAssembly.Memory({ initial, maximum });
    const core = await instantiateCore(module, memory);
    const rc = core.exports.brc_init(maxThreads, maximum);
    if (rc !== 0) throw coreError(rc, 'Heap.create');
    return new Heap(core, module, { debug, checked: options.checked ?? true, shared, cycles: options.cycles ?? {}, joined: false });
  }

  /** Attaches this thread to an existing heap (used by joinHeap in workers). */
  static async join(share: HeapShare): Promise<Heap> {
    const core = await instantiateCore(share.module, share.memory);
    const rc = core.exports.brc_attach_memory();
    if (rc !== 0) throw coreError(rc, 'joinHeap');
    return new Heap(core, share.module, { debug: share.debug, checked: share.checked, shared: true, cycles: share.cycles, joined: true });
  }

  // ---- objects ----------------------------------------------------------------------------------------------------

  /** A new object with `bytes` payload bytes (zeroed) and `slots` null slots; the caller holds its one reference. */
  alloc(bytes: number, slots = 0): Handle {
    this.#check.open('alloc');
    if (!Number.isInteger(bytes) || bytes < 0 || bytes > LAYOUT.MAX_OBJECT_BYTES) {
      throw new BrcError('EINVAL', `alloc: bytes must be an integer from 0 to ${LAYOUT.MAX_OBJECT_BYTES}, not ${String(bytes)}`);
    }
    if (!Number.isInteger(slots) || slots < 0 || slots > LAYOUT.MAX_SLOTS) {
      throw new BrcError('EINVAL', `alloc: slots must be an integer from 0 to ${LAYOUT.MAX_SLOTS}, not ${String(slots)}`);
    }
    const address = this.#check.trap('alloc', 0, () => this.raw.brc_alloc(bytes, slots)) >>> 0;
    if (address === 0) throw coreError(this.raw.brc_last_error(), `alloc(${bytes}, ${slots})`);
    if (this.#cycles.threshold !== undefined) this.#maybeCollect();
    return this.views.tag(address);
  }

  /** Adds a reference. */
  //
  // incref and decref are written for V8's inliner: the checked common case (views.liveAddress: a small live object)
  // and the owner's case stay inline in the caller's loop; everything else (0 from liveAddress: refusals, large
  // objects, stale views) is out of line. A closed heap replaces both methods (#detach), so they need no closed test.
  // `checked === true`, not `checked`: V8 compiles a truthiness test of a field to a chain of type checks.
  incref(handle: Handle): void {
    const address = this.checked === true ? this.views.liveAddress(handle) : handle >>> 0;
    if (address === 0 || !ownerIncref(this.views.i32, this.attention, this.fastTid, address)) this.#increfSlow(handle, address);
  }

  /** Releases a reference; the object is freed (and its slots released) with the last one anywhere. */
  decref(handle: Handle): void {
    const address = this.checked === true ? this.views.liveAddress(handle) : handle >>> 0;
    if (address === 0 || !ownerDecref(this.views.i32, this.attention, this.fastTid, address)) this.#decrefSlow(handle, address);
  }

  #increfSlow(handle: Handle, address: number): void {
    if (address === 0) address = this.#check.handle(handle, 'incref'); // the full check: throws, or a large object
    this.#slow('incref', handle, address, false);
  }

  #decrefSlow(handle: Handle, address: number): void {
    if (address === 0) address = this.#check.handle(handle, 'decref');
    if (this.checked && (this.views.u32[(address + LAYOUT.H_LINK) >>> 2] & LAYOUT.LINK_LOCKED) !== 0) {
      // locked (by someone): the core refuses, changing nothing, if we hold it and this would free the object
      const rc = this.#check.trap('decref', handle, () => this.raw.brc_decref_checked(address));
      if (rc === LAYOUT.EBUSY) {
        throw new BrcError('EBUSY', `decref(${handleName(handle)}): the last reference to an object this thread holds locked; unlock it first`, { handle });
      }
      return;
    }
    this.#slow('decref', handle, address, true);
  }

  /** The core's path for everything the inline fast path does not take; it refreshes the views (memory growth). */
  #slow(what: string, handle: Handle, address: number, decrement: boolean): void {
    this.#check.trap(what, handle, () => (decrement ? this.raw.brc_decref(address) : this.raw.brc_incref(address)));
    this.views.refresh();
  }

  /** Stores `child` (or 0) in slot `index`: takes a new reference to it and releases the slot's old object. */
  setRef(handle: Handle, index: number, child: Handle): void {
    const address = this.checked ? this.#check.slot(handle, index, 'setRef') : handle >>> 0;
    const childAddress = this.checked && child !== 0 ? this.#check.handle(child, 'setRef') : child >>> 0;
    this.#check.trap('setRef', handle, () => this.raw.brc_set_ref(address, index, childAddress));
  }

  /** The slot's object, borrowed: valid while you hold `handle` and nobody replaces the slot. 0 if empty. */
  getRef(handle: Handle, index: number): Handle {
    const address = this.checked ? this.#check.slot(handle, index, 'getRef') : handle >>> 0;
    const views = this.views;
    // a borrowed read of the slot, without a call: an aligned u32 read is whole; SLOT_BUSY (a loadRef) masked off
    const child = (views.u32[(address + LAYOUT.HEADER_SIZE + index * LAYOUT.SLOT_SIZE) >>> 2] & ~LAYOUT.SLOT_BUSY) >>> 0;
    return views.tag(child);
  }

  /** The slot's object with a new reference for you (release it), safe against a concurrent setRef. 0 if empty. */
  loadRef(handle: Handle, index: number): Handle {
    const address = this.checked ? this.#check.slot(handle, index, 'loadRef') : handle >>> 0;
    return this.views.tag(this.#check.trap('loadRef', handle, () => this.raw.brc_load_ref(address, index)) >>> 0);
  }

  /**
   * The payload bytes (zeroed when the object was made; `length` is the usable size, at least what you asked for).
   * In the threaded build the view stays valid for the object's life. In the single-thread build the memory's
   * buffer is replaced when it grows (any alloc may grow it), and views made before are detached (this one then
   * reads as empty; a DataView throws a TypeError): make a new one.
   */
  bytes(handle: Handle): Uint8Array {
    const address = this.#check.handle(handle, 'bytes');
    this.views.refresh();
    return new Uint8Array(this.memory.buffer, this.views.payload(address), this.views.payloadSize(address));
  }

  /** A DataView over the payload (the same bytes as `bytes`, with the same rule about memory growth). */
  view(handle: Handle): DataView {
    const address = this.#check.handle(handle, 'view');
    this.views.refresh();
    return new DataView(this.memory.buffer, this.views.payload(address), this.views.payloadSize(address));
  }

  // ---- shapes and strings (shape.ts, strings.ts) -------------------------------------------------------------------

  /** Declares a shape: named, typed fields over an object's payload (numbers) and slots (references). */
  shape<const F extends ShapeFields>(name: string | ShapeDescription<F>, fields?: F): Shape<F> {
    return declareShape(this, name, fields);
  }

  /** A new immutable UTF-8 string object holding `text`; you hold its one reference. */
  string(text: string): StringHandle {
    return heapString(this, text);
  }

  /** The text of a string object. */
  readString(handle: Handle): string {
    return heapReadString(this, handle);
  }

  /** String objects compared, ordered and hashed without decoding; their lengths. */
  get strings(): Strings {
    return stringsOf(this);
  }

  // ---- locks (locks.ts) -------------------------------------------------------------------------------------------

  /** Takes the object's mutex, waiting if another thread holds it (spinning on a browser's main thread). */
  lock(handle: Handle): void {
    this.#locks.lock(handle);
  }

  /** Takes the mutex if no thread holds it (this one included); returns whether it did. */
  tryLock(handle: Handle): boolean {
    return this.#locks.tryLock(handle);
  }

  unlock(handle: Handle): void {
    this.#locks.unlock(handle);
  }

  /** Runs `fn` holding the object's mutex; an async `fn` runs as withLockAsync. */
  withLock<T>(handle: Handle, fn: () => T): T {
    return this.#locks.withLock(handle, fn);
  }

  /** Runs `fn` holding the object's mutex across its awaits; waiting never blocks this thread's event loop. */
  withLockAsync<T>(handle: Handle, fn: () => T | Promise<T>): Promise<Awaited<T>> {
    return this.#locks.withLockAsync(handle, fn);
  }

  // ---- weak references --------------------------------------------------------------------------------------------

  /** A weak reference to the object (you hold a reference to it): the same number for every call on one object. */
  weak(handle: Handle): WeakHandle {
    const address = this.#check.handle(handle, 'weak');
    const weak = this.raw.brc_weak(address);
    if (weak < 0) throw coreError(this.raw.brc_last_error(), `weak(handle 0x${handle.toString(16)})`, handle);
    return weak;
  }

  /** A new reference to the object `weak` names, or 0 once it was freed (even if its block holds another object). */
  upgrade(weak: WeakHandle): Handle {
    this.#check.open('upgrade');
    if (typeof weak !== 'number' || !Number.isInteger(weak) || weak < 0) {
      throw new BrcError('EINVAL', `upgrade(${String(weak)}): not a weak reference (weak references are integers from heap.weak)`);
    }
    return this.views.tag(this.raw.brc_upgrade(weak) >>> 0);
  }

  // ---- other operations -------------------------------------------------------------------------------------------

  /** Makes the object immortal: never freed, and every later incref/decref returns at once. */
  immortalize(handle: Handle): void {
    const address = this.#check.handle(handle, 'immortalize');
    this.raw.brc_immortalize(address);
  }

  info(handle: Handle): ObjectInfo {
    const address = this.#check.handle(handle, 'info');
    const x = this.raw, L = LAYOUT;
    const shared = x.brc_info_shared(address);
    return {
      owner: x.brc_info_owner(address),
      local: x.brc_info_local(address) >>> 0,
      shared: shared >> L.SHARED_SHIFT,
      merged: (shared & L.SHARED_MERGED) !== 0,
      queued: (shared & L.SHARED_QUEUED) !== 0,
      immortal: x.brc_info_immortal(address) === 1,
      locked: (x.brc_info_lock(address) & L.LINK_LOCKED) !== 0,
      slots: x.brc_info_slots(address),
      bytes: x.brc_info_bytes(address) >>> 0,
      weak: (shared & L.SHARED_WEAK) !== 0,
    };
  }

  /** Wraps a reference you hold in a Ref (`using r = heap.ref(h)` releases it at the end of the block). */
  ref(handle: Handle): Ref {
    this.#check.handle(handle, 'ref');
    return new Ref(this, handle);
  }

  /** Merges the objects other threads queued for this one; returns how many. Also runs by itself when idle. */
  collect(): number {
    this.#check.open('collect');
    return this.raw.brc_collect();
  }

  /**
   * Frees every object that only other objects' slots keep alive (cycles included), whichever threads own or
   * reference them; returns how many. Holds every other thread at a safe point meanwhile (docs/PROTOCOL.md);
   * ETIMEDOUT, with nothing changed, if one does not get there within `timeoutMs`.
   */
  collectCycles(options: { timeoutMs?: number } = {}): number {
    this.#check.open('collectCycles');
    return collectCycles(this.raw, { ...this.#cycles, ...options }, 'collectCycles');
  }

  /**
   * Heap-wide statistics, readable while other threads run (a recent snapshot). `{ exact: true }` first merges every
   * thread's queue, holding the world for a moment, so that liveObjects counts exactly the objects not yet freed.
   */
  stats(options: { exact?: boolean; timeoutMs?: number } = {}): Stats {
    this.#check.open('stats');
    const read = () => {
      const stats = {} as Stats;
      for (const [name, index] of STAT_INDICES) stats[name] = this.raw.brc_stat(index);
      return stats;
    };
    if (!options.exact) return read();
    return mergeEveryQueue(this.raw, { ...this.#cycles, ...options }, 'stats', read);
  }

  /** Walks the whole heap and checks every invariant; throws BrcError EINVARIANT naming the first bad object. */
  verify(): void {
    this.#check.open('verify');
    const rc = this.raw.brc_verify();
    if (rc !== 0) {
      const at = this.raw.brc_last_error_address() >>> 0;
      throw coreError(rc, `verify: at address 0x${at.toString(16)}`, at);
    }
  }

  /** Automatic collection: once enough objects were allocated since the last one, collect at the next turn. */
  #maybeCollect(): void {
    if (this.#autoCollecting) return;
    const since = this.views.u32[(LAYOUT.GLOBAL_BASE + LAYOUT.G_GC_ALLOCATIONS) >>> 2];
    if (since < (this.#cycles.threshold ?? Infinity)) return;
    this.#autoCollecting = true;
    setTimeout(() => {
      this.#autoCollecting = false;
      if (this.#closed) return;
      try {
        this.collectCycles();
      } catch (error) {
        if (!(error instanceof BrcError) || error.code !== 'ETIMEDOUT') throw error;
        // a thread was busy elsewhere: the next threshold crossing tries again
      }
    }, 0);
  }

  // ---- foreign modules (link.ts) ------------------------------------------------------------------------------------

  /** Unlinks this thread's foreign modules before it detaches (the core frees their blocks at detach anyway). */
  readonly #detachHooks = new Set<() => void>();

  /**
   * Links a foreign wasm module (C, Rust: docs/EMBEDDING.md) into this thread: its bytes (a new library in this
   * heap: its data block is made here), or another thread's `linked.share` (the same library, this thread's own
   * stack and TLS). ELINK for a module that cannot share a heap, ELAYOUT for one built for another core.
   */
  link<E extends object = ForeignExports>(source: LinkSource, options?: LinkOptions): Promise<LinkedModule<E>> {
    this.#check.open('link');
    const hooks = this.#detachHooks;
    const host = {
      raw: this.raw, memory: this.memory, tid: this.tid, debug: this.debug,
      onDetach: (hook: () => void) => { hooks.add(hook); return () => { hooks.delete(hook); }; },
    };
    return link<E>(host, source, options);
  }

  // ---- threads (lifecycle.ts) --------------------------------------------------------------------------------------

  /**
   * Starts a worker that joins this heap (it calls joinHeap from 'biasrc/worker'); resolves once it attached.
   * `worker` is the app's own `() => new Worker(new URL('./worker.js', import.meta.url), { type: 'module' })` (the
   * form bundlers bundle), a Worker, or the script's URL. Only the thread that created the heap spawns (ENESTED).
   */
  async spawn(worker: WorkerSource, options: SpawnOptions = {}): Promise<HeapThread> {
    this.#check.open('spawn');
    if (options === null || typeof options !== 'object') {
      throw new BrcError('EINVAL', `spawn: the options must be an object ({ workerData, timeoutMs, ... }), not ${options === null ? 'null' : typeof options}`);
    }
    if (!this.shared) throw new BrcError('ENOTSHARED', `spawn: ${NOT_SHARED_MESSAGE}`);
    if (this.#joined) {
      throw new BrcError('ENESTED', 'spawn: a worker cannot spawn threads of its own (terminating it would end them without a ' +
        'safe stop); post the request to the thread that created the heap and spawn there');
    }
    return this.#threads.spawn(worker, options);
  }

  #share(): HeapShare {
    return { module: this.module, memory: this.memory, debug: this.debug, checked: this.checked, cycles: this.#cycles };
  }

  /** Threads started by this heap's spawn that are still running. */
  get threads(): HeapThread[] {
    return this.#threads.running;
  }

  /**
   * Ends the threads this heap spawned (waiting for spawns under way), detaches this thread and releases the heap
   * here. Later calls: ECLOSED.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    try {
      await this.#threads.close();
    } finally {
      this.#detach();
    }
  }

  /** Detaches this thread now (synchronously): close(), and a worker's normal end (join.ts). */
  #detach(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#queueIndex >= 0) Atomics.notify(new Int32Array(this.memory.buffer), this.#queueIndex);
    runDetachHooks(this.#detachHooks); // linked modules: unlinked while this thread is still attached
    this.raw.brc_thread_detach();
    // incref and decref skip the closed test on their fast paths (and unchecked calls skip every test)
    for (const name of ['incref', 'decref', 'getRef', 'loadRef', 'setRef'] as const) {
      this[name] = () => { throw closedError(name); };
    }
  }

  static {
    detachNow = (heap: Heap) => heap.#detach();
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** While the event loop is idle: merge what is queued for us at once, and acknowledge pauses (idle.ts). */
  #armQueueWaiter(): void {
    if (!this.shared || typeof Atomics.waitAsync !== 'function') return;
    this.#queueIndex = (this.raw.brc_queue_address(this.tid) >>> 0) >>> 2;
    startIdleWaiter({
      memory: this.memory,
      queueIndex: this.#queueIndex,
      attentionIndex: this.attention,
      safepoint: () => this.raw.brc_safepoint(),
      collect: () => { this.raw.brc_collect(); },
      closed: () => this.#closed,
    });
  }
}
