/**
 * Heap: the public API over the raw ABI. One Heap per thread; the main thread creates it, workers join it.
 *
 * Checked mode (the default) validates every argument before it reaches wasm, so a bad call throws a BrcError and
 * never changes the heap. Unchecked mode (`checked: false`) binds the hot methods straight to the wasm exports:
 * no JS work, no allocation per call, and no validation either.
 */

import { BrcError, coreError } from './errors.js';
import { canBlock, NOT_SHARED_MESSAGE, sharedMemoryAvailable } from './env.js';
import { LAYOUT, STAT_INDICES, type Layout, type Stats } from './layout.js';
import { Ref, type Handle } from './ref.js';
import { Checker, closedError } from './check.js';
import { Locks } from './locks.js';
import { ThreadGroup } from './lifecycle.js';
import type { HeapShare, HeapThread, SpawnOptions } from './thread.js';
import {
  compileCore, createSharedMemory, instantiateCore, memoryPages, type BrcExports, type CoreInstance,
  type MemoryOptions, type WasmSource,
} from './wasm.js';

export type { Handle } from './ref.js';
export type { HeapShare } from './thread.js';

export interface HeapOptions {
  /** Most threads attached at once (default 64, at most 4096). */
  maxThreads?: number;
  memory?: MemoryOptions;
  /** The debug build: checks the protocol's invariants inside every operation (slower). */
  debug?: boolean;
  /** Validate every handle and index before calling into wasm (default true). */
  checked?: boolean;
  /** The wasm to use: a URL, bytes or a compiled WebAssembly.Module (default: the build shipped with the package). */
  wasm?: WasmSource;
  /** Force the shared (threads) or the single-thread build; by default shared where SharedArrayBuffer is usable. */
  shared?: boolean;
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
}

export class Heap {
  /** The wasm exports (the raw ABI, docs/ABI.md): no checks at all. */
  readonly raw: BrcExports;
  readonly memory: WebAssembly.Memory;
  readonly module: WebAssembly.Module;
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

  readonly #check: Checker;
  readonly #locks: Locks;
  readonly #threads: ThreadGroup;
  #closed = false;
  #queueIndex = -1;

  private constructor(core: CoreInstance, module: WebAssembly.Module, debug: boolean, checked: boolean, shared: boolean) {
    this.raw = core.exports;
    this.memory = core.memory;
    this.module = module;
    this.debug = debug;
    this.checked = checked;
    this.shared = shared;
    this.#check = new Checker(this.raw, () => this.#closed);
    this.#locks = new Locks(this.raw, this.#check);
    this.#threads = new ThreadGroup(this.raw);
    const tid = this.raw.brc_thread_attach();
    if (tid === 0) throw coreError(this.raw.brc_last_error(), 'attaching this thread to the heap');
    this.tid = tid;
    this.raw.brc_set_can_block(canBlock() ? 1 : 0);
    if (!checked) {
      // own properties shadow the checked methods: calls go straight to wasm
      this.incref = this.raw.brc_incref;
      this.decref = this.raw.brc_decref;
      this.getRef = this.raw.brc_get_ref;
      this.loadRef = this.raw.brc_load_ref;
      this.setRef = this.raw.brc_set_ref;
    }
    this.#armQueueWaiter();
  }

  /** Creates a heap in a new memory, with this thread attached as tid 1. */
  static async create(options: HeapOptions = {}): Promise<Heap> {
    const maxThreads = options.maxThreads ?? 64;
    if (!Number.isInteger(maxThreads) || maxThreads < 1 || maxThreads > 4096) {
      throw new BrcError('EINVAL', `Heap.create: maxThreads must be an integer from 1 to 4096, not ${String(maxThreads)}`);
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
    return new Heap(core, module, debug, options.checked ?? true, shared);
  }

  /** Attaches this thread to an existing heap (used by joinHeap in workers). */
  static async join(share: HeapShare): Promise<Heap> {
    const core = await instantiateCore(share.module, share.memory);
    const rc = core.exports.brc_attach_memory();
    if (rc !== 0) throw coreError(rc, 'joinHeap');
    return new Heap(core, share.module, share.debug, share.checked, true);
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
    const handle = this.#check.trap('alloc', 0, () => this.raw.brc_alloc(bytes, slots));
    if (handle === 0) throw coreError(this.raw.brc_last_error(), `alloc(${bytes}, ${slots})`);
    return handle;
  }

  incref(handle: Handle): void {
    this.#check.handle(handle, 'incref');
    this.#check.trap('incref', handle, () => this.raw.brc_incref(handle));
  }

  decref(handle: Handle): void {
    this.#check.handle(handle, 'decref');
    this.#check.trap('decref', handle, () => this.raw.brc_decref(handle));
  }

  /** Stores `child` (or 0) in slot `index`: takes a new reference to it and releases the slot's old object. */
  setRef(handle: Handle, index: number, child: Handle): void {
    this.#check.slot(handle, index, 'setRef');
    if (child !== 0) this.#check.handle(child, 'setRef');
    this.#check.trap('setRef', handle, () => this.raw.brc_set_ref(handle, index, child));
  }

  /** The slot's object, borrowed: valid while you hold `handle` and nobody replaces the slot. 0 if empty. */
  getRef(handle: Handle, index: number): Handle {
    this.#check.slot(handle, index, 'getRef');
    return this.raw.brc_get_ref(handle, index);
  }

  /** The slot's object with a new reference for you (release it), safe against a concurrent setRef. 0 if empty. */
  loadRef(handle: Handle, index: number): Handle {
    this.#check.slot(handle, index, 'loadRef');
    return this.#check.trap('loadRef', handle, () => this.raw.brc_load_ref(handle, index));
  }

  /** The payload bytes. The view stays valid after the memory grows (shared memory never moves). */
  bytes(handle: Handle): Uint8Array {
    this.#check.handle(handle, 'bytes');
    return new Uint8Array(this.memory.buffer, this.raw.brc_payload(handle), this.raw.brc_info_bytes(handle));
  }

  view(handle: Handle): DataView {
    this.#check.handle(handle, 'view');
    return new DataView(this.memory.buffer, this.raw.brc_payload(handle), this.raw.brc_info_bytes(handle));
  }

  // ---- locks (locks.ts) -------------------------------------------------------------------------------------------

  /** Takes the object's mutex, waiting if another thread holds it (spinning on a browser's main thread). */
  lock(handle: Handle): void {
    this.#locks.lock(handle);
  }

  /** Takes the mutex if it is free; returns whether it did. */
  tryLock(handle: Handle): boolean {
    return this.#locks.tryLock(handle);
  }

  unlock(handle: Handle): void {
    this.#locks.unlock(handle);
  }

  /** Runs `fn` holding the object's mutex; unlocks when it returns, throws, or its promise settles. */
  withLock<T>(handle: Handle, fn: () => T): T {
    return this.#locks.withLock(handle, fn);
  }

  // ---- other operations -------------------------------------------------------------------------------------------

  /** Makes the object immortal: never freed, and every later incref/decref returns at once. */
  immortalize(handle: Handle): void {
    this.#check.handle(handle, 'immortalize');
    this.raw.brc_immortalize(handle);
  }

  info(handle: Handle): ObjectInfo {
    this.#check.handle(handle, 'info');
    const x = this.raw, L = LAYOUT;
    const shared = x.brc_info_shared(handle);
    return {
      owner: x.brc_info_owner(handle),
      local: x.brc_info_local(handle) >>> 0,
      shared: shared >> L.SHARED_SHIFT,
      merged: (shared & L.SHARED_MERGED) !== 0,
      queued: (shared & L.SHARED_QUEUED) !== 0,
      immortal: x.brc_info_immortal(handle) === 1,
      locked: (x.brc_info_lock(handle) & L.LINK_LOCKED) !== 0,
      slots: x.brc_info_slots(handle),
      bytes: x.brc_info_bytes(handle),
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

  /** Heap-wide statistics, readable while other threads run. */
  stats(): Stats {
    this.#check.open('stats');
    const stats = {} as Stats;
    for (const [name, index] of STAT_INDICES) stats[name] = this.raw.brc_stat(index);
    return stats;
  }

  /** Walks the whole heap and checks every invariant; throws BrcError EINVARIANT naming the first bad object. */
  verify(): void {
    this.#check.open('verify');
    const rc = this.raw.brc_verify();
    if (rc !== 0) {
      const at = this.raw.brc_last_error_address();
      throw coreError(rc, `verify: at address 0x${at.toString(16)}`, at);
    }
  }

  // ---- threads (lifecycle.ts) --------------------------------------------------------------------------------------

  /** Starts a worker that joins this heap (it calls joinHeap from 'biasrc/worker'); resolves once it attached. */
  async spawn(url: URL | string, options: SpawnOptions = {}): Promise<HeapThread> {
    this.#check.open('spawn');
    if (!this.shared) throw new BrcError('ENOTSHARED', `spawn: ${NOT_SHARED_MESSAGE}`);
    const share: HeapShare = { module: this.module, memory: this.memory, debug: this.debug, checked: this.checked };
    return this.#threads.spawn(url, share, options);
  }

  /** Threads started by this heap's spawn that are still running. */
  get threads(): HeapThread[] {
    return this.#threads.running;
  }

  /** Ends the threads this heap spawned, detaches this thread and releases the heap here. Later calls: ECLOSED. */
  async close(): Promise<void> {
    if (this.#closed) return;
    await this.#threads.close();
    this.#closed = true;
    if (this.#queueIndex >= 0) Atomics.notify(new Int32Array(this.memory.buffer), this.#queueIndex);
    this.raw.brc_thread_detach();
    if (!this.checked) {
      const closed = () => { throw closedError('a call'); };
      this.incref = this.decref = this.getRef = this.loadRef = this.setRef = closed;
    }
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** While the event loop is idle, merge what other threads queue for us as soon as they queue it. */
  #armQueueWaiter(): void {
    if (!this.shared || typeof Atomics.waitAsync !== 'function') return;
    this.#queueIndex = this.raw.brc_queue_address(this.tid) >> 2;
    const wait = () => {
      if (this.#closed) return;
      const result = Atomics.waitAsync(new Int32Array(this.memory.buffer), this.#queueIndex, 0);
      if (result.async) void result.value.then(wake);
      else setTimeout(wake, 0); // work is already queued
    };
    const wake = () => {
      if (this.#closed) return;
      this.raw.brc_collect();
      wait();
    };
    wait();
  }
}
