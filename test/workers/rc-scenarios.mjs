// Reference-counting scenarios run inside worker threads (test/rc.test.ts). Each posts one result and exits.
// Every worker starts its main loop on the shared barrier, so the threads really run at the same time.
import { parentPort, workerData } from 'node:worker_threads';
import { attach, barrier, rng } from './common.mjs';

const { core, x, tid } = await attach();
const i32 = () => new Int32Array(core.memory.buffer);

/** Worker 0 owns the objects; every worker holds one reference to each and hammers the counts, then lets go. */
function sharedCounts() {
  const { index, count, objects, pairs, mailbox, seed } = workerData;
  const rand = rng(seed + index);
  if (index === 0) {
    for (let k = 0; k < objects; k++) {
      const obj = x.brc_alloc(8, 0);
      for (let w = 1; w < count; w++) x.brc_incref(obj); // one reference for each other worker
      mailbox[k] = obj;
    }
  }
  barrier();
  const mine = Array.from(mailbox.subarray(0, objects));
  for (let p = 0; p < pairs; p++) {
    const obj = mine[Math.floor(rand() * objects)];
    x.brc_incref(obj);
    if (rand() < 0.5) x.brc_incref(obj), x.brc_decref(obj);
    x.brc_decref(obj);
  }
  // let go in a random order, all threads at once: owner merges race with shared decrements and queueing
  for (let k = objects - 1; k > 0; k--) { const j = Math.floor(rand() * (k + 1)); [mine[k], mine[j]] = [mine[j], mine[k]]; }
  for (const obj of mine) x.brc_decref(obj);
  barrier();
  const merged = x.brc_collect(); // queued objects wait for their owner (worker 0)
  barrier();
  return { tid, merged, detached: x.brc_thread_detach() };
}

/** Objects travel round a ring of workers; each hop moves the reference, the last hop releases it. */
function ring() {
  const { index, count, perWorker, hops, rings, seed } = workerData;
  const rand = rng(seed + index);
  const capacity = rings.length / count - 2;
  const base = (w) => w * (capacity + 2); // [head, tail, slots...]
  const inbox = base(index), outbox = base((index + 1) % count);
  let toSend = perWorker, released = 0, forwarded = 0;
  const pending = [];
  const send = (obj) => {
    const tail = Atomics.load(rings, outbox + 1);
    if (tail - Atomics.load(rings, outbox) >= capacity) return false;
    Atomics.store(rings, outbox + 2 + (tail % capacity), obj);
    Atomics.store(rings, outbox + 1, tail + 1); // publish after the slot write
    return true;
  };
  const receive = () => {
    const head = Atomics.load(rings, inbox);
    if (head === Atomics.load(rings, inbox + 1)) return 0;
    const obj = Atomics.load(rings, inbox + 2 + (head % capacity));
    Atomics.store(rings, inbox, head + 1);
    return obj;
  };
  const done = workerData.done; // [objects released in total]
  const total = perWorker * count;
  barrier();
  while (Atomics.load(done, 0) < total) {
    if (toSend > 0 && pending.length === 0) {
      const obj = x.brc_alloc(8, 0);
      new DataView(core.memory.buffer).setUint32(x.brc_payload(obj), 0, true);
      pending.push(obj);
      toSend--;
    }
    if (pending.length > 0 && send(pending[pending.length - 1])) pending.pop();
    const obj = receive();
    if (obj === 0) { x.brc_collect(); continue; }
    const view = new DataView(core.memory.buffer);
    const at = x.brc_payload(obj);
    const hop = view.getUint32(at, true) + 1;
    view.setUint32(at, hop, true);
    for (let k = Math.floor(rand() * 4); k > 0; k--) x.brc_incref(obj), x.brc_decref(obj);
    if (hop >= hops) { x.brc_decref(obj); released++; Atomics.add(done, 0, 1); }
    else { pending.push(obj); forwarded++; }
  }
  barrier();
  x.brc_collect();
  barrier();
  return { tid, released, forwarded, detached: x.brc_thread_detach() };
}

/**
 * Random graph: roots (held by the main thread) have slots holding leaves; a leaf's one slot holds a data object.
 * Threads replace slots with set_ref and read them with load_ref at the same time. Levels keep the graph acyclic.
 */
function graph() {
  const { index, roots, slots, ops, seed } = workerData;
  const rand = rng(seed + index);
  const pick = () => [roots[Math.floor(rand() * roots.length)], Math.floor(rand() * slots)];
  let loads = 0, sets = 0;
  barrier();
  for (let n = 0; n < ops; n++) {
    const r = rand();
    const [root, slot] = pick();
    if (r < 0.3) {
      const leaf = x.brc_alloc(16, 1);
      x.brc_set_ref(root, slot, leaf);
      x.brc_decref(leaf);
      sets++;
    } else if (r < 0.55) {
      const leaf = x.brc_load_ref(root, slot);
      if (leaf !== 0) {
        const data = x.brc_alloc(8, 0);
        x.brc_set_ref(leaf, 0, data);
        x.brc_decref(data);
        x.brc_decref(leaf);
        loads++;
      }
    } else if (r < 0.85) {
      const [root2, slot2] = pick();
      const a = x.brc_load_ref(root, slot), b = x.brc_load_ref(root2, slot2);
      if (a !== 0 && b !== 0) {
        const data = x.brc_load_ref(b, 0);
        x.brc_set_ref(a, 0, data); // data may be 0: clears the slot
        if (data !== 0) x.brc_decref(data);
      }
      if (a !== 0) x.brc_decref(a);
      if (b !== 0) x.brc_decref(b);
      loads += 2;
    } else {
      x.brc_set_ref(root, slot, 0);
      sets++;
    }
  }
  barrier();
  x.brc_collect();
  barrier();
  x.brc_collect();
  return { tid, loads, sets, detached: x.brc_thread_detach() };
}

/** Every worker adds 1 to a plain counter in the object's payload, under the object's lock. */
function lockCounter() {
  const { index, obj, increments } = workerData;
  const at = x.brc_payload(obj);
  barrier();
  for (let k = 0; k < increments; k++) {
    if (index % 2 === 0) x.brc_lock(obj);
    else while (x.brc_try_lock(obj) !== 0);
    const a = i32();
    a[at >> 2] = a[at >> 2] + 1; // not atomic: only the lock keeps it exact
    if (x.brc_unlock(obj) !== 0) throw new Error('unlock failed');
  }
  return { tid, detached: x.brc_thread_detach() };
}

/** Allocates objects, gives a reference to each to the other side, then blocks on a lock the main thread holds. */
function parkedOwner() {
  const { objects, mailbox, lockObj, state } = workerData;
  for (let k = 0; k < objects; k++) {
    const obj = x.brc_alloc(8, 0);
    x.brc_incref(obj); // the second reference is for the helper thread
    mailbox[k] = obj;
  }
  Atomics.store(state, 0, tid);
  Atomics.notify(state, 0);
  x.brc_lock(lockObj); // blocks: parked inside biasrc
  x.brc_unlock(lockObj);
  for (let k = 0; k < objects; k++) x.brc_decref(mailbox[k]);
  return { tid, detached: x.brc_thread_detach() };
}

/** Waits until the owner is parked, then releases its references: the owner's queue must be merged for it. */
function releaseToParked() {
  const { objects, mailbox, state, parkedState } = workerData;
  while (Atomics.load(state, 0) === 0) Atomics.wait(state, 0, 0);
  const owner = Atomics.load(state, 0);
  while (x.brc_thread_state(owner) !== parkedState) Atomics.wait(state, 1, 0, 1);
  for (let k = 0; k < objects; k++) x.brc_decref(mailbox[k]);
  const queueWord = i32()[x.brc_queue_address(owner) >> 2];
  Atomics.store(state, 1, 1); // tells the main thread we are done while the owner still sleeps
  return { tid, owner, queueWord, detached: x.brc_thread_detach() };
}

/** Allocates objects, gives the main thread one reference to each, and exits: detached, or left for dead. */
function allocateAndLeave() {
  const { objects, mailbox, detach } = workerData;
  for (let k = 0; k < objects; k++) {
    const obj = x.brc_alloc(24, 1);
    x.brc_incref(obj); // the main thread's reference
    if (k > 0) x.brc_set_ref(obj, 0, mailbox[k - 1]);
    mailbox[k] = obj;
  }
  for (let k = 0; k < objects; k++) x.brc_decref(mailbox[k]); // our own references; main keeps its own
  const generation = x.brc_thread_generation(tid);
  return { tid, generation, detached: detach ? x.brc_thread_detach() : -1 };
}

/** Every worker adds `increments` references to an object near the shared limit, then takes as many away. */
function saturate() {
  const { obj, increments } = workerData;
  barrier();
  for (let k = 0; k < increments; k++) x.brc_incref(obj);
  for (let k = 0; k < increments; k++) x.brc_decref(obj);
  return { tid, detached: x.brc_thread_detach() };
}

const scenarios = { saturate, sharedCounts, ring, graph, lockCounter, parkedOwner, releaseToParked, allocateAndLeave };
const name = Array.isArray(workerData.scenario) ? workerData.scenario[workerData.index] : workerData.scenario;
parentPort.postMessage(scenarios[name]());
