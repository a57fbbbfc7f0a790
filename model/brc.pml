/*
 * biasrc: a Promela model of the biased reference counting protocol (checked by spin; see docs/MODEL.md and
 * scripts/model.mjs). This file is the main model; model/weak.pml includes it with WEAKREF defined to add weak
 * references (design v2: cells, the WEAK flag and try-incref).
 *
 * One object, three threads. Thread 1 allocated the object and owns it (tid 1, record 1); threads 2 and 3 are other
 * attached threads (tids 2 and 3). Only record 1 matters: the object is only ever queued on its owner's record, so
 * records 2 and 3 (always empty queues) are left out. Every step below is one atomic memory operation of the code
 * (wasm atomics are sequentially consistent; the owner's plain loads and stores of local are single steps too),
 * labelled "function: what the step does" (no line numbers: assembly/ is being split into layers). Ghost
 * variables (refs, held, holder, pend, zl, qref, everq, decided, immortal, adding, tent) are updated inside the step
 * they describe and are not part of the algorithm.
 *
 * Each thread starts with one reference (local = 2 counts threads 1 and 2, the shared count 1 counts thread 3), may
 * take one more (incref), hand references to a thread that is still running, drain its queue (owner), park in a
 * lock (owner; other threads then help), and releases every reference it holds. Then it finishes: the owner either
 * detaches itself or dies (while running or while parked) and thread 2 detaches it for the dead (detach_dead);
 * thread 3 may then attach again as a new thread that reuses tid 1 (unless NO_REUSE) and detach it.
 *
 * The shared word is the v2 layout: count << 3 | WEAK 4 | MERGED 2 | QUEUED 1. A non-owner increment is ONE atomic
 * add, undone by an atomic sub when the count was already saturated (design v2, "Non-owner increment").
 * SAT stands for SHARED_SATURATED (2^27): out of reach by default; -DSAT=2 lets non-owner adds reach it.
 *
 * Switches (spin -D...):
 *   BROKEN_STORE_ORDER  mergeZeroLocal publishes MERGED before clearing local and tid (the bug CPython fixed in
 *                       gh-121794): a thread that sees MERGED frees the object while the owner still writes to it.
 *   BROKEN_NO_RECHECK   releaseRights returns without re-checking the queue: an object queued while the rights
 *                       holder was between its last drain and its release waits forever (a leak).
 *   BROKEN_UNPARK       unparkSelf stores ACTIVE without waiting out a helper: the owner takes its rights back
 *                       while a helper still merges its queue, so two threads write the object's local count.
 *   UNATTACHED_T3       thread 3 holds no tid (never attached, or already detached) yet uses its reference: its
 *                       owner check uses NO_TID (threads.ts myTidHigh), which no object carries (same state space).
 *   UNATTACHED_TID0     with UNATTACHED_T3: the owner check uses tid 0 instead (the code before NO_TID). Fails: on a
 *                       merged object (tid 0, local 0) it matches, and the thread writes the dead local count.
 *   BROKEN_PARK_NO_RECHECK  parkSelf without its re-check of the queue after the PARKED store (the parking gap).
 *   BROKEN_NO_UNDO      (with a small SAT) the non-owner add is never undone: an immortal object's count walks past
 *                       [SAT, SAT + threads] (by 2^27 non-owner increfs of an immortal it overflows the i32).
 *   BROKEN_CLAMP        (with a small SAT) the merges (mergeQueued, abandonObject) re-encode a count already at or
 *                       above SAT as exactly SAT (today's encodeCount): an add waiting to undo then takes the count
 *                       below SAT, and the immortal object becomes mortal again.
 *   NO_PARK / NO_DEAD / NO_REUSE  leave out parking and helping / detach_dead / tid reuse (smaller state spaces).
 *   MAXINC / MAXGIVE    increfs and hand-offs in total (default 2 and 2).
 *
 * The parking gap (found with this model, fixed in threads.ts parkSelf; docs/MODEL.md):
 *   an owner never blocks while an object waits in its queue with nobody coming to merge it (always asserted).
 */

#define OBJ 1
#define NO_TID 255                   /* layout.ts NO_TID (0xffff): the owner check of a thread without a tid */

/* record state word (layout.ts STATE_*) */
#define FREE        0
#define ACTIVE      1
#define PARKED      2
#define HELPED      3
#define RECLAIMING  4

/* shared word v2: count << 3 | WEAK | MERGED | QUEUED */
#define QUEUED 1
#define MERGED 2
#define WEAK   4
#define ONE    8
#define CNT(x) ((x) >> 3)            /* sharedCount: arithmetic shift, as i32.shr_s */
#ifndef SAT
#define SAT 16                       /* SHARED_SATURATED; 16 is out of reach at every bound scripts/model.mjs uses */
#endif

#ifndef MAXINC
#define MAXINC 2                     /* increfs in total */
#endif
#ifndef MAXGIVE
#define MAXGIVE 2                    /* hand-offs in total */
#endif
#ifndef MAXUP
#define MAXUP 2                      /* weak upgrades in total (WEAKREF) */
#endif

/* ---- the object header (H_LOCAL, H_TID, H_SHARED) and record 1 (R_STATE, R_QUEUE) ---- */
byte  biased = 2;                    /* H_LOCAL (named biased: local is a Promela keyword): owner's plain loads and stores */
byte  tid = 1;                       /* owner (0: merged or abandoned) */
short sh = ONE;                      /* shared word: count 1, no flags */
byte  rstate = ACTIVE;               /* record 1 state word */
byte  queue = 0;                     /* record 1 queue head: 0 or OBJ (one object: the stack holds at most it) */

#ifdef WEAKREF
/* ---- the weak table (one cell) and its mutex W ---- */
byte  cell;                          /* the cell's target: OBJ, or 0 (cleared / free) */
byte  cserial = 1;                   /* the cell's serial, bumped when it is cleared */
byte  wlock;                         /* W: 0 free, else the thread holding it */
/* ghosts */
bool  whandle;                       /* weak() returned: every thread knows the handle (cell index, hserial) */
byte  hserial;                       /* the serial in that handle */
bool  wmade;                         /* weak() was called */
byte  ups;                           /* upgrades so far */
#endif

/* ---- ghosts ---- */
bool  freed;                         /* releaseObjectBlock ran (LIVE cleared, block returned) */
bool  decided;                       /* a CAS (or the owner's shared == 0 shortcut) decided to free the object */
bool  immortal;                      /* the shared count reached SAT (saturated): never freed from now on */
byte  adding;                        /* non-owner adds that found the count saturated and have not undone it yet */
byte  tent;                          /* try-increfs that added ONE and have not undone it (BROKEN_TRYINC_ADD) */
byte  refs = 3;                      /* references alive: held by threads, in flight, or held by the queue */
byte  held[4];                       /* references each thread may still use */
bool  done[4];                       /* finished: receives no more references */
bool  dead[4];                       /* died without detaching */
byte  holder = 1;                    /* thread holding record 1's rights (0: nobody) */
byte  pend;                          /* local count taken out by a merger, not yet folded into shared */
bool  zl;                            /* the owner decided local 1 -> 0 (mergeZeroLocal) and has not stored it */
bool  qref;                          /* the queue holds a reference (QUEUED set by a queuer, not merged yet) */
bool  everq;                         /* QUEUED was ever set */
bool  ownerDone;                     /* thread 1 has detached or died */
byte  gives;                         /* hand-offs so far */
byte  incs;                          /* increfs so far */
byte  pushing;                       /* queuers between their push and their state read (CHECK_PARK_GAP) */

/* every read or write of the header: never after the free */
#define ACC  assert(!freed)

/* the count is conserved: references alive (+ tentative adds) == local + shared count + folded-out local
   - decided-but-unstored 1, unless saturated; the shared count is negative only while the object is queued
   (PACT'18 invariant); a saturated count stays in [SAT, SAT + adds about to undo] */
#define INV  assert(freed || immortal || refs + zl + tent == biased + CNT(sh) + pend); \
             assert(CNT(sh) >= 0 || (sh & QUEUED)); \
             assert(!immortal || CNT(sh) >= SAT && CNT(sh) <= SAT + adding)

/* the count reached SAT: immortal from now on */
#define SATCHK  immortal = (immortal || CNT(sh) >= SAT)

/* the decision to free, computed in the CAS step that makes it (act: 0 nothing, 1 enqueue, 2 free); v2: the
   WEAK flag does not count ("every free when the CAS result is exactly MERGED test becomes (next & ~WEAK) == MERGED") */
#define FREEIF(x)  act = ((((x) & ~WEAK) == MERGED) -> 2 : 0); decided = (decided || act == 2)

/* "count zero, no flag but WEAK": the decrement sets QUEUED in place of going below zero */
#ifndef BROKEN_QUEUE_TEST
#define QZERO(s)  (((s) & ~WEAK) == 0)
#else
#define QZERO(s)  ((s) == 0)           /* the literal test of today's decrefShared: WEAK alone is not "zero" */
#endif

/* the merges keep WEAK (and abandonObject QUEUED) when they re-encode the word */
#ifndef BROKEN_DROP_WEAK
#define KEEPW(s)  ((s) & WEAK)
#else
#define KEEPW(s)  0                     /* today's encodeCount(count, MERGED): WEAK is dropped */
#endif

/* the count a merge CASes in: v2 saturation keeps a count already >= SAT as it is (an add may be about to undo);
   a count that reaches SAT by this merge is clamped to SAT (no add can be waiting to undo then) */
#ifndef BROKEN_CLAMP
#define MERGECOUNT(s, c)  (CNT(s) >= SAT -> CNT(s) : ((c) >= SAT -> SAT : (c)))
#else
#define MERGECOUNT(s, c)  (CNT(s) >= SAT -> SAT : ((c) >= SAT -> SAT : (c)))  /* encodeCount clamps every count */
#endif

#ifdef WEAKREF
inline lockW() {
  atomic { wlock == 0 -> wlock = me }                          /* mutexLock(W): CAS 0 -> 1 (waits while held) */
}
inline unlockW() {
  atomic { assert(wlock == me); wlock = 0 }                    /* mutexUnlock(W): xchg 0 */
}
#endif

/* queue.ts scheduleFree + drainFrees + object.ts releaseObjectBlock (checkFreeable: no double free).
   The free is deferred to the end of the same call on the same thread; nobody else can reach the object by then,
   except, with weak references, an upgrader through the weak cell: hence the cell is cleared under W first. */
inline free_obj() {
  atomic {
    assert(decided);                                    /* only what a CAS (or the shortcut) decided to free */
    assert(freed == 0);                                 /* no double free */
    assert(refs == 0);                                  /* freed only when the last reference is gone */
    assert(!qref && queue == 0 && (sh & QUEUED) == 0);  /* no queue holds it */
    assert(!immortal);                                  /* a saturated count is never freed */
#ifndef WEAKREF
    freed = 1; act = 0                                  /* releaseObjectBlock: xchg(link, 0) clears LIVE; freeBlock */
  }
#else
    ACC; wk = ((sh & WEAK) != 0)                             /* releaseObjectBlock: load shared, WEAK set? */
  }
#ifdef BROKEN_FREE_ORDER
  atomic { freed = 1; act = 0 }                        /* releaseObjectBlock: the block is released FIRST */
#endif
#ifdef BROKEN_NO_WEAK_FLAG
  wk = 1;                                               /* no flag: every free looks the object up in the map */
#endif
  if
  :: wk ->
     lockW();                                           /* releaseObjectBlock: lock W */
     atomic { if :: cell == OBJ -> cell = 0; cserial++ :: else fi } /* releaseObjectBlock: find the cell in the
                                                           map: target = 0, serial++, cell freed, map entry removed */
     unlockW()
  :: else
  fi;
  wk = 0;
#ifndef BROKEN_FREE_ORDER
  atomic { freed = 1; act = 0 }                        /* releaseObjectBlock: xchg(link, 0) clears LIVE; freeBlock */
#endif
#endif
}

/* refcount.ts incref (owner) and increfShared (design v2: one atomic add, undone when saturated) */
inline incref() {
  atomic { ACC; dt = tid; d = biased }                         /* incref: one u64 load of local + tid */
  if
  :: dt == mytid ->                                            /* incref: ours (local below immortal - 1) */
     atomic { ACC; assert(holder == me); assert(biased == d); /* only the rights holder writes local */
              biased = d + 1; refs++; held[me]++; d = 0; dt = 0; INV }  /* incref: plain u64 store, local + 1 */
  :: else ->
     atomic { ACC; d = 0; dt = 0; s = sh; sh = s + ONE;       /* increfShared: old = atomic.add(shared, ONE) */
              refs++; held[me]++;
#ifndef BROKEN_NO_UNDO
              if :: CNT(s) >= SAT -> adding++ :: else -> s = 0 fi;
#else
              s = 0;
#endif
              SATCHK; INV }
     if
     :: s != 0 ->                                              /* increfShared: count(old) >= SAT: immortal */
        atomic { ACC; sh = sh - ONE; adding--; s = 0; INV }   /* increfShared: undo, atomic.sub(shared, ONE) */
     :: else
     fi
  fi
}

/* refcount.ts mergeQueued: applies the queue's reference. The caller holds the rights of record 1 (it took the
   object from the queue), or is a queuer that found tid 0 (queue.ts enqueue). */
inline mergeQueued() {
  atomic { ACC; s = sh }                                       /* mergeQueued: load shared (a guess for the CAS) */
  atomic { ACC; t = tid }                                      /* mergeQueued: load tid */
  if
  :: t != 0 && (s & MERGED) == 0 ->                            /* mergeQueued: owned, not merged: fold local in */
     atomic { ACC; assert(holder == me); t = 0; l = biased; have = 1 } /* mergeQueued: plain load of local */
     atomic { ACC; assert(holder == me); biased = 0; pend = l; INV }   /* dropOwnership: plain store local = 0 */
     atomic { ACC; assert(holder == me); tid = 0 }                     /* dropOwnership: atomic store tid = 0 */
  :: else -> t = 0
  fi;
  do
  :: !have && (s & MERGED) == 0 ->
     atomic { ACC; s = sh }                                    /* mergeQueued: tid 0, not MERGED: reload until the
                                                                  merger's CAS publishes MERGED */
  :: else ->
     assert(CNT(s) >= SAT || CNT(s) + l - 1 >= 0);             /* mergeQueued: E_SHARED_NEGATIVE (debug) */
     nx = MERGECOUNT(s, CNT(s) + l - 1) * ONE + MERGED + KEEPW(s); /* mergeQueued: encode count + local - 1,
                                                                  MERGED (QUEUED cleared, WEAK kept) */
     atomic { ACC;                                             /* mergeQueued: CAS s -> next */
       if
       :: sh == s -> assert(s & QUEUED); assert(qref);        /* it was queued, and the queue's ref goes now */
                     sh = nx; refs--; qref = 0; pend = 0; FREEIF(nx); SATCHK; s = 0; nx = 0; l = 0; have = 0;
                     INV; break
       :: else -> s = sh                                       /* mergeQueued: CAS failed, s = seen */
       fi }
  od;
  if
  :: act == 2 -> free_obj()                                    /* mergeQueued: result MERGED, count 0: scheduleFree */
  :: else
  fi
}

/* queue.ts drainQueue for record 1; the caller holds record 1's rights */
inline drainQueue() {
  atomic { assert(holder == me); q = queue; queue = 0 }       /* drainQueue: xchg(queue, 0) */
  if
  :: q != 0 -> q = 0; mergeQueued()                            /* drainQueue: read the next link, merge the object */
  :: else
  fi
}

/* threads.ts releaseRights, entered through the drainQueue that every caller runs just before it (detachThread,
   both helping branches of wakeOrHelp). Since releaseRights' loop ends with the same drain, "drain;
   releaseRights" is one loop: drain, give the rights back, re-check the queue, take them back.
   to = PARKED (held HELPED) after helping, FREE (held RECLAIMING) after a detach or a reclaim. */
inline drainAndRelease(to, hv) {
  do
  :: drainQueue();                                             /* (caller's drain) / releaseRights: drain again */
     atomic { assert(holder == me); rstate = to; holder = 0 }  /* releaseRights: store state = to (release) */
#ifdef BROKEN_NO_RECHECK
     break
#else
     atomic { q = queue }                                      /* releaseRights: load queue after the store */
     if
     :: q == 0 -> break
     :: else ->
        atomic {                                               /* releaseRights: CAS to -> held (take them back) */
          q = 0;
          if
          :: rstate == to -> assert(holder == 0); rstate = hv; holder = me
          :: else -> break                                     /* someone else holds the rights and will drain */
          fi }
     fi
#endif
  od
}

/* ghost: the queuer has looked at the state and either took the rights or leaves the merge to their holder */
#define GONE(c)  if :: (c) && pushing > 0 -> pushing-- :: else fi

/* threads.ts wakeOrHelp, for record 1 */
inline wakeOrHelp() {
  atomic { st = rstate; GONE(st != PARKED && st != FREE) }    /* wakeOrHelp: load state (after our push) */
  if
  :: st == PARKED ->
     atomic {                                                  /* wakeOrHelp: CAS PARKED -> HELPED (borrow) */
       if
       :: rstate == PARKED -> assert(holder == 0); rstate = HELPED; holder = me
       :: else -> st = 0
       fi;
       GONE(1) }
  :: st == FREE ->                                             /* (FREE is 0: st = 1 marks the rights taken) */
     atomic {                                                  /* wakeOrHelp: CAS FREE -> RECLAIMING (stale queue) */
       if
       :: rstate == FREE -> assert(holder == 0); rstate = RECLAIMING; holder = me; st = 1
       :: else
       fi;
       GONE(1) }
  :: else -> st = 0                                            /* wakeOrHelp: ACTIVE: notify the idle owner;
                                                                  HELPED, RECLAIMING: the holder drains again
                                                                  before it lets go */
  fi;
  if
  :: st == PARKED -> st = 0; drainAndRelease(PARKED, HELPED)   /* wakeOrHelp: helped: drain, releaseRights(PARKED) */
  :: st == 1 -> st = 0; drainAndRelease(FREE, RECLAIMING)      /* wakeOrHelp: reclaimed: drain, releaseRights(FREE) */
  :: else
  fi
}

/* queue.ts enqueue: our CAS just set QUEUED; our reference now belongs to the queue */
inline enqueue() {
  atomic { ACC; t = tid }                                      /* enqueue: load tid, after our CAS */
  if
  :: t == 0 -> mergeQueued()                                   /* enqueue: no owner, merge it ourselves */
  :: else ->
     atomic { ACC; assert(t == 1); assert(queue == 0); queue = OBJ; t = 0; pushing++ } /* enqueue: setLink + push
                                                                  (head CAS; one object: succeeds at once) */
     wakeOrHelp()                                              /* enqueue: wakeOrHelp(rec) */
  fi
}

/* refcount.ts decrefShared */
inline decrefShared() {
  atomic { ACC; d = 0; dt = 0; s = sh }                        /* decrefShared: load shared (a guess for the CAS) */
  do
  :: nx = (QZERO(s) -> s | QUEUED : s - ONE);                  /* decrefShared: next = zero ? QUEUED : s - ONE */
     assert(CNT(s) >= SAT || CNT(nx) >= 0 || (nx & QUEUED));   /* decrefShared: E_SHARED_NEGATIVE (debug) */
     atomic { ACC;                                             /* decrefShared: CAS s -> next */
       if
       :: CNT(s) >= SAT -> refs--; s = 0; nx = 0; break        /* decrefShared: saturated (immortal): return
                                                                  before the CAS (the check on the loaded s is
                                                                  folded into this step: no memory access) */
       :: sh == s && QZERO(s) ->                               /* QUEUED in place of a decrement */
          assert(!everq); everq = 1; qref = 1;                 /* queued at most once; our ref goes to the queue */
          sh = nx; act = 1; nx = 0; INV; break
       :: sh == s && !QZERO(s) && CNT(s) < SAT -> sh = nx; refs--; FREEIF(nx); s = 0; nx = 0; INV; break
       :: sh != s && CNT(s) < SAT -> s = sh                    /* decrefShared: CAS failed, s = seen */
       fi }
  od;
  if
  :: act == 1 -> act = 0; s = 0; enqueue()                     /* decrefShared: we set QUEUED: enqueue */
  :: act == 2 -> free_obj()                                    /* decrefShared: result MERGED, count 0: scheduleFree */
  :: else
  fi
}

/* refcount.ts dropOwnership as mergeZeroLocal calls it: storing local 1 -> 0 is the owner's release */
inline dropOwnershipZ() {
  atomic { ACC; assert(holder == me); biased = 0; zl = 0; INV }  /* dropOwnership: plain store local = 0 */
  atomic { ACC; assert(holder == me); tid = 0 }                  /* dropOwnership: atomic store tid = 0 */
}

/* refcount.ts mergeZeroLocal */
inline mergeZeroLocal() {
  atomic { ACC; d = 0; dt = 0; s = sh;                         /* mergeZeroLocal: load shared */
           if :: s == 0 -> decided = 1 :: else fi }            /* (shared == 0: nobody else holds a reference) */
  if
  :: s == 0 ->
     atomic { ACC; assert(holder == me); biased = 0; zl = 0; INV }  /* mergeZeroLocal: plain store local = 0 */
     free_obj()                                                /* mergeZeroLocal: scheduleFree */
  :: else ->
#ifndef BROKEN_STORE_ORDER
     dropOwnershipZ();                                         /* mergeZeroLocal: dropOwnership before the CAS */
#endif
     do
     :: nx = s | MERGED;                                       /* mergeZeroLocal: next = s | MERGED */
        atomic { ACC;                                          /* mergeZeroLocal: CAS publishes MERGED */
          if
          :: sh == s -> sh = nx; FREEIF(nx); s = 0; nx = 0; INV; break
          :: else -> s = sh                                    /* mergeZeroLocal: CAS failed, s = seen */
          fi }
     od;
#ifdef BROKEN_STORE_ORDER
     dropOwnershipZ();                                         /* gh-121794: the stores after the CAS */
#endif
     if
     :: act == 2 -> free_obj()                                 /* mergeZeroLocal: result MERGED, count 0: scheduleFree */
     :: else
     fi
  fi
}

/* refcount.ts decrefAny: ownerDelta, decrefFast, decrefSlow */
inline decref() {
  atomic { ACC; held[me]--; dt = tid; d = biased;              /* decrefAny: one u64 load of local + tid */
           if :: dt == mytid && d == 1 -> refs--; zl = 1; INV :: else fi }  /* (ghost: the owner lets go) */
  if
  :: dt == mytid && d >= 2 ->                                  /* decrefFast: ours, local in [2, immortal) */
     atomic { ACC; assert(holder == me); assert(biased == d);
              biased = d - 1; refs--; d = 0; dt = 0; INV }     /* decrefFast: plain u64 store, local - 1 */
  :: dt == mytid && d == 1 -> mergeZeroLocal()                 /* decrefSlow: ours, local 1: merge at zero */
  :: dt == mytid && d == 0 -> assert(false)                    /* decrefSlow: ours, local 0: E_BIASED_NEGATIVE */
  :: dt != mytid -> decrefShared()                             /* decrefSlow: not ours: decrefShared */
  fi
}

/* alloc.ts abandonObjectsOf / abandonIfOwned and refcount.ts abandonObject */
inline abandonIfOwned() {
  atomic { have = !freed }                                     /* abandonIfOwned: load link, LIVE bit */
  if
  :: have ->
     /* abandonIfOwned: load tid. The walk may read a block freed after its LIVE check (harmless under the heap
        lock, which keeps the block from being reused), but it must then not find our tid, or it would abandon it */
     atomic { have = 0; t = tid; if :: freed -> assert(t != 1); t = 0 :: else fi }
     if
     :: t == 1 ->
        atomic { ACC; assert(holder == me); t = 0; l = biased }       /* abandonObject: plain load of local */
        atomic { ACC; assert(holder == me); biased = 0; pend = l; INV } /* dropOwnership: plain store local = 0 */
        atomic { ACC; assert(holder == me); tid = 0 }                  /* dropOwnership: atomic store tid = 0 */
        atomic { ACC; s = sh }                                         /* abandonObject: load shared */
        do
        :: nx = MERGECOUNT(s, CNT(s) + l) * ONE + MERGED + (s & QUEUED) + KEEPW(s); /* abandonObject: encode
                                                                          count + local, MERGED, QUEUED kept */
           atomic { ACC;                                               /* abandonObject: CAS s -> next */
             if
             :: sh == s -> sh = nx; pend = 0; FREEIF(nx); SATCHK; s = 0; nx = 0; l = 0; INV; break
             :: else -> s = sh                                         /* abandonObject: CAS failed, s = seen */
             fi }
        od;
        if
        :: act == 2 -> free_obj()                                      /* abandonObject: scheduleFree */
        :: else
        fi
     :: else -> t = 0
     fi
  :: else
  fi
}

/* threads.ts detachThread for tid 1: the owner's own detach, or detach_dead of a dead owner */
inline detach() {
  do
  :: atomic { st = rstate }                                    /* detachThread: load state (a guess for the CAS) */
     if
     :: st == ACTIVE || st == PARKED ->
        atomic {                                               /* detachThread: CAS state -> RECLAIMING */
          if
          :: rstate == st ->
             assert(st == PARKED && holder == 0 || st == ACTIVE && (holder == me || dead[holder]));
             rstate = RECLAIMING; holder = me; st = 0; break
          :: else -> st = 0
          fi }
     :: st == HELPED -> atomic { rstate != HELPED -> st = 0 }  /* detachThread: HELPED: wait out the helper */
     :: else -> assert(false)                                  /* detachThread: FREE: ENOTATTACHED */
     fi
  od;
  drainQueue();                                                /* detachThread: drainQueue */
  abandonIfOwned();                                            /* detachThread: abandonObjectsOf */
  drainAndRelease(FREE, RECLAIMING)                            /* detachThread: drainQueue, releaseRights(FREE) */
}

#ifdef WEAKREF
/* design v2 weak(obj), the caller holding a reference: the cell, then the WEAK flag, under W */
inline makeWeak() {
  lockW();                                                     /* weak: lock W */
  atomic { cell = OBJ; hserial = cserial }                     /* weak: take a free cell, target = obj, insert in
                                                                  the map (the cell is ours: one step) */
#ifndef BROKEN_NO_WEAK_FLAG
  atomic { ACC; assert(held[me] > 0); sh = sh | WEAK; INV }    /* weak: atomic.or(shared, WEAK) */
#endif
  atomic { assert(wlock == me); wlock = 0; whandle = 1 }      /* weak: unlock W; the handle is returned and
                                                                  (ghost) known to every thread from now on */
}

/* the dying test of try-incref: the free is decided or done (design: MERGED and count - QUEUED <= 0) */
#if defined(BROKEN_TRYINC_EXACT)
#define DYING(s)  ((s) == MERGED)                              /* CPython's exact test: blind to WEAK (always set) */
#elif defined(BROKEN_TRYINC_NOMERGED)
#define DYING(s)  (CNT(s) - ((s) & QUEUED) <= 0)               /* forgets that the owner's local count may hold refs */
#elif defined(RELAXED_QUEUED)
#define DYING(s)  (((s) & MERGED) && CNT(s) <= 0)              /* ignores QUEUED (checked: still safe) */
#else
#define DYING(s)  (((s) & MERGED) && CNT(s) - ((s) & QUEUED) <= 0)
#endif

/* what try-incref concludes from a shared word s (res: 0 CAS it, 1 fail, 2 success without a write). A failure is
   only allowed when no thread holds a strong reference (the queue's pending reference aside) */
#define TRYCHK  if \
                :: DYING(s) -> assert(refs == qref); res = 1 \
                :: !DYING(s) && CNT(s) >= SAT -> refs++; held[me]++; res = 2 \
                :: else -> res = 0 \
                fi

/* design v2 try-incref(obj), called under W by upgrade */
inline tryIncref() {
  atomic { ACC; dt = tid; d = biased }                         /* tryIncref: one u64 load of local + tid */
  if
  :: dt == mytid ->                                            /* tryIncref: ours: plain store local + 1 */
     atomic { ACC; assert(holder == me); assert(biased == d); assert(!decided);
              biased = d + 1; refs++; held[me]++; d = 0; dt = 0; INV }
  :: else ->
#ifndef BROKEN_TRYINC_ADD
     atomic { ACC; d = 0; dt = 0; s = sh; TRYCHK }             /* tryIncref: load shared */
     do
     :: res == 0 ->
        atomic { ACC;                                          /* tryIncref: CAS s -> s + ONE */
          if
          :: sh == s -> sh = s + ONE; assert(!decided);        /* never after the free was decided */
                        refs++; held[me]++; res = 2; SATCHK; INV
          :: else -> s = sh; TRYCHK                            /* tryIncref: CAS failed, s = seen */
          fi }
     :: res != 0 -> break
     od;
#else
     /* the one-add increment reused for try-incref: add, then undo if the old word was dying */
     atomic { ACC; d = 0; dt = 0; s = sh; sh = s + ONE;       /* tryIncref: old = atomic.add(shared, ONE) */
              if
              :: DYING(s) -> tent++; res = 1
              :: else -> assert(!decided); refs++; held[me]++; res = 2
              fi; SATCHK; INV }
     if
     :: res == 1 ->
        atomic { ACC; sh = sh - ONE; tent--; INV }            /* tryIncref: dying: undo, atomic.sub(shared, ONE) */
     :: else
     fi;
#endif
     res = 0; s = 0
  fi
}

/* design v2 upgrade(index, serial) */
inline upgrade() {
  lockW();                                                     /* upgrade: lock W */
  atomic { t = cell; q = (cserial == hserial);                 /* upgrade: load the cell's target and serial */
           if :: t == 0 || !q -> assert(refs == 0) :: else fi }  /* cleared: only after the free was decided */
  if
  :: t == 0 || !q -> skip                                      /* upgrade: cleared or reused: return 0 */
  :: else -> tryIncref()                                       /* upgrade: try-incref(target) */
  fi;
  t = 0; q = 0;
  unlockW()                                                    /* upgrade: unlock W */
}
#endif

proctype Thread(byte me) {
#if !defined(UNATTACHED_T3)
  byte mytid = me;                   /* threads.ts myTid/myTidHigh: thread i holds tid i */
#elif !defined(UNATTACHED_TID0)
  byte mytid = (me == 3 -> NO_TID : me);   /* thread 3 holds no tid (threads.ts myTidHigh) */
#else
  byte mytid = (me == 3 -> 0 : me);  /* thread 3 holds no tid, and its owner check uses tid 0 */
#endif
  byte collects, parks, mode;        /* budgets; what the thread does next */
  byte d, dt;                        /* the owner word read by incref / decrefAny: tid, local */
  byte t, l, q, st, act;             /* a tid read; a local count taken out; a queue head; a state; what next */
  short s, nx;                       /* a shared word read, and the one to CAS in */
  bool have;
#ifdef WEAKREF
  bool wk;                           /* the free path saw WEAK */
  byte res;                          /* try-incref's conclusion */
#endif

  do
  :: atomic { held[me] > 0 && incs < MAXINC -> incs++ }; incref()  /* index.ts brc_incref */
  :: held[me] > 0 -> decref()                                  /* index.ts brc_decref */
  :: atomic { held[me] > 0 && gives < MAXGIVE && !done[me % 3 + 1] ->            /* hand a reference over */
              held[me]--; held[me % 3 + 1]++; gives++ }
  :: atomic { held[me] > 0 && gives < MAXGIVE && !done[(me + 1) % 3 + 1] ->
              held[me]--; held[(me + 1) % 3 + 1]++; gives++ }
#ifdef WEAKREF
  :: atomic { held[me] > 0 && !wmade -> wmade = 1 }; makeWeak()  /* weak(obj) */
  :: atomic { whandle && ups < MAXUP -> ups++ }; upgrade()       /* upgrade(handle) */
#endif
#ifndef NO_PARK
  :: mytid == 1 && (collects < 1 || parks < 1) ->
#else
  :: mytid == 1 && collects < 1 ->
#endif
     if
     :: collects < 1 -> collects++                             /* index.ts brc_collect (allocObject's safe point) */
#ifndef NO_PARK
     :: parks < 1 -> parks++; mode = 1                         /* lock.ts objectLock: about to block */
#endif
     fi;
     drainQueue();                                             /* brc_collect: drainQueue / parkSelf: drainQueue */
     if
     :: mode == 1 ->
        mode = 0;
        atomic { assert(holder == me); rstate = PARKED; holder = 0 } /* parkSelf: store PARKED */
#ifndef BROKEN_PARK_NO_RECHECK
        atomic { q = queue };                                  /* parkSelf: re-check the queue after the store, */
        if                                                     /* and help ourselves if a push saw ACTIVE */
        :: q != 0 -> q = 0; wakeOrHelp()
        :: else
        fi;
#endif
        /* blocked: nothing may wait in the queue unless a queuer is about to look at the state, or a helper runs */
        assert(queue == 0 || pushing > 0 || rstate != PARKED);
        if
#ifndef BROKEN_UNPARK
        :: atomic { rstate == PARKED -> rstate = ACTIVE; assert(holder == 0); holder = me } /* unparkSelf: CAS
                                                                  PARKED -> ACTIVE (waits while HELPED) */
#else
        :: atomic { rstate = ACTIVE; holder = me }             /* unparkSelf without the CAS: ignores a helper */
#endif
#ifndef NO_DEAD
        :: atomic { held[me] == 0 -> done[me] = 1; dead[me] = 1; ownerDone = 1 }; goto end  /* killed, blocked */
#endif
        fi
     :: else
     fi
  :: atomic { held[me] == 0 -> done[me] = 1 }; break
  od;

  /* the end: who detaches tid 1 */
  if
  :: me == 1 ->
     if
     :: mode = 2                                               /* index.ts brc_thread_detach */
#ifndef NO_DEAD
     :: atomic { dead[me] = 1; ownerDone = 1 }                 /* the worker is terminated without detaching */
#endif
     fi
  :: me == 2 ->
     (ownerDone);                                              /* the main thread learns the worker is gone */
     if
     :: dead[1] -> mode = 2                                    /* index.ts brc_thread_detach_dead */
     :: else
     fi
  :: me == 3 ->
#ifndef NO_REUSE
     if
     :: atomic { rstate == FREE ->                             /* attachThread: CAS FREE -> ACTIVE, a new thread */
          assert(holder == 0); rstate = ACTIVE; holder = me; mytid = 1;   /* takes tid 1 again */
          assert(freed || tid != 1) };                         /* tid reuse: no object names the old thread */
        mode = 2                                               /* ... and detaches it */
     :: skip
     fi
#else
     skip
#endif
  fi;
  if
  :: mode == 2 -> mode = 0; detach();                          /* threads.ts detachThread */
     atomic { mytid = NO_TID; if :: me == 1 -> ownerDone = 1 :: else fi }   /* detachThread: myTid = 0, NO_TID */
  :: else
  fi;
end:
  skip
}

init {
  atomic {
    held[1] = 1; held[2] = 1; held[3] = 1;
    run Thread(1); run Thread(2); run Thread(3)
  }
  (_nr_pr == 1);
  /* every reference was released and nothing leaked: the object is freed (or immortal), no queue holds it, tid 1
     is free */
  assert(freed || immortal);                         /* not leaked */
  assert(refs == 0 && queue == 0 && !qref);
  assert(rstate == FREE && holder == 0);
#ifdef WEAKREF
  assert(!freed || cell == 0);                       /* no cell names a freed block */
#endif
}
