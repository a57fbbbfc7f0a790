// The public API, through the package's entry points only ('biasrc' here, 'biasrc/worker' in the workers).
import { describe, expect, it } from 'vitest';
import { Heap, BrcError, type HeapThread } from 'biasrc';
import { expectCode, heapsClosedAfterEach, reply } from './helpers/heaps.js';

const workerUrl = new URL('./fixtures/echo-worker.mjs', import.meta.url);
const heapFor = heapsClosedAfterEach();

async function eventually(check: () => boolean, ms = 5000) {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('objects and counts', () => {
  it('alloc, incref, decref, info', async () => {
    const heap = await heapFor();
    const a = heap.alloc(10, 2);
    expect(heap.tid).toBe(1);
    expect(heap.info(a)).toEqual({ owner: 1, local: 1, shared: 0, merged: false, queued: false, immortal: false, locked: false, slots: 2, bytes: 24, weak: false });
    // bytes is the usable payload: 10 asked, rounded up to the 48-byte block (16 header + 2 slots + 24)
    heap.incref(a);
    expect(heap.info(a).local).toBe(2);
    heap.decref(a);
    heap.decref(a);
    expectCode(() => heap.info(a), 'EFREED', /info\(handle 0x[0-9a-f]+\): the object was already freed/);
    expect(heap.stats().liveObjects).toBe(0);
    heap.verify();
  });

  it('bytes() and view() cover the payload and stay right after the memory grows', async () => {
    const heap = await heapFor();
    const a = heap.alloc(64);
    const bytes = heap.bytes(a);
    expect(bytes.length).toBeGreaterThanOrEqual(64);
    expect(bytes.every((b) => b === 0)).toBe(true);
    bytes.fill(7);
    const before = heap.memory.buffer.byteLength;
    const big = Array.from({ length: 40 }, () => heap.alloc(1 << 20));
    expect(heap.memory.buffer.byteLength).toBeGreaterThan(before);
    expect(bytes[63]).toBe(7); // the old view still reads the same memory
    heap.view(a).setUint32(0, 0xcafe, true);
    expect(heap.bytes(a)[0]).toBe(0xfe);
    const last = heap.view(big[39]);
    last.setFloat64(last.byteLength - 8, 1.5, true);
    expect(heap.view(big[39]).getFloat64(last.byteLength - 8, true)).toBe(1.5);
    for (const h of [a, ...big]) heap.decref(h);
    heap.verify();
  });

  it('slots: setRef, getRef (borrowed), loadRef (new reference)', async () => {
    const heap = await heapFor();
    const parent = heap.alloc(0, 1), child = heap.alloc(4);
    heap.setRef(parent, 0, child);
    heap.decref(child);
    expect(heap.getRef(parent, 0)).toBe(child);
    const loaded = heap.loadRef(parent, 0);
    expect(heap.info(child).local).toBe(2);
    heap.decref(loaded);
    heap.decref(parent);
    expectCode(() => heap.info(child), 'EFREED');
    heap.verify();
  });

  it('Ref: using releases, clone adds a reference, release twice is harmless', async () => {
    const heap = await heapFor();
    const a = heap.alloc(8);
    {
      using r = heap.ref(a);
      const r2 = r.clone();
      expect(heap.info(a).local).toBe(2);
      r2.release();
      r2.release();
      expect(r.handle).toBe(a);
    }
    expectCode(() => heap.info(a), 'EFREED');
    heap.verify();
  });

  it('locks: lock, tryLock, unlock, withLock (sync and async)', async () => {
    const heap = await heapFor();
    const a = heap.alloc(4);
    heap.lock(a);
    expect(heap.info(a).locked).toBe(true);
    expect(heap.tryLock(a)).toBe(false);
    heap.unlock(a);
    expectCode(() => heap.unlock(a), 'ENOTLOCKED', /unlock\(handle 0x[0-9a-f]+\)/);
    expect(heap.withLock(a, () => heap.info(a).locked)).toBe(true);
    expect(heap.info(a).locked).toBe(false);
    await heap.withLock(a, async () => { await new Promise((r) => setTimeout(r, 5)); });
    expect(heap.info(a).locked).toBe(false);
    expect(() => heap.withLock(a, () => { throw new Error('boom'); })).toThrow('boom');
    expect(heap.info(a).locked).toBe(false);
    heap.decref(a);
  });

  it('ELOCKS: a thread holds at most 16 object locks at once', async () => {
    const heap = await heapFor();
    const objs = Array.from({ length: 17 }, () => heap.alloc(0));
    objs.slice(0, 16).forEach((h) => heap.lock(h));
    expectCode(() => heap.lock(objs[16]), 'ELOCKS', /lock\(handle 0x[0-9a-f]+\): this thread already holds 16 object locks/);
    expectCode(() => heap.tryLock(objs[16]), 'ELOCKS');
    expect(heap.info(objs[16]).locked).toBe(false);
    heap.unlock(objs[3]);
    heap.lock(objs[16]);
    objs.forEach((h, i) => { if (i !== 3) heap.unlock(h); heap.decref(h); });
    heap.verify();
  });

  it('immortalize', async () => {
    const heap = await heapFor();
    const a = heap.alloc(0);
    heap.immortalize(a);
    heap.decref(a);
    heap.decref(a);
    expect(heap.info(a).immortal).toBe(true);
    heap.verify();
  });

  it('unchecked mode skips validation; counts are the same', async () => {
    const heap = await heapFor({ checked: false, debug: false });
    const a = heap.alloc(0);
    heap.incref(a);
    heap.decref(a);
    heap.decref(a);
    expect(heap.stats().liveObjects).toBe(0);
  });
});

describe('errors: every code, and the heap unchanged after a bad call', () => {
  it('EINVAL and EFREED for bad handles, slots and sizes', async () => {
    const heap = await heapFor();
    const a = heap.alloc(32, 2);
    const gone = heap.alloc(0);
    heap.decref(gone);
    const before = heap.stats();
    for (const bad of [0, -16, NaN, 1.5, a + 4, a + 16, 0x7fff_fff0, 2 ** 40, '16' as unknown as number]) {
      expectCode(() => heap.incref(bad), 'EINVAL');
      expectCode(() => heap.decref(bad), 'EINVAL');
    }
    expectCode(() => heap.decref(gone), 'EFREED', /decref\(handle 0x[0-9a-f]+\): the object was already freed/);
    expectCode(() => heap.setRef(a, 2, 0), 'EINVAL', /slot index out of range \(the object has 2 slots\)/);
    expectCode(() => heap.getRef(a, -1), 'EINVAL');
    expectCode(() => heap.loadRef(a, 0.5), 'EINVAL');
    expectCode(() => heap.setRef(a, 0, gone), 'EFREED');
    expectCode(() => heap.alloc(-1), 'EINVAL', /alloc: bytes must be/);
    expectCode(() => heap.alloc(8, 70_000), 'EINVAL', /slots must be/);
    expect(heap.stats()).toEqual(before);
    heap.verify();
    heap.decref(a);
  });

  it('ENOMEM at the maximum, and allocation works again after frees', async () => {
    const heap = await heapFor({ memory: { initialMiB: 1, maximumMiB: 8 } });
    const held: number[] = [];
    expectCode(() => { for (;;) held.push(heap.alloc(100_000)); }, 'ENOMEM', /alloc\(100000, 0\): out of memory/);
    heap.verify();
    for (const h of held) heap.decref(h);
    heap.decref(heap.alloc(100_000));
    heap.verify();
  });

  it('ECLOSED after close', async () => {
    const heap = await Heap.create({ memory: { maximumMiB: 16 } });
    const a = heap.alloc(0);
    await heap.close();
    expectCode(() => heap.incref(a), 'ECLOSED');
    expectCode(() => heap.alloc(0), 'ECLOSED');
    expectCode(() => heap.stats(), 'ECLOSED');
    await expect(heap.spawn(workerUrl)).rejects.toMatchObject({ code: 'ECLOSED' });
  });

  it('ETHREADS when every tid is taken', async () => {
    const heap = await heapFor({ maxThreads: 1 });
    await expect(heap.spawn(workerUrl)).rejects.toMatchObject({ code: 'ETHREADS' });
    heap.verify();
  });

  it('ENOTSHARED: the single-thread build cannot spawn', async () => {
    const heap = await heapFor({ shared: false });
    expect(heap.shared).toBe(false);
    const a = heap.alloc(8);
    heap.decref(a);
    await expect(heap.spawn(workerUrl)).rejects.toMatchObject({ code: 'ENOTSHARED', message: expect.stringMatching(/Cross-Origin-Opener-Policy.*Cross-Origin-Embedder-Policy/) });
  });

  it('EINVAL for bad options', async () => {
    await expect(Heap.create({ maxThreads: 0 })).rejects.toMatchObject({ code: 'EINVAL' });
    await expect(Heap.create({ memory: { initialMiB: 8, maximumMiB: 4 } })).rejects.toMatchObject({ code: 'EINVAL' });
  });
});

describe('workers', () => {
  it('spawn: tid, workerData, messages; references move with their handles', async () => {
    const heap = await heapFor();
    const t = await heap.spawn(workerUrl, { workerData: { name: 'w1' } });
    expect(t.tid).toBe(2);
    expect(await reply(t, { op: 'tid' })).toEqual({ tid: 2, workerData: { name: 'w1' } });
    const { handles } = await reply<{ handles: number[] }>(t, { op: 'make', count: 100 });
    expect(heap.info(handles[3])).toMatchObject({ owner: 2, local: 1 });
    expect(heap.view(handles[3]).getUint32(0, true)).toBe(3);
    for (const h of handles) heap.decref(h); // queued for the worker, which merges them while idle
    await eventually(() => heap.stats().liveObjects === 0);
    const mine = Array.from({ length: 50 }, () => heap.alloc(4));
    await reply(t, { op: 'release', handles: mine });
    await eventually(() => heap.stats().liveObjects === 0); // our idle merge
    await t.terminate();
    expect(heap.stats().threads).toBe(1);
    heap.verify();
  });

  it('a terminated worker is detached: its objects are abandoned, the others carry on', async () => {
    const heap = await heapFor();
    const [t1, t2] = await Promise.all([heap.spawn(workerUrl), heap.spawn(workerUrl)]);
    const { handles } = await reply<{ handles: number[] }>(t1, { op: 'make', count: 20 });
    t1.postMessage({ op: 'spin' });
    await new Promise((r) => setTimeout(r, 20));
    await t1.terminate();
    expect(heap.stats().threads).toBe(2);
    heap.verify();
    for (const h of handles) expect(heap.info(h)).toMatchObject({ owner: 0, merged: true });
    await reply(t2, { op: 'release', handles });
    expect(heap.stats().liveObjects).toBe(0);
    await t2.terminate();
    heap.verify();
  });

  it('a lock held by a worker that is terminated is released by the detach', async () => {
    const heap = await heapFor();
    const t = await heap.spawn(workerUrl);
    const a = heap.alloc(8);
    heap.incref(a); // the worker's reference, which it keeps (and loses when it dies)
    expect(await reply(t, { op: 'lockAndSpin', handle: a })).toEqual({ locked: true });
    expect(heap.tryLock(a)).toBe(false);
    await t.terminate();
    expect(heap.info(a).locked).toBe(false);
    heap.lock(a); // recovered: we can take it
    heap.unlock(a);
    expect(heap.stats().orphans).toBe(0); // a is ours: not orphaned
    heap.decref(a);
    heap.decref(a); // the reference the dead worker held: the test knows it is gone
    heap.verify();
  });

  it('a worker that closes its heap detaches itself; one that just exits is detached for it', async () => {
    const heap = await heapFor();
    const t = await heap.spawn(workerUrl);
    expect(await reply(t, { op: 'close' })).toEqual({ closed: true });
    expect(heap.stats().threads).toBe(1);
    await t.terminate();
    expect(heap.stats().threads).toBe(1);
    heap.verify();
  });

  it('close() ends every spawned thread', async () => {
    const heap = await Heap.create({ memory: { maximumMiB: 32 } });
    const threads = await Promise.all([heap.spawn(workerUrl), heap.spawn(workerUrl)]);
    expect(heap.threads.length).toBe(2);
    await heap.close();
    expect(await Promise.all(threads.map((t) => t.exited))).toHaveLength(2);
  });
});

describe('types and `using`', () => {
  it('a TypeScript user\'s `using` (downlevel emit, target ES2022) type-checks against the shipped types and runs on this Node', async () => {
    const { execFileSync } = await import('node:child_process');
    const { mkdtempSync, cpSync, symlinkSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const root = new URL('..', import.meta.url).pathname;
    const dir = mkdtempSync(join(tmpdir(), 'biasrc-using-'));
    cpSync(new URL('./fixtures/using', import.meta.url).pathname, dir, { recursive: true });
    // resolve 'biasrc' as a user would: node_modules/biasrc -> this package (its exports and shipped .d.ts)
    execFileSync('mkdir', ['-p', join(dir, 'node_modules', '@types')]);
    symlinkSync(root, join(dir, 'node_modules', 'biasrc'));
    symlinkSync(join(root, 'node_modules', '@types', 'node'), join(dir, 'node_modules', '@types', 'node'));
    execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', dir, '--outDir', dir], { stdio: 'pipe' });
    const out = execFileSync(process.execPath, [join(dir, 'example.js')], { encoding: 'utf8' });
    expect(out).toBe('inside: local count 2\nafter the block: 0 objects live\n');
  }, 60_000);
});
