/**
 * Heap: the public API over the raw ABI. One Heap per thread; the main thread creates it, workers join it.
 *
 * Checked mode (the default) validates every argument before it reaches wasm, so a bad call throws a BrcError and
 * never changes the heap. Unchecked mode (`checked: false`) binds the hot methods straight to the wasm exports:
 * no JS work, no allocation per call, and no validation either.
 */

import { BrcError, ErrorTable, handleName } from './errors.js';
import { canBlock, NOT_SHARED_MESSAGE, sharedMemoryAvailable } from './env.js';
import { STAT_NAMES, readStatIndices, type Layout, type StatName, type Stats } from './layout.js';
import { Ref } from './ref.js';
import { HeapThread, spawnThread, type SpawnOptions } from './thread.js';
import {
  compileCore, createSharedMemory, instantiateCore, memoryPages, type BrcExports, type CoreInstance,
  type MemoryOptions, type WasmLocations, type WasmSource,
} from './wasm.js';
import type { WasmMemory, WasmModule, WorkerSource } from './host.js';

/** An object's handle: its address in the shared memory. A plain number, so it travels in postMessage. */
export type Handle = number;

export interface HeapOptions {
  /** Most threads attached at once (default 64, at most 4096). */
  maxThreads?: number;
  memory?: MemoryOptions;
  /** The debug build: checks the protocol's invariants inside every operation (slower). */
  debug?: boolean;
  /** Validate every handle and index before calling into wasm (default true). */
  checked?: boolean;
  /**
   * The wasm to use (default: the builds that come with the package, found without any bundler configuration).
   * One URL, bytes or compiled WebAssembly.Module is used for whichever build is needed; an app that serves the
   * files itself names one per build, `{ threaded, single, debug, singleDebug }`, to keep the single-thread fallback.
   */
  wasm?: WasmSource | WasmLocations;
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
  refs: number;
  bytes: number;
}

/** What a worker needs to join a heap; sent by spawn, read by joinHeap. */
export interface HeapShare {
  module: WasmModule;
  memory: WasmMemory;
  debug: boolean;
  checked: boolean;
}

const MAX_OBJECT_BYTES = 0x7fff_0000;

export class Heap {
  /** The wasm exports (the raw ABI, docs/ABI.md): no checks at all. */
  readonly raw: BrcExports;
  readonly memory: WasmMemory;
  readonly module: WasmModule;
  readonly layout: Layout;
  readonly checked: boolean;
  readonly debug: boolean;
  /** True for the threaded build over shared memory; false for the single-thread fallback. */
  readonly shared: boolean;
  /** This thread's id in the heap (1 for the thread that created it). */
  readonly tid: number;
  /** In a worker: the workerData given to spawn. */
  workerData: unknown = undefined;

  readonly #errors: ErrorTable;
  readonly #stats: [StatName, number][];
  readonly #threads = new Set<HeapThread>();
  #closed = false;
  #queueIndex = -1;
  readonly #busy: number;

  private constructor(core: CoreInstance, module: WasmModule, debug: boolean, checked: boolean, shared: boolean) {
    this.raw = core.exports;
    this.memory = core.memory;
    this.module = module;
    this.layout = core.layout;
    this.#errors = core.errors;
    this.#stats = readStatIndices(core.raw);
    this.#busy = Number((core.raw.EBUSY as WebAssembly.Global).value);
    this.debug = debug;
    this.checked = checked;
    this.shared = shared;
    const tid = this.raw.brc_thread_attach();
    if (tid === 0) throw this.#errors.error(this.raw.brc_last_error(), 'attaching this thread to the heap');
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
    if (rc !== 0) throw core.errors.error(rc, 'Heap.create');
    return new Heap(core, module, debug, options.checked ?? true, shared);
  }

  /** Attaches this thread to an existing heap (used by joinHeap in workers). */
  static async join(share: HeapShare): Promise<Heap> {
    const core = await instantiateCore(share.module, share.memory);
    const rc = core.exports.brc_attach_memory();
    if (rc !== 0) throw core.errors.error(rc, 'joinHeap');
    return new Heap(core, share.module, share.debug, share.checked, true);
  }

  // ---- objects ----------------------------------------------------------------------------------------------------

  /** A new object with `bytes` payload bytes (zeroed) and `refs` null slots; the caller holds its one reference. */
  alloc(bytes: number, refs = 0): Handle {
    this.#open('alloc');
    if (!Number.isInteger(bytes) || bytes < 0 || bytes > MAX_OBJECT_BYTES) {
      throw new BrcError('EINVAL', `alloc: bytes must be an integer from 0 to ${MAX_OBJECT_BYTES}, not ${String(bytes)}`);
    }
    if (!Number.isInteger(refs) || refs < 0 || refs > this.layout.MAX_REFS) {
      throw new BrcError('EINVAL', `alloc: refs must be an integer from 0 to ${this.layout.MAX_REFS}, not ${String(refs)}`);
    }
    const handle = this.#trap('alloc', 0, () => this.raw.brc_alloc(bytes, refs));
    if (handle === 0) throw this.#errors.error(this.raw.brc_last_error(), `alloc(${bytes}, ${refs})`);
    return handle;
  }

  incref(handle: Handle): void {
    this.#check(handle, 'incref');
    this.#trap('incref', handle, () => this.raw.brc_incref(handle));
  }

  decref(handle: Handle): void {
    this.#check(handle, 'decref');
    this.#trap('decref', handle, () => this.raw.brc_decref(handle));
  }

  /** Stores `child` (or 0) in slot `index`: takes a new reference to it and releases the slot's old object. */
  setRef(handle: Handle, index: number, child: Handle): void {
    this.#checkSlot(handle, index, 'setRef');
    if (child !== 0) this.#check(child, 'setRef');
    this.#trap('setRef', handle, () => this.raw.brc_set_ref(handle, index, child));
  }

  /** The slot's object, borrowed: valid while you hold `handle` and nobody replaces the slot. 0 if empty. */
  getRef(handle: Handle, index: number): Handle {
    this.#checkSlot(handle, index, 'getRef');
    return this.raw.brc_get_ref(handle, index);
  }

  /** The slot's object with a new reference for you (release it), safe against a concurrent setRef. 0 if empty. */
  loadRef(handle: Handle, index: number): Handle {
    this.#checkSlot(handle, index, 'loadRef');
    return this.#trap('loadRef', handle, () => this.raw.brc_load_ref(handle, index));
  }

  /** The payload bytes. The view stays valid after the memory grows (shared memory never moves). */
  bytes(handle: Handle): Uint8Array {
    this.#check(handle, 'bytes');
    return new Uint8Array(this.memory.buffer, this.raw.brc_payload(handle), this.raw.brc_info_bytes(handle));
  }

  view(handle: Handle): DataView {
    this.#check(handle, 'view');
    return new DataView(this.memory.buffer, this.raw.brc_payload(handle), this.raw.brc_info_bytes(handle));
  }

  // ---- locks ------------------------------------------------------------------------------------------------------

  /** Takes the object's mutex, waiting if another thread holds it (spinning on a browser's main thread). */
  lock(handle: Handle): void {
    this.#check(handle, 'lock');
    const rc = this.#trap('lock', handle, () => this.raw.brc_lock(handle));
    if (rc !== 0) throw this.#errors.error(rc, `lock(${handleName(handle)})`, handle);
  }

  /** Takes the mutex if it is free; returns whether it did. */
  tryLock(handle: Handle): boolean {
    this.#check(handle, 'tryLock');
    const rc = this.raw.brc_try_lock(handle);
    if (rc === 0) return true;
    if (rc === this.#busy) return false;
    throw this.#errors.error(rc, `tryLock(${handleName(handle)})`, handle);
  }

  unlock(handle: Handle): void {
    this.#check(handle, 'unlock');
    const rc = this.raw.brc_unlock(handle);
    if (rc !== 0) throw this.#errors.error(rc, `unlock(${handleName(handle)})`, handle);
  }

  /** Runs `fn` holding the object's mutex; unlocks when it returns, throws, or its promise settles. */
  withLock<T>(handle: Handle, fn: () => T): T {
    this.lock(handle);
    let result: T;
    try {
      result = fn();
    } catch (error) {
      this.unlock(handle);
      throw error;
    }
    if (result instanceof Promise) {
      return result.finally(() => this.unlock(handle)) as T;
    }
    this.unlock(handle);
    return result;
  }

  // ---- other operations -------------------------------------------------------------------------------------------

  /** Makes the object immortal: never freed, and every later incref/decref returns at once. */
  immortalize(handle: Handle): void {
    this.#check(handle, 'immortalize');
    this.raw.brc_immortalize(handle);
  }

  info(handle: Handle): ObjectInfo {
    this.#check(handle, 'info');
    const x = this.raw, L = this.layout;
    const shared = x.brc_info_shared(handle);
    return {
      owner: x.brc_info_owner(handle),
      local: x.brc_info_local(handle) >>> 0,
      shared: shared >> L.SHARED_SHIFT,
      merged: (shared & L.SHARED_MERGED) !== 0,
      queued: (shared & L.SHARED_QUEUED) !== 0,
      immortal: x.brc_info_immortal(handle) === 1,
      locked: (x.brc_info_lock(handle) & L.LINK_LOCKED) !== 0,
      refs: x.brc_info_refs(handle),
      bytes: x.brc_info_bytes(handle),
    };
  }

  /** Wraps a reference you hold in a Ref (`using r = heap.ref(h)` releases it at the end of the block). */
  ref(handle: Handle): Ref {
    this.#check(handle, 'ref');
    return new Ref(this, handle);
  }

  /** Merges the objects other threads queued for this one; returns how many. Also runs by itself when idle. */
  collect(): number {
    this.#open('collect');
    return this.raw.brc_collect();
  }

  /** Heap-wide statistics, readable while other threads run. */
  stats(): Stats {
    this.#open('stats');
    const stats = {} as Stats;
    for (const [name, index] of this.#stats) stats[name] = this.raw.brc_stat(index);
    return stats;
  }

  /** Walks the whole heap and checks every invariant; throws BrcError EINVARIANT naming the first bad object. */
  verify(): void {
    this.#open('verify');
    const rc = this.raw.brc_verify();
    if (rc !== 0) {
      const at = this.raw.brc_last_error_address();
      throw this.#errors.error(rc, `verify: at address 0x${at.toString(16)}`, at);
    }
  }

  // ---- threads ----------------------------------------------------------------------------------------------------

  /**
   * Starts a worker that joins this heap (it calls joinHeap from 'biasrc/worker'); resolves once it attached.
   * `worker`: the app's own `new Worker(new URL('./worker.js', import.meta.url), { type: 'module' })` (the form
   * bundlers bundle), a function returning one, or the script's URL.
   */
  async spawn(worker: WorkerSource, options: SpawnOptions = {}): Promise<HeapThread> {
    this.#open('spawn');
    if (!this.shared) throw new BrcError('ENOTSHARED', `spawn: ${NOT_SHARED_MESSAGE}`);
    const share: HeapShare = { module: this.module, memory: this.memory, debug: this.debug, checked: this.checked };
    const thread = await spawnThread(worker, share, options, {
      detach: (tid, generation) => this.#detachDead(tid, generation),
      stop: (tid, generation) => this.#stopThread(tid, generation),
    });
    this.#threads.add(thread);
    void thread.exited.then(() => this.#threads.delete(thread));
    return thread;
  }

  /** Threads started by this heap's spawn that are still running. */
  get threads(): HeapThread[] {
    return [...this.#threads];
  }

  /** Ends the threads this heap spawned, detaches this thread and releases the heap here. Later calls: ECLOSED. */
  async close(): Promise<void> {
    if (this.#closed) return;
    await Promise.all([...this.#threads].map((thread) => thread.terminate()));
    this.#closed = true;
    if (this.#queueIndex >= 0) Atomics.notify(new Int32Array(this.memory.buffer), this.#queueIndex);
    this.raw.brc_thread_detach();
    if (!this.checked) {
      const closed = () => { throw this.#closedError('a call'); };
      this.incref = this.decref = this.getRef = this.loadRef = this.setRef = closed;
    }
  }

  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Before terminating a worker: ask it to stop at its next operation boundary and wait until it sits there, or is
   * seen outside any operation twice a grace period apart, so it never dies in the middle of one (threads.ts).
   */
  async #stopThread(tid: number, generation: number): Promise<void> {
    const x = this.raw;
    if (this.#closed || x.brc_thread_generation(tid) !== generation || x.brc_thread_state(tid) === this.layout.STATE_FREE) return;
    x.brc_thread_request_stop(tid);
    let outside = 0;
    for (let waited = 0; waited < 10_000; waited += 1) {
      const state = x.brc_thread_stop_state(tid);
      if (state === 2) return; // stopped at a boundary
      // outside any operation (3: asleep in a lock wait): safe if still so a grace period later, because a thread
      // that marked an operation just before we asked may not have made its mark visible yet
      outside = state === 0 || state === 3 ? outside + 1 : 0;
      if (outside >= 2) return;
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  }

  /** A worker exited or was terminated: detach its tid unless it detached itself (or the tid was reused). */
  #detachDead(tid: number, generation: number): void {
    if (this.#closed) return;
    if (this.raw.brc_thread_state(tid) === this.layout.STATE_FREE) return;
    if (this.raw.brc_thread_generation(tid) !== generation) return;
    this.raw.brc_thread_detach_dead(tid);
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

  // ---- checks -----------------------------------------------------------------------------------------------------

  #open(what: string): void {
    if (this.#closed) throw this.#closedError(what);
  }

  #closedError(what: string): BrcError {
    return new BrcError('ECLOSED', `${what}: the heap is closed in this thread`);
  }

  #check(handle: unknown, what: string): void {
    if (this.#closed) throw this.#closedError(what);
    if (typeof handle !== 'number' || !Number.isInteger(handle) || handle <= 0 || handle > 0xffff_ffff) {
      throw new BrcError('EINVAL', `${what}(${handleName(handle as number)}): not a handle (handles are positive integers)`, { handle: handle as number });
    }
    const rc = this.raw.brc_validate(handle);
    if (rc !== 0) throw this.#errors.error(rc, `${what}(${handleName(handle)})`, handle);
  }

  #checkSlot(handle: Handle, index: unknown, what: string): void {
    this.#check(handle, what);
    const refs = this.raw.brc_info_refs(handle);
    if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= refs) {
      throw new BrcError('EINVAL', `${what}(${handleName(handle)}, ${String(index)}): slot index out of range (the object has ${refs} slots)`, { handle });
    }
  }

  /** Runs a wasm call, turning a debug-build trap into a BrcError that says which invariant broke. */
  #trap<T>(what: string, handle: Handle, call: () => T): T {
    try {
      return call();
    } catch (error) {
      if (!(error instanceof WebAssembly.RuntimeError)) throw error;
      const at = this.raw.brc_last_error_address();
      throw this.#errors.error(this.raw.brc_last_error(), `${what}(${handleName(handle)}) trapped at address 0x${at.toString(16)}`, handle, error);
    }
  }
}

export { STAT_NAMES };
