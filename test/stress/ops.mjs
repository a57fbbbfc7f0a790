// The randomized workload of the stress and kill tests, run by the main thread and every worker alike.
//
// Each thread keeps the references it holds in its own region of a SharedArrayBuffer (`held`: [count, handles...]),
// so that when a worker is killed the main thread knows exactly what it held. A held list is only changed in JS
// between two biasrc calls, and a stopped thread stops at the entry of a call, so the list is exact at a kill.
// Objects get a level (payload word 0); a slot only ever points to a lower level, so no cycle can form and
// everything is freed once every reference is released.

export { rng } from '../workers/common.mjs';

export const HELD_CAPACITY = 2048;
export const RING_CAPACITY = 256;
export const LEVELS = 6;

/** Shared memory of a run: control words, held lists, and one single-producer ring per (sender, receiver). */
export function createShared(threads) {
  return {
    control: new Int32Array(new SharedArrayBuffer(64)), // [phase, arrived, stopped, released]
    held: new Int32Array(new SharedArrayBuffer(threads * (HELD_CAPACITY + 1) * 4)),
    rings: new Int32Array(new SharedArrayBuffer(threads * threads * (RING_CAPACITY + 2) * 4)),
    // what each thread is doing now (an OP_* code), for the diagnosis of a run that hangs
    doing: new Int32Array(new SharedArrayBuffer(threads * 4)),
    heartbeat: new Int32Array(new SharedArrayBuffer(threads * 4)), // steps done, per thread
    locking: new Int32Array(new SharedArrayBuffer(threads * 4)), // the object a thread is locking, or 0
    // the harness asks a worker to spin in pure JavaScript (owner pairs) until it is killed there: [asked, entered]
    spin: new Int32Array(new SharedArrayBuffer(threads * 8)),
    threads,
  };
}

// phases: run; stop sending (each worker says when it has); release everything; leave
export const PHASE_RUN = 1;
export const PHASE_STOP = 2;
export const PHASE_RELEASE = 3;
export const PHASE_LEAVE = 4;
export const ARRIVED = 1;
export const STOPPED = 2;
export const RELEASED = 3;

/** Blocks (worker) until the phase is at least `phase`. */
export function awaitPhase(control, phase) {
  for (let p; (p = Atomics.load(control, 0)) < phase;) Atomics.wait(control, 0, p);
}

export class Player {
  /** `pairShare`: the share of steps that are loops of owner incref/decref pairs (the JS fast path), 0 by default. */
  constructor(heap, shared, index, rand, pairShare = 0) {
    this.heap = heap;
    this.shared = shared;
    this.index = index;
    this.rand = rand;
    this.pairShare = pairShare;
    this.held = shared.held.subarray(index * (HELD_CAPACITY + 1), (index + 1) * (HELD_CAPACITY + 1));
    this.ops = 0;
  }

  get count() { return this.held[0]; }
  pick() { return 1 + Math.floor(this.rand() * this.held[0]); }
  hold(handle) {
    const n = this.held[0];
    if (n >= HELD_CAPACITY) throw new Error(`stress: thread ${this.index} holds ${n} references already (the list's capacity)`);
    this.held[n + 1] = handle;
    this.held[0] = n + 1;
  }
  drop(at) { const n = this.held[0]; this.held[at] = this.held[n]; this.held[0] = n - 1; }
  level(handle) { return this.heap.view(handle).getUint32(0, true); }

  ring(from, to) { const size = RING_CAPACITY + 2; return this.shared.rings.subarray((from * this.shared.threads + to) * size, (from * this.shared.threads + to + 1) * size); }

  send(to, handle) {
    const r = this.ring(this.index, to);
    const tail = Atomics.load(r, 1);
    if (tail - Atomics.load(r, 0) >= RING_CAPACITY) return false;
    Atomics.store(r, 2 + (tail % RING_CAPACITY), handle);
    Atomics.store(r, 1, tail + 1); // publishes the slot
    return true;
  }

  receiveAll() {
    for (let from = 0; from < this.shared.threads; from++) {
      if (from === this.index) continue;
      const r = this.ring(from, this.index);
      for (let head = Atomics.load(r, 0); head !== Atomics.load(r, 1) && this.count < HELD_CAPACITY; head++) {
        this.hold(Atomics.load(r, 2 + (head % RING_CAPACITY)));
        Atomics.store(r, 0, head + 1);
      }
    }
  }

  /** One random operation. */
  step(peers) {
    const heap = this.heap, r = this.rand();
    this.ops++;
    this.shared.doing[this.index] = Math.floor(r * 100); // which branch below (by r), for a hang's diagnosis
    this.shared.heartbeat[this.index]++;
    if (this.pairShare > 0 && this.count > 0 && this.rand() < this.pairShare) {
      this.ownerPairs();
      return;
    }
    if (this.count === 0 || (r < 0.22 && this.count < HELD_CAPACITY)) {
      const h = heap.alloc(4 + Math.floor(this.rand() * 60), Math.floor(this.rand() * 4));
      heap.view(h).setUint32(0, Math.floor(this.rand() * LEVELS), true);
      this.hold(h);
    } else if (r < 0.34 && this.count < HELD_CAPACITY) {
      const h = this.held[this.pick()];
      heap.incref(h);
      this.hold(h);
    } else if (r < 0.56) {
      const at = this.pick();
      heap.decref(this.held[at]);
      this.drop(at);
    } else if (r < 0.68) {
      const parent = this.held[this.pick()], slots = heap.info(parent).slots;
      if (slots === 0) return;
      const child = this.held[this.pick()];
      const slot = Math.floor(this.rand() * slots);
      heap.setRef(parent, slot, this.level(child) < this.level(parent) && this.rand() < 0.8 ? child : 0);
    } else if (r < 0.8 && this.count < HELD_CAPACITY) {
      const parent = this.held[this.pick()], slots = heap.info(parent).slots;
      if (slots === 0) return;
      const child = heap.loadRef(parent, Math.floor(this.rand() * slots));
      if (child !== 0) this.hold(child);
    } else if (r < 0.86) {
      const h = this.held[this.pick()];
      this.shared.locking[this.index] = h;
      heap.lock(h);
      heap.incref(h);
      const v = heap.view(h);
      v.setUint32(v.byteLength - 4, v.getUint32(v.byteLength - 4, true) + 1, true); // a plain counter, under the lock
      heap.decref(h);
      heap.unlock(h);
      this.shared.locking[this.index] = 0;
    } else if (r < 0.95 && peers.length > 0) {
      const at = this.pick();
      if (this.send(peers[Math.floor(this.rand() * peers.length)], this.held[at])) this.drop(at); // the reference moves
    } else if (r < 0.98) {
      this.receiveAll();
    } else {
      heap.collect();
    }
  }

  /** 256 incref/decref pairs on a held object this thread owns (found among a few picks, or made): the JS fast path. */
  ownerPairs() {
    const heap = this.heap;
    let h = 0;
    for (let tries = 0; tries < 4 && h === 0; tries++) {
      const candidate = this.held[this.pick()];
      if (heap.info(candidate).owner === heap.tid) h = candidate;
    }
    if (h === 0) {
      if (this.count >= HELD_CAPACITY) return;
      h = heap.alloc(8, 0); // level 0
      this.hold(h);
    }
    for (let k = 0; k < 256; k++) {
      heap.incref(h);
      heap.decref(h);
    }
  }

  /**
   * Never returns: owner pairs on a fresh object of ours, in pure JavaScript (no call into wasm while nobody sets
   * this thread's ATTENTION), so that the harness can kill the worker at an arbitrary point of the JS fast path.
   */
  spinOwnerPairs() {
    const heap = this.heap;
    if (this.count >= HELD_CAPACITY) { // make room: a full list would take a 2049th entry past its end
      const at = this.pick();
      heap.decref(this.held[at]);
      this.drop(at);
    }
    const h = heap.alloc(8, 0);
    this.hold(h); // the held list is exact before we say we are in
    Atomics.store(this.shared.spin, this.index * 2 + 1, 1);
    for (;;) {
      for (let k = 0; k < 1024; k++) {
        heap.incref(h);
        heap.decref(h);
      }
      this.shared.heartbeat[this.index]++;
    }
  }

  /** Gives back every reference held, and those still waiting in our rings. */
  releaseAll() {
    this.shared.doing[this.index] = -1;
    do {
      this.receiveAll();
      while (this.count > 0) {
        this.heap.decref(this.held[this.count]);
        this.held[0]--;
      }
    } while (this.pending() > 0);
  }

  /** References waiting in our incoming rings. */
  pending() {
    let n = 0;
    for (let from = 0; from < this.shared.threads; from++) {
      const r = this.ring(from, this.index);
      if (from !== this.index) n += Atomics.load(r, 1) - Atomics.load(r, 0);
    }
    return n;
  }
}
