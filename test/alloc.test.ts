// The allocator and the heap layout (issue: threaded WebAssembly heap).
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { freshHeap, runWorkers, stat, verify, coreModule } from './helpers/core.js';
import { createSharedMemory, errorName, instantiateCore } from '../dist/index.js';

const MiB = 1024 * 1024;

// @ts-expect-error: a plain .mjs helper without types
import { sharedModuleProblems } from '../scripts/lib/wasm-sections.mjs';

describe('build', () => {
  for (const file of ['biasrc.wasm', 'biasrc.debug.wasm']) {
    it(`${file} imports one shared memory (and the host's wait) and has no data section and no start function`, () => {
      const bytes = new Uint8Array(readFileSync(new URL(`../build/${file}`, import.meta.url)));
      expect(sharedModuleProblems(bytes)).toEqual([]);
      const module = new WebAssembly.Module(bytes);
      const imports = WebAssembly.Module.imports(module).map((i) => `${i.module}.${i.name}:${i.kind}`).sort();
      expect(imports).toEqual(['env.biasrc_wait:function', 'env.memory:memory']);
    });
  }

  it('a module with a data segment, or with a start function, is caught by the check', () => {
    // (module (memory 1) (data (i32.const 0) "x")): proves the walk finds a data section when there is one
    const withData = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 5, 3, 1, 0, 1, 11, 7, 1, 0, 65, 0, 11, 1, 120]);
    expect(sharedModuleProblems(withData)).toEqual(['a data section']);
    // (module (func) (start 0))
    const withStart = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 4, 1, 96, 0, 0, 3, 2, 1, 0, 8, 1, 0, 10, 4, 1, 2, 0, 11]);
    expect(sharedModuleProblems(withStart)).toEqual(['a start function']);
  });
});

describe('layout and threads', () => {
  it('initialises once; a second brc_init is refused', async () => {
    const { core } = await freshHeap();
    expect(errorName(core.exports.brc_init(64, 4096))).toBe('EINIT');
    expect(verify(core)).toBe('ok');
  });

  it('attach without a heap is ELAYOUT', async () => {
    const memory = createSharedMemory({ initialMiB: 1, maximumMiB: 16 });
    const core = await instantiateCore(await coreModule(false), memory);
    expect(core.exports.brc_thread_attach()).toBe(0);
    expect(errorName(core.exports.brc_last_error())).toBe('ELAYOUT');
  });

  it('gives tids from 1, refuses past maxThreads, and reuses a detached tid with a new generation', async () => {
    const heap = await freshHeap({ maxThreads: 3 });
    expect(heap.tid).toBe(1);
    const others = await Promise.all([0, 1, 2].map(() => instantiateCore(heap.module, heap.memory)));
    expect(others[0].exports.brc_thread_attach()).toBe(2);
    expect(others[1].exports.brc_thread_attach()).toBe(3);
    expect(others[2].exports.brc_thread_attach()).toBe(0);
    expect(errorName(others[2].exports.brc_last_error())).toBe('ETHREADS');
    expect(errorName(others[0].exports.brc_thread_attach())).toBe(undefined); // 0: already attached
    expect(errorName(others[0].exports.brc_last_error())).toBe('EATTACHED');
    const generation = heap.core.exports.brc_thread_generation(2);
    expect(others[0].exports.brc_thread_detach()).toBe(0);
    expect(others[2].exports.brc_thread_attach()).toBe(2);
    expect(heap.core.exports.brc_thread_generation(2)).toBe(generation + 1);
    expect(stat(heap.core, 'STAT_THREADS')).toBe(3);
    expect(verify(heap.core)).toBe('ok');
  });
});

describe('allocator, one thread', () => {
  it('serves 1 byte to several MiB, 16-byte aligned, without overlap', async () => {
    const { core } = await freshHeap({ maximumMiB: 128 });
    const x = core.exports;
    const sizes: number[] = [];
    for (let s = 1; s <= 6 * MiB; s = Math.ceil(s * 1.3) + 1) sizes.push(s);
    const blocks = sizes.map((size) => x.brc_malloc(size));
    blocks.forEach((p, i) => {
      expect(p).toBeGreaterThan(0);
      expect(p % 16).toBe(0);
      expect(x.brc_usable_size(p)).toBeGreaterThanOrEqual(sizes[i]);
      new Uint8Array(core.memory.buffer, p, sizes[i]).fill(i & 0xff);
    });
    const bytes = new Uint8Array(core.memory.buffer);
    blocks.forEach((p, i) => {
      expect(bytes[p]).toBe(i & 0xff);
      expect(bytes[p + sizes[i] - 1]).toBe(i & 0xff);
    });
    expect(stat(core, 'STAT_LIVE_BLOCKS')).toBe(sizes.length);
    expect(verify(core)).toBe('ok');
    blocks.forEach((p) => x.brc_free(p));
    expect(stat(core, 'STAT_LIVE_BLOCKS')).toBe(0);
    expect(stat(core, 'STAT_LIVE_BYTES')).toBe(0);
    expect(verify(core)).toBe('ok');
  });

  it('reuses a freed block', async () => {
    const { core } = await freshHeap();
    const x = core.exports;
    const a = x.brc_malloc(40);
    x.brc_malloc(40);
    x.brc_free(a);
    expect(x.brc_malloc(40)).toBe(a);
    const big = x.brc_malloc(3 * MiB);
    x.brc_free(big);
    expect(x.brc_malloc(3 * MiB)).toBe(big);
  });

  it('grows the memory across memory.grow and keeps earlier blocks intact', async () => {
    const { core } = await freshHeap({ initialMiB: 1, maximumMiB: 64 });
    const x = core.exports;
    const before = core.memory.buffer.byteLength;
    const first = x.brc_malloc(100);
    new DataView(core.memory.buffer).setUint32(first, 0xdeadbeef, true);
    const blocks = Array.from({ length: 200 }, () => x.brc_malloc(100_000));
    expect(blocks.every((p) => p > 0)).toBe(true);
    expect(core.memory.buffer.byteLength).toBeGreaterThan(before + 19 * MiB);
    expect(new DataView(core.memory.buffer).getUint32(first, true)).toBe(0xdeadbeef);
    expect(stat(core, 'STAT_MEMORY_BYTES')).toBe(core.memory.buffer.byteLength);
    expect(verify(core)).toBe('ok');
  });

  it('returns 0 with ENOMEM at the maximum, corrupts nothing, and recovers after frees', async () => {
    const { core } = await freshHeap({ maximumMiB: 16 });
    const x = core.exports;
    const exhaust = (size: number) => {
      const blocks: number[] = [];
      for (let p; (p = x.brc_malloc(size)) !== 0;) blocks.push(p);
      expect(errorName(x.brc_last_error())).toBe('ENOMEM');
      return blocks;
    };
    const small = exhaust(48);
    expect(small.length).toBeGreaterThan(200_000);
    expect(verify(core)).toBe('ok');
    small.forEach((p) => x.brc_free(p));
    // freed small pages go back to the pool: large blocks fit again
    const large = exhaust(1 * MiB);
    expect(large.length).toBeGreaterThan(8);
    expect(verify(core)).toBe('ok');
    large.forEach((p) => x.brc_free(p));
    expect(exhaust(48).length).toBe(small.length);
    expect(stat(core, 'STAT_MEMORY_BYTES')).toBeLessThanOrEqual(16 * MiB);
    expect(verify(core)).toBe('ok');
  });
});

describe('allocator, threads', () => {
  for (const workers of [2, 3, 4]) {
    it(`${workers} workers allocate, hand half over and free cross-thread, with exact accounting`, async () => {
      const heap = await freshHeap({ maximumMiB: 512 });
      const start = stat(heap.core, 'STAT_LIVE_BLOCKS');
      const rounds = 40, perRound = 400;
      const mailbox = new Int32Array(new SharedArrayBuffer(2 * workers * perRound * 4));
      const live = new Uint8Array(new SharedArrayBuffer((512 * MiB) / 16));
      const { results } = await runWorkers<{ tid: number; allocated: number; freed: number; errors: string[]; detached: number }>(
        heap, 'alloc-scenarios', workers, { scenario: 'exchange', rounds, perRound, mailbox, live, seed: 1234 });
      for (const r of results) {
        expect(r.errors).toEqual([]);
        expect(r.allocated).toBe(rounds * perRound);
        expect(r.detached).toBe(0);
      }
      expect(results.reduce((n, r) => n + r.freed, 0)).toBe(workers * rounds * perRound);
      expect(stat(heap.core, 'STAT_LIVE_BLOCKS')).toBe(start);
      expect(stat(heap.core, 'STAT_LIVE_BYTES')).toBe(0);
      expect(stat(heap.core, 'STAT_THREADS')).toBe(1);
      expect(verify(heap.core)).toBe('ok');
    });
  }

  it('a detached worker\'s blocks can still be freed, and its pages are reused', async () => {
    const heap = await freshHeap();
    const x = heap.core.exports;
    const sizes = Array.from({ length: 3000 }, (_, i) => 16 + (i % 7) * 48);
    const mailbox = new Int32Array(new SharedArrayBuffer(sizes.length * 4));
    const a = await runWorkers<{ tid: number; detached: number }>(heap, 'alloc-scenarios', 1, { scenario: 'allocateAndDetach', sizes, mailbox });
    expect(a.results[0].detached).toBe(0);
    expect(stat(heap.core, 'STAT_LIVE_BLOCKS')).toBe(sizes.length);
    const pagesHeld = stat(heap.core, 'STAT_PAGES_IN_USE');
    expect(pagesHeld).toBeGreaterThan(0);
    expect(verify(heap.core)).toBe('ok');
    for (const p of mailbox) x.brc_free(p); // cross-thread frees into abandoned pages
    expect(stat(heap.core, 'STAT_LIVE_BLOCKS')).toBe(0);
    expect(verify(heap.core)).toBe('ok');
    const high = stat(heap.core, 'STAT_PAGE_HIGH');
    const b = await runWorkers<{ tid: number; blocks: number[] }>(heap, 'alloc-scenarios', 1, { scenario: 'allocateSizes', sizes });
    expect(b.results[0].tid).toBe(a.results[0].tid); // the tid was freed and is taken again
    expect(stat(heap.core, 'STAT_PAGE_HIGH')).toBe(high); // adopted the abandoned pages: no new page
    // every block the new thread got lies in a page the dead thread had used
    const deadPages = new Set(Array.from(mailbox, (p) => p >>> 16));
    expect(b.results[0].blocks.filter((p) => !deadPages.has(p >>> 16))).toEqual([]);
    expect(stat(heap.core, 'STAT_LIVE_BLOCKS')).toBe(0);
    expect(verify(heap.core)).toBe('ok');
  });
});

// Issue 17: the lists the allocator keeps its pages on, each step that a mutant of scripts/mutants.mjs drops.
describe('allocator lists', () => {
  const SIZE = 20_000; // three blocks to a page
  const pageOf = (block: number) => block & ~0xffff;

  it('a FULL page that gets a block back from its owner is available again at once', async () => {
    const { core } = await freshHeap();
    const x = core.exports;
    const full = [x.brc_malloc(SIZE), x.brc_malloc(SIZE), x.brc_malloc(SIZE)];
    const next = x.brc_malloc(SIZE); // the first page is FULL now
    expect(pageOf(next)).not.toBe(pageOf(full[0]));
    x.brc_free(full[1]);
    expect(x.brc_malloc(SIZE)).toBe(full[1]);
    for (const b of [...full, next]) x.brc_free(b);
    expect(stat(core, 'STAT_LIVE_BLOCKS')).toBe(0);
    expect(verify(core)).toBe('ok');
  });

  it('a detached thread\'s page keeps its local free list and its remote frees: the adopter gets every block back', async () => {
    const heap = await freshHeap();
    const x = heap.core.exports;
    const [a, b] = [await instantiateCore(heap.module, heap.memory), await instantiateCore(heap.module, heap.memory)];
    expect(a.exports.brc_thread_attach()).toBeGreaterThan(0);
    expect(b.exports.brc_thread_attach()).toBeGreaterThan(0);
    const size = 700; // a class nobody else uses here
    const blocks = Array.from({ length: 4 }, () => a.exports.brc_malloc(size));
    a.exports.brc_free(blocks[0]); // the page's local free list: [1, 0]
    a.exports.brc_free(blocks[1]);
    b.exports.brc_free(blocks[2]); // its thread-free stack: [2]
    expect(a.exports.brc_thread_detach()).toBe(0); // collects the stack in front of the local list, abandons the page
    expect(verify(heap.core)).toBe('ok');
    const again = [x.brc_malloc(size), x.brc_malloc(size), x.brc_malloc(size)]; // adopts the page
    expect(again.sort()).toEqual(blocks.slice(0, 3).sort());
    for (const block of [...again, blocks[3]]) x.brc_free(block);
    expect(stat(heap.core, 'STAT_LIVE_BLOCKS')).toBe(0);
    expect(verify(heap.core)).toBe('ok');
  });

  it('two FULL pages handed back by remote frees before the owner looks: both come back', async () => {
    const heap = await freshHeap();
    const x = heap.core.exports;
    const other = await instantiateCore(heap.module, heap.memory);
    expect(other.exports.brc_thread_attach()).toBeGreaterThan(0);
    const blocks = Array.from({ length: 7 }, () => x.brc_malloc(SIZE)); // pages one and two FULL, a third begun
    expect(new Set(blocks.map(pageOf)).size).toBe(3);
    other.exports.brc_free(blocks[0]); // replaces the FULL bit of page one: delivered to its owner
    other.exports.brc_free(blocks[3]); // and of page two: the reclaim list holds both
    const again = [x.brc_malloc(SIZE), x.brc_malloc(SIZE)];
    expect(again.sort()).toEqual([blocks[0], blocks[3]].sort());
    for (const b of [...blocks.slice(1, 3), ...blocks.slice(4), ...again]) x.brc_free(b);
    expect(stat(heap.core, 'STAT_LIVE_BLOCKS')).toBe(0);
    expect(verify(heap.core)).toBe('ok');
  });
});
