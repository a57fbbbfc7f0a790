// Saturation and immortality at their edges (issue 17). Two limits: the owner's local count (LOCAL_IMMORTAL: one
// more would wrap the u32, so it saturates there) and the shared count (SHARED_SATURATED = 2^27: the i32 word holds
// count << 3, so 2^28 would wrap). At each: just below, at and above; from the owner and from other threads; through
// the queue and through detach. Each time: the count saturates (immortal), nothing is freed early, nothing wraps.
// brc_debug_set_counts (debug build) puts a count anywhere without billions of increments.
import { describe, expect, it } from 'vitest';
import { freshHeap, runWorkers, stat, verify, type TestHeap } from './helpers/core.js';
import { info } from './helpers/info.js';
import { withSchedule } from './helpers/schedule.js';
import { LAYOUT, errorName, instantiateCore, type CoreInstance } from '../dist/index.js';

const SAT = LAYOUT.SHARED_SATURATED;
const IMMORTAL = LAYOUT.LOCAL_IMMORTAL;

async function secondThread(heap: TestHeap): Promise<CoreInstance> {
  const other = await instantiateCore(heap.module, heap.memory);
  expect(other.exports.brc_thread_attach()).toBeGreaterThan(0);
  return other;
}

const alive = (c: CoreInstance, obj: number) => errorName(c.exports.brc_validate(obj)) ?? 'OK';

/** An object of `c`'s with local count `local` and shared count `shared` (flags kept). */
function withCounts(c: CoreInstance, local: number, shared: number): number {
  const obj = c.exports.brc_alloc(8, 0);
  expect(c.exports.brc_debug_set_counts(obj, local, shared)).toBe(0);
  return obj;
}

describe('the owner at the local limit', () => {
  it('increments: below the limit they count, the one that would reach it saturates both counts', async () => {
    const heap = await freshHeap();
    const x = heap.core.exports;
    for (const local of [IMMORTAL - 3, IMMORTAL - 2]) {
      const obj = withCounts(heap.core, local, 0);
      x.brc_incref(obj);
      expect(info(heap.core, obj)).toMatchObject({ local: local + 1, shared: 0, immortal: false });
      x.brc_decref(obj);
      expect(info(heap.core, obj)).toMatchObject({ local, immortal: false });
      x.brc_debug_set_counts(obj, 1, 0);
      x.brc_decref(obj);
      expect(alive(heap.core, obj)).toBe('EFREED');
    }
    const edge = withCounts(heap.core, IMMORTAL - 1, 0);
    x.brc_incref(edge); // one more would wrap: immortal instead, visible in the shared count for every thread
    expect(info(heap.core, edge)).toMatchObject({ local: IMMORTAL, shared: SAT, immortal: true });
    const at = withCounts(heap.core, IMMORTAL, SAT);
    x.brc_incref(at);
    expect(info(heap.core, at)).toMatchObject({ local: IMMORTAL, shared: SAT, immortal: true });
    for (const obj of [edge, at]) {
      for (let i = 0; i < 5; i++) x.brc_decref(obj);
      expect(info(heap.core, obj)).toMatchObject({ local: IMMORTAL, shared: SAT, owner: heap.tid });
    }
    expect(stat(heap.core, 'STAT_LIVE_OBJECTS')).toBe(2);
    expect(verify(heap.core)).toBe('ok');
  });

  it('decrements: just below the limit they count, at the limit nothing changes', async () => {
    const heap = await freshHeap();
    const x = heap.core.exports;
    const below = withCounts(heap.core, IMMORTAL - 1, 0);
    x.brc_decref(below);
    expect(info(heap.core, below)).toMatchObject({ local: IMMORTAL - 2, immortal: false });
    const at = withCounts(heap.core, IMMORTAL, SAT);
    x.brc_decref(at);
    expect(info(heap.core, at)).toMatchObject({ local: IMMORTAL, immortal: true });
    x.brc_debug_set_counts(below, 2, 0);
    x.brc_decref(below);
    x.brc_decref(below);
    expect(alive(heap.core, below)).toBe('EFREED');
    expect(stat(heap.core, 'STAT_LIVE_OBJECTS')).toBe(1);
  });

  it('weak upgrades at both limits: the owner saturates like an increment, others stop at the limit', async () => {
    const heap = await freshHeap();
    const b = await secondThread(heap);
    const x = heap.core.exports;
    const cases = [
      { local: IMMORTAL - 2, shared: 0, by: heap.core, want: { local: IMMORTAL - 1, shared: 0, immortal: false } },
      { local: IMMORTAL - 1, shared: 0, by: heap.core, want: { local: IMMORTAL, shared: SAT, immortal: true } },
      { local: IMMORTAL, shared: SAT, by: heap.core, want: { local: IMMORTAL, shared: SAT, immortal: true } },
      { local: 1, shared: SAT - 2, by: b, want: { local: 1, shared: SAT - 1, immortal: false } },
      { local: 1, shared: SAT - 1, by: b, want: { local: 1, shared: SAT, immortal: true } },
      { local: 1, shared: SAT, by: b, want: { local: 1, shared: SAT, immortal: true } },
    ];
    for (const { local, shared, by, want } of cases) {
      const obj = withCounts(heap.core, local, shared);
      const weak = x.brc_weak(obj);
      expect(by.exports.brc_upgrade(weak)).toBe(obj);
      expect(info(heap.core, obj)).toMatchObject(want);
    }
    expect(verify(heap.core)).toBe('ok');
  });
});

describe('other threads at the shared limit', () => {
  it('increments: the one that reaches it saturates, later ones are taken back', async () => {
    const heap = await freshHeap();
    const b = await secondThread(heap);
    const cases: [number, number, boolean][] = [ // shared before, after one increment by another thread, immortal
      [SAT - 2, SAT - 1, false], [SAT - 1, SAT, true], [SAT, SAT, true], [SAT + 1, SAT + 1, true],
    ];
    for (const [before, after, immortal] of cases) {
      const obj = withCounts(heap.core, 1, before);
      b.exports.brc_incref(obj);
      expect(info(heap.core, obj)).toMatchObject({ shared: after, immortal, local: 1 });
    }
  });

  it('decrements: below the limit they count, at or above it nothing changes', async () => {
    const heap = await freshHeap();
    const b = await secondThread(heap);
    const cases: [number, number][] = [[SAT - 1, SAT - 2], [SAT, SAT], [SAT + 1, SAT + 1]];
    for (const [before, after] of cases) {
      const obj = withCounts(heap.core, 1, before);
      for (let i = 0; i < 3; i++) b.exports.brc_decref(obj);
      expect(info(heap.core, obj).shared).toBe(before === SAT - 1 ? SAT - 4 : after);
      expect(alive(heap.core, obj)).toBe('OK');
    }
  });

  it('immortal objects stay when every thread lets go, owner included', async () => {
    const heap = await freshHeap();
    const b = await secondThread(heap);
    const x = heap.core.exports;
    const obj = withCounts(heap.core, 1, SAT);
    x.brc_decref(obj); // the owner's last local reference: merged, the count kept
    expect(info(heap.core, obj)).toMatchObject({ owner: 0, merged: true, shared: SAT, immortal: true });
    for (let i = 0; i < 10; i++) b.exports.brc_decref(obj), x.brc_decref(obj);
    expect(alive(heap.core, obj)).toBe('OK');
    expect(verify(heap.core)).toBe('ok');
  });
});

describe('merges at the shared limit', () => {
  it('merge at zero: the count is kept as it is, below, at or above the limit', async () => {
    const heap = await freshHeap();
    for (const shared of [SAT - 1, SAT, SAT + 1]) {
      const obj = withCounts(heap.core, 1, shared);
      heap.core.exports.brc_decref(obj);
      expect(info(heap.core, obj)).toMatchObject({ merged: true, owner: 0, shared, immortal: shared >= SAT });
    }
  });

  // local counts the queue folds into the shared count: one reference (the queue's) goes with the merge
  const queuedLocals = [SAT, SAT + 1, SAT + 2, 2 ** 28 - 1, 2 ** 28, 2 ** 28 + 1, 2 ** 29, 2 ** 29 + 1, 2 ** 31, IMMORTAL - 1];
  it(`merge of a queued object with local counts from 2^27 to 2^32 - 2: saturated, never wrapped`, async () => {
    const heap = await freshHeap();
    const b = await secondThread(heap);
    const x = heap.core.exports;
    for (const local of queuedLocals) {
      const obj = withCounts(heap.core, local, 0);
      b.exports.brc_decref(obj); // shared 0: queued to the owner
      expect(info(heap.core, obj)).toMatchObject({ queued: true, local, shared: 0 });
      expect(x.brc_collect()).toBe(1);
      const want = Math.min(local - 1, SAT);
      expect(info(heap.core, obj), `local ${local}`).toMatchObject({ merged: true, queued: false, shared: want, immortal: want >= SAT });
      for (let i = 0; i < 3; i++) b.exports.brc_decref(obj);
      expect(alive(heap.core, obj), `local ${local}`).toBe('OK');
    }
    expect(verify(heap.core)).toBe('ok');
  });

  it('merge of a queued object just below the limit stays exact and mortal', async () => {
    const heap = await freshHeap();
    const b = await secondThread(heap);
    const obj = withCounts(heap.core, SAT - 1, 0);
    b.exports.brc_decref(obj);
    expect(heap.core.exports.brc_collect()).toBe(1);
    expect(info(heap.core, obj)).toMatchObject({ merged: true, shared: SAT - 2, immortal: false });
    b.exports.brc_debug_set_counts(obj, 0, 1);
    b.exports.brc_decref(obj);
    expect(alive(heap.core, obj)).toBe('EFREED');
  });

  it('detach folds local counts at and past the limit in: saturated, never wrapped, never freed', async () => {
    const heap = await freshHeap();
    const a = await secondThread(heap);
    const locals = [SAT - 1, SAT, 2 ** 28, 2 ** 29 + 1, IMMORTAL - 1];
    const objs = locals.map((local) => withCounts(a, local, 0));
    const immortal = a.exports.brc_alloc(8, 0);
    a.exports.brc_immortalize(immortal);
    expect(a.exports.brc_thread_detach()).toBe(0);
    locals.forEach((local, i) => {
      const want = Math.min(local, SAT);
      expect(info(heap.core, objs[i]), `local ${local}`).toMatchObject({ owner: 0, merged: true, shared: want, immortal: want >= SAT });
    });
    expect(info(heap.core, immortal)).toMatchObject({ owner: 0, merged: true, shared: SAT, immortal: true });
    for (const obj of [...objs, immortal]) for (let i = 0; i < 3; i++) heap.core.exports.brc_decref(obj);
    for (const obj of [...objs, immortal]) expect(alive(heap.core, obj)).toBe('OK');
    expect(info(heap.core, objs[0]).shared).toBe(SAT - 4);
    expect(verify(heap.core)).toBe('ok');
  });

  it('an increment taken back at saturation cannot make a merged immortal count mortal', () => withSchedule(async (s) => {
    const B = await s.actor('B');
    const obj = s.x.brc_alloc(8, 0); // the main thread owns it
    expect(s.x.brc_debug_set_counts(obj, 1, SAT)).toBe(0);
    B.arm('SP_INCREF_ADDED', obj);
    const inc = B.start('incref', obj); // adds one: SAT + 1, about to take it back
    await B.until('SP_INCREF_ADDED', inc);
    expect(info(s.heap.core, obj).shared).toBe(SAT + 1);
    s.x.brc_decref(obj); // the owner merges meanwhile: the count above the limit must stay as it is
    expect(info(s.heap.core, obj)).toMatchObject({ merged: true, shared: SAT + 1 });
    B.resume();
    await s.done(inc);
    expect(info(s.heap.core, obj)).toMatchObject({ shared: SAT, immortal: true });
    for (let i = 0; i < 3; i++) await B.call('decref', obj);
    expect(alive(s.heap.core, obj)).toBe('OK');
    await s.finish(1);
  }));
});

describe('threads racing across the shared limit', () => {
  it('3 workers and the owner: the count saturates once, ends exactly at the limit, and the object lives', async () => {
    const heap = await freshHeap();
    const x = heap.core.exports;
    const obj = withCounts(heap.core, 1, SAT - 10);
    const run = runWorkers<{ detached: number }>(heap, 'rc-scenarios', 3, { scenario: 'saturate', obj, increments: 2000 });
    for (let i = 0; i < 2000; i++) x.brc_incref(obj); // the owner's local count meanwhile
    for (let i = 0; i < 2000; i++) x.brc_decref(obj);
    const { results } = await run;
    expect(results.map((r) => r.detached)).toEqual([0, 0, 0]);
    expect(info(heap.core, obj)).toMatchObject({ shared: SAT, immortal: true, local: 1 });
    x.brc_decref(obj);
    expect(info(heap.core, obj)).toMatchObject({ merged: true, shared: SAT, immortal: true });
    expect(alive(heap.core, obj)).toBe('OK');
    expect(verify(heap.core)).toBe('ok');
  });
});
