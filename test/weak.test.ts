// Weak references and stale handles (issue: cycles, weak references, stale handles).
import { describe, expect, it } from 'vitest';
import { Heap, BrcError, LAYOUT, type HeapThread } from 'biasrc';
import { expectCode, heapsClosedAfterEach, reply, spawnReady as spawnWorker } from './helpers/heaps.js';
// @ts-expect-error: a plain .mjs helper without types
import { barrier } from '../scripts/lib/threads.mjs';

const workerUrl = new URL('./fixtures/cycles-worker.mjs', import.meta.url);
const heapFor = heapsClosedAfterEach({ memory: { initialMiB: 4, maximumMiB: 512 } });
/** Sends a command to a cycles-worker and resolves with its reply. */
const ask = <T = Record<string, unknown>>(thread: HeapThread, message: Record<string, unknown>) => reply<T>(thread, message, (m) => m?.ready || m?.busy);
const spawnReady = (heap: Heap) => spawnWorker(heap, workerUrl);

describe.each([{ debug: true }, { debug: false }])('weak references (debug: $debug)', ({ debug }) => {
  it('weak(h) holds no count, is one number per object, and upgrades to a new reference while the object lives', async () => {
    const heap = await heapFor({ debug });
    const a = heap.alloc(8);
    const w = heap.weak(a);
    expect(Number.isInteger(w)).toBe(true);
    expect(heap.weak(a)).toBe(w);
    expect(heap.info(a)).toMatchObject({ local: 1, weak: true });
    const b = heap.upgrade(w);
    expect(b).toBe(a);
    expect(heap.info(a).local).toBe(2);
    heap.decref(b);
    heap.decref(a);
    expect(heap.upgrade(w)).toBe(0); // freed
    expect(heap.stats().weakCells).toBe(0);
    heap.verify();
  });

  it('once the object is freed, upgrade is 0 for good, even when its block and its cell hold others', async () => {
    const heap = await heapFor({ debug });
    const a = heap.alloc(8);
    const w = heap.weak(a);
    heap.decref(a);
    for (let i = 0; i < 40; i++) { // the same block and the same cell, again and again
      const b = heap.alloc(8);
      expect(b >>> 0).toBe(a >>> 0);
      const wb = heap.weak(b);
      expect(wb).not.toBe(w);
      expect(heap.upgrade(w)).toBe(0);
      heap.decref(b);
    }
    heap.verify();
  });

  it('an object merged into the shared count (its owner let go while others hold it) upgrades and dies right', async () => {
    const heap = await heapFor({ debug });
    const worker = await spawnReady(heap);
    const { handles: [h] } = await ask<{ handles: number[] }>(worker, { op: 'make', count: 1 });
    const w = heap.weak(h);
    const u = heap.upgrade(w);
    expect(u).toBe(h);
    heap.decref(u);
    heap.decref(h); // our releases go to the owner's queue; merging every queue (exact stats) frees it
    expect(heap.stats({ exact: true }).liveObjects).toBe(0);
    expect(heap.upgrade(w)).toBe(0);
    heap.verify();
  });

  it('bad weak references are refused clearly', async () => {
    const heap = await heapFor({ debug });
    expectCode(() => heap.upgrade(-1), 'EINVAL', /upgrade\(-1\): not a weak reference/);
    expectCode(() => heap.upgrade(1.5), 'EINVAL');
    expectCode(() => heap.upgrade('1' as unknown as number), 'EINVAL');
    expect(heap.upgrade(123456789)).toBe(0); // names no cell
  });
});

describe('upgrade racing the last release', () => {
  it('a million times on a barrier: never a freed object, never its successor', async () => {
    const heap = await heapFor({ debug: false, memory: { initialMiB: 16, maximumMiB: 512 } });
    const worker = await spawnReady(heap);
    const sync = new Int32Array(new SharedArrayBuffer(8));
    const batch = 10_000, batches = 100;
    let got = 0, wrong = 0;
    for (let round = 0; round < batches; round++) {
      const handles: number[] = [], weaks: number[] = [], stamps: number[] = [];
      for (let i = 0; i < batch; i++) {
        const h = heap.alloc(8);
        const stamp = (round * batch + i + 1) >>> 0;
        heap.view(h).setUint32(0, stamp, true);
        handles.push(h);
        weaks.push(heap.weak(h));
        stamps.push(stamp);
      }
      const upgraded = ask<{ got: number; wrong: number }>(worker, { op: 'upgradeAll', weaks, stamps, sync, parties: 2 });
      // the barrier inside upgradeAll: this thread releases while the worker upgrades, and reuses the blocks at once
      barrier(sync, 2);
      for (const h of handles) {
        heap.decref(h);
        const successor = heap.alloc(8); // likely the same block: an upgrade must never return it
        heap.view(successor).setUint32(0, 0, true);
        heap.decref(successor);
      }
      barrier(sync, 2);
      const r = await upgraded;
      got += r.got;
      wrong += r.wrong;
    }
    expect(wrong).toBe(0);
    expect(got).toBeLessThanOrEqual(batch * batches);
    heap.collect();
    expect(heap.stats({ exact: true }).liveObjects).toBe(0);
    expect(heap.stats().weakCells).toBe(0);
    heap.verify();
  }, 120_000);
});

describe('stale handles in checked mode', () => {
  it('a handle whose object was freed is EFREED even after its block was reused: exactly 15 of every 16 reuses', async () => {
    const heap = await heapFor();
    const first = heap.alloc(24);
    const stale = first;
    heap.decref(first);
    let caught = 0, reused = 0;
    for (let i = 0; i < 64; i++) {
      const h = heap.alloc(24);
      expect(h >>> 0).toBe(stale >>> 0); // the same block (the owner's free list is last in, first out)
      reused++;
      try {
        heap.info(stale);
      } catch (e) {
        expect((e as BrcError).code).toBe('EFREED');
        caught++;
      }
      heap.decref(h);
    }
    expect(reused).toBe(64);
    expect(caught).toBe(60); // the generation wraps after 16 frees: reuses 16, 32, 48 and 64 look like the old one
  });

  it('every checked call refuses a stale handle, and changes nothing', async () => {
    const heap = await heapFor();
    const a = heap.alloc(8, 1);
    heap.decref(a);
    const b = heap.alloc(8, 1);
    expect(b >>> 0).toBe(a >>> 0);
    const before = JSON.stringify(heap.stats());
    for (const call of [() => heap.incref(a), () => heap.decref(a), () => heap.getRef(a, 0), () => heap.setRef(a, 0, 0),
      () => heap.loadRef(a, 0), () => heap.bytes(a), () => heap.lock(a), () => heap.weak(a), () => heap.setRef(b, 0, a)]) {
      expectCode(call, 'EFREED', /the object was already freed/);
    }
    expect(JSON.stringify(heap.stats())).toBe(before);
    heap.decref(b);
    heap.verify();
  });

  it('an address without a generation (from heap.raw) is still accepted: only tagged handles carry one', async () => {
    const heap = await heapFor();
    const a = heap.alloc(8);
    const address = a >>> 0;
    expect(address).toBeLessThan(2 ** 32);
    expect(Math.floor(a / 2 ** 32)).toBe(heap.raw.brc_info_generation(address) + 1);
    heap.incref(address);
    heap.decref(address);
    heap.decref(a);
    expect(LAYOUT.GEN_MASK).toBe(15);
  });
});
