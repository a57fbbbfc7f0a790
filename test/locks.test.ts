// Object locks (issues 10 and 11): a dead worker's lock never hangs its spawner; freeing an object one holds locked;
// re-locking is EDEADLK at once; async critical sections on many threads. Threads start on a barrier; nothing here
// depends on timing.
import { describe, expect, it } from 'vitest';
import { BrcError } from 'biasrc';
// @ts-expect-error: a plain .mjs helper without types
import { barrier } from '../scripts/lib/threads.mjs';
import {
  answer, expectClean, expectCode, fixture, heapsClosedAfterEach, jsonLines, lifecycleWorker, lockTable, runNode,
} from './helpers/heaps.js';

const heapFor = heapsClosedAfterEach();
const builds = [{ name: 'debug build', debug: true }, { name: 'release build', debug: false }];

describe('issue 10.3: a dead worker\'s lock never hangs the thread that spawned it', () => {
  // In a child process: if the fix regressed, its main thread would sleep forever in lock(), which must not hang
  // the test runner. The worker ends only once the main thread sleeps in lock() (it sees LINK_WAITERS set).
  for (const { name, debug } of builds) {
    // force: held inside an operation at a schedule point, which only the debug build has (a release thread has no
    // wait inside an operation left that is not a boundary or a park: both are safe points)
    const forced = debug ? ', terminate({ force: true }) inside an operation' : '';
    it(`${name}: process.exit, an uncaught exception, a normal end${forced}`, async () => {
      const cases = ['exit', 'throw', 'normal', ...(debug ? ['force'] : [])];
      const run = await runNode(fixture('dead-lock-main.mjs'), [debug ? 'debug' : 'release', ...cases]);
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      const results = jsonLines(run).filter((r) => 'returned' in r);
      expect(results.map((r) => r.how)).toEqual(cases);
      for (const r of results) {
        // lock() returned; the worker was detached (its tid free) and nothing is left
        expect(r, r.how).toMatchObject({ debug, returned: true, threads: 1, liveObjects: 0, orphans: 0 });
      }
      expect(results.find((r) => r.how === 'throw').errors).toEqual(['lifecycle worker 2: thrown on purpose']);
      expect(results.find((r) => r.how === 'throw').code).toBe(1);
      // terminate() without force refused the worker stuck inside an operation; force ended it there
      if (debug) expect(jsonLines(run).find((r) => r.how === 'force' && 'refused' in r)).toEqual({ how: 'force', refused: 'ETIMEDOUT', inOp: true });
    }, 120_000);
  }
});

describe('issue 10.4: freeing an object one holds locked', () => {
  for (const { name, debug } of builds) {
    it(`${name}, checked mode: withLock(x, () => decref(x)) on the last reference is EBUSY and changes nothing`, async () => {
      const heap = await heapFor({ debug });
      const x = heap.alloc(8, 1);
      const child = heap.alloc(4);
      heap.setRef(x, 0, child);
      heap.decref(child);
      heap.view(x).setUint32(0, 0xabcd, true);
      const before = { info: heap.info(x), stats: heap.stats({ exact: true }) };
      let inside: unknown;
      const error = expectCode(() => heap.withLock(x, () => {
        try {
          heap.decref(x);
        } finally {
          inside = { info: heap.info(x), holds: heap.raw.brc_holds_lock(x), table: lockTable(heap, heap.tid) };
        }
      }), 'EBUSY', /^decref\(handle 0x[0-9a-f]+\): the last reference to an object this thread holds locked; unlock it first/);
      expect(error.handle).toBe(x);
      // still ours, still locked, still counted once, inside the section; unlocked by withLock after it
      expect(inside).toEqual({ info: { ...before.info, locked: true }, holds: 1, table: [x >>> 0] });
      expect(heap.info(x)).toEqual(before.info);
      expect(heap.getRef(x, 0)).toBe(child);
      expect(heap.view(x).getUint32(0, true)).toBe(0xabcd);
      const after = heap.stats({ exact: true });
      expect({ live: after.liveObjects, freed: after.objectsFreed }).toEqual({ live: before.stats.liveObjects, freed: before.stats.objectsFreed });
      expect(lockTable(heap, heap.tid)).toEqual([]);
      // a decref that does not free is allowed while locked
      heap.incref(x);
      heap.withLock(x, () => heap.decref(x));
      expect(heap.info(x).local).toBe(1);
      heap.decref(x);
      expectClean(heap);
    });
  }

  const variants = [
    { name: 'release build, unchecked mode', debug: false, checked: false, raw: false },
    { name: 'release build, raw brc_decref', debug: false, checked: true, raw: true },
    { name: 'debug build, raw brc_decref', debug: true, checked: true, raw: true },
  ];
  for (const { name, debug, checked, raw } of variants) {
    for (const end of ['normal', 'terminate'] as const) {
      it(`${name}: the free takes the lock with it; the block's next object is not unlocked by the worker's ${end === 'normal' ? 'own detach' : 'detach after terminate()'}`, async () => {
        const heap = await heapFor({ debug, checked });
        const thread = await heap.spawn(lifecycleWorker);
        const { x, y } = await answer<{ x: number; y: number }>(thread, 'x', { op: 'freeLocked', bytes: 24, raw });
        expect(y >>> 0).toBe(x >>> 0); // the same block
        expect(y).not.toBe(x); // a new generation: the handles differ
        expect(lockTable(heap, thread.tid)).toEqual([]); // the free took x's lock out of the worker's table
        expect(heap.info(y)).toMatchObject({ owner: thread.tid, local: 1, locked: false });
        heap.lock(y); // y is ours to lock (we hold the reference the worker moved to us)
        if (end === 'normal') await answer(thread, 'ending', { op: 'end', end: 'normal' });
        else await thread.terminate();
        await thread.exited;
        expect(heap.stats().threads).toBe(1);
        expect(heap.info(y).locked).toBe(true); // the worker's detach released nothing of ours
        expect(lockTable(heap, heap.tid)).toEqual([y >>> 0]);
        expect(heap.tryLock(y)).toBe(false);
        heap.unlock(y);
        expect(heap.info(y).locked).toBe(false);
        heap.decref(y);
        expectClean(heap);
      });
    }
  }
});

describe('issue 10.4: the last reference to an object another thread owns, released while locked (checked mode)', () => {
  // Checked decref refuses (EBUSY) only a decrement that frees the object at once. When another thread owns it,
  // the decrement is queued for the owner, and the owner frees it in its next merge while we still hold the lock:
  // the block then waits, locked, for our unlock, which frees it. (It used to trap the owner in the debug build,
  // and leave the block locked for good in the release build, since a checked unlock refused the freed handle.)
  for (const { name, debug } of builds) {
    it(`${name}: the owner does not fail, our unlock works, nothing is left`, async () => {
      const heap = await heapFor({ debug });
      const thread = await heap.spawn(lifecycleWorker);
      const errors: string[] = [];
      thread.on('error', (e) => errors.push(String(e)));
      const { handles: [x] } = await answer<{ handles: number[] }>(thread, 'handles', { op: 'fill', count: 1, bytes: 8 });
      heap.lock(x);
      let refused = false;
      try {
        heap.decref(x); // our reference is the only one
      } catch (error) {
        if ((error as BrcError).code !== 'EBUSY') throw error;
        refused = true;
      }
      await Promise.race([answer(thread, 'collected', { op: 'collect' }), thread.exited]); // the owner merges
      const crashed = [...errors];
      let unlocked: string = 'ok';
      try { heap.unlock(x); } catch (error) { unlocked = (error as BrcError).code; }
      if (unlocked !== 'ok') heap.raw.brc_unlock(x); // so that the heap is left clean for the next test
      if (refused) heap.decref(x);
      await thread.terminate();
      expect({ crashed, unlocked }).toEqual({ crashed: [], unlocked: 'ok' });
      expectClean(heap);
    });
  }
});

describe('issue 11.1: locks never hang silently', () => {
  for (const { name, debug } of builds) {
    it(`${name}: lock or withLock of an object this thread holds is EDEADLK at once; tryLock says false`, async () => {
      const heap = await heapFor({ debug });
      const a = heap.alloc(8);
      heap.lock(a);
      expectCode(() => heap.lock(a), 'EDEADLK', /^lock\(handle 0x[0-9a-f]+\): this thread already holds this lock/);
      expectCode(() => heap.withLock(a, () => 1), 'EDEADLK', /^withLock\(handle 0x[0-9a-f]+\): this thread already holds this lock/);
      expect(heap.tryLock(a)).toBe(false);
      expect(lockTable(heap, heap.tid)).toEqual([a >>> 0]); // held once, whatever was tried
      heap.unlock(a);
      expect(heap.info(a).locked).toBe(false);
      expectCode(() => heap.unlock(a), 'ENOTLOCKED');
      // nested: the inner withLock fails at once, the outer one still unlocks
      expectCode(() => heap.withLock(a, () => heap.withLock(a, () => 0)), 'EDEADLK');
      expect(heap.info(a).locked).toBe(false);
      // an async section holding it: a synchronous lock from the same thread is EDEADLK too, not a hang
      let release!: () => void;
      const section = heap.withLockAsync(a, () => new Promise<string>((r) => { release = () => r('done'); }));
      await new Promise((r) => setTimeout(r, 0));
      expect(heap.info(a).locked).toBe(true);
      expectCode(() => heap.lock(a), 'EDEADLK');
      expect(heap.tryLock(a)).toBe(false);
      release();
      expect(await section).toBe('done');
      expect(heap.info(a).locked).toBe(false);
      heap.decref(a);
      expectClean(heap);
    });

    it(`${name}: in a worker, re-locking is EDEADLK at once too`, async () => {
      const heap = await heapFor({ debug });
      const thread = await heap.spawn(lifecycleWorker);
      const a = heap.alloc(8);
      const { lockTwice } = await answer(thread, 'lockTwice', { op: 'errors', handle: a });
      expect(lockTwice).toMatchObject({ brc: true, code: 'EDEADLK' });
      expect(heap.info(a).locked).toBe(false);
      await thread.terminate();
      heap.decref(a);
      expectClean(heap);
    });
  }

  it('withLock given an async function is withLockAsync: same-thread sections queue behind each other, never overlap', async () => {
    const heap = await heapFor();
    const a = heap.alloc(8);
    let inside = 0, most = 0;
    const section = (i: number) => async () => {
      inside++;
      most = Math.max(most, inside);
      expect(heap.info(a).locked).toBe(true);
      await new Promise((r) => setTimeout(r, 0));
      await null;
      inside--;
      return i;
    };
    // async functions, and a plain function returning a promise (a thenable), mixed with withLockAsync
    const results = await Promise.all([
      heap.withLock(a, section(0)),
      heap.withLock(a, section(1)),
      heap.withLockAsync(a, section(2)),
      heap.withLock(a, () => section(3)()),
      heap.withLock(a, section(4)),
    ]);
    expect(results).toEqual([0, 1, 2, 3, 4]);
    expect(most).toBe(1);
    expect(heap.info(a).locked).toBe(false);
    // a rejected section unlocks too, and the next one runs
    await expect(heap.withLock(a, async () => { throw new Error('inside'); })).rejects.toThrow('inside');
    expect(heap.info(a).locked).toBe(false);
    expect(await heap.withLock(a, async () => 'after')).toBe('after');
    heap.decref(a);
    expectClean(heap);
  });

  for (const { name, debug } of builds) {
    it(`${name}: many interleaved async sections on the main thread and 3 workers, one object: an exact counter`, async () => {
      const heap = await heapFor({ debug });
      const threads = await Promise.all([1, 2, 3].map(() => heap.spawn(lifecycleWorker)));
      const a = heap.alloc(8);
      const sections = 150;
      const b = new Int32Array(new SharedArrayBuffer(8));
      const replies = threads.map((t) => answer<{ done: number }>(t, 'done', { op: 'asyncSections', handle: a, sections, barrier: b, parties: 4 }));
      barrier(b, 4);
      let inside = 0, most = 0;
      const one = () => heap.withLockAsync(a, async () => {
        inside++;
        most = Math.max(most, inside);
        const v = heap.view(a);
        const before = v.getUint32(0, true);
        await new Promise((r) => setTimeout(r, 0)); // the other threads' sections run meanwhile if we do not exclude them
        v.setUint32(0, before + 1, true);
        await null;
        inside--;
      });
      await Promise.all(Array.from({ length: sections }, one));
      const done = await Promise.all(replies);
      expect(done.map((d) => d.done)).toEqual([sections, sections, sections]);
      expect(most).toBe(1);
      expect(heap.view(a).getUint32(0, true)).toBe(4 * sections);
      expect(heap.info(a).locked).toBe(false);
      for (const t of threads) await t.terminate();
      heap.decref(a);
      expectClean(heap);
    }, 60_000);
  }

  it('single-thread build: async sections queue too, and re-locking is EDEADLK', async () => {
    const heap = await heapFor({ shared: false });
    const a = heap.alloc(8);
    let inside = 0, most = 0;
    const section = async () => {
      inside++;
      most = Math.max(most, inside);
      await new Promise((r) => setTimeout(r, 0));
      heap.view(a).setUint32(0, heap.view(a).getUint32(0, true) + 1, true);
      inside--;
    };
    await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? heap.withLock(a, section) : heap.withLockAsync(a, section))));
    expect(most).toBe(1);
    expect(heap.view(a).getUint32(0, true)).toBe(20);
    heap.lock(a);
    expectCode(() => heap.lock(a), 'EDEADLK');
    heap.unlock(a);
    heap.decref(a);
    expectClean(heap);
  });

  it('a BrcError, not a hang, for withLockAsync of a handle that is not an object', async () => {
    const heap = await heapFor();
    await expect(heap.withLockAsync(16, async () => 0)).rejects.toBeInstanceOf(BrcError);
    expectClean(heap);
  });
});

