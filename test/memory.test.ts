// Memory (issues 10 and 11): no spurious ENOMEM after a worker abandons full pages, handles above 2 GiB, views
// across memory growth, zeroed payloads, payload alignment. Debug build unless a test says otherwise.
import { describe, expect, it } from 'vitest';
import { LAYOUT, type Handle } from 'biasrc';
import { freshHeap, runWorkers, stat, verify } from './helpers/core.js';
import { answer, expectClean, heapsClosedAfterEach, lifecycleWorker } from './helpers/heaps.js';
// @ts-expect-error: a plain .mjs helper without types
import { rng } from '../scripts/lib/threads.mjs';

const heapFor = heapsClosedAfterEach();
const builds = [{ name: 'debug build', debug: true }, { name: 'release build', debug: false }];
const MiB = 1024 * 1024;
const blocksPerPage = (blockSize: number) => Math.floor((LAYOUT.PAGE_SIZE - LAYOUT.PAGE_HEADER_SIZE) / blockSize);

describe('issue 10.1: no spurious ENOMEM after a worker abandons full pages', () => {
  for (const { name, debug } of builds) {
    it(`${name}: a worker fills 20 pages with 32-byte objects, hands them over and ends; every next allocation succeeds`, async () => {
      const heap = await heapFor({ debug, memory: { initialMiB: 16, maximumMiB: 1024 } });
      const perPage = blocksPerPage(32); // alloc(16): a 16-byte header and 16 bytes of payload, a 32-byte block
      const thread = await heap.spawn(lifecycleWorker);
      const { handles } = await answer<{ handles: Handle[] }>(thread, 'handles', { op: 'fill', count: 20 * perPage, bytes: 16, end: 'normal' });
      expect(await thread.exited).toBe(0);
      expect(heap.stats().threads).toBe(1);
      expect(heap.info(handles[0])).toMatchObject({ owner: 0, merged: true, bytes: 16 }); // abandoned to the shared counts
      const pagesBefore = heap.stats().pageHigh;
      // more than the abandoned pages hold: the allocator must pass over the 20 full ones and carry on
      const mine: Handle[] = [];
      for (let i = 0; i < 25 * perPage; i++) mine.push(heap.alloc(16));
      expect(new Set(mine.map((h) => h >>> 0)).size).toBe(mine.length);
      const theirs = new Set(handles.map((h) => h >>> 0));
      expect(mine.filter((h) => theirs.has(h >>> 0))).toEqual([]); // none of their live blocks handed out again
      expect(heap.stats().pageHigh).toBeGreaterThan(pagesBefore);
      // and after we free half of theirs, their pages (now ours, or still abandoned) serve allocations again
      for (const h of handles.filter((_, i) => i % 2 === 0)) heap.decref(h);
      const again: Handle[] = [];
      for (let i = 0; i < 10 * perPage; i++) again.push(heap.alloc(16));
      for (const h of [...handles.filter((_, i) => i % 2 === 1), ...mine, ...again]) heap.decref(h);
      expectClean(heap);
    });
  }

  // the allocator's randomized test (test/alloc.test.ts style, raw ABI): rounds of a worker that allocates whole
  // pages of a few classes and detaches, then the main thread frees some of its blocks and allocates more
  for (const { name, debug } of builds) {
    it(`${name}: randomized allocation after abandonment, seeded, exact accounting`, async () => {
      const heap = await freshHeap({ debug, maximumMiB: 256 });
      const x = heap.core.exports;
      const rand: () => number = rng(20261130 + (debug ? 0 : 1));
      const sizes = [16, 32, 48, 64, 96, 128, 200, 1000, 4000];
      const live = new Map<number, number>(); // address -> size
      const errors: string[] = [];
      const claim = (p: number, size: number, who: string) => {
        if (p === 0) { errors.push(`${who}: malloc(${size}) failed, error ${x.brc_last_error()}`); return; }
        if (live.has(p)) errors.push(`${who}: block 0x${p.toString(16)} handed out twice`);
        live.set(p, size);
      };
      for (let round = 0; round < 6; round++) {
        const plan: number[] = [];
        for (const size of sizes) {
          if (rand() < 0.3) continue;
          const probe = x.brc_malloc(size);
          const block = x.brc_usable_size(probe); // the size class's block
          x.brc_free(probe);
          const pages = 1 + Math.floor(rand() * 4);
          const count = pages * blocksPerPage(block) + (rand() < 0.5 ? Math.floor(rand() * 10) : 0);
          for (let i = 0; i < count; i++) plan.push(size);
        }
        const mailbox = new Int32Array(new SharedArrayBuffer(plan.length * 4));
        const { results } = await runWorkers<{ errors: string[]; detached: number }>(heap, 'abandon-scenarios', 1, { sizes: plan, mailbox });
        expect(results[0].errors).toEqual([]);
        expect(results[0].detached).toBe(0);
        plan.forEach((size, k) => claim(mailbox[k] >>> 0, size, `worker round ${round}`));
        // free a random share of theirs (cross-thread frees into abandoned pages), then allocate as much again
        const fraction = [0, 0.1, 0.5][Math.floor(rand() * 3)];
        for (let k = 0; k < plan.length; k++) {
          const p = mailbox[k] >>> 0;
          if (rand() < fraction) { x.brc_free(p); live.delete(p); }
        }
        for (let k = 0; k < plan.length + 1000; k++) {
          const size = plan.length > 0 && rand() < 0.8 ? plan[Math.floor(rand() * plan.length)] : sizes[Math.floor(rand() * sizes.length)];
          claim(x.brc_malloc(size) >>> 0, size, `main round ${round}`);
        }
        expect(errors).toEqual([]);
        expect(stat(heap.core, 'STAT_LIVE_BLOCKS')).toBe(live.size);
        expect(verify(heap.core)).toBe('ok');
      }
      for (const p of live.keys()) x.brc_free(p);
      expect(stat(heap.core, 'STAT_LIVE_BLOCKS')).toBe(0);
      expect(stat(heap.core, 'STAT_THREADS')).toBe(1);
      expect(verify(heap.core)).toBe('ok');
    }, 60_000);
  }
});

describe('issue 10.2: handles above 2 GiB', () => {
  const variants = [{ name: 'debug build', debug: true, checked: true }, { name: 'release build (the JS fast path)', debug: false, checked: true },
    { name: 'release build, unchecked mode', debug: false, checked: false }];
  for (const { name, debug, checked } of variants) {
    it(`${name}: an object at or above 2 GiB has a positive handle, (generation + 1) * 2^32 + address, that every call accepts`, async () => {
      const heap = await heapFor({ debug, checked, memory: { initialMiB: 16, maximumMiB: 4096 } });
      const G2 = 2 ** 31;
      // fill the memory below 2 GiB with raw blocks (not zeroed, so this touches only their page headers)
      const raw: number[] = [];
      for (let top = 0; top < G2;) {
        const p = heap.raw.brc_malloc(32 * MiB) >>> 0;
        expect(p).not.toBe(0);
        raw.push(p);
        top = p + 32 * MiB;
      }
      const a = heap.alloc(24, 2);
      const b = heap.alloc(8, 1);
      for (const h of [a, b]) {
        expect(h).toBeGreaterThan(0);
        expect(h >>> 0).toBeGreaterThanOrEqual(G2);
        expect(Number.isSafeInteger(h)).toBe(true);
        expect(h).toBe((heap.raw.brc_info_generation(h) + 1) * 2 ** 32 + (h >>> 0));
      }
      // every checked call
      heap.setRef(a, 0, b);
      heap.setRef(b, 0, a); // a cycle, undone below
      expect(heap.getRef(a, 0)).toBe(b);
      const loaded = heap.loadRef(a, 0);
      expect(loaded).toBe(b);
      expect(loaded).toBeGreaterThan(0);
      heap.decref(loaded);
      heap.incref(a);
      heap.incref(a);
      expect(heap.info(a).local).toBe(4); // ours, the slot of b, two more (the owner's fast path in the release build)
      heap.decref(a);
      heap.decref(a);
      expect(heap.info(a)).toMatchObject({ owner: 1, local: 2, slots: 2, bytes: 24 });
      heap.bytes(a).fill(5);
      expect(heap.view(a).getUint8(23)).toBe(5);
      heap.lock(a);
      expect(heap.tryLock(b)).toBe(true);
      heap.unlock(b);
      heap.unlock(a);
      expect(heap.withLock(a, () => heap.info(a).locked)).toBe(true);
      expect(await heap.withLockAsync(b, async () => heap.info(b).locked)).toBe(true);
      const weak = heap.weak(b);
      const upgraded = heap.upgrade(weak);
      expect(upgraded).toBe(b);
      heap.decref(upgraded);
      {
        using r = heap.ref(heap.loadRef(b, 0));
        expect(r.handle).toBe(a);
      }
      // another thread gets the same handles and uses them
      const thread = await heap.spawn(lifecycleWorker);
      heap.incref(a);
      await answer(thread, 'released', { op: 'release', handles: [a] });
      await thread.terminate();
      heap.setRef(b, 0, 0);
      heap.decref(b);
      heap.decref(a);
      expectClean(heap);
      // immortalize too (an immortal object is never freed: it stays live on purpose)
      const c = heap.alloc(0);
      expect(c >>> 0).toBeGreaterThanOrEqual(G2);
      heap.immortalize(c);
      expect(heap.info(c).immortal).toBe(true);
      for (const p of raw) heap.raw.brc_free(p);
      expectClean(heap, 1);
    }, 60_000);
  }
});

describe('issue 11.2: views across memory growth', () => {
  it('threaded build: bytes() and view() made before the memory grows stay valid; a worker\'s growth too', async () => {
    const heap = await heapFor({ memory: { initialMiB: 1, maximumMiB: 256 } });
    const a = heap.alloc(64);
    const bytes = heap.bytes(a), view = heap.view(a);
    bytes.fill(7);
    const before = heap.memory.buffer.byteLength;
    const big = Array.from({ length: 20 }, () => heap.alloc(MiB));
    expect(heap.memory.buffer.byteLength).toBeGreaterThan(before);
    expect(bytes.length).toBe(heap.bytes(a).length);
    expect(bytes[63]).toBe(7);
    view.setUint32(0, 0xdeadbeef, true); // old view writes, new view reads
    expect(heap.view(a).getUint32(0, true)).toBe(0xdeadbeef);
    heap.bytes(a)[8] = 9; // new view writes, old view reads
    expect(bytes[8]).toBe(9);
    expect(view.getUint8(8)).toBe(9);
    // a worker grows the memory; our old views still work, and a new view of its object reads what it wrote
    const thread = await heap.spawn(lifecycleWorker);
    const grown = heap.memory.buffer.byteLength;
    const { handles } = await answer<{ handles: Handle[] }>(thread, 'handles', { op: 'fill', count: 8, bytes: 4 * MiB });
    expect(heap.memory.buffer.byteLength).toBeGreaterThan(grown);
    expect(bytes[63]).toBe(7);
    const last = heap.bytes(handles[7]);
    expect(last.length).toBeGreaterThanOrEqual(4 * MiB);
    last[last.length - 1] = 1;
    expect(heap.view(handles[7]).getUint8(last.length - 1)).toBe(1);
    for (const h of [a, ...big, ...handles]) heap.decref(h);
    await thread.terminate();
    expectClean(heap);
  });

  it('single-thread build: the buffer is replaced when the memory grows; old views read as empty, new ones are valid', async () => {
    const heap = await heapFor({ shared: false, memory: { initialMiB: 1, maximumMiB: 256 } });
    expect(heap.shared).toBe(false);
    const a = heap.alloc(64);
    const bytes = heap.bytes(a);
    bytes.fill(7);
    const oldView = heap.view(a);
    const big = Array.from({ length: 20 }, () => heap.alloc(MiB));
    // old views: empty, never stale data
    expect(bytes.length).toBe(0);
    expect(bytes[0]).toBeUndefined();
    expect(oldView.buffer.byteLength).toBe(0); // its buffer is detached
    // new views: valid, with the data written before the growth
    const now = heap.bytes(a);
    expect(now.length).toBeGreaterThanOrEqual(64);
    expect(now[63]).toBe(7);
    heap.view(a).setUint32(0, 0xcafe, true);
    expect(heap.bytes(a)[0]).toBe(0xfe);
    for (const h of [a, ...big]) heap.decref(h);
    expectClean(heap);
  });

  // The README's rule for the single-thread build: views made before the memory grew are detached; a Uint8Array
  // then reads as empty, a DataView throws a TypeError; a new view works.
  it('single-thread build: views made before the growth are detached (a Uint8Array reads empty, a DataView throws), new ones work', async () => {
    const heap = await heapFor({ shared: false, memory: { initialMiB: 1, maximumMiB: 256 } });
    const a = heap.alloc(64);
    const view = heap.view(a);
    const bytes = heap.bytes(a);
    const big = Array.from({ length: 20 }, () => heap.alloc(MiB));
    expect(bytes.length).toBe(0);
    expect(bytes[0]).toBeUndefined();
    expect(() => view.getUint8(0)).toThrow(TypeError);
    heap.view(a).setUint8(0, 7);
    expect(heap.bytes(a)[0]).toBe(7);
    for (const h of [a, ...big]) heap.decref(h);
    expectClean(heap);
  });
});

describe('issue 11.3: zeroed payload', () => {
  for (const { name, debug } of builds) {
    it(`${name}: a block that held data (0xff to the end of bytes()) is all zero when allocated again`, async () => {
      const heap = await heapFor({ debug, memory: { initialMiB: 1, maximumMiB: 128 } });
      const sizes = [0, 1, 7, 8, 9, 15, 16, 17, 24, 31, 33, 48, 100, 127, 500, 1000, 4000, 20_000, LAYOUT.SMALL_MAX, 40_000, 100_000, 3 * MiB];
      const dirty: string[] = [];
      for (const slots of [0, 1, 3]) {
        for (const size of sizes) {
          const h = heap.alloc(size, slots);
          heap.bytes(h).fill(0xff);
          const address = h >>> 0;
          heap.decref(h);
          const again = heap.alloc(size, slots);
          if (size <= LAYOUT.SMALL_MAX) expect(again >>> 0, `alloc(${size}, ${slots}) reuses the block`).toBe(address);
          const b = heap.bytes(again);
          expect(b.length).toBeGreaterThanOrEqual(size);
          const at = b.findIndex((v) => v !== 0);
          if (at >= 0) dirty.push(`alloc(${size}, ${slots}): byte ${at} of ${b.length} is 0x${b[at].toString(16)}`);
          for (let i = 0; i < slots; i++) expect(heap.getRef(again, i)).toBe(0);
          heap.decref(again);
        }
      }
      expect(dirty).toEqual([]);
      expectClean(heap);
    });
  }

  it('a block freed by another thread (a remote free) is zeroed for its owner\'s next object', async () => {
    const heap = await heapFor();
    const thread = await heap.spawn(lifecycleWorker);
    const handles = Array.from({ length: 64 }, () => heap.alloc(40));
    for (const h of handles) heap.bytes(h).fill(0xff);
    const addresses = new Set(handles.map((h) => h >>> 0));
    await answer(thread, 'released', { op: 'release', handles });
    heap.collect(); // merge what it queued for us: the objects are freed here
    const again = Array.from({ length: 64 }, () => heap.alloc(40));
    expect(again.filter((h) => addresses.has(h >>> 0)).length).toBeGreaterThan(0);
    for (const h of again) expect(heap.bytes(h).every((v) => v === 0)).toBe(true);
    for (const h of again) heap.decref(h);
    await thread.terminate();
    expectClean(heap);
  });
});

describe('issue 11.4: payload alignment', () => {
  const cases = [{ name: 'debug build', debug: true, shared: true }, { name: 'release build', debug: false, shared: true },
    { name: 'single-thread build', debug: true, shared: false }];
  for (const { name, debug, shared } of cases) {
    it(`${name}: Float64Array and BigInt64Array over any payload, slot counts 0..9`, async () => {
      const heap = await heapFor({ debug, shared });
      const made: Handle[] = [];
      for (let slots = 0; slots <= 9; slots++) {
        for (const bytes of [0, 8, 16, 24, 40, 100]) {
          const h = heap.alloc(bytes, slots);
          made.push(h);
          const b = heap.bytes(h);
          expect(b.byteOffset % 8, `alloc(${bytes}, ${slots})`).toBe(0);
          expect(b.length % 8).toBe(0);
          const f64 = new Float64Array(b.buffer, b.byteOffset, b.length / 8);
          const i64 = new BigInt64Array(b.buffer, b.byteOffset, b.length / 8);
          expect(f64.length).toBeGreaterThanOrEqual(bytes / 8);
          for (let i = 0; i < f64.length; i++) f64[i] = slots + i / 2;
          for (let i = 0; i < f64.length; i++) expect(heap.view(h).getFloat64(i * 8, true)).toBe(slots + i / 2);
          if (i64.length > 0) {
            i64[i64.length - 1] = -(2n ** 62n) - BigInt(slots);
            expect(heap.view(h).getBigInt64(b.length - 8, true)).toBe(-(2n ** 62n) - BigInt(slots));
          }
          // the slots in front of the payload are untouched
          for (let i = 0; i < slots; i++) expect(heap.getRef(h, i)).toBe(0);
        }
      }
      heap.verify();
      for (const h of made) heap.decref(h);
      expectClean(heap);
    });
  }
});
