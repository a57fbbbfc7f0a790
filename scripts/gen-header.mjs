// Generates include/biasrc.h (C) and include/biasrc.rs (Rust) from the built core, never by hand:
//
//   node scripts/gen-header.mjs [--wasm build/biasrc.wasm] [--out include] [--check]
//
// The ABI comes from scripts/lib/abi.mjs's readAbi, the one reader that gen-abi.mjs (src/generated/abi.ts) uses too:
// every constant from the module's exported globals, every function with its parameter names, types and doc comment
// from assembly/index.ts, checked against the module. The layout fingerprint, the custom section that carries it and
// the names of the inline path's imports come from src/link-abi.ts (through dist/), which the loader uses: the
// header and the loader cannot disagree.
//
// The files are generated, not committed (.gitignore): `npm run build` writes them after the TypeScript step, the
// package ships them, and test/embed.test.ts checks that include/ is what this script makes from build/ now.
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { readAbi } from './lib/abi.mjs';

const root = dirname(dirname(fileURLToPath(import.meta.url)));

/** Calls a module linked by the loader must not make: the loader attaches, detaches, links and unlinks its thread. */
const HOST_ONLY = new Set([
  'brc_init', 'brc_attach_memory', 'brc_thread_attach', 'brc_thread_detach', 'brc_thread_detach_dead',
  'brc_thread_request_stop', 'brc_thread_cancel_stop', 'brc_set_can_block', 'brc_debug_set_counts',
  'brc_library_new', 'brc_library_join', 'brc_library_drop', 'brc_link_thread', 'brc_link_tls', 'brc_unlink_thread',
]);
/** Results that are object handles (addresses of objects), and results that are addresses the caller may use. */
const HANDLE_RESULTS = new Set(['brc_alloc', 'brc_get_ref', 'brc_load_ref', 'brc_upgrade']);
const POINTER_RESULTS = new Set(['brc_malloc', 'brc_malloc_aligned', 'brc_payload']);
/** Parameters that are object handles, and parameters that are block addresses. */
const HANDLE_PARAMS = new Set(['handle', 'child', 'expected', 'desired']);
const POINTER_PARAMS = new Set(['block', 'p']);

const U32_MAX = 0xffff_ffff;

function cType(fn, type, param) {
  if (param !== undefined ? HANDLE_PARAMS.has(param) : HANDLE_RESULTS.has(fn)) return 'brc_ref';
  if (param !== undefined ? POINTER_PARAMS.has(param) : POINTER_RESULTS.has(fn)) return 'void *';
  switch (type) {
    case 'usize': return /size|bytes|align/i.test(param ?? fn) ? 'size_t' : 'uintptr_t';
    case 'u32': return 'uint32_t';
    case 'i32': case 'bool': return 'int32_t';
    case 'u64': return 'uint64_t';
    case 'i64': return 'int64_t';
    case 'f64': return 'double';
    case 'f32': return 'float';
    default: throw new Error(`gen-header: no C type for ${type} (${fn})`);
  }
}

function rustType(fn, type, param) {
  if (param !== undefined ? HANDLE_PARAMS.has(param) : HANDLE_RESULTS.has(fn)) return 'BrcRef';
  if (param !== undefined ? POINTER_PARAMS.has(param) : POINTER_RESULTS.has(fn)) return '*mut u8';
  const t = { usize: 'usize', u32: 'u32', i32: 'i32', bool: 'i32', u64: 'u64', i64: 'i64', f64: 'f64', f32: 'f32' }[type];
  if (!t) throw new Error(`gen-header: no Rust type for ${type} (${fn})`);
  return t;
}

const hex = (v) => `0x${v.toString(16)}`;

/** A constant above 32 bits is one of the core's u64 globals (the owner word's masks); every other one fits a u32. */
function cConstant([name, value]) {
  if (value > U32_MAX) return `#define BRC_${name} ${hex(value)}ull`;
  const decimal = value < 0x10000 && !/(_MASK|_MAGIC)$/.test(name);
  return `#define BRC_${name} ${decimal ? value : hex(value)}u`;
}

function wrap(text, width, prefix) {
  const lines = [];
  let line = '';
  for (const w of text.split(/\s+/).filter(Boolean)) {
    if (line && (prefix + line + ' ' + w).length > width) { lines.push(prefix + line); line = w; } else line = line ? `${line} ${w}` : w;
  }
  if (line) lines.push(prefix + line);
  return lines;
}

/** The values the inline code needs, by name: a missing one is an error here, never a wrong header. */
function needs(constants) {
  const byName = new Map(constants);
  return (name) => {
    if (!byName.has(name)) throw new Error(`gen-header: the module does not export ${name}, which the header's inline code needs`);
    return byName.get(name);
  };
}

export function renderC(abi, { source, version, hash, lib }) {
  const need = needs(abi.constants);
  // what the inline code assumes about the v2 object header, checked rather than trusted
  if (need('H_LOCAL') !== 0) throw new Error('gen-header: the owner fast path assumes the owner word at offset 0');
  if (need('H_TID') !== 4) throw new Error('gen-header: the owner word is local (u32) | tid (u16) << 32');
  const slotsMask = need('SLOTS_MASK');
  if ((slotsMask & (slotsMask + 1)) !== 0) throw new Error('gen-header: SLOTS_MASK is not 2^k - 1');
  const payloadAlign = need('PAYLOAD_ALIGN');
  if ((payloadAlign & (payloadAlign - 1)) !== 0) throw new Error('gen-header: PAYLOAD_ALIGN is not a power of two');
  for (const n of ['HEADER_SIZE', 'SLOT_SIZE', 'H_SLOTS', 'SLOT_BUSY', 'OWNER_WORD_MASK', 'LOCAL_IMMORTAL', 'NO_TID_HIGH',
    'PAGE_MASK', 'P_BLOCK_SIZE', 'GLOBAL_BASE', 'G_MAGIC', 'G_VERSION', 'LAYOUT_MAGIC', 'GEN_SHIFT']) need(n);
  const { IMPORT_MODULE, LAYOUT_SECTION, LAYOUT_RECORD_MAGIC, HEADER_FORMAT, TID_HIGH_IMPORT, ATTENTION_IMPORT } = lib;

  const out = [];
  const p = (s = '') => out.push(s);
  p(`/* biasrc.h: the biasrc ABI for C modules that share a biasrc heap (docs/EMBEDDING.md).`);
  p(` *`);
  p(` * GENERATED by scripts/gen-header.mjs from ${source} (layout version ${version}, layout hash ${hex(hash)}):`);
  p(` * do not edit; \`npm run build\` regenerates it. A module built with it runs only on a core with the same layout`);
  p(` * (the loader refuses any other), so rebuild the module whenever this file changes.`);
  p(` * Handles (brc_ref) are object addresses; the TypeScript API's handles carry a generation above bit 32, which`);
  p(` * wasm's i32 conversion drops, so a JavaScript handle passed to a C export arrives as the address. */`);
  p(`#ifndef BIASRC_H`);
  p(`#define BIASRC_H`);
  p();
  p(`#if !defined(__wasm32__)`);
  p(`#error "biasrc.h is for wasm32 modules linked into a biasrc heap (clang --target=wasm32 -fPIC)"`);
  p(`#endif`);
  p();
  p(`#include <stddef.h>`);
  p(`#include <stdint.h>`);
  p();
  p(`#ifdef __cplusplus`);
  p(`extern "C" {`);
  p(`#endif`);
  p();
  p(`/* ---- layout version ------------------------------------------------------------------------------------ */`);
  p();
  p(`#define BRC_HEADER_FORMAT ${HEADER_FORMAT}u`);
  p(`#define BRC_LAYOUT_HASH ${hex(hash)}u /* FNV-1a of every constant below, as the loader computes it */`);
  p();
  p(`/* Every unit that includes this header adds one record to the module's "${LAYOUT_SECTION}" custom section:`);
  p(` * "BRCH", header format, layout version, layout hash (u32 little-endian). The loader compares them with the core. */`);
  p(`__asm__(".section .custom_section.${LAYOUT_SECTION},\\"\\",@\\n"`);
  p(`        ".int32 ${hex(LAYOUT_RECORD_MAGIC)}\\n.int32 ${HEADER_FORMAT}\\n.int32 ${version}\\n.int32 ${hex(hash)}\\n"`);
  p(`        ".text\\n");`);
  p();
  p(`/* ---- constants (every global the core exports: assembly/layout.ts, errors.ts, stats.ts) ------------------ */`);
  p();
  for (const c of abi.constants) p(cConstant(c));
  p();
  p(`/* ---- the core's functions, imported from "${IMPORT_MODULE}" (the loader wires this thread's core instance) ---- */`);
  p();
  p(`typedef uint32_t brc_ref; /* an object handle: its address in the shared memory; 0 is null */`);
  p();
  p(`#define BRC__IMPORT(name) __attribute__((import_module("${IMPORT_MODULE}"), import_name(#name)))`);
  p();
  const decl = (fn) => {
    if (fn.doc) {
      const lines = wrap(fn.doc, 115, '   ');
      lines[0] = `/* ${lines[0].trimStart()}`;
      lines[lines.length - 1] += ' */';
      lines.forEach((l) => p(l));
    }
    const ret = fn.result === 'void' ? 'void' : cType(fn.name, fn.result);
    const params = fn.params.length ? fn.params.map(([name, type]) => `${cType(fn.name, type, name)} ${name}`.replace('* ', '*')).join(', ') : 'void';
    p(`BRC__IMPORT(${fn.name}) ${ret}${ret.endsWith('*') ? '' : ' '}${fn.name}(${params});`);
  };
  for (const fn of abi.functions.filter((f) => !HOST_ONLY.has(f.name))) decl(fn);
  p();
  p(`/* For hosts that load the core themselves. A module linked by the loader must not call these: the loader`);
  p(` * attaches its thread before the module runs, links its blocks, and unlinks and detaches after. */`);
  p(`#ifdef BIASRC_HOST_API`);
  for (const fn of abi.functions.filter((f) => HOST_ONLY.has(f.name))) decl(fn);
  p(`#endif`);
  p();
  p(`/* ---- inline accessors: what is safe to read without a call ----------------------------------------------- */`);
  p(`/* Valid while the caller holds a reference to obj. The formulas are the core's (assembly/object.ts).        */`);
  p();
  p(`typedef uint16_t __attribute__((may_alias)) brc__u16;`);
  p(`typedef uint32_t __attribute__((may_alias)) brc__u32;`);
  p(`typedef uint64_t __attribute__((may_alias)) brc__u64;`);
  p();
  p(`/* Number of reference slots (what brc_info_slots returns): the u16 at H_SLOTS holds it below the generation. */`);
  p(`static inline __attribute__((always_inline)) uint32_t brc_obj_slots(brc_ref obj) {`);
  p(`  return *(const brc__u16 *)(uintptr_t)(obj + BRC_H_SLOTS) & BRC_SLOTS_MASK;`);
  p(`}`);
  p();
  p(`/* The payload (what brc_payload returns): after the slots, PAYLOAD_ALIGN-aligned. */`);
  p(`static inline __attribute__((always_inline)) void *brc_obj_payload(brc_ref obj) {`);
  p(`  return (void *)(uintptr_t)(obj + BRC_HEADER_SIZE + ((brc_obj_slots(obj) * BRC_SLOT_SIZE + (BRC_PAYLOAD_ALIGN - 1)) & ~(BRC_PAYLOAD_ALIGN - 1)));`);
  p(`}`);
  p();
  p(`/* Usable payload bytes (what brc_info_bytes returns): to the end of the block, whose size is in its page header. */`);
  p(`static inline __attribute__((always_inline)) size_t brc_obj_bytes(brc_ref obj) {`);
  p(`  return *(const brc__u32 *)(uintptr_t)((obj & ~BRC_PAGE_MASK) + BRC_P_BLOCK_SIZE) - ((uintptr_t)brc_obj_payload(obj) - obj);`);
  p(`}`);
  p();
  p(`/* Slot i's object, borrowed (what brc_get_ref returns): one atomic load, the BUSY mark of a brc_load_ref masked off. */`);
  p(`static inline __attribute__((always_inline)) brc_ref brc_obj_slot(brc_ref obj, uint32_t i) {`);
  p(`  return __atomic_load_n((brc__u32 *)(uintptr_t)(obj + BRC_HEADER_SIZE + i * BRC_SLOT_SIZE), __ATOMIC_SEQ_CST) & ~BRC_SLOT_BUSY;`);
  p(`}`);
  p();
  p(`/* The owner's tid, 0 once merged (what brc_info_owner returns; a snapshot). */`);
  p(`static inline __attribute__((always_inline)) uint32_t brc_obj_owner(brc_ref obj) {`);
  p(`  return __atomic_load_n((brc__u16 *)(uintptr_t)(obj + BRC_H_TID), __ATOMIC_SEQ_CST);`);
  p(`}`);
  p();
  p(`/* 1 if the memory holds a heap of the layout this header was generated from. */`);
  p(`static inline int brc_layout_check(void) {`);
  p(`  return *(const volatile brc__u32 *)(uintptr_t)(BRC_GLOBAL_BASE + BRC_G_MAGIC) == BRC_LAYOUT_MAGIC &&`);
  p(`         *(const volatile brc__u32 *)(uintptr_t)(BRC_GLOBAL_BASE + BRC_G_VERSION) == BRC_LAYOUT_VERSION;`);
  p(`}`);
  p();
  p(`/* ---- the owner fast path, inline (define BIASRC_NO_INLINE for calls only) ------------------------------ */`);
  p(`/* brc_incref_inline / brc_decref_inline do exactly what the core's brc_incref / brc_decref do when the thread's`);
  p(` * ATTENTION word is 0, this thread owns obj and its local count stays in range: one plain load of ATTENTION,`);
  p(` * one u64 load of the owner word, one u64 store, with the core's own constants (assembly/refcount.ts incref,`);
  p(` * decrefFast; the same test src/fastpath.ts makes for JavaScript). In every other case they call the core.`);
  p(` * docs/EMBEDDING.md gives the argument; test/embed.test.ts checks it on every header state.`);
  p(` * The thread's tid << 32 and the address of its ATTENTION word come from two immutable globals the loader gives`);
  p(` * each thread's instance ("${IMPORT_MODULE}" "${TID_HIGH_IMPORT}" and "${ATTENTION_IMPORT}"; a debug core gets NO_TID << 32,`);
  p(` * which owns nothing, so every count goes to the core and is checked there). Immutable globals stay in registers`);
  p(` * across calls and loops. C has no syntax for wasm globals: the inline assembly below reads them. */`);
  p(`#ifndef BIASRC_NO_INLINE`);
  p();
  p(`__asm__(".globaltype brc__tid_high, i64, immutable\\n"`);
  p(`        ".import_module brc__tid_high, ${IMPORT_MODULE}\\n"`);
  p(`        ".import_name brc__tid_high, ${TID_HIGH_IMPORT}\\n"`);
  p(`        ".globaltype brc__attention, i32, immutable\\n"`);
  p(`        ".import_module brc__attention, ${IMPORT_MODULE}\\n"`);
  p(`        ".import_name brc__attention, ${ATTENTION_IMPORT}\\n");`);
  p();
  p(`static inline __attribute__((always_inline)) uint64_t brc__tid_high(void) {`);
  p(`  uint64_t v;`);
  p(`  __asm__("global.get brc__tid_high\\n\\tlocal.set %0" : "=r"(v));`);
  p(`  return v;`);
  p(`}`);
  p();
  p(`/* The thread's ATTENTION word (ATTENTION_STOP | ATTENTION_PAUSE | epoch): a plain load, never hoisted or cached. */`);
  p(`static inline __attribute__((always_inline)) uint32_t brc__attention(void) {`);
  p(`  uintptr_t at;`);
  p(`  __asm__("global.get brc__attention\\n\\tlocal.set %0" : "=r"(at));`);
  p(`  return *(const volatile brc__u32 *)at;`);
  p(`}`);
  p();
  p(`static inline __attribute__((always_inline)) void brc_incref_inline(brc_ref obj) {`);
  p(`  brc__u64 *word = (brc__u64 *)(uintptr_t)obj;`);
  p(`  if (__builtin_expect(brc__attention() == 0, 1)) {`);
  p(`    uint64_t w = *word; /* local | tid << 32 | (slots | generation) << 48 */`);
  p(`    uint64_t d = (w - brc__tid_high()) & BRC_OWNER_WORD_MASK; /* < 2^32 exactly when obj is ours; then local */`);
  p(`    if (__builtin_expect(d < (uint64_t)BRC_LOCAL_IMMORTAL - 1, 1)) {`);
  p(`      *word = w + 1; /* the whole word, as the core stores it */`);
  p(`      return;`);
  p(`    }`);
  p(`  }`);
  p(`  brc_incref(obj);`);
  p(`}`);
  p();
  p(`static inline __attribute__((always_inline)) void brc_decref_inline(brc_ref obj) {`);
  p(`  brc__u64 *word = (brc__u64 *)(uintptr_t)obj;`);
  p(`  if (__builtin_expect(brc__attention() == 0, 1)) {`);
  p(`    uint64_t w = *word;`);
  p(`    uint64_t d = (w - brc__tid_high()) & BRC_OWNER_WORD_MASK;`);
  p(`    if (__builtin_expect(d - 2 < (uint64_t)BRC_LOCAL_IMMORTAL - 2, 1)) { /* ours, 2 <= local < immortal */`);
  p(`      *word = w - 1;`);
  p(`      return;`);
  p(`    }`);
  p(`  }`);
  p(`  brc_decref(obj);`);
  p(`}`);
  p();
  p(`#else`);
  p(`#define brc_incref_inline brc_incref`);
  p(`#define brc_decref_inline brc_decref`);
  p(`#endif /* BIASRC_NO_INLINE */`);
  p();
  p(`#ifdef __cplusplus`);
  p(`}`);
  p(`#endif`);
  p(`#endif /* BIASRC_H */`);
  return `${out.join('\n')}\n`;
}

export function renderRust(abi, { source, version, hash, lib }) {
  const { IMPORT_MODULE, LAYOUT_SECTION, HEADER_FORMAT } = lib;
  const record = lib.encodeLayoutRecord(version, hash);
  const out = [];
  const p = (s = '') => out.push(s);
  p(`// biasrc.rs: the biasrc ABI for Rust modules that share a biasrc heap (docs/EMBEDDING.md).`);
  p(`//`);
  p(`// GENERATED by scripts/gen-header.mjs from ${source} (layout version ${version}, layout hash ${hex(hash)}):`);
  p(`// do not edit. Use it with \`include!\`; it declares the core's functions (imported from "${IMPORT_MODULE}"), every`);
  p(`// constant, and the "${LAYOUT_SECTION}" record the loader checks. Calls only: no inline fast path.`);
  p(`//`);
  p(`// Include it in a module of its own, e.g.`);
  p(`//   #[allow(dead_code)] mod biasrc { include!("../../../include/biasrc.rs"); }`);
  p();
  p(`pub const HEADER_FORMAT: u32 = ${HEADER_FORMAT};`);
  p(`pub const LAYOUT_HASH: u32 = ${hex(hash)};`);
  p();
  p(`#[link_section = "${LAYOUT_SECTION}"]`);
  p(`#[used]`);
  p(`pub static BIASRC_LAYOUT_RECORD: [u8; ${record.length}] = [${[...record].join(', ')}];`);
  p();
  for (const [name, value] of abi.constants) {
    p(`pub const ${name}: ${value > U32_MAX ? 'u64' : 'u32'} = ${value < 0x10000 ? value : hex(value)};`);
  }
  p();
  p(`/// An object handle: its address in the shared memory; 0 is null.`);
  p(`pub type BrcRef = u32;`);
  p();
  p(`#[link(wasm_import_module = "${IMPORT_MODULE}")]`);
  p(`extern "C" {`);
  for (const fn of abi.functions.filter((f) => !HOST_ONLY.has(f.name))) {
    if (fn.doc) for (const l of wrap(fn.doc, 118, '    /// ')) p(l);
    const params = fn.params.map(([name, type]) => `${rustName(name)}: ${rustType(fn.name, type, name)}`).join(', ');
    const ret = fn.result === 'void' ? '' : ` -> ${rustType(fn.name, fn.result)}`;
    p(`    pub fn ${fn.name}(${params})${ret};`);
  }
  p(`}`);
  return `${out.join('\n')}\n`;
}

/** snake_case for Rust parameter names (the sources use camelCase), so that -D warnings passes. */
function rustName(name) {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

// ---- main ---------------------------------------------------------------------------------------------------------

/** Both files' text, from build/biasrc.wasm (or `wasm`) and the loader's conventions in dist/link-abi.js. */
export async function generate({ wasm = 'build/biasrc.wasm' } = {}) {
  const lib = await import(pathToFileURL(join(root, 'dist', 'link-abi.js')).href);
  const abi = await readAbi(root, relative(root, resolve(root, wasm)));
  const version = new Map(abi.constants).get('LAYOUT_VERSION');
  if (!Number.isInteger(version)) throw new Error('gen-header: the module exports no LAYOUT_VERSION');
  const hash = lib.layoutHash(abi.constants); // the function the loader applies to src/generated/abi.ts's constants
  const source = relative(root, resolve(root, wasm));
  return { c: renderC(abi, { source, version, hash, lib }), rust: renderRust(abi, { source, version, hash, lib }), version, hash };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: { wasm: { type: 'string' }, out: { type: 'string', default: join(root, 'include') }, check: { type: 'boolean', default: false } },
  });
  const { c, rust, version, hash } = await generate(values.wasm ? { wasm: values.wasm } : {});
  const files = [[join(values.out, 'biasrc.h'), c], [join(values.out, 'biasrc.rs'), rust]];
  if (values.check) {
    const stale = files.filter(([path, text]) => !existsSync(path) || readFileSync(path, 'utf8') !== text);
    if (stale.length) {
      console.error(`gen-header: ${stale.map(([path]) => relative(root, path)).join(', ')} out of date: run \`npm run build\``);
      process.exit(1);
    }
  } else {
    mkdirSync(values.out, { recursive: true });
    for (const [path, text] of files) writeFileSync(path, text);
  }
}
