/*
 * biasrc: a Promela model of the biased reference counting protocol in assembly/ (checked by spin; see
 * docs/MODEL.md and scripts/model.mjs).
 *
 * One object, three threads. Thread 1 allocated the object and owns it (tid 1, record 1); threads 2 and 3 are other
 * attached threads (tids 2 and 3). Only record 1 matters: the object is only ever queued on its owner's record, so
 * records 2 and 3 (always empty queues) are left out. Every step below is one atomic memory operation of the code
 * (wasm atomics are sequentially consistent; the owner's plain loads and stores of local are single steps too),
 * labelled with the function and line in assembly/ it models. Ghost variables (refs, held, holder, pend, zl, qref,
 * everq) are updated inside the step they describe and are not part of the algorithm.
 *
 * Each thread starts with one reference (local = 2 counts threads 1 and 2, the shared count 1 counts thread 3), may
 * take one more (incref), hand references to a thread that is still running, drain its queue (owner), park in a
 * lock (owner; other threads then help), and releases every reference it holds. Then it finishes: the owner either
 * detaches itself or dies (while running or while parked) and thread 2 detaches it for the dead (detach_dead);
 * thread 3 may then attach again as a new thread that reuses tid 1 (unless NO_REUSE) and detach it.
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
 *   NO_PARK / NO_DEAD / NO_REUSE  leave out parking and helping / detach_dead / tid reuse (smaller state spaces).
 *   MAXINC / MAXGIVE    increfs and hand-offs in total (default 2 and 2).
 *
 * The parking gap (found with this model, fixed in threads.ts parkSelf; docs/MODEL.md):
 *   an owner never blocks while an object waits in its queue with nobody coming to merge it (always asserted).
 *   BROKEN_PARK_NO_RECHECK  parkSelf without its re-check of the queue after the PARKED store, as it was: fails,
 *                           because a push between parkSelf's drain and that store sees ACTIVE and only notifies.
 */

#define OBJ 1
#define NO_TID 255                   /* layout.ts NO_TID (0xffff): the owner check of a thread without a tid */

/* record state word (layout.ts STATE_*) */
#define FREE        0
#define ACTIVE      1
#define PARKED      2
#define HELPED      3
#define RECLAIMING  4

/* shared word: count << 2 | MERGED | QUEUED (layout.ts SHARED_*) */
#define QUEUED 1
#define MERGED 2
#define ONE    4
#define CNT(x) ((x) >> 2)            /* sharedCount: arithmetic shift, as i32.shr_s */

#ifndef MAXINC
#define MAXINC 2                     /* increfs in total */
#endif
#ifndef MAXGIVE
#define MAXGIVE 2                    /* hand-offs in total */
#endif

/* ---- the object header (layout.ts: H_LOCAL, H_TID, H_SHARED) and record 1 (R_STATE, R_QUEUE) ---- */
byte  biased = 2;                    /* H_LOCAL (named biased: local is a Promela keyword): owner's plain loads and stores */
byte  tid = 1;                       /* owner (0: merged or abandoned) */
short sh = ONE;                      /* shared word: count 1, no flags */
byte  rstate = ACTIVE;               /* record 1 state word */
byte  queue = 0;                     /* record 1 queue head: 0 or OBJ (one object: the stack holds at most it) */

/* ---- ghosts ---- */
bool  freed;                         /* releaseObjectBlock ran (LIVE cleared) */
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

/* the count is conserved: references alive == local + shared count + folded-out local - decided-but-unstored 1;
   and the shared count is negative only while the object is queued (PACT'18 invariant) */
#define INV  assert(freed || refs + zl == biased + CNT(sh) + pend); \
             assert(CNT(sh) >= 0 || (sh & QUEUED))

/* the decision to free, computed in the CAS step that makes it (act: 0 nothing, 1 enqueue, 2 free) */
#define FREEIF(x)  act = ((x) == MERGED -> 2 : 0)

/* queue.ts scheduleFree l.76 + drainFrees l.81 + object.ts releaseObjectBlock l.52-58 (checkFreeable: no double free).
   The free is deferred to the end of the same call on the same thread; nobody else can reach the object by then. */
inline free_obj() {
  atomic {
    assert(freed == 0);                                 /* no double free */
    assert(refs == 0);                                  /* freed only when the last reference is gone */
    assert(!qref && queue == 0 && (sh & QUEUED) == 0);  /* no queue holds it */
    freed = 1; act = 0
  }
}

/* refcount.ts incref l.50-61 and increfShared l.63-74 */
inline incref() {
  atomic { ACC; dt = tid; d = biased }                         /* incref l.53: one u64 load of local + tid */
  if
  :: dt == mytid ->                                            /* incref l.54: ours */
     atomic { ACC; assert(holder == me); assert(biased == d); /* only the rights holder writes local */
              biased = d + 1; refs++; held[me]++; d = 0; dt = 0; INV }  /* incref l.56: plain store local + 1 */
  :: else ->
     atomic { ACC; d = 0; dt = 0; s = sh }                    /* increfShared l.65 (load local), l.67 (load shared) */
     do
     :: atomic { ACC;                                         /* increfShared l.70: CAS s -> s + ONE */
          if
          :: sh == s -> sh = s + ONE; refs++; held[me]++; s = 0; INV; break
          :: else -> s = sh                                   /* increfShared l.72: s = seen */
          fi }
     od
  fi
}

/* refcount.ts mergeQueued l.175-204: applies the queue's reference. The caller holds the rights of record 1 (it
   took the object from the queue), or is a queuer that found tid 0 (queue.ts enqueue l.27). */
inline mergeQueued() {
  atomic { ACC; s = sh }                                       /* mergeQueued l.176 */
  atomic { ACC; t = tid }                                      /* mergeQueued l.178 */
  if
  :: t != 0 && (s & MERGED) == 0 ->                            /* mergeQueued l.180 */
     atomic { ACC; assert(holder == me); t = 0; l = biased; have = 1 } /* mergeQueued l.181: plain load of local */
     atomic { ACC; assert(holder == me); biased = 0; pend = l; INV }   /* dropOwnership l.167 (via mergeQueued l.183) */
     atomic { ACC; assert(holder == me); tid = 0 }                     /* dropOwnership l.168 */
  :: else -> t = 0
  fi;
  do
  :: !have && (s & MERGED) == 0 ->
     atomic { ACC; s = sh }                                    /* mergeQueued l.187-190: wait for the merger's CAS */
  :: else ->
     assert(CNT(s) + l - 1 >= 0);                              /* mergeQueued l.192-195 (E_SHARED_NEGATIVE) */
     nx = (CNT(s) + l - 1) * ONE + MERGED;                     /* mergeQueued l.197: encodeCount(count, MERGED) */
     atomic { ACC;                                             /* mergeQueued l.198: CAS, clears QUEUED */
       if
       :: sh == s -> assert(s & QUEUED); assert(qref);        /* it was queued, and the queue's ref goes now */
                     sh = nx; refs--; qref = 0; pend = 0; FREEIF(nx); s = 0; nx = 0; l = 0; have = 0; INV; break
       :: else -> s = sh                                       /* mergeQueued l.200 */
       fi }
  od;
  if
  :: act == 2 -> free_obj()                                    /* mergeQueued l.203: scheduleFree */
  :: else
  fi
}

/* queue.ts drainQueue l.50-61 for record 1; the caller holds record 1's rights */
inline drainQueue() {
  atomic { assert(holder == me); q = queue; queue = 0 }       /* drainQueue l.53: xchg(queue, 0) */
  if
  :: q != 0 -> q = 0; mergeQueued()                            /* drainQueue l.55 (link read: see MODEL.md), l.56 */
  :: else
  fi
}

/* threads.ts releaseRights l.210-220, entered through the drainQueue that every caller runs just before it
   (detachThread l.167 + l.172, wakeOrHelp l.232 + l.234, l.239 + l.241). Since releaseRights' loop ends with the
   same drain, "drain; releaseRights" is one loop: drain, give the rights back, re-check the queue, take them back.
   to = PARKED (held HELPED) after helping, FREE (held RECLAIMING) after a detach or a reclaim. */
inline drainAndRelease(to, hv) {
  do
  :: drainQueue();                                             /* (caller's drain) / releaseRights l.217 */
     atomic { assert(holder == me); rstate = to; holder = 0 }  /* releaseRights l.213 */
#ifdef BROKEN_NO_RECHECK
     break
#else
     atomic { q = queue }                                      /* releaseRights l.215 */
     if
     :: q == 0 -> break
     :: else ->
        atomic {                                               /* releaseRights l.216: CAS to -> held */
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

/* threads.ts wakeOrHelp l.223-245, for record 1 */
inline wakeOrHelp() {
  atomic { st = rstate; GONE(st != PARKED && st != FREE) }    /* wakeOrHelp l.224 */
  if
  :: st == PARKED ->
     atomic {                                                  /* wakeOrHelp l.230: CAS PARKED -> HELPED */
       if
       :: rstate == PARKED -> assert(holder == 0); rstate = HELPED; holder = me
       :: else -> st = 0
       fi;
       GONE(1) }
  :: st == FREE ->                                             /* (FREE is 0: st = 1 marks the rights taken) */
     atomic {                                                  /* wakeOrHelp l.238: CAS FREE -> RECLAIMING */
       if
       :: rstate == FREE -> assert(holder == 0); rstate = RECLAIMING; holder = me; st = 1
       :: else
       fi;
       GONE(1) }
  :: else -> st = 0                                            /* wakeOrHelp l.225-227 (ACTIVE: notify the idle
                                                                  owner), l.244 (HELPED, RECLAIMING: the holder
                                                                  drains again before it lets go) */
  fi;
  if
  :: st == PARKED -> st = 0; drainAndRelease(PARKED, HELPED)   /* wakeOrHelp l.232-234 */
  :: st == 1 -> st = 0; drainAndRelease(FREE, RECLAIMING)      /* wakeOrHelp l.239-241 */
  :: else
  fi
}

/* queue.ts enqueue l.20-38: our CAS just set QUEUED; our reference now belongs to the queue */
inline enqueue() {
  atomic { ACC; t = tid }                                      /* enqueue l.23: tid, read after our CAS */
  if
  :: t == 0 -> mergeQueued()                                   /* enqueue l.24-28: no owner, merge it ourselves */
  :: else ->
     atomic { ACC; assert(t == 1); assert(queue == 0); queue = OBJ; t = 0; pushing++ } /* enqueue l.32-36: push */
     wakeOrHelp()                                              /* enqueue l.37 */
  fi
}

/* refcount.ts decrefShared l.110-133 */
inline decrefShared() {
  atomic { ACC; d = 0; dt = 0; s = sh }                        /* decrefShared l.111 (load local), l.113 (load shared) */
  do
  :: nx = (s == 0 -> QUEUED : s - ONE);                        /* decrefShared l.119 */
     assert(CNT(nx) >= 0 || (nx & QUEUED));                    /* decrefShared l.121 (E_SHARED_NEGATIVE) */
     atomic { ACC;                                             /* decrefShared l.124: CAS */
       if
       :: sh == s && s == 0 ->                                 /* QUEUED in place of a decrement */
          assert(!everq); everq = 1; qref = 1;                 /* queued at most once; our ref goes to the queue */
          sh = nx; act = 1; nx = 0; INV; break
       :: sh == s && s != 0 -> sh = nx; refs--; FREEIF(nx); s = 0; nx = 0; INV; break
       :: else -> s = sh                                       /* decrefShared l.126 */
       fi }
  od;
  if
  :: act == 1 -> act = 0; enqueue()                            /* decrefShared l.128-129 */
  :: act == 2 -> free_obj()                                    /* decrefShared l.130-131: scheduleFree */
  :: else
  fi
}

/* refcount.ts dropOwnership l.161-169 as mergeZeroLocal calls it: storing local 1 -> 0 is the owner's release */
inline dropOwnershipZ() {
  atomic { ACC; assert(holder == me); biased = 0; zl = 0; INV }  /* dropOwnership l.167 */
  atomic { ACC; assert(holder == me); tid = 0 }                  /* dropOwnership l.168 */
}

/* refcount.ts mergeZeroLocal l.138-158 */
inline mergeZeroLocal() {
  atomic { ACC; d = 0; dt = 0; s = sh }                        /* mergeZeroLocal l.140 */
  if
  :: s == 0 ->
     atomic { ACC; assert(holder == me); biased = 0; zl = 0; INV }  /* mergeZeroLocal l.143 */
     free_obj()                                                /* mergeZeroLocal l.144: scheduleFree */
  :: else ->
#ifndef BROKEN_STORE_ORDER
     dropOwnershipZ();                                         /* mergeZeroLocal l.147: before the CAS */
#endif
     do
     :: nx = s | MERGED;                                       /* mergeZeroLocal l.150 */
        atomic { ACC;                                          /* mergeZeroLocal l.152: CAS publishes MERGED */
          if
          :: sh == s -> sh = nx; FREEIF(nx); s = 0; nx = 0; INV; break
          :: else -> s = sh                                    /* mergeZeroLocal l.154 */
          fi }
     od;
#ifdef BROKEN_STORE_ORDER
     dropOwnershipZ();                                         /* gh-121794: the stores after the CAS */
#endif
     if
     :: act == 2 -> free_obj()                                 /* mergeZeroLocal l.157: scheduleFree */
     :: else
     fi
  fi
}

/* refcount.ts decrefAny l.78-81: ownerDelta l.84-87, decrefFast l.90-97, decrefSlow l.99-108 */
inline decref() {
  atomic { ACC; held[me]--; dt = tid; d = biased;              /* ownerDelta l.86: one u64 load of local + tid */
           if :: dt == mytid && d == 1 -> refs--; zl = 1; INV :: else fi }  /* (ghost: the owner lets go) */
  if
  :: dt == mytid && d >= 2 ->                                  /* decrefFast l.91 */
     atomic { ACC; assert(holder == me); assert(biased == d);
              biased = d - 1; refs--; d = 0; dt = 0; INV }     /* decrefFast l.92: plain store local - 1 */
  :: dt == mytid && d == 1 -> mergeZeroLocal()                 /* decrefSlow l.100-102 */
  :: dt == mytid && d == 0 -> assert(false)                    /* decrefSlow l.103-104 (E_BIASED_NEGATIVE) */
  :: dt != mytid -> decrefShared()                             /* decrefSlow l.105-106 */
  fi
}

/* alloc.ts abandonObjectsOf l.354 / abandonIfOwned l.374-384 and refcount.ts abandonObject l.207-223 */
inline abandonIfOwned() {
  atomic { have = !freed }                                     /* abandonIfOwned l.376: LIVE bit */
  if
  :: have ->
     /* abandonIfOwned l.377: the walk may read a block freed after its LIVE check (harmless under the heap lock,
        which keeps the block from being reused), but it must then not find our tid, or it would abandon it */
     atomic { have = 0; t = tid; if :: freed -> assert(t != 1); t = 0 :: else fi }
     if
     :: t == 1 ->
        atomic { ACC; assert(holder == me); t = 0; l = biased }       /* abandonObject l.208 */
        atomic { ACC; assert(holder == me); biased = 0; pend = l; INV } /* dropOwnership l.167 (via abandonObject l.210) */
        atomic { ACC; assert(holder == me); tid = 0 }                  /* dropOwnership l.168 */
        atomic { ACC; s = sh }                                         /* abandonObject l.211 */
        do
        :: nx = (CNT(s) + l) * ONE + MERGED + (s & QUEUED);            /* abandonObject l.214-216: QUEUED kept */
           atomic { ACC;                                               /* abandonObject l.217: CAS */
             if
             :: sh == s -> sh = nx; pend = 0; FREEIF(nx); s = 0; nx = 0; l = 0; INV; break
             :: else -> s = sh                                         /* abandonObject l.219 */
             fi }
        od;
        if
        :: act == 2 -> free_obj()                                      /* abandonObject l.222: scheduleFree */
        :: else
        fi
     :: else -> t = 0
     fi
  :: else
  fi
}

/* threads.ts detachThread l.145-180 for tid 1: the owner's own detach, or detach_dead of a dead owner */
inline detach() {
  do
  :: atomic { st = rstate }                                    /* detachThread l.151 */
     if
     :: st == ACTIVE || st == PARKED ->
        atomic {                                               /* detachThread l.152-153: CAS -> RECLAIMING */
          if
          :: rstate == st ->
             assert(st == PARKED && holder == 0 || st == ACTIVE && (holder == me || dead[holder]));
             rstate = RECLAIMING; holder = me; st = 0; break
          :: else -> st = 0
          fi }
     :: st == HELPED -> atomic { rstate != HELPED -> st = 0 }  /* detachThread l.154-156: wait out the helper */
     :: else -> assert(false)                                  /* detachThread l.157-158: not attached */
     fi
  od;
  drainQueue();                                                /* detachThread l.163 */
  abandonIfOwned();                                            /* detachThread l.165 */
  drainAndRelease(FREE, RECLAIMING)                            /* detachThread l.167, l.172 */
}

proctype Thread(byte me) {
#if !defined(UNATTACHED_T3)
  byte mytid = me;                   /* threads.ts myTid/myTidHigh: thread i holds tid i */
#elif !defined(UNATTACHED_TID0)
  byte mytid = (me == 3 -> NO_TID : me);   /* thread 3 holds no tid (threads.ts myTidHigh l.39) */
#else
  byte mytid = (me == 3 -> 0 : me);  /* thread 3 holds no tid, and its owner check uses tid 0 */
#endif
  byte collects, parks, mode;        /* budgets; what the thread does next */
  byte d, dt;                        /* the owner word read by incref / decrefAny: tid, local */
  byte t, l, q, st, act;             /* a tid read; a local count taken out; a queue head; a state; what next */
  short s, nx;                       /* a shared word read, and the one to CAS in */
  bool have;

  do
  :: atomic { held[me] > 0 && incs < MAXINC -> incs++ }; incref()  /* index.ts brc_incref l.174 */
  :: held[me] > 0 -> decref()                                  /* index.ts brc_decref l.179 */
  :: atomic { held[me] > 0 && gives < MAXGIVE && !done[me % 3 + 1] ->            /* hand a reference over */
              held[me]--; held[me % 3 + 1]++; gives++ }
  :: atomic { held[me] > 0 && gives < MAXGIVE && !done[(me + 1) % 3 + 1] ->
              held[me]--; held[(me + 1) % 3 + 1]++; gives++ }
  :: mytid == 1 && (collects < 1 || parks < 1) ->
     if
     :: collects < 1 -> collects++                             /* index.ts brc_collect l.249-254 */
#ifndef NO_PARK
     :: parks < 1 -> parks++; mode = 1                         /* lock.ts objectLock l.104: about to block */
#endif
     fi;
     drainQueue();                                             /* brc_collect l.252 / threads.ts parkSelf l.187 */
     if
     :: mode == 1 ->
        mode = 0;
        atomic { assert(holder == me); rstate = PARKED; holder = 0 } /* threads.ts parkSelf l.190 */
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
        :: atomic { rstate == PARKED -> rstate = ACTIVE; assert(holder == 0); holder = me } /* unparkSelf l.200-202 */
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
     :: mode = 2                                               /* index.ts brc_thread_detach l.82-86 */
#ifndef NO_DEAD
     :: atomic { dead[me] = 1; ownerDone = 1 }                 /* the worker is terminated without detaching */
#endif
     fi
  :: me == 2 ->
     (ownerDone);                                              /* the main thread learns the worker is gone */
     if
     :: dead[1] -> mode = 2                                    /* index.ts brc_thread_detach_dead l.89-95 */
     :: else
     fi
  :: me == 3 ->
#ifndef NO_REUSE
     if
     :: atomic { rstate == FREE ->                             /* threads.ts attachThread l.123: a new thread */
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
  :: mode == 2 -> mode = 0; detach();                          /* threads.ts detachThread l.145-180 */
     atomic { mytid = NO_TID; if :: me == 1 -> ownerDone = 1 :: else fi }   /* detachThread l.173-177 */
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
  /* every reference was released and nothing leaked: the object is freed, no queue holds it, tid 1 is free */
  assert(freed);                                     /* not leaked */
  assert(refs == 0 && queue == 0 && !qref);
  assert(rstate == FREE && holder == 0)
}
