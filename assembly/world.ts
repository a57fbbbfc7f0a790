// Holding the world: every other thread held at a safe point while one thread (the collector, collect.ts) reads or
// writes what they would otherwise change.
//
//   worldRequest:  G_WORLD = my tid, a new epoch; every other record gets ATTENTION_PAUSE | epoch (FREE ones too,
//                  so a thread that attaches meanwhile starts paused) and a wake-up (safepoint.ts)
//   worldPoll:     until each other thread is held: acknowledged (PAUSED = this epoch: it touches nothing until the
//                  end), stopped for termination, detached, or parked in a lock wait and borrowed by us
//                  (PARKED -> HELPED, as a helper borrows it); then G_WORLD |= WORLD_HELD, checked once more
//   worldRelease:  give everything back (also after a timeout or an error, and for a holder that is detached)
//
// Threads idle in their event loop are not interrupted: their idle waiter (src/) acknowledges from a JS task.
// A detacher of a dead thread backs off while another thread holds the world (threads.ts); it releases the world
// of the thread it detaches; an attaching thread pauses itself.
//
//   G_WORLD:  | holder tid (bits 0..30) | WORLD_HELD (bit 31) |     written by the holder only (and by its detacher)
//
// Layer 8: imports the instance and the queues (rights given back).

import {
  ATTENTION_EPOCH_SHIFT, ATTENTION_PAUSE, ATTENTION_STOP, GLOBAL_BASE, G_WORLD, G_WORLD_EPOCH, R_ATTENTION, R_BORROWED,
  R_PAUSED, R_QUEUE, R_STATE, R_STOPPED, STATE_FREE, STATE_HELPED, STATE_MASK, STATE_PARKED, STATE_RECLAIMING,
  WORLD_HELD,
} from "./layout";
import { EBUSY, OK } from "./errors";
import { maxThreads, myTid, recordOf } from "./instance";
import { releaseRights } from "./queue";

let epoch: u32 = 0; // the pause this thread's collection asks for

/** Starts holding the world: EBUSY if another collection holds it (acknowledge its pause and try again). */
export function worldRequest(): i32 {
  if (atomic.cmpxchg<u32>(GLOBAL_BASE + G_WORLD, 0, myTid) != 0) return EBUSY;
  // only the holder of G_WORLD writes the epoch; 0 never names a pause
  epoch = (load<u32>(GLOBAL_BASE + G_WORLD_EPOCH) + 1) & (0xffffffff >> ATTENTION_EPOCH_SHIFT);
  if (epoch == 0) epoch = 1;
  store<u32>(GLOBAL_BASE + G_WORLD_EPOCH, epoch);
  for (let tid: u32 = 1; tid <= maxThreads; tid++) {
    if (tid != myTid) setPause(recordOf(tid), ATTENTION_PAUSE | (epoch << ATTENTION_EPOCH_SHIFT));
  }
  wakeEveryone();
  return OK;
}

/** Sets a record's pause bits (keeping STOP, which a terminator may set meanwhile). */
function setPause(rec: usize, pause: u32): void {
  let a = atomic.load<u32>(rec + R_ATTENTION); // a guess for the CAS
  while (true) {
    let seen = atomic.cmpxchg<u32>(rec + R_ATTENTION, a, (a & ATTENTION_STOP) | pause);
    if (seen == a) return;
    a = seen;
  }
}

/** Wakes every other thread's idle waiter (it listens on its queue word) so that it acknowledges. */
function wakeEveryone(): void {
  for (let tid: u32 = 1; tid <= maxThreads; tid++) {
    if (tid != myTid) atomic.notify(recordOf(tid) + R_QUEUE);
  }
}

/**
 * 0 once every other thread is held (WORLD_HELD is then set); otherwise the tid of a thread not held yet. Borrows the
 * rights of parked threads on the way. Poll it until 0, sleeping a little between calls (src/collect.ts).
 */
export function worldPoll(): u32 {
  let waiting = notHeld();
  if (waiting != 0) return waiting;
  // Dekker against attach and detach (both SC): they change a state, then read G_WORLD; we publish WORLD_HELD,
  // then read every state again. Either they see WORLD_HELD (and pause or back off) or we see their change.
  atomic.store<u32>(GLOBAL_BASE + G_WORLD, myTid | WORLD_HELD);
  waiting = notHeld();
  if (waiting != 0) atomic.store<u32>(GLOBAL_BASE + G_WORLD, myTid);
  return waiting;
}

/** The first other tid that is not held, or 0. */
function notHeld(): u32 {
  wakeEveryone(); // an idle thread may have missed the first wake-up (it was busy then)
  for (let tid: u32 = 1; tid <= maxThreads; tid++) {
    if (tid != myTid && !held(tid)) return tid;
  }
  return 0;
}

function held(tid: u32): bool {
  let rec = recordOf(tid);
  let s = atomic.load<u32>(rec + R_STATE);
  let state = s & STATE_MASK;
  if (state == STATE_FREE) return true;
  if (state == STATE_RECLAIMING) return false; // a detach or a queue drain runs: wait for it
  if (state == STATE_HELPED) return atomic.load<u32>(rec + R_BORROWED) == myTid;
  if (state == STATE_PARKED) {
    // asleep in a lock wait: borrow its rights, so it cannot unpark until we give them back (park.ts)
    if (atomic.cmpxchg<u32>(rec + R_STATE, s, (s & ~STATE_MASK) | STATE_HELPED) != s) return false;
    atomic.store<u32>(rec + R_BORROWED, myTid);
    return true;
  }
  // ACTIVE: held once it sits stopped for termination, or acknowledged this very pause, in this incarnation: the
  // state read again after the acknowledgement must be the one read before it (an attach changes the generation)
  let answered = atomic.load<u32>(rec + R_STOPPED) != 0 || atomic.load<u32>(rec + R_PAUSED) == epoch;
  return answered && atomic.load<u32>(rec + R_STATE) == s;
}

/**
 * Lets the world go: after a collection, a timeout or an error, by the thread that requested it (index.ts checks),
 * or on behalf of `holder` by whoever detaches it (releaseWorldOf).
 */
export function worldRelease(holder: u32 = myTid): void {
  for (let tid: u32 = 1; tid <= maxThreads; tid++) {
    if (tid == holder) continue;
    let rec = recordOf(tid);
    atomic.store<u32>(rec + R_PAUSED, 0);
    setPause(rec, 0);
    atomic.notify(rec + R_ATTENTION);
    if (atomic.load<u32>(rec + R_BORROWED) == holder) {
      atomic.store<u32>(rec + R_BORROWED, 0);
      releaseRights(rec, STATE_PARKED); // notifies the owner, and merges what was queued meanwhile
    }
    atomic.notify(rec + R_QUEUE); // idle waiters merge what the collection queued for them
  }
  atomic.store<u32>(GLOBAL_BASE + G_WORLD, 0);
  atomic.notify(GLOBAL_BASE + G_WORLD); // detachers and other collectors wait for this
}

/**
 * A thread that requested or holds the world is being detached (it detaches itself, or it died and we reclaim it,
 * holding its rights): let the world go for it, or every other thread would stay paused for good, and a detacher of
 * the next dead thread would wait for the world forever. A holder that died between operations left no scratch
 * behind (brc_collect_cycles runs inside one operation and clears it); its borrowed rights are given back here.
 */
export function releaseWorldOf(tid: u32): void {
  if ((atomic.load<u32>(GLOBAL_BASE + G_WORLD) & ~WORLD_HELD) != tid) return; // only `tid` writes G_WORLD now
  worldRelease(tid);
}
