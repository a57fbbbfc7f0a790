// The owner's fast path in JavaScript (src/fastpath.ts) is a copy of the core's owner case (assembly/refcount.ts
// incref / decrefFast). Here the two are compared on every header state an object can be in: for each state, two
// objects get the same header; one is counted through the public API (the JS fast path, falling back to the core),
// the other through the core's export alone; their headers must come out the same, and the JS path must take its
// fast path exactly where the core's own fast path applies (below 2^31, where the JS path hands large counts over).
import { describe, expect, it } from 'vitest';
import { Heap, LAYOUT, instantiateCore, type CoreInstance } from '../dist/index.js';
import { ownerDecref, ownerIncref } from '../dist/fastpath.js';

const L = LAYOUT;
const IMMORTAL = L.LOCAL_IMMORTAL;

interface State { name: string; owner: 'me' | 'other' | 'none'; local: number; count: number; flags: number }

const LOCALS = [1, 2, 3, 0x7fff_fffe, 0x7fff_ffff, 0x8000_0000, IMMORTAL - 2, IMMORTAL - 1, IMMORTAL];
const SHARED: [number, number][] = [[0, 0], [1, 0], [5, 0], [0, L.SHARED_QUEUED], [-1, L.SHARED_QUEUED], [0, L.SHARED_WEAK],
  [2, L.SHARED_WEAK], [L.SHARED_SATURATED, 0]];

function states(): State[] {
  const out: State[] = [];
  for (const owner of ['me', 'other'] as const) {
    for (const local of LOCALS) for (const [count, flags] of SHARED) out.push({ name: `${owner} local=${local} count=${count} flags=${flags}`, owner, local, count, flags });
  }
  // merged: no owner, local 0, the count in the shared word (a queued reference may be pending too)
  for (const [count, flags] of [[1, 0], [2, 0], [3, L.SHARED_QUEUED], [2, L.SHARED_WEAK], [L.SHARED_SATURATED, 0]] as const) {
    out.push({ name: `merged count=${count} flags=${flags}`, owner: 'none', local: 0, count, flags: flags | L.SHARED_MERGED });
  }
  return out;
}

interface Setup { heap: Heap; other: CoreInstance; u32: () => Uint32Array }

async function setup(): Promise<Setup> {
  const heap = await Heap.create({ debug: false, memory: { initialMiB: 4, maximumMiB: 64 } });
  const other = await instantiateCore(heap.module, heap.memory);
  expect(other.exports.brc_thread_attach()).toBeGreaterThan(1);
  return { heap, other, u32: () => new Uint32Array(heap.memory.buffer) };
}

/** Writes a state into an object's header (local, tid, shared); the slots, generation and link words stay. */
function write(s: Setup, handle: number, state: State): void {
  const u32 = s.u32();
  const i = (handle >>> 0) >>> 2;
  const tid = state.owner === 'me' ? s.heap.tid : state.owner === 'other' ? s.other.exports.brc_thread_id() : 0;
  u32[i] = state.local >>> 0;
  u32[i + 1] = ((u32[i + 1] & 0xffff_0000) | tid) >>> 0;
  u32[i + 2] = ((state.count << L.SHARED_SHIFT) | state.flags) >>> 0;
}

function read(s: Setup, handle: number): { local: number; tid: number; shared: number; live: boolean } {
  const u32 = s.u32();
  const i = (handle >>> 0) >>> 2;
  return { local: u32[i], tid: u32[i + 1] & 0xffff, shared: u32[i + 2], live: (u32[i + 3] & L.LINK_LIVE) !== 0 };
}

/** The core's own fast-path condition (assembly/refcount.ts): ours, and local in range. */
function coreFast(state: State, op: 'incref' | 'decref'): boolean {
  if (state.owner !== 'me') return false;
  return op === 'incref' ? state.local < IMMORTAL - 1 : state.local >= 2 && state.local < IMMORTAL;
}

describe('the JS owner fast path agrees with the core on every header state', () => {
  for (const op of ['incref', 'decref'] as const) {
    it(`${op}: same header after, and the fast path taken exactly where the core takes its own`, async () => {
      const s = await setup();
      const attention = (s.heap.raw.brc_attention_address(s.heap.tid) >>> 0) >>> 2;
      const fast = op === 'incref' ? ownerIncref : ownerDecref;
      let compared = 0;
      for (const state of states()) {
        // objects whose release would free them are released by both paths (and both must free them)
        const a = s.heap.alloc(8), b = s.heap.alloc(8);
        write(s, a, state); write(s, b, state);
        const before = read(s, a);
        // what the JS fast path decides, on a copy of the header in a scratch array
        const scratch = new Int32Array(s.u32().slice(0, ((a >>> 0) >>> 2) + 4).buffer);
        const tookFast = fast(scratch, attention, s.heap.tid, a >>> 0);
        // the JS path keeps counts 32-bit signed integers: it hands local >= 2^31 - 1 (incref) or >= 2^31 (decref) over
        const expectFast = coreFast(state, op) && (op === 'incref' ? state.local < 0x7fff_ffff : state.local <= 0x7fff_ffff);
        expect(tookFast, `${op} ${state.name}: fast path`).toBe(expectFast);
        if (op === 'incref') { s.heap.incref(a); s.heap.raw.brc_incref(b); } else { s.heap.decref(a); s.heap.raw.brc_decref(b); }
        const afterA = read(s, a), afterB = read(s, b);
        compared++;
        if (!afterB.live) {
          // the core freed it (the last reference went): so must the JS path have
          expect(afterA.live, `${op} ${state.name}: freed by one path only`).toBe(false);
          continue;
        }
        expect(afterA, `${op} ${state.name}: JS path vs core (before: ${JSON.stringify(before)})`).toEqual(afterB);
        // put both back into a state the heap can release: owned by us with one local reference, nothing shared
        for (const h of [a, b]) write(s, h, { name: 'reset', owner: 'me', local: 1, count: 0, flags: 0 });
        s.heap.decref(a); s.heap.decref(b);
      }
      expect(compared).toBe(states().length);
      s.other.exports.brc_thread_detach(); // merges what the states above queued for it (a raw instance acks no pause)
      expect(s.heap.stats({ exact: true }).liveObjects).toBe(0);
      s.heap.verify();
      await s.heap.close();
    });
  }

  it('declines whenever the thread is asked to stop or to pause (ATTENTION set), touching nothing', async () => {
    const s = await setup();
    const a = s.heap.alloc(8);
    s.heap.incref(a); // local 2: both fast paths apply
    const attention = (s.heap.raw.brc_attention_address(s.heap.tid) >>> 0) >>> 2;
    for (const value of [L.ATTENTION_STOP, L.ATTENTION_PAUSE, L.ATTENTION_PAUSE | (7 << L.ATTENTION_EPOCH_SHIFT)]) {
      const scratch = new Int32Array(s.u32().slice().buffer);
      scratch[attention] = value;
      const header = Array.from(scratch.subarray((a >>> 0) >>> 2, ((a >>> 0) >>> 2) + 4));
      expect(ownerIncref(scratch, attention, s.heap.tid, a >>> 0)).toBe(false);
      expect(ownerDecref(scratch, attention, s.heap.tid, a >>> 0)).toBe(false);
      expect(Array.from(scratch.subarray((a >>> 0) >>> 2, ((a >>> 0) >>> 2) + 4))).toEqual(header);
      scratch[attention] = 0;
      expect(ownerIncref(scratch, attention, s.heap.tid, a >>> 0)).toBe(true); // and takes it again once clear
    }
    s.heap.decref(a); s.heap.decref(a);
    expect(s.heap.stats().liveObjects).toBe(0);
    s.other.exports.brc_thread_detach();
    await s.heap.close();
  });

  it('the debug build never takes it: every count goes through the core and its checks', async () => {
    const heap = await Heap.create({ debug: true, memory: { initialMiB: 1, maximumMiB: 16 } });
    const a = heap.alloc(8);
    for (let i = 0; i < 10; i++) heap.incref(a);
    for (let i = 0; i < 10; i++) heap.decref(a);
    expect(heap.stats().ownerIncrefs).toBe(10); // counted by the core (debug counters)
    expect(heap.stats().ownerDecrefs).toBe(10);
    heap.decref(a);
    await heap.close();
  });
});
