// The embedding kit (issue 16): the generated header, the ABI additions (slot CAS, aligned blocks, the blocks the core
// keeps for foreign modules and frees at any detach), the reference biasrc_wait, the loader for foreign modules
// (heap.link) and each pitfall it handles, the header's inline paths against the core, and the C and Rust examples
// on a heap shared with workers.
//
// The C tests need clang-19 and wasm-ld-19, the Rust test also Debian's rustc 1.63 with libstd-rust-dev-wasm32.
// Outside CI they are skipped, saying so, when those are missing; with CI set, missing tools fail the run.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Heap, BrcError, LAYOUT, instantiateCore, prepareModule, type HeapThread, type LinkedModule } from 'biasrc';
import { coreLayoutHash, GUARD_BYTES, link, type LinkHost } from '../dist/link.js';
import { countInstructions } from '../dist/link-wasm.js';
// @ts-expect-error: a plain .mjs module without types
import { generate } from '../scripts/gen-header.mjs';
// @ts-expect-error: a plain .mjs helper without types
import { barrier } from '../scripts/lib/threads.mjs';

const L = LAYOUT;
const root = fileURLToPath(new URL('..', import.meta.url));
const fixtures = join(root, 'test', 'fixtures', 'embed');
const workerUrl = new URL('./fixtures/embed-worker.mjs', import.meta.url);
const run = promisify(execFile);

const runs = (cmd: string, args: string[] = ['--version']) => spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;
const haveC = runs('clang-19') && runs('wasm-ld-19');
const haveRust = haveC && runs('/usr/bin/rustc') && existsSync('/usr/lib/rustlib/wasm32-unknown-unknown/lib');
const C_TOOLS = 'clang-19 and wasm-ld-19 (apt-get install clang-19 lld-19)';
const RUST_TOOLS = 'Debian\'s rustc 1.63 with libstd-rust-dev-wasm32 (apt-get install rustc libstd-rust-dev-wasm32), clang-19 and wasm-ld-19';
if (process.env.CI && !(haveC && haveRust)) {
  throw new Error(`embed tests: CI is set but ${haveC ? RUST_TOOLS : C_TOOLS} are missing (.ci/run installs them)`);
}
if (!haveC) console.warn(`embed tests: SKIPPING the C tests: ${C_TOOLS} not found`);
if (!haveRust) console.warn(`embed tests: SKIPPING the Rust test: ${RUST_TOOLS} not found`);

const out = mkdtempSync(join(tmpdir(), 'biasrc-embed-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

/** Builds a C file with examples/c/build.sh (the documented command) and returns the module's bytes. */
async function buildC(source: string, name: string, env: Record<string, string> = {}): Promise<Uint8Array> {
  const wasm = join(out, `${name}.wasm`);
  await run('sh', [join(root, 'examples', 'c', 'build.sh'), source, wasm], { env: { ...process.env, ...env } });
  return new Uint8Array(readFileSync(wasm));
}

/** A custom clang + wasm-ld build, for the modules the loader must refuse. */
async function buildRaw(source: string, name: string, cflags: string[], ldflags: string[]): Promise<Uint8Array> {
  const obj = join(out, `${name}.o`);
  const wasm = join(out, `${name}.wasm`);
  await run('clang-19', ['--target=wasm32-unknown-unknown', '-O2', '-ffreestanding', '-nostdlib', `-I${join(root, 'include')}`, ...cflags, '-c', source, '-o', obj]);
  await run('wasm-ld-19', ['--no-entry', ...ldflags, '-o', wasm, obj]);
  return new Uint8Array(readFileSync(wasm));
}

const PIC_CFLAGS = ['-fPIC', '-matomics', '-mbulk-memory'];
const PIC_LINK = ['--experimental-pic', '-pie', '--import-memory', '--shared-memory', '--max-memory=4294967296',
  '--export=__wasm_init_tls', '--export=__tls_size', '--export=__tls_align', '--export=__wasm_apply_data_relocs'];

const heaps: Heap[] = [];
async function newHeap(options: { debug?: boolean; maximumMiB?: number } = {}): Promise<Heap> {
  const heap = await Heap.create({ debug: options.debug ?? false, memory: { initialMiB: 1, maximumMiB: options.maximumMiB ?? 256 } });
  heaps.push(heap);
  return heap;
}
afterEach(async () => {
  for (const heap of heaps.splice(0)) await heap.close();
});

let nextId = 1;
/** Sends a command to an embed-worker and waits for its answer; rejects with the worker's error. */
function ask<T = any>(thread: HeapThread, message: Record<string, unknown>): Promise<T> {
  const id = nextId++;
  return new Promise((resolve, reject) => {
    const onMessage = (m: any) => {
      if (m?.id !== id) return;
      thread.off('message', onMessage);
      if (m.error) reject(Object.assign(new Error(m.error.message), { code: m.error.code }));
      else resolve(m);
    };
    thread.on('message', onMessage);
    thread.postMessage({ id, ...message });
  });
}

function expectBrcError(fn: () => unknown, code: string, message?: RegExp): BrcError {
  let caught: unknown;
  try { fn(); } catch (error) { caught = error; }
  expect(caught).toBeInstanceOf(BrcError);
  expect((caught as BrcError).code).toBe(code);
  if (message) expect((caught as BrcError).message).toMatch(message);
  return caught as BrcError;
}

async function expectRejects(promise: Promise<unknown>, code: string, message?: RegExp): Promise<void> {
  let caught: unknown;
  try { await promise; } catch (error) { caught = error; }
  expect(caught, 'expected a BrcError').toBeInstanceOf(BrcError);
  expect((caught as BrcError).code).toBe(code);
  if (message) expect((caught as BrcError).message).toMatch(message);
}

const cString = (heap: Heap, at: number) => {
  const bytes = new Uint8Array(heap.memory.buffer, at >>> 0, 64);
  return new TextDecoder().decode(bytes.subarray(0, bytes.indexOf(0)));
};

/** Live objects 0, live blocks back where they were, verify() clean. */
function expectClean(heap: Heap, blocksBefore: number) {
  heap.verify();
  const s = heap.stats();
  expect(s.liveObjects).toBe(0);
  expect(s.orphans).toBe(0);
  expect(s.liveBlocks).toBe(blocksBefore);
}

/** A second core instance over the heap's memory, attached as its own tid (a "thread" in this JS thread). */
async function otherThread(heap: Heap) {
  const other = await instantiateCore(heap.module, heap.memory);
  const tid = other.exports.brc_thread_attach();
  expect(tid).toBeGreaterThan(1);
  return other.exports;
}

/** The first thread link listed in `tid`'s record (R_EMBED), and the links after it. */
function linksOf(heap: Heap, tid: number): number[] {
  const u32 = new Uint32Array(heap.memory.buffer);
  const record = (heap.raw.brc_attention_address(tid) >>> 0) - L.R_ATTENTION;
  const links: number[] = [];
  for (let at = u32[(record + L.R_EMBED) >>> 2]; at !== 0; at = u32[(at + L.TL_NEXT) >>> 2]) links.push(at);
  return links;
}

// ---- no toolchain needed -----------------------------------------------------------------------------------------

describe('generated header', () => {
  it('include/biasrc.h and biasrc.rs are what the generator makes from build/biasrc.wasm now', async () => {
    // generated by `npm run build` and gitignored: this catches a stale include/ from an older build
    const fresh = await generate();
    expect(readFileSync(join(root, 'include', 'biasrc.h'), 'utf8')).toBe(fresh.c);
    expect(readFileSync(join(root, 'include', 'biasrc.rs'), 'utf8')).toBe(fresh.rust);
  });

  it('carries the layout version and the hash the loader computes; declares every export a module may call', () => {
    const header = readFileSync(join(root, 'include', 'biasrc.h'), 'utf8');
    expect(header).toContain(`#define BRC_LAYOUT_HASH 0x${coreLayoutHash().toString(16)}u`);
    expect(header).toContain(`#define BRC_LAYOUT_VERSION ${L.LAYOUT_VERSION}u`);
    expect(header).toContain(`#define BRC_R_EMBED ${L.R_EMBED}u`);
    expect(header).toContain(`#define BRC_OWNER_WORD_MASK 0x${L.OWNER_WORD_MASK.toString(16)}ull`);
    for (const name of ['brc_cas_ref', 'brc_malloc_aligned', 'brc_incref', 'brc_load_ref', 'brc_attention_address']) {
      expect(header).toMatch(new RegExp(`BRC__IMPORT\\(${name}\\)`));
    }
    // the loader's calls and the thread's lifecycle only for hosts that load the core themselves
    const hostOnly = header.slice(header.indexOf('#ifdef BIASRC_HOST_API'), header.indexOf('#endif', header.indexOf('#ifdef BIASRC_HOST_API')));
    for (const name of ['brc_thread_attach', 'brc_link_thread', 'brc_library_new', 'brc_unlink_thread']) expect(hostOnly).toContain(`BRC__IMPORT(${name})`);
    expect(header).toContain('int32_t brc_cas_ref(brc_ref handle, uint32_t index, brc_ref expected, brc_ref desired);');
    expect(header).toContain('void *brc_malloc_aligned(size_t size, size_t align);');
  });
});

describe('ABI additions', () => {
  it('brc_cas_ref swaps only the expected child and moves the references', async () => {
    const heap = await newHeap({ debug: true });
    const x = heap.raw;
    const atom = heap.alloc(0, 1) >>> 0;
    const a = heap.alloc(4) >>> 0, b = heap.alloc(4) >>> 0, c = heap.alloc(4) >>> 0;
    expect(x.brc_cas_ref(atom, 0, a, b)).toBe(0); // the slot is empty, not a
    expect(heap.info(b).local).toBe(1);
    expect(x.brc_cas_ref(atom, 0, 0, a)).toBe(1); // empty -> a: the slot holds a reference to a
    expect(heap.info(a).local).toBe(2);
    expect(x.brc_cas_ref(atom, 0, b, c)).toBe(0);
    expect(heap.info(c).local).toBe(1); // a failed CAS leaves every count as it was
    expect(x.brc_cas_ref(atom, 0, a, b)).toBe(1); // a -> b: the slot's reference to a released, one to b taken
    expect(heap.info(a).local).toBe(1);
    expect(heap.info(b).local).toBe(2);
    expect(heap.getRef(atom, 0) >>> 0).toBe(b);
    expect(x.brc_cas_ref(atom, 0, b, b)).toBe(1); // b -> b: counts unchanged
    expect(heap.info(b).local).toBe(2);
    expect(x.brc_cas_ref(atom, 0, b, 0)).toBe(1); // b -> empty
    expect(heap.getRef(atom, 0)).toBe(0);
    for (const h of [atom, a, b, c]) heap.decref(h);
    expectClean(heap, 0);
  });

  it('brc_cas_ref waits while a brc_load_ref marks the slot BUSY (the v2 slot protocol), and from another thread', async () => {
    const heap = await newHeap({ debug: true });
    const x = heap.raw;
    const other = await otherThread(heap);
    const atom = heap.alloc(0, 1) >>> 0;
    const a = heap.alloc(4) >>> 0;
    x.brc_set_ref(atom, 0, a);
    heap.decref(a); // only the slot holds a now
    // a mark left by a load_ref in progress: a CAS that expects a must wait for it, never swap a marked slot; here a
    // worker clears the mark after a while, as the load_ref would once it counted its reference
    const slot = (atom + L.HEADER_SIZE) >>> 2;
    const u32 = new Uint32Array(heap.memory.buffer);
    u32[slot] = a | L.SLOT_BUSY;
    const { Worker } = await import('node:worker_threads');
    const clearer = new Worker('const { workerData: m } = require("node:worker_threads"); const v = new Uint32Array(m.memory.buffer); setTimeout(() => Atomics.store(v, m.slot, m.a), 30);',
      { eval: true, workerData: { memory: heap.memory, slot, a } });
    const b = other.brc_alloc(4, 0) >>> 0;
    const t0 = performance.now();
    expect(other.brc_cas_ref(atom, 0, a, b)).toBe(1); // releases a's last reference: queued for its owner, tid 1
    expect(performance.now() - t0).toBeGreaterThanOrEqual(20);
    await clearer.terminate();
    other.brc_decref(b); // the slot's reference keeps b
    heap.collect();
    expect(x.brc_validate(a)).not.toBe(0); // freed
    expect(heap.info(b).owner).toBe(2);
    x.brc_set_ref(atom, 0, 0); // b's last reference, released by tid 1: queued for tid 2
    other.brc_collect();
    heap.decref(atom);
    expect(other.brc_thread_detach()).toBe(0);
    expectClean(heap, 0);
  });

  it('brc_malloc_aligned: every alignment from 1 to 64 KiB, small and large, freed by brc_free_aligned', async () => {
    const heap = await newHeap({ debug: true });
    const x = heap.raw;
    const blocks: number[] = [];
    for (let shift = 0; shift <= 16; shift++) {
      const align = 2 ** shift;
      for (const size of [0, 1, 24, 100, 4000, 30000, 70000]) {
        const p = x.brc_malloc_aligned(size, align) >>> 0;
        expect(p, `size ${size} align ${align}`).not.toBe(0);
        expect(p % Math.max(align, 16), `size ${size} align ${align}`).toBe(0);
        new Uint8Array(heap.memory.buffer, p, Math.max(size, 1)).fill(0xa5); // writable, and inside its block
        blocks.push(p);
      }
    }
    expect(x.brc_malloc_aligned(64, 3)).toBe(0); // not a power of two
    expect(x.brc_last_error()).toBe(L.EINVAL);
    expect(x.brc_malloc_aligned(64, 2 ** 17)).toBe(0); // above PAGE_SIZE
    expect(new Set(blocks).size).toBe(blocks.length);
    heap.verify();
    for (const p of blocks) x.brc_free_aligned(p);
    const plain = x.brc_malloc(40) >>> 0;
    x.brc_free_aligned(plain + 8); // a brc_malloc block too, named by any address inside it
    // an object is no raw block: the debug build traps, nothing freed
    const obj = heap.alloc(8) >>> 0;
    expect(() => x.brc_free_aligned(obj)).toThrow(WebAssembly.RuntimeError);
    heap.decref(obj);
    expectClean(heap, 0);
  });

  it('thread links: listed in the record; any detach frees them, a tid-less watchdog\'s too, and the last user frees the library', async () => {
    const heap = await newHeap();
    const x = heap.raw;
    const blocks = heap.stats().liveBlocks;
    const other = await otherThread(heap);
    const tid = other.brc_thread_id(), generation = other.brc_thread_generation(tid);
    // a library made by tid 1, joined by tid 2; tid 2 also has a library of its own
    const shared = x.brc_library_new(1000, 64) >>> 0;
    const data = new Uint32Array(heap.memory.buffer)[(shared + L.LB_DATA) >>> 2];
    expect(data % 64).toBe(0);
    expect(new Uint8Array(heap.memory.buffer, data, 1000).every((b) => b === 0)).toBe(true); // zeroed
    const mine = x.brc_link_thread(shared, 8192) >>> 0;
    expect(other.brc_library_join(shared)).toBe(0);
    const theirs = other.brc_link_thread(shared, 70_000) >>> 0; // a stack of a page run
    expect(other.brc_link_tls(theirs, 100, 32) % 32).toBe(0);
    expect(other.brc_link_tls(theirs, 100, 32)).toBe(0); // one TLS block a link
    expect(x.brc_link_tls(theirs, 100, 32)).toBe(0); // not our link
    const own = other.brc_library_new(500, 16) >>> 0;
    const ownLink = other.brc_link_thread(own, 4096) >>> 0;
    expect(linksOf(heap, tid)).toEqual([ownLink, theirs]);
    expect(linksOf(heap, 1)).toEqual([mine]);
    expect(new Uint32Array(heap.memory.buffer)[(shared + L.LB_USERS) >>> 2]).toBe(2);
    // tid 2 "dies"; a core instance without a tid (what the watchdog runs) detaches it
    const watchdog = (await instantiateCore(heap.module, heap.memory)).exports;
    expect(watchdog.brc_attach_memory()).toBe(0);
    expect(watchdog.brc_thread_detach_dead(tid, generation)).toBe(0);
    expect(linksOf(heap, tid)).toEqual([]);
    expect(new Uint32Array(heap.memory.buffer)[(shared + L.LB_USERS) >>> 2]).toBe(1); // ours is still linked
    expect(new Uint32Array(heap.memory.buffer)[(own + L.LB_MAGIC) >>> 2]).toBe(0); // its own library is gone
    expect(x.brc_library_join(own)).toBe(L.EINVAL);
    // a tid reused starts with no links
    const again = await otherThread(heap);
    expect(again.brc_thread_id()).toBe(tid);
    expect(linksOf(heap, tid)).toEqual([]);
    expect(again.brc_thread_detach()).toBe(0);
    expect(x.brc_unlink_thread(theirs)).toBe(L.EINVAL); // not on our list
    expect(x.brc_unlink_thread(mine)).toBe(0); // the last user: the library's data and record go too
    expect(x.brc_library_join(shared)).toBe(L.EINVAL);
    expectClean(heap, blocks);
    // and a thread's own detach frees what it still holds
    const third = await otherThread(heap);
    const lib3 = third.brc_library_new(100, 16) >>> 0;
    third.brc_link_tls(third.brc_link_thread(lib3, 4096), 8, 8);
    expect(heap.stats().liveBlocks).toBe(blocks + 5);
    expect(third.brc_thread_detach()).toBe(0);
    expectClean(heap, blocks);
  });
});

describe('biasrc_wait for hosts without JavaScript', () => {
  const waitBytes = () => readFileSync(join(root, 'build', 'biasrc_wait.wasm'));

  it('is shipped, imports only the memory, and returns what memory.atomic.wait32 returns', async () => {
    const module = await WebAssembly.compile(waitBytes());
    expect(WebAssembly.Module.imports(module).map((i) => `${i.module}.${i.name}:${i.kind}`)).toEqual(['env.memory:memory']);
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
    const { biasrc_wait } = (await WebAssembly.instantiate(module, { env: { memory } })).exports as any;
    const view = new Int32Array(memory.buffer);
    view[4] = 7;
    expect(biasrc_wait(16, 8, -1)).toBe(1); // not equal: returns at once, even without a timeout
    const t0 = performance.now();
    expect(biasrc_wait(16, 7, 30)).toBe(2); // timed out
    expect(performance.now() - t0).toBeGreaterThanOrEqual(25);
    // woken: a worker notifies the word after a while
    const { Worker } = await import('node:worker_threads');
    const worker = new Worker('const { workerData: m } = require("node:worker_threads"); const v = new Int32Array(m.buffer); setTimeout(() => { while (Atomics.notify(v, 4) === 0) {} }, 20);', { eval: true, workerData: memory });
    expect(biasrc_wait(16, 7, 10_000)).toBe(0);
    await worker.terminate();
  });

  it('runs the core under lock contention between three workers with no JavaScript wait', async () => {
    const heap = await newHeap();
    const waitModule = await WebAssembly.compile(waitBytes());
    const obj = heap.alloc(16) >>> 0;
    const gate = new Int32Array(new SharedArrayBuffer(8));
    const iterations = 20_000, parties = 3;
    const { Worker } = await import('node:worker_threads');
    const url = new URL('./fixtures/embed-wait-worker.mjs', import.meta.url);
    const results = await Promise.all(Array.from({ length: parties }, () => new Promise<any>((resolve, reject) => {
      const w = new Worker(url, { workerData: { module: heap.module, waitModule, memory: heap.memory, obj, iterations, gate, parties } });
      w.once('message', resolve);
      w.once('error', reject);
    })));
    expect(new Set(results.map((r) => r.tid)).size).toBe(parties);
    expect(heap.view(obj).getInt32(0, true)).toBe(parties * iterations);
    heap.decref(obj);
    expectClean(heap, 0);
  });
});

describe('loader: without a toolchain', () => {
  it('the binary decoder walks every function body of the core and the benchmark modules to its exact end', () => {
    for (const file of ['build/biasrc.wasm', 'build/biasrc.debug.wasm', 'build/biasrc_wait.wasm', 'bench/build/loops.wasm', 'bench/build/tlsf.wasm']) {
      const path = join(root, file);
      if (!existsSync(path)) continue; // bench modules exist once the benchmark (or its test) ran
      expect(countInstructions(new Uint8Array(readFileSync(path))), file).toBeGreaterThan(10);
    }
  });

  it('refuses what is not wasm, a module without dylink.0, a single-thread heap, a closed heap', async () => {
    const heap = await newHeap();
    await expectRejects(heap.link(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8])), 'ELINK', /not a WebAssembly binary/);
    // (module (memory 1)) : no dylink.0
    await expectRejects(heap.link(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 5, 3, 1, 0, 1])), 'ELINK', /not position-independent/);
    await expectRejects(heap.link(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]), { stackBytes: 100 }), 'EINVAL', /stackBytes/);
    const single = await Heap.create({ shared: false });
    await expectRejects(single.link(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0])), 'ENOTSHARED');
    await single.close();
    const closed = await Heap.create({ memory: { initialMiB: 1, maximumMiB: 16 } });
    await closed.close();
    expectBrcError(() => closed.link(new Uint8Array(8)), 'ECLOSED');
    expectClean(heap, 0);
  });
});

// ---- C -----------------------------------------------------------------------------------------------------------

describe.skipIf(!haveC)(`C (needs ${C_TOOLS})`, () => {
  let champ: Uint8Array, probe: Uint8Array;
  beforeAll(async () => {
    [champ, probe] = await Promise.all([
      buildC(join(root, 'examples', 'c', 'champ.c'), 'champ'),
      buildC(join(fixtures, 'probe.c'), 'probe'),
    ]);
  });

  describe('loader refuses what cannot share a heap, with a clear error', () => {
    it('not position-independent; memory not shared; another layout; no header; memory maximum too low; no TLS exports', async () => {
      const heap = await newHeap({ maximumMiB: 256 });
      const [nopic, unshared, noHeader, small, noTls] = await Promise.all([
        buildRaw(join(fixtures, 'nopic.c'), 'nopic', ['-matomics', '-mbulk-memory'], ['--import-memory', '--shared-memory', '--max-memory=4294967296']),
        buildRaw(join(fixtures, 'nopic.c'), 'unshared', ['-fPIC'], ['--experimental-pic', '-pie', '--import-memory']),
        buildRaw(join(fixtures, 'noheader.c'), 'noheader', PIC_CFLAGS, PIC_LINK),
        buildRaw(join(fixtures, 'probe.c'), 'probe-16mib', PIC_CFLAGS, PIC_LINK.map((f) => (f.startsWith('--max-memory') ? `--max-memory=${16 * 1024 * 1024}` : f))),
        buildRaw(join(fixtures, 'probe.c'), 'probe-notls', PIC_CFLAGS, PIC_LINK.filter((f) => f !== '--export=__wasm_init_tls')),
      ]);
      const blocks = heap.stats().liveBlocks;
      await expectRejects(heap.link(nopic), 'ELINK', /not position-independent.*-fPIC/);
      await expectRejects(heap.link(unshared), 'ELINK', /memory is not shared/);
      // the record the header puts in the biasrc.layout section ("BRCH", format, version, hash), changed
      const other = champ.slice();
      const magic = [0x42, 0x52, 0x43, 0x48];
      let at = -1;
      for (let i = 0; i < other.length - 16 && at < 0; i++) if (magic.every((b, k) => other[i + k] === b)) at = i;
      expect(at).toBeGreaterThan(0);
      const view = new DataView(other.buffer);
      view.setUint32(at + 8, L.LAYOUT_VERSION + 1, true);
      await expectRejects(heap.link(other), 'ELAYOUT', new RegExp(`built for biasrc layout version ${L.LAYOUT_VERSION + 1} .* this heap's core has layout version ${L.LAYOUT_VERSION}`));
      view.setUint32(at + 8, L.LAYOUT_VERSION, true);
      view.setUint32(at + 12, view.getUint32(at + 12, true) ^ 1, true); // same version, other constants
      await expectRejects(heap.link(other), 'ELAYOUT', /rebuild it with the include\/biasrc.h generated for this core/);
      await expectRejects(heap.link(noHeader), 'ELAYOUT', /no "biasrc.layout" section/);
      await expectRejects(heap.link(small), 'ELINK', /at most 256 pages, the heap may grow to 4096: link it with --max-memory=4294967296/);
      await expectRejects(heap.link(noTls), 'ELINK', /does not export __wasm_init_tls/);
      // (wasm-ld 19 exports __wasm_apply_data_relocs from a PIE by itself, so its absence cannot be built here)
      expectClean(heap, blocks); // nothing taken by a refusal
    });

    it('a Module compiled without prepareModule; an unresolved import; a SIMD build at -O3', async () => {
      const heap = await newHeap();
      const [needs, simd] = await Promise.all([
        buildC(join(fixtures, 'needs.c'), 'needs'),
        buildC(join(fixtures, 'probe.c'), 'probe-simd', { CFLAGS: '-O3 -msimd128' }),
      ]);
      await expectRejects(heap.link(await WebAssembly.compile(probe as BufferSource)), 'ELINK', /prepareModule/);
      const blocks = heap.stats().liveBlocks;
      await expectRejects(heap.link(needs), 'ELINK', /unresolved imports: env\.host_log/);
      expect(heap.stats().liveBlocks).toBe(blocks); // the data block and stack taken for it are back
      const seen: number[] = [];
      const lib = await heap.link(needs, { imports: { env: { host_log: (v: number) => seen.push(v) } } });
      lib.exports.hello(41);
      expect(seen).toEqual([42]);
      lib.unlink();
      expect(countInstructions(simd)).toBeGreaterThan(100);
      const fast = await heap.link(simd, { stackBytes: 8192 });
      fast.exports.tl_set_tag(3);
      expect(fast.exports.tl_tag_sum()).toBe(32 * 3 + 496);
      expectBrcError(() => fast.exports.deep(100), 'ESTACK');
      fast.unlink();
      expectClean(heap, blocks);
    });
  });

  describe('loader: the pitfalls of issue 16', () => {
    it('data: taken and zeroed once per heap even over a dirty block; relocations applied once; shared by threads', async () => {
      const heap = await newHeap();
      const x = heap.raw;
      const module = await prepareModule(probe);
      const dylink = new Uint8Array(WebAssembly.Module.customSections(module as WebAssembly.Module, 'dylink.0')[0]);
      let size = 0;
      for (let at = 2, shift = 0; ; at++, shift += 7) { size |= (dylink[at] & 0x7f) << shift; if (!(dylink[at] & 0x80)) break; }
      expect(size).toBeGreaterThan(32);
      // a block of the size and alignment the data block will get, dirtied and freed: the next one is the same
      const dirty = x.brc_malloc_aligned(size, 16) >>> 0;
      new Uint8Array(heap.memory.buffer, dirty, size).fill(0xff);
      x.brc_free_aligned(dirty);
      const lib = await heap.link(module);
      expect(lib.memoryBase).toBe(dirty); // the pitfall really is exercised: the data block reuses the dirty one
      expect(lib.exports.get_initialised()).toBe(41); // __wasm_init_memory did copy the segments (flag was zeroed)
      expect(lib.exports.get_zeroed()).toBe(0); // .bss is zero
      expect(cString(heap, lib.exports.get_greeting())).toBe('hello from C'); // the pointer was relocated
      expect(lib.exports.call_op(21)).toBe(42); // the function pointer was relocated against __table_base
      expect(lib.exports.bump()).toBe(42);

      const worker = await heap.spawn(workerUrl);
      const joined = await ask(worker, { op: 'link', name: 'probe', source: lib.share });
      expect(joined.memoryBase).toBe(lib.memoryBase); // one data block per heap
      const r = await ask(worker, { op: 'calls', name: 'probe', calls: [['get_initialised'], ['bump'], ['get_greeting'], ['call_op', 5]] });
      expect(r.results[0]).toBe(42); // not initialised again: the main thread's bump is visible
      expect(r.results[1]).toBe(43);
      expect(cString(heap, r.results[2])).toBe('hello from C'); // not relocated twice
      expect(r.results[3]).toBe(10);
      expect(lib.exports.get_initialised()).toBe(43);
      await ask(worker, { op: 'close' });
      await worker.exited;
      lib.unlink();
      expectClean(heap, 0);
    });

    it('TLS: each thread its own block, initialised; nothing lands at address 0', async () => {
      const heap = await newHeap();
      const lowBefore = new Uint8Array(heap.memory.buffer, 0, 256).slice();
      const lib = await heap.link(probe);
      const workers = await Promise.all([heap.spawn(workerUrl), heap.spawn(workerUrl)]);
      const infos = await Promise.all(workers.map((w) => ask(w, { op: 'link', name: 'probe', source: lib.share })));
      const tls = [lib.tlsBase, ...infos.map((i) => i.tlsBase)];
      expect(new Set(tls).size).toBe(3);
      for (const t of tls) expect(t).toBeGreaterThan(255);
      expect(lib.exports.tl_bump()).toBe(101); // initialised from .tdata in every thread
      expect(lib.exports.tl_bump()).toBe(102);
      lib.exports.tl_set_tag(1);
      const rs = await Promise.all(workers.map((w, i) => ask(w, { op: 'calls', name: 'probe', calls: [['tl_bump'], ['tl_set_tag', 10 * (i + 2)], ['tl_tag_sum'], ['tl_address']] })));
      for (const [i, r] of rs.entries()) {
        expect(r.results[0]).toBe(101);
        expect(r.results[2]).toBe(32 * 10 * (i + 2) + 496);
        expect(r.results[3]).toBeGreaterThanOrEqual(infos[i].tlsBase); // the thread-local is in this thread's block
        expect(r.results[3]).toBeLessThan(infos[i].tlsBase + 64);
      }
      expect(lib.exports.tl_tag_sum()).toBe(32 + 496);
      expect(lib.exports.tl_address() - lib.tlsBase).toBe(rs[0].results[3] - infos[0].tlsBase);
      expect(new Uint8Array(heap.memory.buffer, 0, 256)).toEqual(lowBefore);
      await Promise.all(workers.map((w) => ask(w, { op: 'close' })));
      await Promise.all(workers.map((w) => w.exited));
      lib.unlink();
      expectClean(heap, 0);
    });

    it('stack overflow: trapped before anything below the stack is written; the thread goes on', async () => {
      const heap = await newHeap();
      const blocks = heap.stats().liveBlocks;
      const lib = await heap.link(probe, { stackBytes: 16 * 1024 });
      expect(lib.exports.deep(4)).toBeGreaterThanOrEqual(0);
      const below = lib.stackLimit - GUARD_BYTES - 4096;
      const before = new Uint8Array(heap.memory.buffer, below, 4096 + GUARD_BYTES).slice();
      const e = expectBrcError(() => lib.exports.deep(100), 'ESTACK', /stack overflow.*raise stackBytes/);
      expect(e.message).toContain(`0x${lib.stackLimit.toString(16)}`);
      expect(new Uint8Array(heap.memory.buffer, below, 4096 + GUARD_BYTES)).toEqual(before); // guard and below intact
      heap.verify();
      expect(lib.exports.deep(8)).toBeGreaterThanOrEqual(0); // the stack pointer was reset
      // a frame that writes below the limit without moving the pointer (a leaf's red zone) hits the canary, which
      // the return to JavaScript reports
      expectBrcError(() => lib.exports.poke(lib.stackLimit - 8, 0), 'ESTACK', /guard .* was overwritten/);
      expect(lib.exports.get_zeroed()).toBe(0); // re-armed
      lib.unlink();
      expectBrcError(() => lib.exports.get_zeroed(), 'ECLOSED');
      expectClean(heap, blocks);
    });

    it('blocks freed when a thread unlinks, closes, exits or is terminated (the core frees them at its detach)', async () => {
      const heap = await newHeap();
      const blocks = heap.stats().liveBlocks;
      const lib = await heap.link(champ);
      const withLib = heap.stats().liveBlocks;
      // a worker that links the shared library and a private one, then is terminated inside C code
      const killed = await heap.spawn(workerUrl);
      await ask(killed, { op: 'link', name: 'champ', source: lib.share });
      await ask(killed, { op: 'link', name: 'probe', source: probe });
      expect(linksOf(heap, killed.tid)).toHaveLength(2);
      expect(heap.stats().liveBlocks).toBeGreaterThan(withLib);
      await ask(killed, { op: 'spin', name: 'probe' });
      await killed.terminate(); // the stop handshake sees it outside any operation; detach_dead frees its links
      expect(linksOf(heap, killed.tid)).toEqual([]);
      expect(heap.stats().liveBlocks).toBe(withLib); // its stacks, TLS, the private library's data: all back
      // a worker that ends its script (its normal end detaches it) and one that closes its heap
      for (const op of ['exit', 'close']) {
        const w = await heap.spawn(workerUrl);
        await ask(w, { op: 'link', name: 'champ', source: lib.share });
        await ask(w, { op: 'link', name: 'probe', source: probe });
        const reply = await ask(w, { op });
        if (op === 'close') expect(reply.linked).toEqual([false, false]); // close unlinked them first
        await w.exited;
        expect(heap.stats().liveBlocks, op).toBe(withLib);
      }
      await heap.close(); // this thread: close unlinks its module before it detaches
      expect(lib.linked).toBe(false);
      expectBrcError(() => lib.exports.champ_count(), 'ECLOSED');
      const check = await Heap.join({ module: heap.module, memory: heap.memory, debug: false, checked: true, cycles: {} });
      expectClean(check, blocks);
      await check.close();
    });

    it('data, stack and TLS above 2 GiB (unsigned addresses throughout)', async () => {
      const heap = await newHeap({ maximumMiB: 4096 });
      const big = heap.raw.brc_malloc(0x8000_0000) >>> 0; // a 2 GiB run that is never touched: the next blocks are above it
      expect(big).not.toBe(0);
      const lib = await heap.link(champ);
      for (const address of [lib.memoryBase, lib.stackTop, lib.tlsBase]) expect(address).toBeGreaterThan(0x8000_0000);
      const x = lib.exports;
      expect(x.champ_init() >>> 0).toBeGreaterThan(0x8000_0000);
      x.champ_put_range(0, 2000, 1);
      expect(x.champ_check_range(0, 2000, 1)).toBe(2000);
      expect(cString(heap, x.champ_name())).toBe('champ');
      const deep = await heap.link(probe, { stackBytes: 8192 }); // the stack check compares unsigned
      expect(deep.stackLimit).toBeGreaterThan(0x8000_0000);
      expect(deep.exports.deep(2)).toBeGreaterThanOrEqual(0);
      expectBrcError(() => deep.exports.deep(100), 'ESTACK', /stack overflow/);
      deep.unlink();
      x.champ_shutdown();
      lib.unlink();
      heap.raw.brc_free(big);
      expectClean(heap, 0);
    });

    it('a share is refused once every thread unlinked the library', async () => {
      const heap = await newHeap();
      const lib = await heap.link(probe);
      const share = lib.share;
      lib.unlink();
      await expectRejects(heap.link(share), 'EINVAL', /not a library of this heap any more/);
      // a share naming another module's library (as if its record had been reused): the data size tells (not a
      // full guard: a share is valid while some thread keeps its library linked)
      const other = await heap.link(champ);
      await expectRejects(heap.link({ ...share, library: other.share.library }), 'EINVAL', /not this module's any more/);
      other.unlink();
      expectClean(heap, 0);
    });
  });

  describe('the header\'s inline paths', () => {
    it('accessors read what the core\'s calls return: slots, payload, bytes, slot (BUSY masked), owner', async () => {
      const heap = await newHeap();
      const lib = await heap.link(probe);
      const x = heap.raw;
      const other = await otherThread(heap);
      for (const slots of [0, 1, 3, 4, 5, 17, L.MAX_SLOTS]) {
        for (const bytes of [0, 8, 24, 100]) {
          const o = (slots % 2 ? other.brc_alloc(bytes, slots) : heap.alloc(bytes, slots)) >>> 0;
          const child = heap.alloc(0) >>> 0;
          if (slots) x.brc_set_ref(o, slots - 1, child);
          const what = `slots ${slots} bytes ${bytes}`;
          expect(lib.exports.obj_slots(o), what).toBe(x.brc_info_slots(o));
          expect(lib.exports.obj_payload(o) >>> 0, what).toBe(x.brc_payload(o) >>> 0);
          expect(lib.exports.obj_bytes(o) >>> 0, what).toBe(x.brc_info_bytes(o) >>> 0);
          expect(lib.exports.obj_owner(o), what).toBe(x.brc_info_owner(o));
          if (slots) {
            for (const i of [0, slots - 1]) expect(lib.exports.obj_slot(o, i) >>> 0, what).toBe(x.brc_get_ref(o, i) >>> 0);
            const at = (o + L.HEADER_SIZE + (slots - 1) * L.SLOT_SIZE) >>> 2;
            new Uint32Array(heap.memory.buffer)[at] |= L.SLOT_BUSY; // a load_ref's mark
            expect(lib.exports.obj_slot(o, slots - 1) >>> 0, what).toBe(child);
            new Uint32Array(heap.memory.buffer)[at] &= ~L.SLOT_BUSY;
          }
          heap.decref(child);
          if (slots % 2) other.brc_decref(o); else heap.decref(o);
        }
      }
      // the generation bits above the slot count change nothing
      const o = heap.alloc(8, 3) >>> 0;
      const u16 = new Uint16Array(heap.memory.buffer);
      u16[(o + L.H_SLOTS) >>> 1] |= L.GEN_MASK << L.GEN_SHIFT;
      expect(lib.exports.obj_slots(o)).toBe(3);
      expect(lib.exports.obj_payload(o) >>> 0).toBe(x.brc_payload(o) >>> 0);
      heap.decref(o);
      expect(lib.exports.layout_ok()).toBe(1);
      expect(other.brc_thread_detach()).toBe(0);
      heap.collect(); // the children that tid 2's objects released, queued for us
      lib.unlink();
      expectClean(heap, 0);
    });

    // the states of test/fastpath.test.ts (the JS copy of the same path): owner or not, local at each limit, shared
    // counts and flags, merged; here also the slot count and generation bits above the tid, all set
    const IMMORTAL = L.LOCAL_IMMORTAL;
    interface State { name: string; owner: 'me' | 'other' | 'none'; local: number; count: number; flags: number }
    const LOCALS = [1, 2, 3, 1000, 0x7fff_ffff, 0x8000_0000, IMMORTAL - 2, IMMORTAL - 1, IMMORTAL];
    const SHARED: [number, number][] = [[0, 0], [1, 0], [5, 0], [0, L.SHARED_QUEUED], [-1, L.SHARED_QUEUED], [2, L.SHARED_WEAK], [L.SHARED_SATURATED, 0]];
    function states(): State[] {
      const out: State[] = [];
      for (const owner of ['me', 'other'] as const) {
        for (const local of LOCALS) for (const [count, flags] of SHARED) out.push({ name: `${owner} local=${local} count=${count} flags=${flags}`, owner, local, count, flags });
      }
      for (const [count, flags] of [[1, 0], [3, L.SHARED_QUEUED], [2, L.SHARED_WEAK], [L.SHARED_SATURATED, 0]] as const) {
        out.push({ name: `merged count=${count} flags=${flags}`, owner: 'none', local: 0, count, flags: flags | L.SHARED_MERGED });
      }
      return out;
    }

    for (const op of ['incref', 'decref'] as const) {
      it(`${op}_inline does what the core's brc_${op} does on every header state, and calls it exactly outside the fast path`, async () => {
        const heap = await newHeap(); // release core: the inline path is on
        const x = heap.raw;
        const other = await otherThread(heap);
        const attention = (x.brc_attention_address(heap.tid) >>> 0) >>> 2;
        const i32 = () => new Int32Array(heap.memory.buffer);
        let calls = 0, callsUnderAttention = 0;
        // the header calls these when it declines; a call made while ATTENTION is set would sit out the pause (or
        // stop) in the core, so the wrapper notes it, clears ATTENTION, then lets the core do the count
        const counting = (name: 'brc_incref' | 'brc_decref') => (o: number) => {
          calls++;
          if (i32()[attention] !== 0) { callsUnderAttention++; i32()[attention] = 0; }
          x[name](o);
        };
        const lib = await heap.link(probe, { imports: { biasrc: { brc_incref: counting('brc_incref'), brc_decref: counting('brc_decref') } } });
        const inline = op === 'incref' ? lib.exports.inc_inline : lib.exports.dec_inline;
        const core = op === 'incref' ? x.brc_incref : x.brc_decref;
        const u32 = () => new Uint32Array(heap.memory.buffer);
        const write = (o: number, s: State) => {
          const i = o >>> 2, v = u32();
          v[i] = s.local >>> 0;
          v[i + 1] = (((L.SLOTS_MASK | (L.GEN_MASK << L.GEN_SHIFT)) << 16) | (s.owner === 'me' ? heap.tid : s.owner === 'other' ? other.brc_thread_id() : 0)) >>> 0;
          v[i + 2] = ((s.count << L.SHARED_SHIFT) | s.flags) >>> 0;
        };
        const read = (o: number) => { const v = u32(), i = o >>> 2; return [v[i], v[i + 1], v[i + 2], v[i + 3] & L.LINK_LIVE]; };
        const fastCases: string[] = [];
        for (const attentionValue of [0, L.ATTENTION_STOP, L.ATTENTION_PAUSE, L.ATTENTION_PAUSE | (7 << L.ATTENTION_EPOCH_SHIFT)]) {
          for (const s of attentionValue === 0 ? states() : states().filter((t) => t.owner === 'me' && t.local === 3 && t.count === 0)) {
            // twins: the slots all exist (the generation bits are forged), so the slot count and generation are all ones
            const a = heap.alloc(0, L.MAX_SLOTS) >>> 0, b = heap.alloc(0, L.MAX_SLOTS) >>> 0;
            write(a, s); write(b, s);
            const before = calls, beforeAttention = callsUnderAttention;
            i32()[attention] = attentionValue;
            inline(a);
            i32()[attention] = 0;
            core(b);
            const what = `${op} ${s.name} attention=${attentionValue}`;
            const coreFast = s.owner === 'me' && (op === 'incref' ? s.local < IMMORTAL - 1 : s.local >= 2 && s.local < IMMORTAL);
            const fast = attentionValue === 0 && coreFast;
            expect(calls - before, `${what}: calls into the core`).toBe(fast ? 0 : 1);
            expect(callsUnderAttention - beforeAttention, `${what}: declined under ATTENTION`).toBe(attentionValue === 0 ? 0 : 1);
            if (fast) fastCases.push(s.name);
            const ra = read(a), rb = read(b);
            if (rb[3] === 0) { // the core freed it (the last reference went): so must the inline path have
              expect(ra[3], `${what}: freed by one path only`).toBe(0);
              continue;
            }
            expect(ra, what).toEqual(rb);
            // back to a state the heap can free: merge what the decrement queued for tid 2 first (so that no queue
            // still links a freed block), then, if still alive, owned by us with one local reference
            if (s.owner === 'other') other.brc_collect();
            for (const h of [a, b]) {
              if (read(h)[3] === 0) continue;
              write(h, { name: 'reset', owner: 'me', local: 1, count: 0, flags: 0 });
              heap.decref(h);
            }
          }
        }
        expect(fastCases.length).toBeGreaterThan(20);
        expect(other.brc_thread_detach()).toBe(0); // merges what the states queued for it
        lib.unlink();
        expect(heap.stats({ exact: true }).liveObjects).toBe(0);
        heap.verify();
      });
    }

    it('a debug core turns the inline path off (its calls check and count everything)', async () => {
      const heap = await newHeap({ debug: true });
      const lib = await heap.link(probe);
      const o = heap.alloc(8);
      const before = heap.stats();
      lib.exports.inc_inline(o);
      lib.exports.dec_inline(o);
      expect(heap.stats().ownerIncrefs).toBe(before.ownerIncrefs + 1); // the core's debug counters: the calls were made
      expect(heap.stats().ownerDecrefs).toBe(before.ownerDecrefs + 1);
      heap.decref(o);
      lib.unlink();
      expectClean(heap, 0);
    });
  });

  describe('the C example: a persistent map shared by the main thread and two workers', () => {
    for (const debug of [false, true]) {
      it(`${debug ? 'debug' : 'release'} core: concurrent puts through the atom, every key there, nothing left alive`, async () => {
        const heap = await newHeap({ debug });
        const blocks = heap.stats().liveBlocks;
        const lib = await heap.link(champ, { stackBytes: 32 * 1024 });
        const x = lib.exports;
        const atom = x.champ_init();
        expect(heap.info(atom).slots).toBe(1);
        expect(cString(heap, x.champ_name())).toBe('champ');
        const base = 2000;
        x.champ_put_range(0, base, 1);
        const snapshot = x.champ_snapshot(); // a version that later puts never change
        const workers = await Promise.all([heap.spawn(workerUrl), heap.spawn(workerUrl)]);
        for (const w of workers) await ask(w, { op: 'link', name: 'champ', source: lib.share, options: { stackBytes: 32 * 1024 } });
        // three threads insert interleaved keys at once: base + 3k + i for thread i
        const per = debug ? 1500 : 6000;
        const gate = new Int32Array(new SharedArrayBuffer(8));
        const jobs = workers.map((w, i) => ask(w, { op: 'calls', name: 'champ', barrier: gate, parties: 3, calls: [['champ_put_range', base + i + 1, per, 3], ['champ_puts'], ['champ_retries'], ['champ_check_range', base + i + 1, per, 3], ['champ_hash_of', 12345]] }));
        barrier(gate, 3);
        x.champ_put_range(base, per, 3);
        const results = await Promise.all(jobs);
        for (const r of results) {
          expect(r.results[1]).toBe(per); // this thread's own put count (a thread-local)
          expect(r.results[3]).toBe(per); // its keys, seen by itself
          expect(r.results[4]).toBe(x.champ_hash_of(12345)); // the function pointer in data, from the other thread
        }
        expect(x.champ_puts()).toBe(base + per);
        const retries = results.reduce((n, r) => n + r.results[2], x.champ_retries());
        expect(x.champ_count()).toBe(base + 3 * per);
        expect(x.champ_check_range(0, base + 3 * per, 1)).toBe(base + 3 * per);
        expect(x.champ_snapshot_count(snapshot)).toBe(base);
        console.log(`champ (${debug ? 'debug' : 'release'}): ${base + 3 * per} keys, ${retries} CAS retries, ${heap.stats().liveObjects} objects`);
        await Promise.all(workers.map((w) => ask(w, { op: 'close' })));
        await Promise.all(workers.map((w) => w.exited));
        heap.decref(snapshot);
        x.champ_shutdown();
        heap.collect();
        lib.unlink();
        expectClean(heap, blocks);
      });
    }
  });

  it('a host that loads the core itself links through link(host, ...) (what the benchmark does)', async () => {
    const heap = await newHeap();
    const other = await instantiateCore(heap.module, heap.memory);
    expect(other.exports.brc_thread_attach()).toBe(2);
    const hooks = new Set<() => void>();
    const host: LinkHost = {
      raw: other.exports, memory: heap.memory, tid: 2, debug: false,
      onDetach: (hook) => { hooks.add(hook); return () => hooks.delete(hook); },
    };
    const lib = await link(host, champ);
    lib.exports.champ_init();
    lib.exports.champ_put_range(0, 100, 1);
    const snapshot = lib.exports.champ_snapshot();
    expect(heap.info(snapshot).owner).toBe(2);
    heap.decref(snapshot); // released by tid 1: queued for tid 2
    lib.exports.champ_shutdown();
    other.exports.brc_thread_detach(); // the core frees its link; the JS side never heard of it
    expect(hooks.size).toBe(1);
    heap.collect();
    expectClean(heap, 0);
  });
});

// ---- Rust --------------------------------------------------------------------------------------------------------

describe.skipIf(!haveRust)(`Rust (needs ${RUST_TOOLS})`, () => {
  let bytes: Uint8Array;
  beforeAll(async () => {
    const wasm = join(out, 'rust_list.wasm');
    await run('sh', [join(root, 'examples', 'rust', 'build.sh'), wasm]);
    bytes = new Uint8Array(readFileSync(wasm));
  });

  it('a no_std list: Clone and Drop are incref and decref; shared with a worker; nothing left alive', async () => {
    const heap = await newHeap({ debug: true });
    const blocks = heap.stats().liveBlocks;
    const lib: LinkedModule = await heap.link(bytes);
    const x = lib.exports;
    const name = new Uint8Array(heap.memory.buffer, x.rust_name(), x.rust_name_len());
    expect(new TextDecoder().decode(name)).toBe('rust-list'); // a &str in data: relocated
    const list = x.rust_list_range(1000);
    expect(x.rust_list_len(list)).toBe(1000);
    expect(x.rust_list_sum(list)).toBe(499_500);
    const before = heap.stats();
    expect(x.rust_clone_drop(list, 100)).toBe(800);
    const after = heap.stats();
    expect(after.ownerIncrefs - before.ownerIncrefs).toBe(800); // every clone an incref...
    expect(after.ownerDecrefs - before.ownerDecrefs).toBeGreaterThanOrEqual(800); // ...and every drop a decref
    expect(heap.info(list).local).toBe(1);

    const worker = await heap.spawn(workerUrl);
    await ask(worker, { op: 'link', name: 'rust', source: lib.share });
    heap.incref(list); // a reference for the worker, which it pushes onto and releases
    const r = await ask(worker, { op: 'calls', name: 'rust', calls: [['rust_list_sum', list], ['rust_list_push', list, 7]] });
    expect(r.results[0]).toBe(499_500);
    const pushed = r.results[1];
    expect(x.rust_list_len(pushed)).toBe(1001); // the worker's cell in front of our cells
    expect(heap.info(pushed).owner).toBe(worker.tid);
    await ask(worker, { op: 'calls', name: 'rust', calls: [['rust_list_drop', list]] }); // the worker releases its reference
    heap.decref(pushed);
    await ask(worker, { op: 'close' });
    await worker.exited;
    heap.decref(list);
    heap.collect();
    lib.unlink();
    expectClean(heap, blocks);
  });
});
