// Holding the world (docs/ABI.md "Holding the world", docs/MODEL.md collect.pml): the calls that write shared state
// or wait honour a pause, only the thread that requested the world may poll or release it, and a thread that may not
// block never sleeps through the host's wait. Raw ABI, debug build; workers start on shared control words, and every
// wait for another thread is bounded by a count of polls, never by a clock deciding an assertion.
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { freshHeap, stat, verify, type TestHeap } from './helpers/core.js';
import { LAYOUT, errorName, instantiateCore, type CoreInstance } from '../dist/index.js';

const workerUrl = new URL('./workers/world-scenarios.mjs', import.meta.url);
const sleeper = new Int32Array(new SharedArrayBuffer(4));
/** About a millisecond: what a collector does between polls (src/collect.ts). */
const pauseBriefly = () => Atomics.wait(sleeper, 0, 0, 1);

interface Started<T> {
  worker: Worker;
  /** The one message the worker posts when its scenario ends. */
  result: Promise<T>;
}

function start<T>(heap: TestHeap, scenario: string, data: Record<string, unknown>): Started<T> {
  const worker = new Worker(workerUrl, { workerData: { module: heap.module, memory: heap.memory, scenario, ...data } });
  const result = new Promise<T>((resolve, reject) => {
    worker.once('message', (m) => resolve(m as T));
    worker.once('error', reject);
  });
  return { worker, result };
}

/** Polls `ready` (a cheap check), pausing between polls, at most `limit` times: true once it held. */
function pollUntil(ready: () => boolean, limit = 20_000): boolean {
  for (let polls = 0; polls < limit; polls++) {
    if (ready()) return true;
    pauseBriefly();
  }
  return ready();
}

/** The same, letting this thread's event loop run between polls (a worker's messages, its exit). */
async function pollUntilAsync(ready: () => boolean, limit = 20_000): Promise<boolean> {
  for (let polls = 0; polls < limit; polls++) {
    if (ready()) return true;
    await new Promise((r) => setTimeout(r, 1));
  }
  return ready();
}

function worldWord(heap: TestHeap): number {
  return Atomics.load(new Uint32Array(heap.memory.buffer), (LAYOUT.GLOBAL_BASE + LAYOUT.G_WORLD) >>> 2);
}

function expectClean(heap: TestHeap, liveObjects = 0) {
  expect(stat(heap.core, 'STAT_LIVE_OBJECTS')).toBe(liveObjects);
  expect(verify(heap.core)).toBe('ok');
}

describe('only the thread that requested the world polls or releases it', () => {
  it('a release or a poll by another thread (or without any request) is EINVAL and leaves G_WORLD as it was', async () => {
    const heap = await freshHeap();
    const a = heap.core.exports;
    const other: CoreInstance = await instantiateCore(heap.module, heap.memory);
    const b = other.exports;
    const btid = b.brc_thread_attach();
    expect(btid).toBeGreaterThan(0);
    const unattached = (await instantiateCore(heap.module, heap.memory)).exports;
    expect(unattached.brc_attach_memory()).toBe(0);

    // no request anywhere: nothing to poll or release
    expect(b.brc_world_poll()).toBe(-LAYOUT.EINVAL);
    expect(errorName(b.brc_last_error())).toBe('EINVAL');
    expect(worldWord(heap)).toBe(0);
    expect(b.brc_world_release(0)).toBe(LAYOUT.EINVAL);
    expect(worldWord(heap)).toBe(0);

    expect(a.brc_world_request()).toBe(0);
    const requested = worldWord(heap);
    expect(requested).toBe(heap.tid);
    // (b's own brc_world_request would now wait in its operation boundary for a's pause to end: b is paused)
    // the holder's poll names b (not acknowledged yet); b's own poll and release are refused
    expect(a.brc_world_poll()).toBe(btid);
    expect(b.brc_world_poll()).toBe(-LAYOUT.EINVAL);
    expect(b.brc_world_release(0)).toBe(LAYOUT.EINVAL);
    expect(unattached.brc_world_poll()).toBe(-LAYOUT.ENOTATTACHED);
    expect(unattached.brc_world_release(0)).toBe(LAYOUT.ENOTATTACHED);
    expect(worldWord(heap)).toBe(requested);

    expect(b.brc_safepoint()).toBe(1); // b acknowledges: now the world is held
    expect(a.brc_world_poll()).toBe(0);
    const held = worldWord(heap);
    expect(held).toBe((heap.tid | LAYOUT.WORLD_HELD) >>> 0);
    expect(b.brc_world_release(0)).toBe(LAYOUT.EINVAL);
    expect(b.brc_world_poll()).toBe(-LAYOUT.EINVAL);
    expect(worldWord(heap)).toBe(held);
    expect(a.brc_collect_cycles()).toBe(0);

    expect(a.brc_world_release(5)).toBe(0);
    expect(worldWord(heap)).toBe(0);
    expect(a.brc_world_release(0)).toBe(LAYOUT.EINVAL); // released already
    expect(stat(heap.core, 'STAT_LONGEST_PAUSE_US')).toBe(5);
    expect(b.brc_thread_detach()).toBe(0);
    expectClean(heap);
  });

  it('a holder may release after a request it gave up on (no poll returned 0)', async () => {
    const heap = await freshHeap();
    const a = heap.core.exports;
    const other = await instantiateCore(heap.module, heap.memory);
    expect(other.exports.brc_thread_attach()).toBeGreaterThan(0);
    expect(a.brc_world_request()).toBe(0);
    expect(a.brc_world_poll()).not.toBe(0);
    expect(a.brc_world_release(0)).toBe(0);
    expect(worldWord(heap)).toBe(0);
    expect(other.exports.brc_safepoint()).toBe(0); // the pause went with it
    expect(other.exports.brc_thread_detach()).toBe(0);
  });
});

describe('writers and waiters honour a pause', () => {
  it('brc_lock_wait_word after brc_safepoint waits for the pause to end: no link word changes while the world is held, and the async waiter is woken', async () => {
    const heap = await freshHeap();
    const x = heap.core.exports;
    const obj = x.brc_alloc(8, 0);
    expect(x.brc_try_lock(obj)).toBe(0); // held by this thread: the worker's wait word gets WAITERS
    const ctl = new Int32Array(new SharedArrayBuffer(32));
    const probe = new Int32Array(new SharedArrayBuffer(12));
    const w = start<{ tid: number; word: number; tryLock: number; detached: number }>(heap, 'waitWordInPause',
      { obj, ctl, probe, linkOffset: LAYOUT.H_LINK });
    expect(pollUntil(() => Atomics.load(ctl, 4) === 1)).toBe(true); // attached
    const wtid = x.brc_thread_state(2) === LAYOUT.STATE_ACTIVE ? 2 : 0;
    expect(wtid).toBe(2);
    const attention = x.brc_attention_address(wtid) >>> 0;

    expect(x.brc_world_request()).toBe(0);
    Atomics.store(ctl, 0, 1);
    Atomics.notify(ctl, 0);
    expect(pollUntil(() => x.brc_world_poll() === 0)).toBe(true); // the worker's brc_safepoint acknowledged
    // the worker now calls brc_lock_wait_word: wait until it returned, or sleeps on its attention word (the pause)
    const asleepInPause = () => Atomics.load(probe, 0) === attention && Atomics.load(probe, 1) > Atomics.load(probe, 2);
    expect(pollUntil(() => Atomics.load(ctl, 2) === 1 || asleepInPause())).toBe(true);
    expect(Atomics.load(ctl, 1)).toBe(1); // it had acknowledged with brc_safepoint
    expect(Atomics.load(ctl, 2)).toBe(0); // brc_lock_wait_word did not return during the pause
    expect(x.brc_info_lock(obj)).toBe(LAYOUT.LINK_LOCKED); // and wrote nothing into the link word
    expect(x.brc_collect_cycles()).toBe(0);
    expect(x.brc_info_lock(obj)).toBe(LAYOUT.LINK_LOCKED);
    expect(x.brc_world_release(0)).toBe(0);

    // after the release it advertises itself, and our unlock wakes it
    expect(pollUntil(() => Atomics.load(ctl, 2) === 1)).toBe(true);
    const word = Atomics.load(ctl, 3) >>> 0;
    expect(word & (LAYOUT.LINK_LOCKED | LAYOUT.LINK_WAITERS)).toBe(LAYOUT.LINK_LOCKED | LAYOUT.LINK_WAITERS);
    expect(x.brc_unlock(obj)).toBe(0);
    const r = await w.result;
    expect(r).toMatchObject({ tid: wtid, tryLock: 0, detached: 0 });
    expect(x.brc_info_lock(obj)).toBe(0);
    x.brc_decref(obj);
    expectClean(heap);
  });

  it('a brc_lock that may not block acknowledges pauses while it spins: a collection completes while it waits for a paused holder', async () => {
    const heap = await freshHeap();
    const x = heap.core.exports;
    const obj = x.brc_alloc(8, 0);
    // garbage for the collection: a ring of 10
    const first = x.brc_alloc(8, 1);
    let prev = first;
    for (let i = 1; i < 10; i++) {
      const next = x.brc_alloc(8, 1);
      x.brc_set_ref(prev, 0, next);
      x.brc_decref(next);
      prev = next;
    }
    x.brc_set_ref(prev, 0, first);
    x.brc_decref(first);

    const holderCtl = new Int32Array(new SharedArrayBuffer(8));
    const holder = start<{ taken: number; acknowledged: number; unlocked: number; detached: number }>(heap, 'holdLockIdle',
      { obj, ctl: holderCtl, probe: new Int32Array(new SharedArrayBuffer(12)) });
    expect(pollUntil(() => Atomics.load(holderCtl, 0) === 1)).toBe(true);
    expect(x.brc_info_lock(obj)).toBe(LAYOUT.LINK_LOCKED);

    const spinnerCtl = new Int32Array(new SharedArrayBuffer(8));
    const spinnerProbe = new Int32Array(new SharedArrayBuffer(12));
    const spinner = start<{ tid: number; locked: number; unlocked: number; detached: number }>(heap, 'spinOnLock',
      { obj, ctl: spinnerCtl, probe: spinnerProbe, mayNotBlock: true });
    expect(pollUntil(() => Atomics.load(spinnerCtl, 0) === 1)).toBe(true);
    const stid = 3;
    // inside brc_lock, spinning: seen inside its operation twice, a poll apart (past enterOp's attention check)
    let inside = 0;
    expect(pollUntil(() => (inside = x.brc_thread_stop_state(stid) === LAYOUT.STOP_IN_OP ? inside + 1 : 0) >= 2)).toBe(true);

    expect(x.brc_world_request()).toBe(0);
    let polls = 0;
    const held = pollUntil(() => { polls++; return x.brc_world_poll() === 0; }, 5_000);
    const freed = held ? x.brc_collect_cycles() : -1;
    expect(x.brc_world_release(0)).toBe(0);
    Atomics.store(holderCtl, 1, 1); // the holder unlocks; the spinner takes the lock
    const [h, s] = await Promise.all([holder.result, spinner.result]);

    expect(held).toBe(true); // the world was held while the spinner waited for the paused holder's lock
    expect(polls).toBeLessThan(5_000);
    expect(freed).toBe(10);
    expect(h).toMatchObject({ taken: 0, unlocked: 0, detached: 0 });
    expect(h.acknowledged).toBeGreaterThanOrEqual(1);
    expect(s).toMatchObject({ tid: stid, locked: 0, unlocked: 0, detached: 0 });
    expect(Atomics.load(spinnerProbe, 1)).toBe(0); // it never called the host's wait
    x.brc_decref(obj);
    expectClean(heap);
  });
});

describe('a thread that may not block', () => {
  it('stops at a boundary without calling the host\'s wait (which throws on a browser main thread): it spins until terminated', async () => {
    const heap = await freshHeap();
    const x = heap.core.exports;
    const ctl = new Int32Array(new SharedArrayBuffer(8));
    const probe = new Int32Array(new SharedArrayBuffer(12));
    const w = start<{ returned?: boolean; threw?: string }>(heap, 'stopWithoutBlocking', { ctl, probe, mayNotBlock: true });
    let posted: { returned?: boolean; threw?: string } | undefined;
    void w.result.then((m) => { posted = m; });
    expect(pollUntil(() => Atomics.load(ctl, 1) === 1)).toBe(true);
    const tid = 2;
    const generation = x.brc_thread_generation(tid);
    expect(x.brc_thread_request_stop(tid)).toBe(0);
    Atomics.store(ctl, 0, 1);
    Atomics.notify(ctl, 0);
    // it stops at brc_collect's boundary: STOPPED, or (before the fix) a throw out of the host's wait
    expect(await pollUntilAsync(() => x.brc_thread_stop_state(tid) === LAYOUT.STOP_STOPPED || posted !== undefined)).toBe(true);
    expect(x.brc_thread_stop_state(tid)).toBe(LAYOUT.STOP_STOPPED);
    await w.worker.terminate();
    expect(posted).toBeUndefined(); // brc_collect neither returned nor threw
    expect(Atomics.load(probe, 1)).toBe(0); // the host's wait was never called
    expect(x.brc_thread_detach_dead(tid, generation)).toBe(0);
    expectClean(heap);
  });
});

describe('a stop that is withdrawn (brc_thread_cancel_stop: terminate() gave up)', () => {
  it('a thread stopped at a boundary resumes there, but first answers the pause of a collection that counted it stopped', async () => {
    const heap = await freshHeap();
    const x = heap.core.exports;
    const words = () => new Uint32Array(heap.memory.buffer);
    const ctl = new Int32Array(new SharedArrayBuffer(12));
    const w = start<{ tid: number; obj: number; detached: number }>(heap, 'allocAfterStop',
      { ctl, probe: new Int32Array(new SharedArrayBuffer(12)) });
    expect(pollUntil(() => Atomics.load(ctl, 1) === 1)).toBe(true);
    const tid = 2;
    expect(x.brc_thread_state(tid)).toBe(LAYOUT.STATE_ACTIVE);
    expect(x.brc_thread_request_stop(tid)).toBe(0);
    Atomics.store(ctl, 0, 1);
    Atomics.notify(ctl, 0);
    expect(await pollUntilAsync(() => x.brc_thread_stop_state(tid) === LAYOUT.STOP_STOPPED)).toBe(true);

    // a collection counts the stopped thread held
    expect(x.brc_world_request()).toBe(0);
    expect(pollUntil(() => x.brc_world_poll() === 0)).toBe(true);
    const epoch = words()[(LAYOUT.GLOBAL_BASE + LAYOUT.G_WORLD_EPOCH) >>> 2];
    const paused = (x.brc_attention_address(tid) >>> 0) - LAYOUT.R_ATTENTION + LAYOUT.R_PAUSED;
    expect(Atomics.load(words(), paused >>> 2)).toBe(0); // held as STOPPED, not acknowledged

    // the terminator gives up: the thread leaves stopHere, sees the pause and acknowledges it before anything else
    expect(x.brc_thread_cancel_stop(tid)).toBe(0);
    expect(pollUntil(() => Atomics.load(words(), paused >>> 2) === epoch || Atomics.load(ctl, 2) === 1)).toBe(true);
    expect(Atomics.load(ctl, 2)).toBe(0); // brc_alloc did not return while the world is held
    expect(Atomics.load(words(), paused >>> 2)).toBe(epoch);
    expect(x.brc_thread_stop_state(tid)).not.toBe(LAYOUT.STOP_STOPPED);
    const live = stat(heap.core, 'STAT_LIVE_OBJECTS');
    expect(x.brc_collect_cycles()).toBe(0);
    expect(stat(heap.core, 'STAT_LIVE_OBJECTS')).toBe(live); // it allocated nothing under the scan
    expect(x.brc_world_release(0)).toBe(0);

    const r = await w.result;
    expect(r).toMatchObject({ tid, detached: 0 });
    expect(r.obj).toBeGreaterThan(0);
    expectClean(heap);
  });

  it('a stop withdrawn before the thread reached a boundary is never noticed', async () => {
    const heap = await freshHeap();
    const x = heap.core.exports;
    const ctl = new Int32Array(new SharedArrayBuffer(12));
    const w = start<{ tid: number; obj: number; detached: number }>(heap, 'allocAfterStop',
      { ctl, probe: new Int32Array(new SharedArrayBuffer(12)) });
    expect(pollUntil(() => Atomics.load(ctl, 1) === 1)).toBe(true);
    const tid = 2;
    expect(x.brc_thread_request_stop(tid)).toBe(0);
    expect(x.brc_thread_cancel_stop(tid)).toBe(0);
    expect(x.brc_thread_cancel_stop(0)).toBe(LAYOUT.ENOTATTACHED);
    expect(x.brc_thread_cancel_stop(100_000)).toBe(LAYOUT.ENOTATTACHED);
    Atomics.store(ctl, 0, 1);
    Atomics.notify(ctl, 0);
    const r = await w.result;
    expect(r).toMatchObject({ tid, detached: 0 });
    expect(x.brc_thread_stop_state(tid)).not.toBe(LAYOUT.STOP_STOPPED);
    expectClean(heap);
  });
});

describe('a thread that dies (or detaches) holding the world', () => {
  const worldAt = LAYOUT.GLOBAL_BASE + LAYOUT.G_WORLD;

  /**
   * Starts a holder (the main thread acknowledges its pause meanwhile); resolves once it holds what it asked for,
   * with its tid (the one G_WORLD names) and generation.
   */
  async function holder(heap: TestHeap, hold: 'requested' | 'held' | 'detach') {
    const x = heap.core.exports;
    const ctl = new Int32Array(new SharedArrayBuffer(16));
    const w = start<{ tid: number; requested?: number; detached?: number; world?: number }>(heap, 'holdWorld',
      { ctl, probe: new Int32Array(new SharedArrayBuffer(12)), hold, worldWord: worldAt });
    // acknowledging from our "idle loop" (as src/ does) until it holds what it asked for: we run no operation meanwhile
    expect(await pollUntilAsync(() => { x.brc_safepoint(); return Atomics.load(ctl, 2) === 1; })).toBe(true);
    const tid = (worldWord(heap) & ~LAYOUT.WORLD_HELD) >>> 0;
    return { w, tid, generation: x.brc_thread_generation(tid) };
  }

  /** An attached thread (its record paused by the dead holder) detaches the dead holder; bounded, never a hang. */
  async function detachByWorker(heap: TestHeap, dead: number, generation: number) {
    const d = start<{ tid: number; detachedDead: number }>(heap, 'detachDead',
      { ctl: new Int32Array(new SharedArrayBuffer(8)), probe: new Int32Array(new SharedArrayBuffer(12)), dead, generation });
    let result: { detachedDead: number } | undefined;
    void d.result.then((r) => { result = r; });
    const done = await pollUntilAsync(() => result !== undefined);
    if (!done) await d.worker.terminate(); // the detacher sleeps for good: the bug this guards against
    return result;
  }

  it('terminated with the world held (a lock waiter borrowed): its detach releases the world and gives the rights back', async () => {
    const heap = await freshHeap();
    const x = heap.core.exports;
    const obj = x.brc_alloc(8, 0);
    expect(x.brc_try_lock(obj)).toBe(0);
    // a lock waiter (tid 2, the only worker yet), asleep in brc_lock
    const waiterCtl = new Int32Array(new SharedArrayBuffer(8));
    const waiter = start<{ tid: number; locked: number; unlocked: number; detached: number }>(heap, 'spinOnLock',
      { obj, ctl: waiterCtl, probe: new Int32Array(new SharedArrayBuffer(12)) });
    expect(pollUntil(() => Atomics.load(waiterCtl, 0) === 1 && x.brc_thread_state(2) === LAYOUT.STATE_PARKED)).toBe(true);

    const { w, tid: htid, generation } = await holder(heap, 'held');
    expect(htid).not.toBe(2);
    expect(worldWord(heap)).toBe((htid | LAYOUT.WORLD_HELD) >>> 0);
    expect(x.brc_thread_state(2)).toBe(LAYOUT.STATE_HELPED); // the waiter's rights, borrowed by the holder
    await w.worker.terminate(); // in its own JavaScript: a safe point

    const r = await detachByWorker(heap, htid, generation);
    expect(r).toMatchObject({ detachedDead: 0 });
    expect(worldWord(heap)).toBe(0);
    expect(x.brc_thread_state(2)).toBe(LAYOUT.STATE_PARKED); // given back: it may unpark again
    expect(x.brc_unlock(obj)).toBe(0); // an operation of ours: it would sleep for good under a pause left set
    expect(await waiter.result).toMatchObject({ locked: 0, unlocked: 0, detached: 0 });
    x.brc_decref(obj);
    expectClean(heap);
  });

  it('terminated after its request, before the world was held: its detach releases the request', async () => {
    const heap = await freshHeap();
    const x = heap.core.exports;
    const { w, tid, generation } = await holder(heap, 'requested');
    expect(worldWord(heap)).toBe(tid);
    await w.worker.terminate();
    expect(await detachByWorker(heap, tid, generation)).toMatchObject({ detachedDead: 0 });
    expect(worldWord(heap)).toBe(0);
    expect(Atomics.load(new Uint32Array(heap.memory.buffer), (x.brc_attention_address(heap.tid) >>> 0) >>> 2) & LAYOUT.ATTENTION_PAUSE).toBe(0);
    const obj = x.brc_alloc(8, 0); // not paused any more
    x.brc_decref(obj);
    expectClean(heap);
  });

  it('a holder that detaches itself lets the world go with it', async () => {
    const heap = await freshHeap();
    const x = heap.core.exports;
    const { w } = await holder(heap, 'detach');
    expect(await w.result).toMatchObject({ detached: 0, world: 0 });
    const obj = x.brc_alloc(8, 0);
    x.brc_decref(obj);
    expectClean(heap);
  });
});
