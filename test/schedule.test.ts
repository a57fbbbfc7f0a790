// Deterministic interleavings (issue 17): each test parks a thread at a named schedule point of the debug build
// (assembly/schedule.ts), runs another thread's operation in the window, then resumes it. Each one stands behind a
// store-ordering comment of assembly/ and fails when that order is reversed: scripts/mutants.mjs reverses each
// (npm run mutate) and names the test that catches it. Every test ends with the heap exact and verified.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LAYOUT, errorName } from '../dist/index.js';
import { info } from './helpers/info.js';
import { stat } from './helpers/core.js';
import { DEADLINE_MS, withSchedule, type Schedule } from './helpers/schedule.js';

const L = LAYOUT as unknown as Record<string, number>;
const LARGE = 40_000; // past SMALL_MAX: a page run of its own, back to the pool when freed (anyone can reuse it)
const root = join(import.meta.dirname, '..');

const validity = (s: Schedule, obj: number) => errorName(s.x.brc_validate(obj)) ?? 'OK';

async function expectExact(s: Schedule, liveObjects = 0, extraBlocks = 0) {
  const end = await s.finish(liveObjects);
  expect(end).toEqual({ liveObjects, liveBlocks: extraBlocks, verify: 'ok' });
}

describe('schedule points: debug build only', () => {
  it('the release build has no schedule-point code at all; the debug build calls it', () => {
    const release = readFileSync(join(root, 'build', 'biasrc.wat'), 'utf8');
    const debug = readFileSync(join(root, 'build', 'biasrc.debug.wat'), 'utf8');
    expect(release).not.toMatch(/\(func \$assembly\/schedule\//);
    expect(release).not.toMatch(/call \$assembly\/schedule\//);
    expect(release).not.toMatch(/global \$assembly\/schedule\/(table|random)\b/);
    expect(debug).toMatch(/call \$assembly\/schedule\/reach/);
  });

  it('every point named in assembly/schedule.ts is passed somewhere in the core', () => {
    const names = [...readFileSync(join(root, 'assembly', 'schedule.ts'), 'utf8').matchAll(/^export const (SP_\w+)/gm)].map((m) => m[1]);
    expect(names.length).toBeGreaterThanOrEqual(20);
    const core = ['refcount', 'queue', 'park', 'object', 'alloc', 'threads'].map((f) => readFileSync(join(root, 'assembly', `${f}.ts`), 'utf8')).join('\n');
    for (const name of names) expect(core, name).toMatch(new RegExp(`schedulePoint\\(${name},`));
  });
});

describe('MERGED is published only after ownership is dropped (gh-121794)', () => {
  it('merge at zero: a thread that sees MERGED may free the object and reuse its block; the merger writes nothing more', () => withSchedule(async (s) => {
    const [A, B] = [await s.actor('A'), await s.actor('B')];
    const obj = await A.call('alloc', LARGE, 0);
    await B.call('incref', obj); // B's reference is in the shared count; A's in its local count
    A.arm('SP_MERGE_PUBLISHED', obj);
    const merge = A.start('decref', obj); // local 1 -> 0: merge
    await A.until('SP_MERGE_PUBLISHED', merge);
    // what any thread that sees MERGED relies on
    expect(info(s.heap.core, obj)).toMatchObject({ merged: true, owner: 0, local: 0, shared: 1 });
    await B.call('decref', obj); // the last reference: B frees it while A is still inside its merge
    expect(validity(s, obj)).toBe('EFREED');
    const reused = await B.call('alloc', LARGE, 0);
    expect(reused).toBe(obj); // the same pages, now B's object
    A.resume();
    await s.done(merge);
    expect(info(s.heap.core, reused)).toMatchObject({ owner: B.tid, local: 1, shared: 0, merged: false });
    await B.call('decref', reused);
    await expectExact(s);
  }));

  it('merge of a queued object: the same window, through the owner\'s queue', () => withSchedule(async (s) => {
    const [A, B] = [await s.actor('A'), await s.actor('B')];
    const obj = await A.call('alloc', LARGE, 0);
    await A.call('incref', obj);
    await A.call('incref', obj); // two references for B, counted in A's local count (3)
    await B.call('decref', obj); // shared 0: QUEUED, on A's queue
    await A.call('decref', obj); // A lets go of its own: local 2, one of them the queue's
    expect(info(s.heap.core, obj)).toMatchObject({ owner: A.tid, local: 2, shared: 0, queued: true });
    A.arm('SP_MERGE_PUBLISHED', obj);
    const drain = A.start('collect');
    await A.until('SP_MERGE_PUBLISHED', drain);
    expect(info(s.heap.core, obj)).toMatchObject({ merged: true, queued: false, owner: 0, local: 0, shared: 1 });
    await B.call('decref', obj);
    expect(validity(s, obj)).toBe('EFREED');
    const reused = await B.call('alloc', LARGE, 0);
    expect(reused).toBe(obj);
    A.resume();
    expect(await s.done(drain)).toBe(1);
    expect(info(s.heap.core, reused)).toMatchObject({ owner: B.tid, local: 1, shared: 0, merged: false });
    await B.call('decref', reused);
    await expectExact(s);
  }));

  it('abandon at detach: objects freed in the window leave the page\'s free list whole', () => withSchedule(async (s) => {
    const [A, B] = [await s.actor('A'), await s.actor('B')];
    const first = await A.call('alloc', 8, 0); // both references move to B: A's local counts are B's
    const obj = await A.call('alloc', 8, 0);
    A.arm('SP_MERGE_PUBLISHED', obj);
    const detach = A.start('thread_detach'); // abandons `first`, then `obj` (address order), under the heap lock
    await A.until('SP_MERGE_PUBLISHED', detach);
    expect(info(s.heap.core, first)).toMatchObject({ merged: true, owner: 0, local: 0, shared: 1 });
    expect(info(s.heap.core, obj)).toMatchObject({ merged: true, owner: 0, local: 0, shared: 1 });
    await B.call('decref', first); // freed: on the page's thread-free stack
    await B.call('decref', obj); // freed: its first word now links to `first`
    A.resume();
    expect(await s.done(detach)).toBe(0);
    s.actors.splice(s.actors.indexOf(A), 1); // detached already
    await A.worker.terminate();
    await expectExact(s); // a late store into `obj` would have cut `first` off the free list: a block lost
  }));

  it('between dropping ownership and the CAS: a decrement that lands there is not lost (the CAS is retried)', () => withSchedule(async (s) => {
    const [A, B] = [await s.actor('A'), await s.actor('B')];
    const obj = await A.call('alloc', 8, 0);
    await B.call('incref', obj);
    A.arm('SP_OWNERSHIP_DROPPED', obj);
    const merge = A.start('decref', obj);
    await A.until('SP_OWNERSHIP_DROPPED', merge);
    expect(info(s.heap.core, obj)).toMatchObject({ owner: 0, local: 0, merged: false, shared: 1 });
    await B.call('decref', obj); // count 1 -> 0, not merged yet: nobody frees it here
    expect(validity(s, obj)).toBe('OK');
    A.resume();
    await s.done(merge); // its CAS fails on the guess, sees count 0, sets MERGED: dead, A frees it
    expect(validity(s, obj)).toBe('EFREED');
    await expectExact(s);
  }));

  it('a queuer that finds tid 0 before MERGED waits for the merger, then applies its reference', () => withSchedule(async (s) => {
    const [A, B] = [await s.actor('A'), await s.actor('B')];
    const obj = await A.call('alloc', 8, 0); // the reference moves to B (A's local count 1)
    A.arm('SP_OWNERSHIP_DROPPED', obj);
    const detach = A.start('thread_detach');
    await A.until('SP_OWNERSHIP_DROPPED', detach);
    B.arm('SP_MERGE_WAIT', obj, 100); // parks at its 101st look: it kept waiting, it did not run ahead
    const release = B.start('decref', obj); // shared 0: QUEUED; tid is 0 already, so B merges it itself
    await B.until('SP_MERGE_WAIT', release);
    expect(info(s.heap.core, obj)).toMatchObject({ owner: 0, queued: true, merged: false, shared: 0 });
    A.resume();
    expect(await s.done(detach)).toBe(0);
    expect(info(s.heap.core, obj)).toMatchObject({ owner: 0, queued: true, merged: true, shared: 1 });
    B.resume();
    await s.done(release);
    expect(validity(s, obj)).toBe('EFREED');
    s.actors.splice(s.actors.indexOf(A), 1);
    await A.worker.terminate();
    await expectExact(s);
  }));
});

describe('merge queues', () => {
  it('push: the link is stored before the CAS that makes the object reachable', () => withSchedule(async (s) => {
    const [A, B, C] = await s.actors3();
    const first = await A.call('alloc', 8, 0), second = await A.call('alloc', 8, 0);
    await A.call('incref', first); // one for B
    await A.call('incref', second); // one for C
    await B.call('decref', first); // queued: A's queue is [first]
    C.arm('SP_QUEUE_PUSHED', second);
    const push = C.start('decref', second);
    await C.until('SP_QUEUE_PUSHED', push); // head = second, the owner not yet told
    expect(s.queueWord(A.tid)).toBe(second);
    expect(await A.call('collect')).toBe(2); // the owner drains while C sits after its CAS: both objects
    C.resume();
    await s.done(push);
    expect(s.queueWord(A.tid)).toBe(0);
    await A.call('decref', first);
    await A.call('decref', second);
    await expectExact(s);
  }));

  it('drain takes the whole stack in one step: a push meanwhile starts a new one', () => withSchedule(async (s) => {
    const [A, B, C] = await s.actors3();
    const first = await A.call('alloc', 8, 0), second = await A.call('alloc', 8, 0);
    await A.call('incref', first);
    await A.call('incref', second);
    await B.call('decref', first);
    A.arm('SP_QUEUE_TAKEN');
    const drain = A.start('collect');
    await A.until('SP_QUEUE_TAKEN', drain);
    expect(s.queueWord(A.tid)).toBe(0);
    await C.call('decref', second); // pushed on the empty queue while A holds the list it took
    expect(s.queueWord(A.tid)).toBe(second);
    A.resume();
    expect(await s.done(drain)).toBe(1);
    expect(await A.call('collect')).toBe(1);
    await A.call('decref', first);
    await A.call('decref', second);
    await expectExact(s);
  }));

  it('the link CAS keeps a lock taken between its load and its CAS', () => withSchedule(async (s) => {
    const [A, B, C] = await s.actors3();
    const obj = await A.call('alloc', 8, 0);
    await A.call('incref', obj); // B's
    B.arm('SP_LINK_LOADED', obj);
    const push = B.start('decref', obj);
    await B.until('SP_LINK_LOADED', push);
    expect(await C.call('lock', obj)).toBe(0); // the lock bit changes under B's guess
    B.resume();
    await s.done(push);
    expect(s.x.brc_info_lock(obj)).toBe(1); // still locked: C holds it
    expect(await C.call('unlock', obj)).toBe(0);
    expect(await A.call('collect')).toBe(1);
    await A.call('decref', obj);
    await expectExact(s);
  }));

  it('a queue whose merges free every object: each is merged once and freed once', () => withSchedule(async (s) => {
    const [A, B] = [await s.actor('A'), await s.actor('B')];
    const objs = [await A.call('alloc', 8, 0), await A.call('alloc', 8, 0), await A.call('alloc', 8, 0)];
    for (const o of objs) await A.call('incref', o);
    for (const o of objs) await B.call('decref', o); // queued: [third, second, first]
    for (const o of objs) await A.call('decref', o); // local 1 each: only the queue's reference is left
    expect(await A.call('collect')).toBe(3); // each merge frees its object
    for (const o of objs) expect(validity(s, o)).toBe('EFREED');
    await expectExact(s);
  }));

  it('an idle owner waiting on its queue word is woken by the first push, and finds it there', () => withSchedule(async (s) => {
    const B = await s.actor('B');
    const obj = s.x.brc_alloc(8, 0); // owned by the main thread, which waits like an idle event loop
    s.x.brc_incref(obj);
    const queue = s.x.brc_queue_address(s.tid) >>> 2;
    let woken = false, seen = -1;
    const waiter = Atomics.waitAsync(s.i32(), queue, 0, DEADLINE_MS);
    expect(waiter.async).toBe(true);
    const wake = (waiter.value as Promise<string>).then((r) => { woken = true; seen = s.word(queue * 4); return r; });
    B.arm('SP_QUEUE_PUSH', obj);
    const push = B.start('decref', obj);
    await B.until('SP_QUEUE_PUSH', push); // QUEUED set, not pushed yet: nothing to wake for
    for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
    expect(woken).toBe(false);
    B.resume();
    await s.done(push);
    expect(await wake).toBe('ok');
    expect(seen).toBe(obj);
    expect(s.x.brc_collect()).toBe(1);
    s.x.brc_decref(obj);
    await expectExact(s);
  }));
});

/** `A` blocks in brc_lock on `lockObj` (held by the main thread) and is left asleep there, PARKED. */
async function parkInLock(s: Schedule, A: Awaited<ReturnType<Schedule['actor']>>, lockObj: number) {
  A.arm('SP_PARK_PARKED');
  const lock = A.start('lock', lockObj);
  await A.until('SP_PARK_PARKED', lock);
  A.resume(); // on into its sleep on the lock word; from here it touches nothing until woken
  expect(s.state(A.tid)).toBe(L.STATE_PARKED);
  return lock;
}

describe('parking and helping', () => {
  it('a push between the owner\'s last drain and its PARKED store is merged before it sleeps', () => withSchedule(async (s) => {
    const [A, B] = [await s.actor('A'), await s.actor('B')];
    const lockObj = s.x.brc_alloc(0, 0);
    expect(s.x.brc_try_lock(lockObj)).toBe(0);
    const obj = await A.call('alloc', 8, 0);
    await A.call('incref', obj); // B's
    A.arm('SP_PARK_DRAINED');
    const lock = A.start('lock', lockObj);
    await A.until('SP_PARK_DRAINED', lock); // drained, still ACTIVE
    await B.call('decref', obj); // sees ACTIVE: pushes and only notifies
    expect(s.queueWord(A.tid)).toBe(obj);
    A.arm('SP_PARK_PARKED');
    A.resume();
    await A.until('SP_PARK_PARKED', lock); // PARKED stored, about to sleep
    expect(s.queueWord(A.tid)).toBe(0); // it looked again and merged
    expect(info(s.heap.core, obj)).toMatchObject({ merged: true, queued: false, shared: 1 });
    A.resume();
    expect(s.x.brc_unlock(lockObj)).toBe(0);
    expect(await s.done(lock)).toBe(0);
    expect(await A.call('unlock', lockObj)).toBe(0);
    await A.call('decref', obj);
    s.x.brc_decref(lockObj);
    await expectExact(s);
  }));

  it('the owner holds its rights while it drains before parking: nobody helps it then', () => withSchedule(async (s) => {
    const [A, B, C] = await s.actors3();
    const lockObj = s.x.brc_alloc(0, 0);
    expect(s.x.brc_try_lock(lockObj)).toBe(0);
    const first = await A.call('alloc', 8, 0), second = await A.call('alloc', 8, 0);
    await A.call('incref', first);
    await A.call('incref', second);
    await B.call('decref', first); // queued: parkSelf's drain will take it
    A.arm('SP_QUEUE_TAKEN', first);
    const lock = A.start('lock', lockObj);
    await A.until('SP_QUEUE_TAKEN', lock);
    expect(s.state(A.tid)).toBe(L.STATE_ACTIVE);
    const helped = stat(s.heap.core, 'STAT_HELPED_MERGES');
    await C.call('decref', second); // A is ACTIVE: C only pushes
    expect(stat(s.heap.core, 'STAT_HELPED_MERGES')).toBe(helped);
    expect(s.queueWord(A.tid)).toBe(second);
    A.resume();
    expect(s.x.brc_unlock(lockObj)).toBe(0);
    expect(await s.done(lock)).toBe(0);
    expect(await A.call('unlock', lockObj)).toBe(0);
    expect(await A.call('collect')).toBe(0); // its re-check after PARKED merged `second`
    await A.call('decref', first);
    await A.call('decref', second);
    s.x.brc_decref(lockObj);
    await expectExact(s);
  }));

  it('a helper gives the rights back before it looks at the queue again: a push meanwhile is merged', () => withSchedule(async (s) => {
    const [A, B, C] = await s.actors3();
    const lockObj = s.x.brc_alloc(0, 0);
    expect(s.x.brc_try_lock(lockObj)).toBe(0);
    const first = await A.call('alloc', 8, 0), second = await A.call('alloc', 8, 0);
    await A.call('incref', first);
    await A.call('incref', second);
    const lock = await parkInLock(s, A, lockObj);
    B.arm('SP_RIGHTS_RELEASED');
    const help = B.start('decref', first); // A is PARKED: B borrows its rights and merges for it
    await B.until('SP_RIGHTS_RELEASED', help); // rights given back, queue not looked at yet
    expect(s.state(A.tid)).toBe(L.STATE_PARKED);
    await C.call('decref', second); // sees PARKED: helps in turn
    B.resume();
    await s.done(help);
    expect(s.queueWord(A.tid)).toBe(0); // A still asleep, and nothing waits in its queue
    expect(lock.settled).toBe(false);
    expect(info(s.heap.core, second)).toMatchObject({ merged: true, queued: false });
    expect(stat(s.heap.core, 'STAT_HELPED_MERGES')).toBe(2);
    expect(s.x.brc_unlock(lockObj)).toBe(0);
    expect(await s.done(lock)).toBe(0);
    expect(await A.call('unlock', lockObj)).toBe(0);
    await A.call('decref', first);
    await A.call('decref', second);
    s.x.brc_decref(lockObj);
    await expectExact(s);
  }));

  it('a queuer pushes before it looks at the owner\'s state: a parked owner is helped', () => withSchedule(async (s) => {
    const [A, B] = [await s.actor('A'), await s.actor('B')];
    const lockObj = s.x.brc_alloc(0, 0);
    expect(s.x.brc_try_lock(lockObj)).toBe(0);
    const obj = await A.call('alloc', 8, 0);
    await A.call('incref', obj);
    const lock = await parkInLock(s, A, lockObj);
    B.arm('SP_QUEUE_PUSH', obj);
    const push = B.start('decref', obj);
    await B.until('SP_QUEUE_PUSH', push);
    expect(s.queueWord(A.tid)).toBe(0);
    B.resume();
    await s.done(push);
    expect(s.queueWord(A.tid)).toBe(0); // merged for the sleeping owner
    expect(info(s.heap.core, obj)).toMatchObject({ merged: true, shared: 1 });
    expect(s.x.brc_unlock(lockObj)).toBe(0);
    expect(await s.done(lock)).toBe(0);
    expect(await A.call('unlock', lockObj)).toBe(0);
    await A.call('decref', obj);
    s.x.brc_decref(lockObj);
    await expectExact(s);
  }));

  it('an owner that wakes while a helper holds its rights sleeps until the helper gives them back', () => withSchedule(async (s) => {
    const [A, B] = [await s.actor('A'), await s.actor('B')];
    const lockObj = s.x.brc_alloc(0, 0);
    expect(s.x.brc_try_lock(lockObj)).toBe(0);
    const obj = await A.call('alloc', 8, 0);
    await A.call('incref', obj);
    const lock = await parkInLock(s, A, lockObj);
    B.arm('SP_QUEUE_TAKEN', obj);
    const help = B.start('decref', obj);
    await B.until('SP_QUEUE_TAKEN', help); // B holds A's rights (HELPED)
    expect(s.state(A.tid)).toBe(L.STATE_HELPED);
    expect(s.x.brc_unlock(lockObj)).toBe(0); // wakes A, which must wait for its rights
    await A.sleepsOn(s.record(A.tid) + L.R_STATE, lock);
    expect(lock.settled).toBe(false);
    B.resume(); // gives them back and notifies
    await s.done(help);
    expect(await s.done(lock)).toBe(0);
    expect(await A.call('unlock', lockObj)).toBe(0);
    await A.call('decref', obj);
    s.x.brc_decref(lockObj);
    await expectExact(s);
  }));
});

describe('the free path', () => {
  it('a freed object\'s weak cell is cleared before its block can be reused', () => withSchedule(async (s) => {
    const [A, B] = [await s.actor('A'), await s.actor('B')];
    const obj = await A.call('alloc', LARGE, 0);
    const weak = await A.call('weak', obj);
    A.arm('SP_FREE_RELEASED', obj);
    const free = A.start('decref', obj);
    await A.until('SP_FREE_RELEASED', free); // the pages are back in the pool
    const reused = await B.call('alloc', LARGE, 0);
    expect(reused).toBe(obj);
    expect(await B.call('upgrade', weak)).toBe(0); // never the object that reuses the block
    A.resume();
    await s.done(free);
    expect(await B.call('upgrade', weak)).toBe(0);
    expect(info(s.heap.core, reused)).toMatchObject({ owner: B.tid, local: 1 });
    await B.call('decref', reused);
    await expectExact(s, 0, 2); // the weak table's cells and map stay allocated
  }));
});

describe('slots', () => {
  it('set_ref takes the child\'s reference before the slot publishes it', () => withSchedule(async (s) => {
    const [A, B] = [await s.actor('A'), await s.actor('B')];
    const parent = s.x.brc_alloc(0, 1);
    const child = await B.call('alloc', 8, 0);
    await B.call('incref', child); // one reference moves to A, B keeps one
    A.arm('SP_SLOT_SWAPPED', parent);
    const set = A.start('set_ref', parent, 0, child);
    await A.until('SP_SLOT_SWAPPED', set);
    expect(info(s.heap.core, child)).toMatchObject({ local: 2, shared: 1 }); // A's, B's, and the slot's
    await B.call('set_ref', parent, 0, 0); // B empties the slot: releases the slot's reference
    await B.call('decref', child); // and its own
    A.resume();
    await s.done(set);
    expect(info(s.heap.core, child)).toMatchObject({ merged: true, shared: 1 }); // A's, in the shared count
    await A.call('decref', child); // the last one
    expect(validity(s, child)).toBe('EFREED');
    s.x.brc_decref(parent);
    await expectExact(s);
  }));

  it('load_ref keeps the slot marked until its increment is done: set_ref waits', () => withSchedule(async (s) => {
    const [A, B] = [await s.actor('A'), await s.actor('B')];
    const parent = s.x.brc_alloc(0, 1);
    const child = await B.call('alloc', 8, 0);
    await B.call('set_ref', parent, 0, child);
    await B.call('decref', child); // only the slot holds it, in B's local count
    A.arm('SP_SLOT_LOADED', parent);
    const load = A.start('load_ref', parent, 0);
    await A.until('SP_SLOT_LOADED', load);
    B.arm('SP_SLOT_BUSY', parent);
    const clear = B.start('set_ref', parent, 0, 0);
    await B.until('SP_SLOT_BUSY', clear); // the slot is BUSY: B must wait for A
    A.resume();
    expect(await s.done(load)).toBe(child);
    B.resume();
    await s.done(clear);
    expect(validity(s, child)).toBe('OK'); // A's reference keeps it
    await A.call('decref', child);
    expect(validity(s, child)).toBe('EFREED');
    s.x.brc_decref(parent);
    await expectExact(s);
  }));
});

describe('counts', () => {
  it('an object with a weak reference (shared word never 0) is still queued, not decremented below zero', () => withSchedule(async (s) => {
    const [A, B] = [await s.actor('A'), await s.actor('B')];
    const obj = await A.call('alloc', 8, 0);
    await A.call('incref', obj); // B's
    const weak = await A.call('weak', obj);
    await B.call('decref', obj); // count 0, WEAK: queued like a shared word of 0
    expect(info(s.heap.core, obj)).toMatchObject({ queued: true, shared: 0, local: 2 });
    expect(await A.call('collect')).toBe(1);
    expect(info(s.heap.core, obj)).toMatchObject({ merged: true, queued: false, shared: 1 });
    expect(await B.call('upgrade', weak)).toBe(obj);
    await B.call('decref', obj);
    await A.call('decref', obj);
    expect(validity(s, obj)).toBe('EFREED');
    expect(await B.call('upgrade', weak)).toBe(0);
    await expectExact(s, 0, 2);
  }));

  it('a shared decrement whose guess went stale retries its CAS: no decrement is lost', () => withSchedule(async (s) => {
    const [A, B, C] = await s.actors3();
    const obj = await A.call('alloc', 8, 0);
    await B.call('incref', obj);
    await C.call('incref', obj); // shared 2
    B.arm('SP_SHARED_DECREMENT', obj);
    const dec = B.start('decref', obj);
    await B.until('SP_SHARED_DECREMENT', dec); // B computed 2 -> 1
    await C.call('decref', obj); // 2 -> 1 under B's guess
    B.resume();
    await s.done(dec);
    expect(info(s.heap.core, obj)).toMatchObject({ shared: 0, local: 1 });
    await A.call('decref', obj);
    expect(validity(s, obj)).toBe('EFREED');
    await expectExact(s);
  }));
});

describe('allocator', () => {
  it('a thread asleep on the heap lock is woken when the holder lets go', () => withSchedule(async (s) => {
    const [A, B] = [await s.actor('A'), await s.actor('B')];
    const obj = await A.call('alloc', 8, 0); // moves to B
    A.arm('SP_MERGE_PUBLISHED', obj);
    const detach = A.start('thread_detach'); // abandons its objects with the heap lock held
    await A.until('SP_MERGE_PUBLISHED', detach);
    const malloc = B.start('malloc', LARGE); // a page run: needs the heap lock
    await B.sleepsOn(256 + L.G_HEAP_LOCK, malloc);
    A.resume();
    expect(await s.done(detach)).toBe(0);
    const block = await s.done(malloc);
    expect(block).not.toBe(0);
    await B.call('free', block);
    await B.call('decref', obj);
    s.actors.splice(s.actors.indexOf(A), 1);
    await A.worker.terminate();
    await expectExact(s);
  }));

  it('a remote free links the block before the CAS that publishes it to the owner', () => withSchedule(async (s) => {
    const [A, B, C] = await s.actors3();
    const one = await A.call('malloc', 1000), two = await A.call('malloc', 1000); // a page of A's own for this class
    s.i32()[two >>> 2] = 0; // the word the link goes in: whatever was there must not matter
    await B.call('free', one);
    C.arm('SP_REMOTE_FREED', two);
    const free = C.start('free', two);
    await C.until('SP_REMOTE_FREED', free); // the page's thread-free stack: two -> one
    const again = [await A.call('malloc', 1000), await A.call('malloc', 1000)]; // the owner collects the stack
    expect(again.sort()).toEqual([one, two].sort());
    C.resume();
    await s.done(free);
    for (const b of again) await A.call('free', b);
    await expectExact(s);
  }));

  it('concurrent remote frees: a push whose guess went stale retries its CAS, none is lost', () => withSchedule(async (s) => {
    const [A, B, C] = await s.actors3();
    const one = await A.call('malloc', 1000), two = await A.call('malloc', 1000);
    B.arm('SP_REMOTE_LINKED', one);
    const free = B.start('free', one); // read the empty stack, linked `one` to it
    await B.until('SP_REMOTE_LINKED', free);
    await C.call('free', two); // the stack is [two] now
    B.resume();
    await s.done(free); // its CAS fails, it links again: [one, two]
    const again = [await A.call('malloc', 1000), await A.call('malloc', 1000)];
    expect(again.sort()).toEqual([one, two].sort());
    for (const b of again) await A.call('free', b);
    await expectExact(s);
  }));

  it('a page is marked FULL before the bit that a remote free replaces: the page comes back to its owner', () => withSchedule(async (s) => {
    const [A, B] = [await s.actor('A'), await s.actor('B')];
    const size = 20_000; // three blocks to a page
    const blocks = [await A.call('malloc', size), await A.call('malloc', size), await A.call('malloc', size)];
    const page = blocks[0] & ~0xffff;
    expect(blocks.every((b) => (b & ~0xffff) === page)).toBe(true);
    A.arm('SP_PAGE_FULL', page);
    const next = A.start('malloc', size); // finds the page full, marks it FULL
    await A.until('SP_PAGE_FULL', next);
    await B.call('free', blocks[0]); // replaces the FULL bit: owes the page back to A
    expect(s.word(s.record(A.tid) + L.R_RECLAIM)).toBe(page);
    A.resume();
    const fourth = await s.done(next); // from a new page
    expect(await A.call('malloc', size)).toBe(blocks[0]); // the block B freed, on the page handed back
    for (const b of [...blocks, fourth]) await A.call('free', b);
    await expectExact(s);
  }));
});

describe('detaching a dead thread whose rights a collection borrowed', () => {
  it('the detacher, inside its operation when the pause came, acknowledges while it waits: the collection completes, then the detach', () => withSchedule(async (s) => {
    const [T, X] = [await s.actor('T'), await s.actor('X')];
    expect(T.tid).toBeLessThan(X.tid); // attached one after the other: the poll looks at T first, and borrows it
    const lockObj = s.x.brc_alloc(0, 0);
    expect(s.x.brc_try_lock(lockObj)).toBe(0);
    await parkInLock(s, T, lockObj);
    const generation = s.x.brc_thread_generation(T.tid);
    await T.worker.terminate(); // dies asleep: PARKED, never detached by itself
    s.actors.splice(s.actors.indexOf(T), 1);

    X.arm('SP_DETACH_ENTERED');
    const detach = X.start('thread_detach_dead', T.tid, generation);
    await X.until('SP_DETACH_ENTERED', detach); // inside its operation, T's state not read yet
    expect(s.x.brc_world_request()).toBe(0);
    expect(s.x.brc_world_poll()).toBe(X.tid); // T borrowed; X is inside an operation and has not acknowledged
    expect(s.state(T.tid)).toBe(L.STATE_HELPED);
    X.resume(); // X finds T's rights borrowed: before the fix it slept on T's state word, and the collection on X
    await s.until(() => s.x.brc_world_poll() === 0, 'X to acknowledge the pause while it waits for T\'s rights');
    expect(detach.settled).toBe(false);
    expect(s.x.brc_collect_cycles()).toBe(0);
    expect(s.x.brc_world_release(0)).toBe(0); // T's rights back to PARKED: X takes them and detaches T
    expect(await s.done(detach)).toBe(0);
    expect(s.state(T.tid)).toBe(L.STATE_FREE);
    expect(s.x.brc_unlock(lockObj)).toBe(0);
    s.x.brc_decref(lockObj);
    await expectExact(s);
  }));
});
