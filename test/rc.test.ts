// The biased reference counting core (issue: BRC core). Single-thread paths first: several instances attached in
// one JS thread act as separate biasrc threads, which makes every cross-thread path deterministic. Then real
// worker threads started on a barrier. Every test ends with live objects back to zero and verify() clean.
import { describe, expect, it } from 'vitest';
import { freshHeap, runWorkers, stat, verify, type TestHeap } from './helpers/core.js';
import { info } from './helpers/info.js';
import { LAYOUT, errorName, instantiateCore, type CoreInstance } from '../dist/index.js';

async function secondThread(heap: TestHeap): Promise<CoreInstance> {
  const other = await instantiateCore(heap.module, heap.memory);
  expect(other.exports.brc_thread_attach()).toBeGreaterThan(0);
  return other;
}

function expectClean(heap: TestHeap, liveObjects = 0) {
  expect(stat(heap.core, 'STAT_LIVE_OBJECTS')).toBe(liveObjects);
  expect(stat(heap.core, 'STAT_OBJECTS_FREED')).toBe(stat(heap.core, 'STAT_OBJECTS_ALLOCATED') - liveObjects);
  expect(verify(heap.core)).toBe('ok');
}

const freed = (c: CoreInstance, obj: number) => errorName(c.exports.brc_validate(obj));

describe('biased counting, one thread', () => {
  it('owner path: plain local counts, freed when the last reference goes', async () => {
    const heap = await freshHeap();
    const x = heap.core.exports;
    const a = x.brc_alloc(10, 0);
    expect(info(heap.core, a)).toMatchObject({ owner: heap.tid, local: 1, shared: 0, queued: false, merged: false });
    x.brc_incref(a);
    x.brc_incref(a);
    expect(info(heap.core, a).local).toBe(3);
    x.brc_decref(a);
    x.brc_decref(a);
    expect(info(heap.core, a).local).toBe(1);
    expect(stat(heap.core, 'STAT_OWNER_INCREFS')).toBe(2); // debug build counts fast-path ops
    x.brc_decref(a);
    expect(freed(heap.core, a)).toBe('EFREED');
    expectClean(heap);
  });

  it('merge to shared: the owner lets go first, the other thread frees', async () => {
    const heap = await freshHeap();
    const b = await secondThread(heap);
    const x = heap.core.exports;
    const a = x.brc_alloc(0, 0);
    b.exports.brc_incref(a);
    expect(info(heap.core, a)).toMatchObject({ local: 1, shared: 1 });
    x.brc_decref(a); // local 0, shared 1: owner drops ownership and sets MERGED
    expect(info(heap.core, a)).toMatchObject({ owner: 0, local: 0, shared: 1, merged: true, queued: false });
    expect(verify(heap.core)).toBe('ok');
    b.exports.brc_decref(a);
    expect(freed(heap.core, a)).toBe('EFREED');
    expectClean(heap);
  });

  it('queue: a decrement below zero is queued once and merged by the owner', async () => {
    const heap = await freshHeap();
    const b = await secondThread(heap);
    const x = heap.core.exports;
    const a = x.brc_alloc(0, 0);
    x.brc_incref(a); // this reference moves to thread b
    b.exports.brc_decref(a); // shared would go to -1: QUEUED instead
    expect(info(heap.core, a)).toMatchObject({ owner: heap.tid, local: 2, shared: 0, queued: true });
    expect(x.brc_queue_pending()).toBe(1);
    expect(verify(heap.core)).toBe('ok');
    expect(x.brc_collect()).toBe(1);
    expect(info(heap.core, a)).toMatchObject({ owner: 0, local: 0, shared: 1, merged: true, queued: false });
    x.brc_decref(a);
    expect(freed(heap.core, a)).toBe('EFREED');
    expectClean(heap);
  });

  it('queued object whose owner let go meanwhile is freed by the merge', async () => {
    const heap = await freshHeap();
    const b = await secondThread(heap);
    const x = heap.core.exports;
    const a = x.brc_alloc(0, 0);
    x.brc_incref(a);
    b.exports.brc_decref(a); // queued
    x.brc_decref(a); // owner's last: local 2 -> 1, which is the queue's reference
    expect(freed(heap.core, a)).toBe(undefined);
    expect(x.brc_collect()).toBe(1); // 1 + 0 - 1 = 0: freed
    expect(freed(heap.core, a)).toBe('EFREED');
    expect(stat(heap.core, 'STAT_QUEUED')).toBe(1);
    expectClean(heap);
  });

  it('allocation is a safe point: it merges the queue', async () => {
    const heap = await freshHeap();
    const b = await secondThread(heap);
    const x = heap.core.exports;
    const objs = Array.from({ length: 100 }, () => { const o = x.brc_alloc(0, 0); x.brc_incref(o); return o; });
    for (const o of objs) b.exports.brc_decref(o);
    expect(x.brc_queue_pending()).toBe(1);
    const c = x.brc_alloc(0, 0);
    expect(x.brc_queue_pending()).toBe(0);
    for (const o of [...objs, c]) x.brc_decref(o);
    expectClean(heap);
  });

  it('immortal objects ignore every count change and are never freed', async () => {
    const heap = await freshHeap();
    const b = await secondThread(heap);
    const x = heap.core.exports;
    const a = x.brc_alloc(0, 0);
    x.brc_immortalize(a);
    for (let i = 0; i < 10; i++) x.brc_decref(a), b.exports.brc_decref(a), b.exports.brc_incref(a);
    expect(info(heap.core, a).immortal).toBe(true);
    expect(freed(heap.core, a)).toBe(undefined);
    const c = b.exports.brc_alloc(0, 0); // immortalized by a thread that does not own it
    x.brc_immortalize(c);
    for (let i = 0; i < 5; i++) b.exports.brc_decref(c), x.brc_decref(c);
    expect(freed(heap.core, c)).toBe(undefined);
    expectClean(heap, 2);
  });

  it('counts saturate into immortality instead of wrapping', async () => {
    const heap = await freshHeap();
    const b = await secondThread(heap);
    const x = heap.core.exports;
    const a = x.brc_alloc(0, 0);
    expect(x.brc_debug_set_counts(a, 0xfffffffe, 0)).toBe(0);
    x.brc_incref(a); // local reaches 0xffffffff: immortal
    expect(info(heap.core, a)).toMatchObject({ local: 0xffffffff, immortal: true });
    x.brc_decref(a);
    expect(info(heap.core, a).local).toBe(0xffffffff);
    const c = x.brc_alloc(0, 0);
    expect(x.brc_debug_set_counts(c, 1, LAYOUT.SHARED_SATURATED - 1)).toBe(0);
    b.exports.brc_incref(c); // shared reaches the saturation point
    b.exports.brc_incref(c);
    expect(info(heap.core, c)).toMatchObject({ shared: LAYOUT.SHARED_SATURATED, immortal: true });
    b.exports.brc_decref(c);
    x.brc_decref(c);
    expect(freed(heap.core, c)).toBe(undefined);
    expect(verify(heap.core)).toBe('ok');
  });

  it('slots: set_ref takes a reference and releases the old one; get_ref borrows; load_ref adds one', async () => {
    const heap = await freshHeap();
    const x = heap.core.exports;
    const parent = x.brc_alloc(8, 2), b = x.brc_alloc(8, 0), c = x.brc_alloc(8, 0);
    x.brc_set_ref(parent, 0, b);
    expect(info(heap.core, b).local).toBe(2);
    expect(x.brc_get_ref(parent, 0)).toBe(b);
    expect(info(heap.core, b).local).toBe(2);
    expect(x.brc_load_ref(parent, 0)).toBe(b);
    expect(info(heap.core, b).local).toBe(3);
    x.brc_decref(b);
    x.brc_decref(b); // only the slot holds b now
    x.brc_set_ref(parent, 1, c);
    x.brc_decref(c);
    x.brc_set_ref(parent, 1, b); // replaces c: c's last reference goes
    expect(freed(heap.core, c)).toBe('EFREED');
    expect(x.brc_load_ref(parent, 1)).toBe(b);
    x.brc_decref(b);
    expect(x.brc_get_ref(parent, 0)).toBe(b);
    x.brc_set_ref(parent, 0, 0);
    expect(x.brc_load_ref(parent, 0)).toBe(0);
    x.brc_decref(parent); // releases slot 1, which held b's last reference
    expect(freed(heap.core, b)).toBe('EFREED');
    expectClean(heap);
  });

  it('frees a chain of 1,000,000 objects in one go, without recursion', async () => {
    const heap = await freshHeap({ maximumMiB: 512 });
    const x = heap.core.exports;
    let head = 0;
    for (let i = 0; i < 1_000_000; i++) {
      const obj = x.brc_alloc(0, 1);
      if (head !== 0) { x.brc_set_ref(obj, 0, head); x.brc_decref(head); }
      head = obj;
    }
    expect(stat(heap.core, 'STAT_LIVE_OBJECTS')).toBe(1_000_000);
    x.brc_decref(head);
    expectClean(heap);
  });

  it('a chain that crosses threads frees segment by segment as each owner merges', async () => {
    const heap = await freshHeap({ maximumMiB: 512 });
    const b = await secondThread(heap);
    const build = (c: CoreInstance, n: number) => {
      const first = c.exports.brc_alloc(0, 1);
      let tail = first;
      for (let i = 1; i < n; i++) {
        const obj = c.exports.brc_alloc(0, 1);
        c.exports.brc_set_ref(tail, 0, obj);
        c.exports.brc_decref(obj);
        tail = obj;
      }
      return { first, tail };
    };
    const mine = build(heap.core, 300_000);
    const theirs = build(b, 300_000);
    b.exports.brc_set_ref(theirs.tail, 0, mine.first); // b's chain leads into ours
    heap.core.exports.brc_decref(mine.first);
    b.exports.brc_decref(theirs.first); // frees b's chain and our head; our second node is queued to us
    expect(stat(heap.core, 'STAT_LIVE_OBJECTS')).toBe(300_000 - 1);
    expect(heap.core.exports.brc_collect()).toBe(1);
    expectClean(heap);
  });

  it('lock, try_lock and unlock', async () => {
    const heap = await freshHeap();
    const b = await secondThread(heap);
    const x = heap.core.exports;
    const a = x.brc_alloc(0, 0);
    x.brc_lock(a);
    expect(x.brc_info_lock(a)).toBe(1);
    expect(errorName(b.exports.brc_try_lock(a))).toBe('EBUSY');
    expect(errorName(b.exports.brc_unlock(a))).toBe('ENOTLOCKED'); // b does not hold it
    expect(x.brc_unlock(a)).toBe(0);
    expect(b.exports.brc_try_lock(a)).toBe(0);
    expect(b.exports.brc_unlock(a)).toBe(0);
    expect(errorName(x.brc_unlock(a))).toBe('ENOTLOCKED');
    x.brc_decref(a);
    expectClean(heap);
  });

  it('bad allocations fail cleanly', async () => {
    const heap = await freshHeap({ maximumMiB: 16 });
    const x = heap.core.exports;
    expect(x.brc_alloc(8, 70_000)).toBe(0);
    expect(errorName(x.brc_last_error())).toBe('EINVAL');
    expect(x.brc_alloc(0x7fffffff, 0)).toBe(0);
    expect(errorName(x.brc_last_error())).toBe('EINVAL');
    expect(x.brc_alloc(64 * 1024 * 1024, 0)).toBe(0);
    expect(errorName(x.brc_last_error())).toBe('ENOMEM');
    expectClean(heap);
  });

  it('the debug build traps on a use after free and says why', async () => {
    const heap = await freshHeap();
    const x = heap.core.exports;
    const a = x.brc_alloc(0, 0);
    x.brc_decref(a);
    expect(() => x.brc_decref(a)).toThrow(WebAssembly.RuntimeError);
    expect(errorName(x.brc_last_error())).toBe('EFREED');
    expect(x.brc_last_error_address()).toBe(a);
    expectClean(heap);
  });

  it('verify finds a broken object', async () => {
    const heap = await freshHeap();
    const x = heap.core.exports;
    const a = x.brc_alloc(0, 0);
    new DataView(heap.memory.buffer).setUint32(a, 0, true); // owned, but local count 0
    expect(verify(heap.core)).toBe(`E_BIASED_NEGATIVE at 0x${a.toString(16)}`);
    new DataView(heap.memory.buffer).setUint32(a, 1, true);
    new DataView(heap.memory.buffer).setInt32(a + 8, 2, true); // MERGED while owned
    expect(verify(heap.core)).toBe(`E_MERGED_OWNED at 0x${a.toString(16)}`);
  });

  it('detach abandons the thread\'s objects: merged, tid 0, freed by whoever releases them last', async () => {
    const heap = await freshHeap();
    const b = await secondThread(heap);
    const x = heap.core.exports;
    const objs = Array.from({ length: 1000 }, (_, i) => {
      const o = b.exports.brc_alloc(8, 0); // b hands this reference to us
      if (i % 3 === 0) x.brc_decref(o); // released before b leaves: queued to b
      return o;
    });
    expect(b.exports.brc_queue_pending()).toBe(1);
    expect(b.exports.brc_thread_detach()).toBe(0); // drains the queue (frees those), abandons the rest
    expect(stat(heap.core, 'STAT_LIVE_OBJECTS')).toBe(666);
    const kept = objs.filter((_, i) => i % 3 !== 0);
    for (const o of kept) expect(info(heap.core, o)).toMatchObject({ owner: 0, merged: true, shared: 1 });
    expect(verify(heap.core)).toBe('ok');
    for (const o of kept) x.brc_decref(o);
    expectClean(heap);
  });

  it('detach on behalf of a dead thread', async () => {
    const heap = await freshHeap();
    const b = await secondThread(heap);
    const x = heap.core.exports;
    const o = b.exports.brc_alloc(8, 0);
    x.brc_incref(o);
    b.exports.brc_decref(o);
    const deadTid = b.exports.brc_thread_id();
    const generation = x.brc_thread_generation(deadTid);
    expect(errorName(x.brc_thread_detach_dead(heap.tid, x.brc_thread_generation(heap.tid)))).toBe('EINVAL'); // not ourselves
    expect(errorName(x.brc_thread_detach_dead(deadTid, generation + 1))).toBe('ENOTATTACHED'); // another incarnation
    // no generation is a wildcard: 0xffffffff (-1 from JavaScript) names no incarnation either
    expect(errorName(x.brc_thread_detach_dead(deadTid, 0xffffffff))).toBe('ENOTATTACHED');
    expect(errorName(x.brc_thread_detach_dead(deadTid, -1))).toBe('ENOTATTACHED');
    expect(x.brc_thread_state(deadTid)).toBe(LAYOUT.STATE_ACTIVE); // still attached, in the same incarnation
    expect(x.brc_thread_generation(deadTid)).toBe(generation);
    expect(stat(heap.core, 'STAT_THREADS')).toBe(2);
    expect(x.brc_thread_detach_dead(deadTid, generation)).toBe(0);
    expect(errorName(x.brc_thread_detach_dead(deadTid, generation))).toBe('ENOTATTACHED');
    x.brc_decref(o);
    expectClean(heap);
  });
});

describe('biased counting, threads on a barrier', () => {
  for (const workers of [2, 4]) {
    it(`${workers} threads hammer the counts of objects one thread owns`, async () => {
      const heap = await freshHeap();
      const objects = 2000;
      const mailbox = new Int32Array(new SharedArrayBuffer(objects * 4));
      const { results } = await runWorkers<{ merged: number; detached: number }>(heap, 'rc-scenarios', workers,
        { scenario: 'sharedCounts', objects, pairs: 100_000, mailbox, seed: 99 });
      expect(results.map((r) => r.detached)).toEqual(results.map(() => 0));
      expect(stat(heap.core, 'STAT_QUEUED')).toBeGreaterThan(0);
      expect(stat(heap.core, 'STAT_OBJECTS_ALLOCATED')).toBe(objects);
      expectClean(heap);
    });
  }

  it('objects travel round a ring of 4 workers', async () => {
    const heap = await freshHeap();
    const workers = 4, capacity = 64;
    const { results } = await runWorkers<{ released: number; forwarded: number; detached: number }>(heap, 'rc-scenarios', workers, {
      scenario: 'ring', perWorker: 5000, hops: 7, seed: 5,
      rings: new Int32Array(new SharedArrayBuffer(workers * (capacity + 2) * 4)),
      done: new Int32Array(new SharedArrayBuffer(4)),
    });
    expect(results.reduce((n, r) => n + r.released, 0)).toBe(20_000);
    expect(results.reduce((n, r) => n + r.forwarded, 0)).toBe(20_000 * 6);
    expect(stat(heap.core, 'STAT_OBJECTS_ALLOCATED')).toBe(20_000);
    expectClean(heap);
  });

  it('random graphs: set_ref and load_ref on the same slots from 3 workers', async () => {
    const heap = await freshHeap();
    const x = heap.core.exports;
    const roots = Array.from({ length: 8 }, () => x.brc_alloc(0, 4));
    const { results } = await runWorkers<{ loads: number; detached: number }>(heap, 'rc-scenarios', 3,
      { scenario: 'graph', roots, slots: 4, ops: 60_000, seed: 77 });
    expect(results.every((r) => r.detached === 0 && r.loads > 1000)).toBe(true);
    expect(verify(heap.core)).toBe('ok');
    for (const root of roots) x.brc_decref(root);
    x.brc_collect();
    expectClean(heap);
  });

  it('lock contention: a plain counter under the object lock comes out exact', async () => {
    const heap = await freshHeap();
    const x = heap.core.exports;
    const obj = x.brc_alloc(4, 0);
    await runWorkers(heap, 'rc-scenarios', 4, { scenario: 'lockCounter', obj, increments: 20_000 });
    expect(new Int32Array(heap.memory.buffer)[x.brc_payload(obj) >> 2]).toBe(80_000);
    expect(x.brc_info_lock(obj)).toBe(0);
    x.brc_decref(obj);
    expectClean(heap);
  });

  it('an owner blocked in a lock wait does not let its queue grow: it is merged on its behalf', async () => {
    const heap = await freshHeap();
    const x = heap.core.exports;
    const lockObj = x.brc_alloc(0, 0);
    expect(x.brc_try_lock(lockObj)).toBe(0); // held by us: the owner worker will block on it
    const objects = 500;
    const mailbox = new Int32Array(new SharedArrayBuffer(objects * 4));
    const state = new Int32Array(new SharedArrayBuffer(8));
    const parkedState = Number((heap.core.raw.STATE_PARKED as WebAssembly.Global).value);
    const run = runWorkers<{ queueWord: number; owner: number }>(heap, 'rc-scenarios', 2, {
      scenario: ['parkedOwner', 'releaseToParked'], objects, mailbox, lockObj, state, parkedState,
    });
    while (Atomics.load(state, 1) === 0) await new Promise((r) => setTimeout(r, 5)); // the helper is done
    const helpedWhileBlocked = stat(heap.core, 'STAT_HELPED_MERGES');
    const mergesWhileBlocked = stat(heap.core, 'STAT_MERGES');
    x.brc_unlock(lockObj);
    const { results } = await run;
    expect(results[1].queueWord).toBe(0); // the queue was drained while its owner slept
    expect(helpedWhileBlocked).toBeGreaterThan(0);
    expect(mergesWhileBlocked).toBeGreaterThanOrEqual(objects);
    x.brc_decref(lockObj);
    expectClean(heap);
  });

  for (const detach of [true, false]) {
    it(`a worker that ${detach ? 'detaches' : 'dies without detaching'}: its objects are abandoned and freed by others`, async () => {
      const heap = await freshHeap();
      const x = heap.core.exports;
      const objects = 3000;
      const mailbox = new Int32Array(new SharedArrayBuffer(objects * 4));
      const { results } = await runWorkers<{ tid: number; generation: number; detached: number }>(heap, 'rc-scenarios', 1,
        { scenario: 'allocateAndLeave', objects, mailbox, detach });
      if (!detach) expect(x.brc_thread_detach_dead(results[0].tid, results[0].generation)).toBe(0);
      expect(stat(heap.core, 'STAT_THREADS')).toBe(1);
      expect(verify(heap.core)).toBe('ok');
      for (const obj of mailbox) x.brc_decref(obj);
      expectClean(heap);
    });
  }
});
