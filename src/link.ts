/**
 * The loader for foreign wasm modules (C, Rust, ...) that share a biasrc heap: `heap.link(source, { stackBytes })`.
 *
 * A foreign module runs one instance per thread over the heap's one shared memory, like the core. Everything it
 * would put at a fixed address gets a block of the heap instead, so it can never overwrite the heap:
 *
 *   data   one block per heap ("library"; size and alignment from its dylink.0 section), zeroed once, passed to
 *          every thread's instance as env.__memory_base; the module's start function (wasm-ld's __wasm_init_memory)
 *          copies its passive data segments there once, guarded by a flag inside the block; the first thread then
 *          applies the data relocations (__wasm_apply_data_relocs) and runs the constructors (__wasm_call_ctors).
 *   stack  one block per thread (stackBytes), env.__stack_pointer starts at its top. The module is instrumented
 *          (link-wasm.ts) so that moving the pointer out of the block traps; a guard below the limit holds a canary
 *          for leaf frames (LLVM's 128-byte red zone), checked on every return to JavaScript.
 *   TLS    one block per thread (__tls_size, __tls_align), initialised by __wasm_init_tls.
 *   table  one per thread (functions cannot be shared), laid out identically, so function pointers stored in the
 *          shared data are the same number in every thread.
 *
 * The core makes and frees these blocks (assembly/embed.ts: brc_library_new, brc_link_thread, ...) and lists a
 * thread's blocks in its record, so that whoever detaches the thread frees them, even after it died (a terminated
 * worker is detached by the thread that spawned it or by a watchdog). This file adds what only JavaScript can do:
 * reading and instrumenting the binary, wiring the imports, instantiating, and initialising the library once.
 *
 * The module imports the core's functions from "biasrc" (the generated include/biasrc.h declares them); they are this
 * thread's core instance's exports, so a call from the module into the core is a direct wasm-to-wasm call.
 */

import { BrcError, coreError, type BrcErrorCode } from './errors.js';
import { LAYOUT } from './layout.js';
import type { BrcExports } from './generated/abi.js';
import type { BinaryData, WasmExports, WasmImports, WasmMemory, WasmModule } from './host.js';
import {
  ATTENTION_IMPORT, decodeLayoutRecords, HEADER_FORMAT, IMPORT_MODULE, LAYOUT_RECORD_MAGIC, LAYOUT_SECTION, layoutHash,
  TID_HIGH_IMPORT,
} from './link-abi.js';
import {
  instrumentStack, LINK_SECTION, readFacts, STACK_FAULT_EXPORT, STACK_HIGH_EXPORT, STACK_LOW_EXPORT, WasmFormatError,
  type ModuleFacts,
} from './link-wasm.js';

const L = LAYOUT;

// ---- the interface to one thread's core -----------------------------------------------------------------------------

/** What the loader needs of one thread's biasrc instance (a Heap gives it; so can a host that loads the core itself). */
export interface LinkHost {
  /** The thread's core instance (attached). */
  readonly raw: BrcExports;
  readonly memory: WasmMemory;
  /** The thread's tid. */
  readonly tid: number;
  /** A debug core: the header's inline fast path is turned off, so every count goes through the core's checks. */
  readonly debug: boolean;
  /** Registers `hook` to run before this thread detaches (while it is still attached); returns an unregister. */
  onDetach(hook: () => void): () => void;
}

// ---- options, shares, errors ----------------------------------------------------------------------------------------

export interface LinkOptions {
  /** Bytes of this thread's stack block for the module (default 64 KiB, at least 4 KiB). */
  stackBytes?: number;
  /** More imports, or replacements of the wired ones, by module and name (e.g. `{ env: { log } }`). */
  imports?: WasmImports;
}

/** What another thread passes to `heap.link` to join a library this heap already holds. Structured-cloneable. */
export interface LinkShare {
  readonly kind: 'biasrc-link';
  readonly module: WasmModule;
  /** Address of the library record in the shared memory. */
  readonly library: number;
}

/** The module's bytes, a Module from prepareModule (both: a new library), or another thread's `linked.share`. */
export type LinkSource = BinaryData | WasmModule | LinkShare;

/**
 * An export of a foreign module, as `linked.exports` offers it. Numbers in and out (i32 results come back signed:
 * `>>> 0` for an address above 2 GiB; an i64 is a bigint).
 */
export type ForeignFunction = (...args: (number | bigint)[]) => number;
export type ForeignExports = Record<string, ForeignFunction>;

function linkError(code: BrcErrorCode, message: string): BrcError {
  return new BrcError(code, message);
}

const DEFAULT_STACK = 64 * 1024;
const MIN_STACK = 4096;
/** Below the stack limit: room for a leaf frame's red zone (128 bytes in LLVM), filled with the canary. */
export const GUARD_BYTES = 256;
const CANARY = 0x5afec0de | 0;
/** Words of the guard, just below the limit, checked on every return to JavaScript (all of them at unlink). */
const CANARY_WINDOW = 16;
/** The first function-table index handed out: 0 stays null. */
const TABLE_BASE = 1;

// ---- preparing a module -----------------------------------------------------------------------------------------

const prepared = new WeakMap<object, ModuleFacts>();

/**
 * Checks a module's bytes and instruments its stack pointer: compile once, then link the result (or a share of it)
 * in every thread. Refuses (BrcError ELINK) a module that cannot share a heap: not position-independent, memory not
 * shared or not imported, active data segments, or dependencies on other shared libraries.
 */
export async function prepareModule(bytes: BinaryData): Promise<WasmModule> {
  return (await prepare(bytes)).module;
}

async function prepare(source: BinaryData): Promise<{ module: WebAssembly.Module; facts: ModuleFacts }> {
  const bytes = source instanceof Uint8Array ? source
    : ArrayBuffer.isView(source) ? new Uint8Array(source.buffer, source.byteOffset, source.byteLength)
      : new Uint8Array(source);
  let facts: ModuleFacts;
  let out: Uint8Array;
  try {
    facts = readFacts(bytes);
    checkFacts(facts);
    out = instrumentStack(bytes, facts);
  } catch (error) {
    if (error instanceof WasmFormatError) throw linkError('ELINK', `link: cannot read the module: ${error.message}`);
    throw error;
  }
  let module: WebAssembly.Module;
  try {
    module = await WebAssembly.compile(out as BufferSource);
  } catch (error) {
    throw linkError('ELINK', `link: the module does not compile: ${(error as Error).message}`);
  }
  facts = { ...facts, stackChecked: facts.stackChecked || facts.stackPointer >= 0 };
  prepared.set(module, facts);
  return { module, facts };
}

const BUILD_HINT = 'build it with `clang --target=wasm32 -fPIC -matomics -mbulk-memory` and link with ' +
  '`-Wl,--experimental-pic,-pie,--import-memory,--shared-memory,--max-memory=4294967296,--export=__wasm_init_tls,' +
  '--export=__tls_size,--export=__tls_align,--export=__wasm_apply_data_relocs` (docs/EMBEDDING.md)';

function checkFacts(facts: ModuleFacts): void {
  if (!facts.dylink) {
    throw linkError('ELINK', `link: the module is not position-independent (it has no dylink.0 section), so its data and stack are at fixed addresses that belong to the heap; ${BUILD_HINT}`);
  }
  if (facts.dylink.needed.length) {
    throw linkError('ELINK', `link: the module needs other shared libraries (${facts.dylink.needed.join(', ')}); link them into one module`);
  }
  const memories = facts.imports.filter((i) => i.kind === 'memory');
  const memory = memories.find((i) => i.module === 'env' && i.name === 'memory');
  if (!memory || memories.length !== 1) {
    throw linkError('ELINK', `link: the module must import exactly one memory, env.memory (it imports ${memories.map((m) => `${m.module}.${m.name}`).join(', ') || 'none'}); ${BUILD_HINT}`);
  }
  if (!memory.shared) throw linkError('ELINK', `link: the module's memory is not shared: one instance per thread must see the same heap; ${BUILD_HINT}`);
  if (memory.memory64) throw linkError('ELINK', 'link: the module uses a 64-bit memory; biasrc heaps are wasm32');
  if (facts.activeData.length) {
    throw linkError('ELINK', `link: the module has ${facts.activeData.length} active data segment(s): every thread's instantiation would copy them over the live data again; link with --shared-memory so they are passive`);
  }
  for (const name of ['__wasm_init_tls', '__tls_size', '__tls_align']) {
    if (!facts.exports.includes(name)) throw linkError('ELINK', `link: the module does not export ${name}, so a second thread's thread-locals would land at address 0; ${BUILD_HINT}`);
  }
  if (!facts.exports.includes('__wasm_apply_data_relocs')) {
    throw linkError('ELINK', `link: the module does not export __wasm_apply_data_relocs, so pointers in its data would stay bare offsets; ${BUILD_HINT}`);
  }
}

/** @internal What link() gives LinkedModule's constructor. */
export interface LinkedInit {
  host: LinkHost;
  exports: WasmExports;
  module: WasmModule;
  library: number;
  link: number;
  memoryBase: number;
  stackBlock: number;
  stackTop: number;
  tlsBase: number;
  stackPointer: { value: number };
}

// ---- a linked module --------------------------------------------------------------------------------------------

/** A foreign module linked into this thread. */
export class LinkedModule<E extends object = ForeignExports> {
  /** The instance's functions, wrapped: each call checks the stack on return and turns an overflow into ESTACK. */
  readonly exports: E;
  /** The instance's own exports: fastest, unchecked; never call them after unlink(). */
  readonly raw: WasmExports;
  readonly module: WasmModule;
  /** Where the module's data lives (one block per heap, shared by every thread). */
  readonly memoryBase: number;
  /** This thread's stack: the stack pointer stays in [stackLimit, stackTop]; the guard is below stackLimit. */
  readonly stackTop: number;
  readonly stackLimit: number;
  /** This thread's thread-local block. */
  readonly tlsBase: number;
  readonly #host: LinkHost;
  readonly #library: number;
  readonly #link: number;
  readonly #stackBlock: number;
  readonly #stackPointer: { value: number };
  readonly #fault: WebAssembly.Global | undefined;
  readonly #unhook: () => void;
  #depth = 0;
  #linked = true;

  /** @internal made by link() */
  constructor(init: LinkedInit) {
    this.#host = init.host;
    this.module = init.module;
    this.raw = init.exports;
    this.#library = init.library;
    this.#link = init.link;
    this.memoryBase = init.memoryBase;
    this.#stackBlock = init.stackBlock;
    this.stackTop = init.stackTop;
    this.stackLimit = init.stackBlock + GUARD_BYTES;
    this.tlsBase = init.tlsBase;
    this.#stackPointer = init.stackPointer;
    this.#fault = this.raw[STACK_FAULT_EXPORT] as WebAssembly.Global | undefined;
    const exports: Record<string, ForeignFunction> = {};
    for (const [name, value] of Object.entries(this.raw)) {
      if (typeof value === 'function') exports[name] = this.#wrap(name, value as ForeignFunction);
    }
    this.exports = Object.freeze(exports) as unknown as E;
    this.#unhook = init.host.onDetach(() => this.#release());
  }

  /** Passes the library to another thread, which calls `heap.link(share)`. Valid while some thread keeps it linked. */
  get share(): LinkShare {
    return { kind: 'biasrc-link', module: this.module, library: this.#library };
  }

  get linked(): boolean {
    return this.#linked;
  }

  /**
   * Gives this thread's stack and TLS blocks back; the last thread to unlink also frees the data block (release the
   * references the module's data holds first). Throws ESTACK, after freeing, if the guard below the stack was
   * overwritten. The thread's detach (heap.close, or its death) unlinks every module it still has.
   */
  unlink(): void {
    if (!this.#linked) return;
    if (this.#depth > 0) throw linkError('EBUSY', 'unlink: a call into this module is still running on this thread');
    const intact = this.#canaryIntact(GUARD_BYTES / 4);
    this.#release();
    if (!intact) throw linkError('ESTACK', `unlink: the stack guard below 0x${this.stackLimit.toString(16)} was overwritten: a stack overflow in a frame that never moved the stack pointer (raise stackBytes)`);
  }

  /** Frees this thread's blocks (the core drops the library); never throws: also the detach hook. */
  #release(): void {
    if (!this.#linked) return;
    this.#linked = false;
    this.#unhook();
    this.#host.raw.brc_unlink_thread(this.#link);
  }

  #wrap(name: string, fn: ForeignFunction): ForeignFunction {
    return (...args) => {
      if (!this.#linked) throw linkError('ECLOSED', `${name}: the module was unlinked from this thread`);
      const outer = this.#depth === 0;
      this.#depth++;
      let failed = false;
      try {
        return fn(...args);
      } catch (error) {
        failed = true;
        throw this.#explain(name, error);
      } finally {
        this.#depth--;
        if (outer) {
          // a trap unwinds without the epilogues: the pointer is left where the deepest frame put it
          if (failed) this.#stackPointer.value = this.stackTop;
          if (!this.#canaryIntact(CANARY_WINDOW)) {
            this.#armCanary();
            if (!failed) throw linkError('ESTACK', `${name}: the stack guard below 0x${this.stackLimit.toString(16)} was overwritten (a stack overflow in a leaf frame); raise stackBytes`);
          }
        }
      }
    };
  }

  #explain(name: string, error: unknown): unknown {
    if (!(error instanceof WebAssembly.RuntimeError) || !this.#fault) return error;
    const at = (this.#fault.value as number) >>> 0;
    if (at === 0) return error;
    this.#fault.value = 0;
    return new BrcError('ESTACK', `${name}: stack overflow: the stack pointer would move to 0x${at.toString(16)}, outside this thread's stack [0x${this.stackLimit.toString(16)}, 0x${this.stackTop.toString(16)}] (raise stackBytes); nothing below the stack was written`, { cause: error });
  }

  #guardView: Int32Array | undefined;

  /** The guard's words (a view made again only when the memory grew: a shared buffer never moves). */
  #guard(): Int32Array {
    const buffer = this.#host.memory.buffer;
    if (this.#guardView?.buffer !== buffer) this.#guardView = new Int32Array(buffer, this.#stackBlock, GUARD_BYTES / 4);
    return this.#guardView!;
  }

  #canaryIntact(words: number): boolean {
    const view = this.#guard();
    for (let i = view.length - words; i < view.length; i++) if (view[i] !== CANARY) return false;
    return true;
  }

  #armCanary(): void {
    this.#guard().fill(CANARY);
  }
}

// ---- linking ----------------------------------------------------------------------------------------------------

/**
 * Links a foreign module into the thread of `host`. `source`: the module's bytes or a Module from prepareModule (a
 * new library in this heap: its data block is made and initialised here), or another thread's `linked.share` (the
 * same library: same data, this thread's own stack and TLS).
 */
export async function link<E extends object = ForeignExports>(host: LinkHost, source: LinkSource, options: LinkOptions = {}): Promise<LinkedModule<E>> {
  const stackBytes = options.stackBytes ?? DEFAULT_STACK;
  if (!Number.isInteger(stackBytes) || stackBytes < MIN_STACK || stackBytes > 0x4000_0000) {
    throw linkError('EINVAL', `link: stackBytes must be an integer from ${MIN_STACK} to 2^30, not ${String(stackBytes)}`);
  }
  if (typeof SharedArrayBuffer === 'undefined' || !(host.memory.buffer instanceof SharedArrayBuffer)) {
    throw linkError('ENOTSHARED', 'link: the heap is not in shared memory (the single-thread build cannot host foreign modules)');
  }
  const x = host.raw;
  if (host.tid === 0 || x.brc_thread_id() !== host.tid) throw linkError('ENOTATTACHED', 'link: this thread is not attached to the heap');

  let module: WebAssembly.Module;
  let facts: ModuleFacts | undefined;
  let library = 0;
  if (isShare(source)) {
    module = source.module as WebAssembly.Module;
    library = source.library;
    facts = prepared.get(module) ?? factsOf(module);
  } else if (source instanceof WebAssembly.Module) {
    module = source;
    facts = prepared.get(module) ?? factsOf(module);
  } else {
    ({ module, facts } = await prepare(source as BinaryData));
  }
  if (!facts) throw linkError('ELINK', 'link: this WebAssembly.Module was not made by prepareModule(bytes): pass the bytes, or prepare them first (the loader must read and instrument the binary)');
  checkLayout(module);
  checkMemoryLimits(facts, host);
  const dylink = facts.dylink!;

  // the library: a new one (its data block zeroed by the core), or the share's
  if (library === 0) {
    library = x.brc_library_new(Math.max(dylink.memorySize, 1), 2 ** dylink.memoryAlign) >>> 0;
    if (library === 0) throw coreError(x.brc_last_error(), `link: the data block (${dylink.memorySize} bytes)`);
  } else if (x.brc_library_join(library) !== 0) {
    throw linkError('EINVAL', `link: 0x${(library >>> 0).toString(16)} is not a library of this heap any more (a share is valid while some thread keeps the library linked)`);
  } else if (new Uint32Array(host.memory.buffer)[(library + L.LB_DATA_BYTES) >>> 2] !== Math.max(dylink.memorySize, 1)) {
    x.brc_library_drop(library); // a record reused by another module since the share was made
    throw linkError('EINVAL', `link: the library at 0x${(library >>> 0).toString(16)} is not this module's any more (a share is valid while some thread keeps the library linked)`);
  }
  // this thread's stack, listed in its record with the library: from here on, a detach frees them
  const threadLink = x.brc_link_thread(library, stackBytes) >>> 0;
  if (threadLink === 0) {
    const rc = x.brc_last_error();
    x.brc_library_drop(library);
    throw coreError(rc, `link: a ${stackBytes}-byte stack`);
  }
  try {
    return await instantiate<E>(host, module, facts, library, threadLink, stackBytes, options);
  } catch (error) {
    x.brc_unlink_thread(threadLink); // the stack, the TLS block if any, and our use of the library
    throw error;
  }
}

/** The rest of link(), once this thread holds its link: any error here is undone by unlinking it. */
async function instantiate<E extends object>(host: LinkHost, module: WebAssembly.Module, facts: ModuleFacts, library: number,
  threadLink: number, stackBytes: number, options: LinkOptions): Promise<LinkedModule<E>> {
  const x = host.raw;
  const memory = host.memory;
  const dylink = facts.dylink!;
  const u32 = () => new Uint32Array(memory.buffer);
  const memoryBase = u32()[(library + L.LB_DATA) >>> 2];
  const stackBlock = u32()[(threadLink + L.TL_STACK) >>> 2];
  new Int32Array(memory.buffer, stackBlock, GUARD_BYTES / 4).fill(CANARY);
  const stackTop = ((stackBlock + stackBytes) & ~15) >>> 0; // addresses may be above 2 GiB: unsigned

  // imports
  const stackPointer = new WebAssembly.Global({ value: 'i32', mutable: true }, stackTop);
  let tableSize = TABLE_BASE + dylink.tableSize;
  const gotFunctions: { name: string; mutable: boolean }[] = [];
  for (const i of facts.imports) {
    if (i.kind === 'table' && i.min !== undefined) tableSize = Math.max(tableSize, i.min);
    if (i.module === 'GOT.func') gotFunctions.push({ name: i.name, mutable: i.mutable ?? false });
  }
  const table = new WebAssembly.Table({ element: 'anyfunc', initial: tableSize + gotFunctions.length });
  const env: Record<string, unknown> = {
    memory,
    __memory_base: new WebAssembly.Global({ value: 'i32', mutable: false }, memoryBase),
    __table_base: new WebAssembly.Global({ value: 'i32', mutable: false }, TABLE_BASE),
    __stack_pointer: stackPointer,
    __indirect_function_table: table,
  };
  // the header's inline fast path: this thread's tid << 32 (nobody's in a debug core, whose calls check everything)
  // and the address of its ATTENTION word, as immutable globals
  const core: Record<string, unknown> = {
    [TID_HIGH_IMPORT]: new WebAssembly.Global({ value: 'i64', mutable: false }, host.debug ? BigInt(L.NO_TID_HIGH) : BigInt(host.tid) << 32n),
    [ATTENTION_IMPORT]: new WebAssembly.Global({ value: 'i32', mutable: false }, x.brc_attention_address(host.tid)),
  };
  const coreExports = x as unknown as Record<string, unknown>;
  const imports: Record<string, Record<string, unknown>> = { env, [IMPORT_MODULE]: core };
  const missing: string[] = [];
  for (const i of facts.imports) {
    if (i.module === IMPORT_MODULE && i.kind === 'function') {
      if (typeof coreExports[i.name] === 'function') core[i.name] = coreExports[i.name];
      else missing.push(`${i.module}.${i.name}`);
    }
  }
  for (const [name, values] of Object.entries(options.imports ?? {})) Object.assign((imports[name] ??= {}), values);
  // GOT.func.f: the address of an imported function; every thread puts it at the same table index
  const got: Record<string, WebAssembly.Global> = {};
  gotFunctions.forEach(({ name, mutable }, k) => {
    const fn = imports[IMPORT_MODULE]?.[name] ?? env[name];
    if (typeof fn !== 'function') { missing.push(`GOT.func.${name}`); return; }
    table.set(tableSize + k, fn as never);
    got[name] = new WebAssembly.Global({ value: 'i32', mutable }, tableSize + k);
  });
  if (gotFunctions.length) imports['GOT.func'] = got;
  for (const i of facts.imports) {
    if (i.module === 'GOT.mem') missing.push(`GOT.mem.${i.name} (a data symbol defined nowhere in the module)`);
    else if (i.module !== 'GOT.func' && !(i.name in (imports[i.module] ?? {})) && !missing.includes(`${i.module}.${i.name}`)) missing.push(`${i.module}.${i.name}`);
  }
  if (missing.length) throw linkError('ELINK', `link: unresolved imports: ${missing.join(', ')}`);

  let instance: WebAssembly.Instance;
  try {
    // runs the start function: the first instance copies the data segments into the data block
    instance = await WebAssembly.instantiate(module, imports as WebAssembly.Imports);
  } catch (error) {
    throw new BrcError('ELINK', `link: instantiation failed: ${(error as Error).message}`, { cause: error });
  }
  const e = instance.exports as Record<string, unknown>;
  if (facts.stackChecked) {
    (e[STACK_LOW_EXPORT] as WebAssembly.Global).value = stackBlock + GUARD_BYTES;
    (e[STACK_HIGH_EXPORT] as WebAssembly.Global).value = stackTop;
  }
  const tlsSize = Number((e.__tls_size as WebAssembly.Global).value) >>> 0;
  const tlsAlign = Math.max(16, Number((e.__tls_align as WebAssembly.Global).value) >>> 0);
  const tls = x.brc_link_tls(threadLink, Math.max(tlsSize, 1), tlsAlign) >>> 0;
  if (tls === 0) throw coreError(x.brc_last_error(), `link: thread-local storage (${tlsSize} bytes)`);
  (e.__wasm_init_tls as (at: number) => void)(tls);

  // relocations and constructors (once per library) before the LinkedModule exists: a trap in them unlinks
  initLibraryOnce(memory, library, e);
  return new LinkedModule<E>({ host, exports: instance.exports, module, library, link: threadLink, memoryBase, stackBlock, stackTop, tlsBase: tls, stackPointer });
}

function isShare(source: LinkSource): source is LinkShare {
  return typeof source === 'object' && source !== null && (source as LinkShare).kind === 'biasrc-link';
}

/** The facts an instrumented Module carries (a Module compiled elsewhere from prepareModule's output). */
function factsOf(module: WebAssembly.Module): ModuleFacts | undefined {
  const sections = WebAssembly.Module.customSections(module, LINK_SECTION);
  if (sections.length !== 1) return undefined;
  try {
    const facts = JSON.parse(new TextDecoder().decode(sections[0])) as ModuleFacts;
    prepared.set(module, facts);
    return facts;
  } catch {
    return undefined;
  }
}

let ownHash: number | undefined;

/** The layout hash of this package's core (src/generated/abi.ts, which every loaded core was checked against). */
export function coreLayoutHash(): number {
  ownHash ??= layoutHash(Object.entries(LAYOUT));
  return ownHash;
}

/** The module's layout records must all name this core's layout. */
function checkLayout(module: WebAssembly.Module): void {
  const version = L.LAYOUT_VERSION;
  const hash = coreLayoutHash();
  const importsCore = WebAssembly.Module.imports(module).some((i) => i.module === IMPORT_MODULE);
  const records = decodeLayoutRecords(WebAssembly.Module.customSections(module, LAYOUT_SECTION));
  if (typeof records === 'string') throw linkError('ELAYOUT', `link: the module's layout records are damaged: ${records}`);
  if (records.length === 0) {
    if (!importsCore) return;
    throw linkError('ELAYOUT', `link: the module imports from "${IMPORT_MODULE}" but carries no "${LAYOUT_SECTION}" section: build it with the include/biasrc.h (or biasrc.rs) generated for this core`);
  }
  for (const rec of records) {
    if (rec.magic !== LAYOUT_RECORD_MAGIC || rec.format !== HEADER_FORMAT) {
      throw linkError('ELAYOUT', `link: the module was built with a biasrc header of another format (${rec.format}, this loader reads ${HEADER_FORMAT}): rebuild it with the include/biasrc.h generated for this core`);
    }
    if (rec.version !== version || rec.hash !== hash) {
      throw linkError('ELAYOUT', `link: the module was built for biasrc layout version ${rec.version} (hash 0x${rec.hash.toString(16)}), this heap's core has layout version ${version} (hash 0x${hash.toString(16)}): rebuild it with the include/biasrc.h generated for this core`);
    }
  }
}

/** The module's memory import must accept the heap's memory: at most its current size, at least its maximum. */
function checkMemoryLimits(facts: ModuleFacts, host: LinkHost): void {
  const memory = facts.imports.find((i) => i.kind === 'memory')!;
  const heapMax = new Uint32Array(host.memory.buffer)[(L.GLOBAL_BASE + L.G_MEMORY_MAX) >>> 2];
  if (memory.max !== undefined && memory.max < heapMax) {
    throw linkError('ELINK', `link: the module accepts a memory of at most ${memory.max} pages, the heap may grow to ${heapMax}: link it with --max-memory=4294967296`);
  }
  const pages = host.memory.buffer.byteLength / 65536;
  if ((memory.min ?? 0) > pages) {
    // the heap's allocator grows the memory from wherever it is, so growing it here is harmless
    try { host.memory.grow((memory.min ?? 0) - pages); } catch {
      throw linkError('ENOMEM', `link: the module needs a memory of at least ${memory.min} pages, more than the heap's maximum`);
    }
  }
}

/** Relocations and constructors, once per library, by the first thread; others wait until they are done. */
function initLibraryOnce(memory: WasmMemory, library: number, e: Record<string, unknown>): void {
  const r = new Int32Array(memory.buffer);
  const state = (library + L.LB_INIT) >>> 2;
  if (Atomics.compareExchange(r, state, L.LIBRARY_NEW, L.LIBRARY_BUSY) === L.LIBRARY_NEW) {
    try {
      (e.__wasm_apply_data_relocs as () => void)();
      if (typeof e.__wasm_call_ctors === 'function') (e.__wasm_call_ctors as () => void)();
    } finally {
      Atomics.store(r, state, L.LIBRARY_READY);
      Atomics.notify(r, state);
    }
    return;
  }
  while (Atomics.load(r, state) === L.LIBRARY_BUSY) {
    // a thread that may block waits; a browser's main thread spins (initialisation is short)
    try { Atomics.wait(r, state, L.LIBRARY_BUSY, 10); } catch { /* cannot block here */ }
  }
}

/** Runs the detach hooks of a thread (Heap: before it detaches), each once. */
export function runDetachHooks(hooks: Set<() => void>): void {
  for (const hook of [...hooks]) hook();
  hooks.clear();
}
