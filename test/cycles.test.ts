// Cycle collection (issue: cycles, weak references, stale handles): every object that only other objects' slots
// keep alive is freed, cycles included, whichever threads own or reference them; everything a root reaches stays.
import { describe, expect, it } from 'vitest';
import { Heap, BrcError, type HeapThread } from 'biasrc';
import { expectClean, heapsClosedAfterEach, reply, spawnReady as spawnWorker } from './helpers/heaps.js';

const workerUrl = new URL('./fixtures/cycles-worker.mjs', import.meta.url);
const heapFor = heapsClosedAfterEach({ memory: { initialMiB: 4, maximumMiB: 512 } });
/** Sends a command to a cycles-worker and resolves with its reply. */
const ask = <T = Record<string, unknown>>(thread: HeapThread, message: Record<string, unknown>) => reply<T>(thread, message, (m) => m?.ready || m?.busy);
const spawnReady = (heap: Heap) => spawnWorker(heap, workerUrl);

/** A ring of `n` objects (slot 0 of each names the next), with no reference held outside it. */
function ring(heap: Heap, n: number): void {
  const first = heap.alloc(8, 1);
  let prev = first;
  for (let i = 1; i < n; i++) {
    const next = heap.alloc(8, 1);
    heap.setRef(prev, 0, next);
    heap.decref(next);
    prev = next;
  }
  heap.setRef(prev, 0, first);
  heap.decref(first);
}

describe.each([{ debug: true }, { debug: false }])('one thread (debug: $debug)', ({ debug }) => {
  it('a cycle of two is freed; the collection says how many, and the statistics count it', async () => {
    const heap = await heapFor({ debug });
    const a = heap.alloc(8, 1), b = heap.alloc(8, 1);
    heap.setRef(a, 0, b);
    heap.setRef(b, 0, a);
    heap.decref(a);
    heap.decref(b);
    expect(heap.stats().liveObjects).toBe(2); // reference counting alone never frees them
    expect(heap.collectCycles()).toBe(2);
    const stats = heap.stats();
    expect(stats).toMatchObject({ liveObjects: 0, collections: 1, collectedFreed: 2, collectedScanned: 2 });
    expect(stats.longestPauseUs).toBeGreaterThanOrEqual(0);
    expectClean(heap);
  });

  it('large objects and sparse pages: exactly the garbage goes, also from blocks reused in pages the garbage left', async () => {
    const heap = await heapFor({ debug, memory: { initialMiB: 4, maximumMiB: 512 } });
    // a large object held from outside, whose slot keeps a small one alive; a cycle through another large object
    const big = heap.alloc(100_000, 1), small = heap.alloc(8);
    heap.setRef(big, 0, small);
    heap.decref(small);
    const cycle = (bytes: number, otherBytes = bytes) => {
      const a = heap.alloc(bytes, 1), b = heap.alloc(otherBytes, 1);
      heap.setRef(a, 0, b);
      heap.setRef(b, 0, a);
      heap.decref(a);
      heap.decref(b);
    };
    cycle(60_000, 8);
    // pages of one size class, mostly garbage, a few held objects spread over them, the last object made among
    // them: a walk that leaves a page once it has seen all its live objects must not leave before those
    const held: number[] = [];
    let garbage = 2;
    for (let i = 0; i < 3000; i++) {
      if (i % 97 === 0 || i === 2999) held.push(heap.alloc(40, 1));
      else { cycle(40); garbage += 2; }
    }
    expect(heap.collectCycles()).toBe(garbage);
    expect(heap.getRef(big, 0) >>> 0).toBe(small >>> 0);
    for (const h of held) expect(heap.info(h).local).toBe(1);
    expect(heap.stats({ exact: true }).liveObjects).toBe(2 + held.length);
    // the same pages again, now sparse: new garbage and new held objects land in the blocks the garbage left
    for (let i = 0; i < 500; i++) {
      if (i % 50 === 49) held.push(heap.alloc(40, 1));
      else cycle(40);
    }
    expect(heap.collectCycles()).toBe(2 * 490);
    expect(heap.stats({ exact: true }).liveObjects).toBe(2 + held.length);
    heap.verify();
    for (const h of [big, ...held]) heap.decref(h);
    expectClean(heap);
  });

  it('what a root reaches stays: held objects, their cycles, and chains into cycles; the rest goes', async () => {
    const heap = await heapFor({ debug });
    const root = heap.alloc(8, 2);
    const c1 = heap.alloc(8, 1), c2 = heap.alloc(8, 1);
    heap.setRef(c1, 0, c2);
    heap.setRef(c2, 0, c1);
    heap.setRef(root, 0, c1); // root -> c1 <-> c2: reachable
    heap.decref(c1);
    heap.decref(c2);
    const self = heap.alloc(8, 1);
    heap.setRef(self, 0, self);
    heap.decref(self); // a self-cycle: garbage
    const live = heap.alloc(8);
    const g = heap.alloc(8, 1);
    heap.setRef(g, 0, g);
    const g2 = heap.alloc(8, 1);
    heap.setRef(g, 0, g2);
    heap.setRef(g2, 0, g);
    heap.setRef(root, 1, live); // live: held by root and by us
    heap.decref(g);
    heap.decref(g2); // g <-> g2: garbage
    expect(heap.collectCycles()).toBe(3);
    expect(heap.info(root).slots).toBe(2);
    expect(heap.getRef(heap.getRef(root, 0), 0)).toBe(heap.getRef(root, 0) === c1 ? c2 : c1);
    expect(heap.info(live).shared + heap.info(live).local).toBe(2);
    heap.decref(root); // now c1 <-> c2 are garbage too; live keeps our reference
    expect(heap.collectCycles()).toBe(2);
    heap.decref(live);
    expectClean(heap);
  });

  it('references from garbage to live objects are released; weak references to garbage are cleared first', async () => {
    const heap = await heapFor({ debug });
    const kept = heap.alloc(8);
    const a = heap.alloc(8, 2), b = heap.alloc(8, 1);
    heap.setRef(a, 0, b);
    heap.setRef(b, 0, a);
    heap.setRef(a, 1, kept);
    const weak = heap.weak(a);
    heap.decref(a);
    heap.decref(b);
    expect(heap.info(kept).local).toBe(2);
    expect(heap.collectCycles()).toBe(2);
    expect(heap.info(kept).local).toBe(1); // the garbage's reference went
    expect(heap.upgrade(weak)).toBe(0);
    expect(heap.stats().weakCells).toBe(0);
    heap.decref(kept);
    expectClean(heap);
  });

  it('immortal objects are roots; a collection with nothing to free frees nothing', async () => {
    const heap = await heapFor({ debug });
    const a = heap.alloc(8, 1);
    heap.setRef(a, 0, a);
    heap.immortalize(a);
    heap.decref(a);
    expect(heap.collectCycles()).toBe(0);
    expect(heap.collectCycles()).toBe(0);
    expect(heap.stats().liveObjects).toBe(1);
    heap.verify();
  });
}, 60_000);

describe('large and cross-thread', () => {
  it('a cycle of 1,000,000 objects is freed without recursion', async () => {
    const heap = await heapFor({ debug: false, memory: { initialMiB: 64, maximumMiB: 1024 } });
    ring(heap, 1_000_000);
    expect(heap.collectCycles()).toBe(1_000_000);
    expectClean(heap);
  }, 120_000);

  it('a cycle that spans objects owned by four threads is freed; the workers stay idle in their event loops', async () => {
    const heap = await heapFor();
    const workers = await Promise.all([spawnReady(heap), spawnReady(heap), spawnReady(heap)]);
    const made = await Promise.all(workers.map((w) => ask<{ handles: number[] }>(w, { op: 'make', count: 50 })));
    const mine = Array.from({ length: 50 }, () => heap.alloc(8, 1));
    // one ring through everybody's objects, in an order that alternates owners
    const all: number[] = [];
    for (let i = 0; i < 50; i++) all.push(mine[i], made[0].handles[i], made[1].handles[i], made[2].handles[i]);
    for (let i = 0; i < all.length; i++) heap.setRef(all[i], 0, all[(i + 1) % all.length]);
    for (const h of all) heap.decref(h); // the references the workers moved to us, and ours
    expect(heap.stats({ exact: true }).liveObjects).toBe(200);
    expect(heap.collectCycles()).toBe(200);
    expectClean(heap);
  });

  it('a thread asleep in a lock wait is held as it is, and takes its lock after the collection', async () => {
    const heap = await heapFor();
    const worker = await spawnReady(heap);
    const x = heap.alloc(8);
    ring(heap, 10);
    heap.lock(x);
    const reply = ask(worker, { op: 'lockThenUnlock', handle: x });
    // wait (counting polls, not time) until the worker sleeps in its lock wait: parked, outside any operation
    for (let polls = 0; heap.raw.brc_thread_stop_state(worker.tid) !== heap.layout.STOP_ASLEEP; polls++) {
      expect(polls).toBeLessThan(1_000_000);
      await new Promise((r) => setTimeout(r, 0));
    }
    expect(heap.collectCycles({ timeoutMs: 60_000 })).toBe(10); // it borrows the sleeper's rights
    heap.unlock(x);
    expect(await reply).toEqual({ done: true });
    heap.decref(x);
    expectClean(heap);
  });

  it('mutators keep running on other threads across collections; everything is exact at the end', async () => {
    const heap = await heapFor();
    const workers = await Promise.all([spawnReady(heap), spawnReady(heap)]);
    const sync = new Int32Array(new SharedArrayBuffer(8));
    const runs = workers.map((w, i) => ask<{ made: number }>(w, { op: 'mutate', seed: 1000 + i, rounds: 400, sync, parties: 2 }));
    let freed = 0, collections = 0, done = false;
    void Promise.all(runs).then(() => { done = true; });
    while (!done) {
      freed += heap.collectCycles({ timeoutMs: 60_000 });
      collections++;
      await new Promise((r) => setTimeout(r, 1));
    }
    const made = (await Promise.all(runs)).reduce((n, r) => n + r.made, 0);
    freed += heap.collectCycles();
    expect(collections).toBeGreaterThan(0);
    expect(heap.stats().objectsAllocated).toBe(made);
    expect(heap.stats({ exact: true }).liveObjects).toBe(0);
    expect(freed).toBeLessThanOrEqual(made);
    heap.verify();
  }, 120_000);

  it('a thread that reaches no safe point makes the collection ETIMEDOUT, with nothing changed; it succeeds later', async () => {
    const heap = await heapFor();
    const worker = await spawnReady(heap);
    ring(heap, 5);
    const flag = new Int32Array(new SharedArrayBuffer(4));
    const busy = ask(worker, { op: 'busy', flag });
    await new Promise<void>((resolve) => {
      const onMessage = (m: any) => { if (m?.busy) { worker.off('message', onMessage); resolve(); } };
      worker.on('message', onMessage);
    });
    let caught: unknown;
    try { heap.collectCycles({ timeoutMs: 100 }); } catch (e) { caught = e; }
    expect(caught).toBeInstanceOf(BrcError);
    expect((caught as BrcError).code).toBe('ETIMEDOUT');
    expect((caught as BrcError).message).toMatch(/thread \d+ did not reach a safe point/);
    expect(heap.stats().liveObjects).toBe(5);
    Atomics.store(flag, 0, 1);
    await busy;
    expect(heap.collectCycles()).toBe(5);
    expectClean(heap);
  });

  it('a worker killed while a collection waits for it: the collection goes on (the watchdog detaches it)', async () => {
    const heap = await heapFor();
    const [collector, victim] = await Promise.all([spawnReady(heap), spawnReady(heap)]);
    ring(heap, 7);
    const flag = new Int32Array(new SharedArrayBuffer(4));
    void ask(victim, { op: 'busy', flag }); // never answers: it is killed
    await new Promise<void>((resolve) => {
      const onMessage = (m: any) => { if (m?.busy) { victim.off('message', onMessage); resolve(); } };
      victim.on('message', onMessage);
    });
    // the collector (a worker: this thread must stay free to terminate the victim) waits for the busy victim...
    const collected = ask<{ freed?: number; error?: string }>(collector, { op: 'collect', timeoutMs: 60_000 });
    await new Promise((r) => setTimeout(r, 20));
    await victim.terminate(); // outside any operation: a safe point for termination, never one for the pause
    expect(await collected).toEqual({ freed: 7 });
    expectClean(heap);
  });
});

describe('automatic collection', () => {
  it('with a threshold, a collection runs by itself after that many allocations', async () => {
    const heap = await heapFor({ cycles: { threshold: 2000 } });
    for (let i = 0; i < 300; i++) ring(heap, 10);
    await new Promise((r) => setTimeout(r, 10)); // it runs at the next turn of the event loop
    expect(heap.stats().collections).toBeGreaterThan(0);
    heap.collectCycles();
    expectClean(heap);
  });

  it('without one (the default), nothing runs by itself', async () => {
    const heap = await heapFor();
    for (let i = 0; i < 300; i++) ring(heap, 10);
    await new Promise((r) => setTimeout(r, 10));
    expect(heap.stats().collections).toBe(0);
    expect(heap.collectCycles()).toBe(3000);
  });
});
