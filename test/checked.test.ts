// Checked mode's validation in JavaScript (src/views.ts liveAddress, and check behind it) against handles that
// look right: bytes that forge a live header owned by this thread, inside a payload, in a block the page never
// handed out, in a raw brc_malloc block. In the release build the owner's JS fast path writes through whatever
// validation lets pass, so each test checks that the forged bytes are untouched, not only the error code.
import { describe, expect, it } from 'vitest';
import { Heap, BrcError, LAYOUT } from 'biasrc';
import { heapsClosedAfterEach } from './helpers/heaps.js';

const L = LAYOUT;
const TAG = 2 ** 32;
const heaps = heapsClosedAfterEach({ memory: { initialMiB: 4, maximumMiB: 64 } });
const heapFor = (debug: boolean) => heaps({ debug });

/** Writes a header at `address` that says: live, owned by `tid`, local count 1, generation `generation`. */
function forgeHeader(heap: Heap, address: number, generation: number): void {
  const view = new DataView(heap.memory.buffer);
  view.setUint32(address + L.H_LOCAL, 1, true);
  view.setUint16(address + L.H_TID, heap.tid, true);
  view.setUint16(address + L.H_SLOTS, generation << L.GEN_SHIFT, true);
  view.setUint32(address + L.H_SHARED, 0, true);
  view.setUint32(address + L.H_LINK, L.LINK_LIVE, true);
}

function bytesAt(heap: Heap, address: number): number[] {
  return [...new Uint8Array(heap.memory.buffer, address, L.HEADER_SIZE)];
}

/** Every checked call that takes a handle refuses `handle` with `code`, and the 16 bytes at its address stay. */
function expectRefused(heap: Heap, handle: number, code: string): void {
  const address = handle >>> 0;
  const before = bytesAt(heap, address);
  const calls: [string, () => unknown][] = [
    ['incref', () => heap.incref(handle)],
    ['decref', () => heap.decref(handle)],
    ['info', () => heap.info(handle)],
    ['bytes', () => heap.bytes(handle)],
    ['lock', () => heap.lock(handle)],
    ['weak', () => heap.weak(handle)],
  ];
  for (const [name, call] of calls) {
    let caught: unknown;
    try { call(); } catch (e) { caught = e; }
    expect(caught, name).toBeInstanceOf(BrcError);
    expect((caught as BrcError).code, name).toBe(code);
    expect(bytesAt(heap, address), name).toEqual(before);
  }
}

describe.each([{ debug: false }, { debug: true }])('checked mode against forged headers (debug: $debug)', ({ debug }) => {
  it('a handle inside a payload, whose bytes forge a live header of this thread, is EINVAL', async () => {
    const heap = await heapFor(debug);
    const outer = heap.alloc(96, 0);
    const generation = Math.floor(outer / TAG) - 1;
    const payload = heap.bytes(outer).byteOffset;
    const inside = payload + ((L.BLOCK_ALIGN - (payload % L.BLOCK_ALIGN)) % L.BLOCK_ALIGN); // 16-aligned, no block start
    forgeHeader(heap, inside, generation);
    expectRefused(heap, (generation + 1) * TAG + inside, 'EINVAL'); // tagged like a real handle
    expectRefused(heap, inside, 'EINVAL'); // and untagged, as from heap.raw
    heap.bytes(outer).fill(0);
    heap.decref(outer);
    expect(heap.stats({ exact: true }).liveObjects).toBe(0);
    heap.verify();
  });

  it('a block past the page\'s bump mark (never handed out in this use of the page) holding a forged header is EFREED', async () => {
    const heap = await heapFor(debug);
    const only = heap.alloc(3000, 0); // a size class nothing else uses here: a fresh page
    const address = only >>> 0;
    const page = address - (address & L.PAGE_MASK);
    const u32 = new Uint32Array(heap.memory.buffer);
    const size = u32[(page + L.P_BLOCK_SIZE) >>> 2];
    const bump = u32[(page + L.P_BUMP) >>> 2];
    const unused = page + L.PAGE_HEADER_SIZE + bump * size;
    expect(unused + size).toBeLessThanOrEqual(page + L.PAGE_SIZE);
    forgeHeader(heap, unused, 0);
    expectRefused(heap, TAG + unused, 'EFREED');
    new Uint8Array(heap.memory.buffer, unused, L.HEADER_SIZE).fill(0);
    heap.decref(only);
    heap.verify();
  });

  it('a raw brc_malloc block holding a forged header is EINVAL', async () => {
    const heap = await heapFor(debug);
    const block = heap.raw.brc_malloc(64) >>> 0;
    expect(block).not.toBe(0);
    forgeHeader(heap, block, 0);
    expectRefused(heap, TAG + block, 'EINVAL');
    expectRefused(heap, block, 'EINVAL');
    heap.raw.brc_free(block);
    heap.verify();
  });

  it('an untagged handle (as from heap.raw) of a freed object is EFREED: the header\'s live bit, not the generation, says so', async () => {
    const heap = await heapFor(debug);
    const keep = heap.alloc(8, 0); // keeps the page in use, so the freed block stays as it was
    const gone = heap.alloc(8, 0);
    heap.decref(gone);
    expectRefused(heap, gone >>> 0, 'EFREED');
    heap.decref(keep);
    heap.verify();
  });

  it('a number-like string, boolean or bigint for a live object is EINVAL, and its count stays', async () => {
    const heap = await heapFor(debug);
    const h = heap.alloc(8, 0);
    for (const fake of [String(h >>> 0), String(h), [h >>> 0], { valueOf: () => h }, BigInt(h >>> 0)]) {
      let caught: unknown;
      try { heap.incref(fake as never); } catch (e) { caught = e; }
      expect((caught as BrcError).code, String(fake)).toBe('EINVAL');
    }
    expect(heap.info(h).local).toBe(1);
    heap.decref(h);
    heap.verify();
  });

  it('a handle in a page header (before the first block) is EINVAL, even when its bytes look like a live header', async () => {
    const heap = await heapFor(debug);
    const h = heap.alloc(0, 0); // the smallest block: a handle 16 bytes before the first block divides evenly
    const address = h >>> 0;
    const page = address - (address & L.PAGE_MASK);
    const u32 = new Uint32Array(heap.memory.buffer);
    expect(u32[(page + L.P_BLOCK_SIZE) >>> 2]).toBe(L.BLOCK_ALIGN);
    const inHeader = page + L.PAGE_HEADER_SIZE - L.BLOCK_ALIGN;
    const saved = bytesAt(heap, inHeader);
    forgeHeader(heap, inHeader, 0);
    try {
      expectRefused(heap, TAG + inHeader, 'EINVAL');
    } finally {
      new Uint8Array(heap.memory.buffer, inHeader, L.HEADER_SIZE).set(saved);
    }
    heap.decref(h);
    heap.verify();
  });
});
