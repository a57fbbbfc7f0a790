/**
 * Reading and rewriting a foreign module's binary for the loader (link.ts): the facts it needs to refuse a module
 * that cannot share a biasrc heap (dylink.0, the memory import, data segments), and the stack limit.
 *
 * The stack limit: a module compiled by clang/LLVM moves its stack pointer only with `global.set __stack_pointer`
 * (function prologues, epilogues, alloca). instrumentStack replaces each of those with a call to one added function
 * that traps, after recording the value, when the new pointer leaves [low, high] (two added globals the loader sets
 * per thread to the thread's stack block). So an overflow traps before the frame below the stack is written, instead
 * of running into whatever block lies below it. Leaf functions with at most 128 bytes of frame (LLVM's red zone)
 * never move the pointer; the loader keeps a guard of GUARD_BYTES, filled with a canary, below `low` for them.
 */

export const STACK_LOW_EXPORT = '__brc_stack_low';
export const STACK_HIGH_EXPORT = '__brc_stack_high';
export const STACK_FAULT_EXPORT = '__brc_stack_fault';
/** Added to an instrumented module: the facts of the original binary that a compiled Module no longer shows. */
export const LINK_SECTION = 'biasrc.link';

export interface ImportEntry {
  module: string;
  name: string;
  kind: 'function' | 'table' | 'memory' | 'global' | 'tag';
  /** memory: limits and flags; table: minimum; global: value type and mutability. */
  min?: number;
  max?: number;
  shared?: boolean;
  memory64?: boolean;
  valueType?: number;
  mutable?: boolean;
}

export interface DylinkInfo {
  memorySize: number;
  memoryAlign: number; // log2
  tableSize: number;
  tableAlign: number; // log2
  needed: string[];
}

/** What link.ts needs to know about a module, from its bytes (kept in the LINK_SECTION of an instrumented one). */
export interface ModuleFacts {
  dylink: DylinkInfo | null;
  imports: ImportEntry[];
  exports: string[];
  /** Data segments that are active (copied by every instantiation), by index. */
  activeData: number[];
  hasStart: boolean;
  /** Global index of the imported mutable i32 `env.__stack_pointer`, or -1. */
  stackPointer: number;
  /** Instrumented by instrumentStack (this loader or an earlier run). */
  stackChecked: boolean;
}

export class WasmFormatError extends Error {}

// ---- reading ----------------------------------------------------------------------------------------------------

class Reader {
  at: number;
  constructor(readonly bytes: Uint8Array, at = 0, readonly end = bytes.length) { this.at = at; }
  get done(): boolean { return this.at >= this.end; }
  byte(): number {
    if (this.at >= this.end) throw new WasmFormatError('unexpected end of the module');
    return this.bytes[this.at++];
  }
  u32(): number {
    let result = 0, shift = 0, b: number;
    do {
      b = this.byte();
      if (shift < 32) result += (b & 0x7f) * 2 ** shift;
      shift += 7;
    } while (b & 0x80);
    return result;
  }
  /** Skips a signed LEB (any width). */
  sleb(): void {
    while (this.byte() & 0x80) { /* continuation */ }
  }
  /** A signed LEB up to 33 bits (block types), as a number. */
  s33(): number {
    let result = 0, shift = 0, b: number;
    do {
      b = this.byte();
      result += (b & 0x7f) * 2 ** shift;
      shift += 7;
    } while (b & 0x80);
    if (b & 0x40) result -= 2 ** shift;
    return result;
  }
  skip(n: number): void {
    this.at += n;
    if (this.at > this.end) throw new WasmFormatError('unexpected end of the module');
  }
  name(): string {
    const n = this.u32();
    const s = new TextDecoder().decode(this.bytes.subarray(this.at, this.at + n));
    this.skip(n);
    return s;
  }
}

interface Section {
  id: number;
  /** Offset of the id byte, of the contents, and the end. */
  start: number;
  body: number;
  end: number;
  name?: string; // custom sections
}

function sections(bytes: Uint8Array): Section[] {
  if (bytes.length < 8 || bytes[0] !== 0 || bytes[1] !== 0x61 || bytes[2] !== 0x73 || bytes[3] !== 0x6d) {
    throw new WasmFormatError('not a WebAssembly binary');
  }
  if (bytes[4] !== 1 || bytes[5] !== 0 || bytes[6] !== 0 || bytes[7] !== 0) throw new WasmFormatError('not a version 1 module (a component?)');
  const out: Section[] = [];
  const r = new Reader(bytes, 8);
  while (!r.done) {
    const start = r.at;
    const id = r.byte();
    const size = r.u32();
    const body = r.at;
    const end = body + size;
    if (end > bytes.length) throw new WasmFormatError('a section runs past the end of the module');
    const s: Section = { id, start, body, end };
    if (id === 0) s.name = new Reader(bytes, body, end).name();
    out.push(s);
    r.at = end;
  }
  return out;
}

/** Skips a value type (numeric, vector, or reference type with its heap type). */
function valueType(r: Reader): number {
  const t = r.byte();
  if (t === 0x63 || t === 0x64) r.s33(); // (ref null? ht)
  return t;
}

function limits(r: Reader): { min: number; max?: number; shared: boolean; memory64: boolean } {
  const flags = r.byte();
  const min = r.u32();
  const max = flags & 1 ? r.u32() : undefined;
  return { min, max, shared: (flags & 2) !== 0, memory64: (flags & 4) !== 0 };
}

function constExpr(r: Reader): void {
  // constant expressions of MVP and extended-const: skip instructions until the final end
  for (;;) {
    const op = r.byte();
    if (op === 0x0b) return;
    if (op === 0x41 || op === 0x42) r.sleb();
    else if (op === 0x43) r.skip(4);
    else if (op === 0x44) r.skip(8);
    else if (op === 0x23 || op === 0xd2) r.u32();
    else if (op === 0xd0) r.s33();
    else if (op === 0xfd) { r.u32(); r.skip(16); } // v128.const
    else if (op >= 0x6a && op <= 0x6c) { /* i32.add/sub/mul */ }
    else if (op >= 0x7c && op <= 0x7e) { /* i64.add/sub/mul */ }
    else throw new WasmFormatError(`unsupported instruction 0x${op.toString(16)} in a constant expression`);
  }
}

function readDylink(bytes: Uint8Array, s: Section): DylinkInfo {
  const r = new Reader(bytes, s.body, s.end);
  r.name();
  const info: DylinkInfo = { memorySize: 0, memoryAlign: 0, tableSize: 0, tableAlign: 0, needed: [] };
  while (!r.done) {
    const type = r.byte();
    const size = r.u32();
    const end = r.at + size;
    if (type === 1) {
      info.memorySize = r.u32();
      info.memoryAlign = r.u32();
      info.tableSize = r.u32();
      info.tableAlign = r.u32();
    } else if (type === 2) {
      for (let n = r.u32(); n > 0; n--) info.needed.push(r.name());
    }
    r.at = end;
  }
  return info;
}

const KINDS = ['function', 'table', 'memory', 'global', 'tag'] as const;

/** The facts of a module's binary (see ModuleFacts). */
export function readFacts(bytes: Uint8Array): ModuleFacts {
  const facts: ModuleFacts = { dylink: null, imports: [], exports: [], activeData: [], hasStart: false, stackPointer: -1, stackChecked: false };
  let globalImports = 0;
  for (const s of sections(bytes)) {
    const r = new Reader(bytes, s.body, s.end);
    if (s.id === 0 && s.name === 'dylink.0') facts.dylink = readDylink(bytes, s);
    else if (s.id === 2) {
      for (let n = r.u32(); n > 0; n--) {
        const module = r.name();
        const name = r.name();
        const kind = r.byte();
        const entry: ImportEntry = { module, name, kind: KINDS[kind] };
        if (entry.kind === undefined) throw new WasmFormatError(`import ${module}.${name} of unknown kind ${kind}`);
        if (kind === 0) r.u32();
        else if (kind === 1) { valueType(r); Object.assign(entry, limits(r)); }
        else if (kind === 2) Object.assign(entry, limits(r));
        else if (kind === 3) {
          entry.valueType = valueType(r);
          entry.mutable = r.byte() === 1;
          if (module === 'env' && name === '__stack_pointer' && entry.valueType === 0x7f && entry.mutable) facts.stackPointer = globalImports;
          globalImports++;
        } else { r.byte(); r.u32(); }
        facts.imports.push(entry);
      }
    } else if (s.id === 7) {
      for (let n = r.u32(); n > 0; n--) {
        facts.exports.push(r.name());
        r.byte();
        r.u32();
      }
    } else if (s.id === 8) {
      facts.hasStart = true;
    } else if (s.id === 11) {
      const count = r.u32();
      for (let i = 0; i < count; i++) {
        const flags = r.u32();
        if (flags === 1) { /* passive */ } else {
          facts.activeData.push(i);
          if (flags === 2) r.u32();
          constExpr(r);
        }
        r.skip(r.u32());
      }
    }
  }
  facts.stackChecked = facts.exports.includes(STACK_LOW_EXPORT);
  return facts;
}

// ---- the instruction decoder (for rewriting function bodies) ---------------------------------------------------

function memarg(r: Reader): void {
  const align = r.u32();
  if (align & 0x40) r.u32(); // multi-memory: a memory index follows
  r.u32(); // offset (u64 LEB for memory64: same encoding)
}

function blockType(r: Reader): void {
  r.s33();
}

/**
 * Decodes one instruction at r.at (its opcode already read as `op`), leaving r after its immediates.
 * Covers MVP, sign extension, saturating conversions, bulk memory, reference types, multi-value, tail calls,
 * exceptions (legacy and exnref), typed function references, SIMD (with relaxed SIMD) and threads: everything
 * clang and rustc emit for wasm32. Anything else (GC, stringref, ...) is refused.
 */
function skipImmediates(r: Reader, op: number): void {
  switch (op) {
    case 0x02: case 0x03: case 0x04: case 0x06: blockType(r); return; // block loop if try
    case 0x07: case 0x08: r.u32(); return; // catch throw
    case 0x09: case 0x18: r.u32(); return; // rethrow delegate
    case 0x0c: case 0x0d: r.u32(); return; // br br_if
    case 0x0e: { for (let n = r.u32(); n > 0; n--) r.u32(); r.u32(); return; } // br_table
    case 0x10: case 0x12: r.u32(); return; // call return_call
    case 0x11: case 0x13: r.u32(); r.u32(); return; // call_indirect return_call_indirect
    case 0x14: case 0x15: r.u32(); return; // call_ref return_call_ref
    case 0x1c: { for (let n = r.u32(); n > 0; n--) valueType(r); return; } // select t*
    case 0x1f: { // try_table
      blockType(r);
      for (let n = r.u32(); n > 0; n--) {
        const kind = r.byte();
        if (kind === 0 || kind === 1) r.u32();
        r.u32();
      }
      return;
    }
    case 0x20: case 0x21: case 0x22: case 0x23: case 0x24: case 0x25: case 0x26: r.u32(); return;
    case 0x3f: case 0x40: r.u32(); return; // memory.size memory.grow (memory index)
    case 0x41: case 0x42: r.sleb(); return;
    case 0x43: r.skip(4); return;
    case 0x44: r.skip(8); return;
    case 0xd0: r.s33(); return; // ref.null ht
    case 0xd2: r.u32(); return; // ref.func
    case 0xd5: case 0xd6: r.u32(); return; // br_on_null br_on_non_null
    case 0xfc: {
      const sub = r.u32();
      if (sub <= 7) return; // saturating truncations
      switch (sub) {
        case 8: r.u32(); r.u32(); return; // memory.init data mem
        case 9: r.u32(); return; // data.drop
        case 10: r.u32(); r.u32(); return; // memory.copy
        case 11: r.u32(); return; // memory.fill
        case 12: r.u32(); r.u32(); return; // table.init
        case 13: r.u32(); return; // elem.drop
        case 14: r.u32(); r.u32(); return; // table.copy
        case 15: case 16: case 17: r.u32(); return; // table.grow size fill
        default: throw new WasmFormatError(`unsupported instruction 0xfc ${sub}`);
      }
    }
    case 0xfd: {
      const sub = r.u32();
      if (sub <= 11 || sub === 92 || sub === 93) { memarg(r); return; } // loads, stores, load_zero
      if (sub === 12 || sub === 13) { r.skip(16); return; } // v128.const, i8x16.shuffle
      if (sub >= 21 && sub <= 34) { r.skip(1); return; } // extract / replace lane
      if (sub >= 84 && sub <= 91) { memarg(r); r.skip(1); return; } // load/store lane
      return; // every other SIMD and relaxed SIMD instruction has no immediate
    }
    case 0xfe: {
      const sub = r.u32();
      if (sub === 3) { r.byte(); return; } // atomic.fence
      memarg(r);
      return;
    }
    default:
      if (op <= 0x01 || op === 0x05 || op === 0x0a || op === 0x0b || op === 0x0f || op === 0x19 || op === 0x1a || op === 0x1b) return;
      if (op >= 0x28 && op <= 0x3e) { memarg(r); return; }
      if (op >= 0x45 && op <= 0xc4) return; // numeric
      if (op === 0xd1 || op === 0xd3 || op === 0xd4) return; // ref.is_null ref.eq ref.as_non_null
      throw new WasmFormatError(`unsupported instruction 0x${op.toString(16)}`);
  }
}

/** Decodes every function body of a module; returns the number of instructions (for tests of the decoder). */
export function countInstructions(bytes: Uint8Array): number {
  const code = sections(bytes).find((s) => s.id === 10);
  if (!code) return 0;
  const r = new Reader(bytes, code.body, code.end);
  let total = 0;
  for (let n = r.u32(); n > 0; n--) {
    const size = r.u32();
    const end = r.at + size;
    const body = new Reader(bytes, r.at, end);
    for (let k = body.u32(); k > 0; k--) { body.u32(); valueType(body); }
    while (body.at < end) { skipImmediates(body, body.byte()); total++; }
    if (body.at !== end) throw new WasmFormatError('instructions run past the end of a function body');
    r.at = end;
  }
  return total;
}

// ---- writing ----------------------------------------------------------------------------------------------------

function leb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n = Math.floor(n / 128);
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

function str(s: string): number[] {
  const b = new TextEncoder().encode(s);
  return [...leb(b.length), ...b];
}

function section(id: number, body: ArrayLike<number>): Uint8Array {
  const head = [id, ...leb(body.length)];
  const out = new Uint8Array(head.length + body.length);
  out.set(head, 0);
  out.set(body as ArrayLike<number>, head.length);
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

/** Section order of the known sections (ids), for inserting a section that was absent. */
const ORDER = [1, 2, 3, 4, 5, 13, 6, 7, 8, 9, 12, 10, 11];

/**
 * Returns the module with every `global.set __stack_pointer` replaced by a call to a bounds check (see the top of
 * this file), three exported globals (low, high, fault) and the LINK_SECTION holding `facts`. The module is
 * returned unchanged (apart from the section) when it has no stack pointer or is already instrumented.
 */
export function instrumentStack(bytes: Uint8Array, facts: ModuleFacts): Uint8Array {
  const list = sections(bytes);
  const factsSection = section(0, [...str(LINK_SECTION), ...new TextEncoder().encode(JSON.stringify({ ...facts, stackChecked: facts.stackChecked || facts.stackPointer >= 0 }))]);
  if (facts.stackPointer < 0 || facts.stackChecked) {
    return concat([bytes.subarray(0, 8), ...list.filter((s) => s.name !== LINK_SECTION).map((s) => bytes.subarray(s.start, s.end)), factsSection]);
  }
  const sp = facts.stackPointer;
  let funcImports = 0, globalImports = 0;
  for (const i of facts.imports) {
    if (i.kind === 'function') funcImports++;
    if (i.kind === 'global') globalImports++;
  }
  const find = (id: number) => list.find((s) => s.id === id);
  const countOf = (id: number) => { const s = find(id); return s ? new Reader(bytes, s.body, s.end).u32() : 0; };
  const typeCount = countOf(1);
  const definedFuncs = countOf(3);
  const definedGlobals = countOf(6);
  const checkType = typeCount;
  const checkFunc = funcImports + definedFuncs;
  const gLow = globalImports + definedGlobals, gHigh = gLow + 1, gFault = gLow + 2;

  // appends `extra` entries to a vector section (count, entries...), or makes the section
  const extend = (id: number, extraCount: number, extra: number[]): Uint8Array => {
    const s = find(id);
    if (!s) return section(id, [...leb(extraCount), ...extra]);
    const r = new Reader(bytes, s.body, s.end);
    const n = r.u32();
    return section(id, [...leb(n + extraCount), ...bytes.subarray(r.at, s.end), ...extra]);
  };
  const I32 = 0x7f;
  const newType = extend(1, 1, [0x60, 1, I32, 0]);
  const newFunction = extend(3, 1, leb(checkType));
  const mutI32Zero = [I32, 1, 0x41, 0, 0x0b];
  const newGlobal = extend(6, 3, [...mutI32Zero, ...mutI32Zero, ...mutI32Zero]);
  const newExport = extend(7, 3, [
    ...str(STACK_LOW_EXPORT), 3, ...leb(gLow),
    ...str(STACK_HIGH_EXPORT), 3, ...leb(gHigh),
    ...str(STACK_FAULT_EXPORT), 3, ...leb(gFault),
  ]);
  const checkBody = [
    0, // no locals
    0x20, 0, 0x23, ...leb(gLow), 0x49, // v < low
    0x20, 0, 0x23, ...leb(gHigh), 0x4b, // v > high
    0x72, 0x04, 0x40, // or; if
    0x20, 0, 0x24, ...leb(gFault), 0x00, 0x0b, // fault = v; unreachable; end
    0x20, 0, 0x24, ...leb(sp), 0x0b, // __stack_pointer = v
  ];
  const newCode = rewriteCode(bytes, find(10), sp, checkFunc, [...leb(checkBody.length), ...checkBody]);

  const replaced = new Map<number, Uint8Array>([[1, newType], [3, newFunction], [6, newGlobal], [7, newExport], [10, newCode]]);
  const parts: Uint8Array[] = [bytes.subarray(0, 8)];
  const emitted = new Set<number>();
  const emitMissingBefore = (id: number) => {
    const rank = ORDER.indexOf(id);
    for (const [rid, body] of replaced) {
      if (!emitted.has(rid) && ORDER.indexOf(rid) < rank) { parts.push(body); emitted.add(rid); }
    }
  };
  for (const s of list) {
    if (s.id === 0) {
      if (s.name !== LINK_SECTION) parts.push(bytes.subarray(s.start, s.end));
      continue;
    }
    emitMissingBefore(s.id);
    if (replaced.has(s.id)) { parts.push(replaced.get(s.id)!); emitted.add(s.id); } else parts.push(bytes.subarray(s.start, s.end));
  }
  emitMissingBefore(1000);
  parts.push(factsSection);
  return concat(parts);
}

/** The code section with every `global.set sp` turned into `call check`, and the check's body appended. */
function rewriteCode(bytes: Uint8Array, s: Section | undefined, sp: number, check: number, checkBody: number[]): Uint8Array {
  if (!s) return section(10, [1, ...checkBody]);
  const r = new Reader(bytes, s.body, s.end);
  const count = r.u32();
  const bodies: Uint8Array[] = [];
  const call = [0x10, ...leb(check)];
  for (let f = 0; f < count; f++) {
    const size = r.u32();
    const end = r.at + size;
    const body = new Reader(bytes, r.at, end);
    for (let n = body.u32(); n > 0; n--) { body.u32(); valueType(body); }
    const pieces: (Uint8Array | number[])[] = [bytes.subarray(r.at, body.at)];
    let copied = body.at;
    while (body.at < end) {
      const at = body.at;
      const op = body.byte();
      if (op === 0x24) {
        const index = body.u32();
        if (index === sp) {
          pieces.push(bytes.subarray(copied, at), call);
          copied = body.at;
        }
        continue;
      }
      skipImmediates(body, op);
    }
    if (body.at !== end) throw new WasmFormatError(`function ${f}: instructions run past the end of its body`);
    pieces.push(bytes.subarray(copied, end));
    const length = pieces.reduce((n, p) => n + p.length, 0);
    bodies.push(concat([new Uint8Array(leb(length)), ...pieces.map((p) => (p instanceof Uint8Array ? p : new Uint8Array(p)))]));
    r.at = end;
  }
  return section(10, concat([new Uint8Array(leb(count + 1)), ...bodies, new Uint8Array(checkBody)]));
}
