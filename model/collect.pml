/*
 * biasrc: cycle collection against a mutator (design v2: "Safepoints: the attention word, pauses and the JS fast
 * path" and "Cycle collection, with the world held"), checked by spin (docs/MODEL.md, scripts/model.mjs).
 *
 * Two objects in a cycle, a <-> b (a's slot holds b, b's slot holds a). Thread M (tid 1, record 1) allocated a and
 * holds one reference to it (its local count 2 = M's reference + b's slot). Thread D (tid 2, record 2) allocated
 * b (local 1 = a's slot) and is dead: terminated after the stop handshake (state ACTIVE, STOPPED) or while parked in
 * a lock wait (state PARKED). Processes:
 *   M  the mutator: the JS owner fast path on a ("plain load of ATTENTION, plain load of tid/local, plain store of
 *      local", outside any operation), the slow path through enterOp (pause wait), the idle-loop acknowledgement
 *      (brc_safepoint), and one brc_lock(a) that parks (a is locked by H) and waits in objectLock's loop;
 *   H  the thread holding a's lock: it releases it once, at a time it is not held by the collector;
 *   C  the collector: NCOLL collections (brc_collect_cycles): G_WORLD, PAUSE, wait until every other tid is held,
 *      scan (gc_refs in the link word), free the garbage, resume;
 *   X  (DETACH) an unattached thread running detach_dead(2) concurrently (the detacher/collector Dekker).
 * The correct outcome: a and b are freed exactly when unreachable (M holds no reference at the scan).
 *
 * Every step is one atomic memory operation of the code as the design describes it (wasm atomics are SC; the JS
 * fast path's plain loads and store are single steps too), labelled "function: step". Ghosts (frozen, ha, mlock,
 * holder1, scanHa, garbage*) only observe. While the collector has declared every thread held ("frozen", from its
 * last held check to the first step of resume) no other thread may write a count, tid or slot (of a or b: all
 * objects here belong to held threads), nor take its rights back.
 *
 * Switches (spin -D...):
 *   BROKEN_FP_NO_ATTENTION  the fast path does not read ATTENTION: after its acknowledgement M stores a count.
 *   BROKEN_NO_ACK_WAIT      the collector counts an ACTIVE thread held once PAUSE is set, without waiting for its
 *                           acknowledgement: a fast path that read ATTENTION == 0 just before stores during the scan.
 *   BROKEN_PARKED_NO_CAS    the collector counts a PARKED thread held without its CAS PARKED -> HELPED: the thread
 *                           unparks (takes its rights back) during the scan.
 *   BROKEN_DEKKER           the detacher reads G_WORLD before its CAS to RECLAIMING (the wrong order): it abandons
 *                           b (a held thread's object) during the scan.
 *   BROKEN_STOPPED_FIRST    the collector accepts STOPPED before it reads the state word: it misses a detacher's
 *                           RECLAIMING, and the detacher abandons b during the scan.
 *   BROKEN_ACK_STALE        PAUSED is the flag 1 (as the design says) instead of the epoch of the pause it answers:
 *                           an acknowledgement stored late (after its collection resumed) is taken by the next
 *                           collection while the thread runs.
 *   BROKEN_GC_PLAIN_LINK    the collector writes gc_refs into the link word with a plain load and store (the world
 *                           is held...) instead of an RMW: a HELPED thread's lock CAS in objectLock's loop is lost.
 *   BROKEN_SLEEP_UNTIL_CLEAR  attentionSlow sleeps until PAUSE is clear, then re-checks (the design's words): a
 *                           thread that wakes only after the next collection has set PAUSE again sleeps on without
 *                           acknowledging it, and that collection waits forever (its timeout in the code).
 *   NCOLL (default 2), DETACH (default on; NO_DETACH leaves X and D's death out), NO_LOCK (leaves the lock wait out).
 */

#ifndef NCOLL
#define NCOLL 2
#endif
#ifndef NO_DETACH
#define DETACH
#endif

#define A 0
#define B 1
#define NONE 255                     /* an empty slot */

/* record state word */
#define FREE        0
#define ACTIVE      1
#define PARKED      2
#define HELPED      3
#define RECLAIMING  4

/* shared word: count << 3 | MERGED | QUEUED (no WEAK: no weak references here) */
#define QUEUED 1
#define MERGED 2
#define ONE    8
#define CNT(x) ((x) >> 3)

/* link word, low bits (the queue link and LIVE/ORPHAN are left out): gc_refs << 2 | WAITERS | LOCKED */
#define LOCKED  1
#define WAITERS 2
#define GC(w)   ((w) >> 2)
#define LOWBITS 3

/* ATTENTION: PAUSE | epoch << 1 (STOP is not modelled: a stopped thread is dead here) */
#define PAUSE 1
#define EPOCH(w) ((w) >> 1)
#ifndef BROKEN_ACK_STALE
#define ACK(w)   EPOCH(w)             /* PAUSED = the epoch of the pause it answers */
#define ACKED(p) ((p) == epoch)
#else
#define ACK(w)   1                    /* PAUSED = 1 (design v2 as written) */
#define ACKED(p) ((p) == 1)
#endif

#ifndef MAXINC
#define MAXINC 1                     /* M's increfs of a */
#endif

/* ---- objects a and b ---- */
byte  lc[2];                         /* H_LOCAL */
byte  ot[2];                         /* H_TID */
short sh[2];                         /* H_SHARED */
byte  slot[2];                       /* slot 0: the child (A or B), or NONE */
byte  lk[2];                         /* H_LINK */
/* ---- records 1 (M) and 2 (D) ---- */
byte  rst[3];                        /* R_STATE */
byte  att[3];                        /* ATTENTION */
byte  psd[3];                        /* PAUSED */
bool  rstopped[3];                    /* R_STOPPED */
/* ---- globals ---- */
bool  gworld;                        /* G_WORLD */
byte  epoch;                         /* the collection number (the collector's, put in ATTENTION) */

/* ---- ghosts ---- */
bool  freed[2];                      /* releaseObjectBlock ran */
bool  frozen;                        /* the collector has declared every thread held and not started to resume */
byte  ha;                            /* M's references to a */
bool  mlock;                         /* M holds a's lock (objectLock returned) */
byte  holder1 = 1;                   /* who holds record 1's rights: 1 M, 3 the collector (HELPED), 0 nobody */
bool  everGarbage;                   /* a scan found a and b unreachable */
bool  cdone;                         /* the collector has finished */
bool  hdone;                         /* H released the lock */

#define ACC(x)   assert(!freed[x])
#define NOTHELD  assert(!frozen)      /* a write by a thread other than the collector */

/* ============================== M, the mutator ============================== */

/* threads.ts enterOp (v2): IN_OP (not modelled: only the stop handshake reads it), then the attention check;
   attentionSlow: PAUSE -> store PAUSED, sleep while ATTENTION is unchanged, then re-check from the top (which
   acknowledges again if a new pause was set while we slept). The epoch in ATTENTION makes every resume and new
   pause a change of the word, which is how the model sees the resume's notify. */
inline enterOp() {
  do
  :: atomic { w = att[1] }                                     /* enterOp: atomic load ATTENTION */
     if
     :: (w & PAUSE) == 0 -> w = 0; break
     :: else ->
        atomic { psd[1] = ACK(w) }                             /* attentionSlow: atomic.store(PAUSED, ack), notify */
#ifndef BROKEN_SLEEP_UNTIL_CLEAR
        atomic { att[1] != w -> w = 0 }                        /* attentionSlow: waitOn(ATTENTION, w) */
#else
        atomic { (att[1] & PAUSE) == 0 -> w = 0 }              /* attentionSlow: sleep until PAUSE is cleared (a
                                                                  wake-up that finds PAUSE set again sleeps on) */
#endif
     fi                                                        /* ... then re-check */
  od
}

/* the core's incref/decref of a (M's slow path, after enterOp): the owner word, then the owner store; a non-owner
   would take the shared path (never while M holds a, unless a broken variant freed it) */
inline coreOwnerOp(delta) {
  atomic { ACC(A); dt = ot[A]; d = lc[A] }                     /* incref/decrefAny: one u64 load of local + tid */
  if
  :: dt == 1 && d + delta >= 1 ->                              /* ours, local stays >= 1: plain store */
     atomic { ACC(A); NOTHELD; assert(holder1 == 1); lc[A] = d + delta; ha = ha + delta; d = 0; dt = 0 }
  :: else ->                                                   /* not ours: the shared path (add / CAS) */
     atomic { ACC(A); NOTHELD; sh[A] = sh[A] + delta * ONE; ha = ha + delta; d = 0; dt = 0 }
  fi
}

/* the JS fast path (and the exported wasm fast paths), owner case: plain load of ATTENTION, plain load of
   tid/local, plain store of local; anything else calls the core through enterOp */
inline fastPath(delta) {
#ifndef BROKEN_FP_NO_ATTENTION
  atomic { w = att[1] }                                        /* fast path: plain load of ATTENTION */
#else
  w = 0                                                        /* fast path without the ATTENTION check */
#endif
  if
  :: w == 0 ->
     atomic { ACC(A); dt = ot[A]; d = lc[A] }                  /* fast path: plain load of tid/local (u64) */
     if
     :: dt == 1 && d + delta >= 2 ->                           /* ours, local in range */
        atomic { ACC(A); NOTHELD; assert(holder1 == 1);        /* fast path: plain store of local */
                 lc[A] = d + delta; ha = ha + delta; d = 0; dt = 0 }
     :: else -> d = 0; dt = 0; enterOp(); coreOwnerOp(delta)  /* slow path (leaveOp: nothing to model) */
     fi
  :: else -> w = 0; enterOp(); coreOwnerOp(delta)              /* ATTENTION != 0: slow path */
  fi
}

/* index.ts brc_safepoint (v2), run by the idle waiter (Atomics.waitAsync) after the collector's notify. JS is
   run-to-completion: it never runs inside a fast path. (A load that finds no PAUSE changes nothing: only the
   loads that find PAUSE are modelled.) */
inline safepoint() {
  atomic { (att[1] & PAUSE) -> w = att[1] }                    /* brc_safepoint: atomic load ATTENTION */
  atomic { psd[1] = ACK(w); w = 0 }                            /* brc_safepoint: atomic.store(PAUSED, ack) */
}

/* index.ts brc_lock(a) -> lock.ts objectLock: a is locked by H, so M parks and waits in objectLock's loop */
inline lockOp() {
  enterOp();                                                   /* brc_lock: enterOp */
  atomic { ACC(A); w = lk[A] }                                 /* objectLock: casLock: load link */
  if
  :: (w & LOCKED) == 0 ->
     atomic { ACC(A); if :: lk[A] == w -> lk[A] = w | LOCKED; mlock = 1 :: else fi; w = 0 }  /* casLock: CAS */
  :: else -> w = 0
  fi;
  if
  :: mlock -> skip                                             /* taken without waiting */
  :: else ->
     /* parkSelf: drainQueue (M's queue is empty here), store PARKED, re-check the queue (empty), leaveOp */
     atomic { assert(holder1 == 1); rst[1] = PARKED; holder1 = 0 }
     do
     :: enterOp();                                             /* objectLock loop: enterOp */
        atomic { ACC(A); w = lk[A] }                           /* objectLock loop: load link */
        if
        :: (w & LOCKED) == 0 ->
           atomic { ACC(A);                                    /* objectLock loop: CAS w -> w | LOCKED | WAITERS */
             if
             :: lk[A] == w -> lk[A] = w | LOCKED | WAITERS; mlock = 1; w = 0; break
             :: else -> w = 0
             fi }
        :: (w & LOCKED) && (w & WAITERS) == 0 ->
           atomic { ACC(A);                                    /* objectLock loop: CAS w -> w | WAITERS */
             if
             :: lk[A] == w -> w = w | WAITERS
             :: else -> w = 0
             fi }
           if
           :: w != 0 -> atomic { lk[A] != w -> w = 0 }         /* leaveOp; waitOn(link, w): until the word moves */
           :: else
           fi
        :: (w & LOCKED) && (w & WAITERS) ->
           atomic { lk[A] != w -> w = 0 }                      /* leaveOp; waitOn(link, w) */
        fi
     od;
     /* rememberLock (M's own record), then unparkSelf */
     enterOp();                                                /* unparkSelf: enterOp */
     atomic { rst[1] == PARKED -> rst[1] = ACTIVE; NOTHELD;   /* unparkSelf: CAS PARKED -> ACTIVE (waits while */
              assert(holder1 == 0); holder1 = 1 }              /* HELPED): never while held by the collector */
  fi
}

/* index.ts brc_unlock(a) -> objectUnlock -> releaseLock: atomic.and(link, ~(LOCKED | WAITERS)) */
inline unlockOp() {
  enterOp();                                                   /* brc_unlock: enterOp */
  atomic { ACC(A); assert(lk[A] & LOCKED);                    /* releaseLock: our lock is still there */
           lk[A] = lk[A] & ~(LOCKED | WAITERS); mlock = 0 }    /* releaseLock: atomic.and(link, ~(LOCKED|WAITERS)) */
}

proctype Mutator() {
  byte w, d, dt, incs;
  bool locks;
  do
  :: atomic { ha > 0 && incs < MAXINC -> incs++ }; fastPath(1)  /* incref(a) */
  :: ha > 1 || ha == 1 && !mlock -> fastPath(-1)               /* decref(a) (keeps a reference while locked) */
  :: safepoint()                                               /* idle: the collector's notify ran brc_safepoint */
#ifndef NO_LOCK
  :: ha > 0 && !locks -> locks = 1; lockOp()                   /* brc_lock(a), holding a reference */
  :: mlock -> unlockOp()                                       /* brc_unlock(a) */
#endif
  :: break
  od;
  /* idle in the event loop until the collections are over (it still answers pauses) */
  do
  :: safepoint()
  :: cdone -> break
  od
}

/* the thread holding a's lock: releaseLock (atomic.and + notify). It is attached, so it cannot run while the
   collector holds the world: it unlocks before its own pause or after the resume. */
proctype Holder() {
  atomic { !frozen -> lk[A] = lk[A] & ~(LOCKED | WAITERS); hdone = 1 }
}

/* ============================== X, detach_dead(2) ============================== */

#ifdef DETACH
proctype Detacher() {
  byte st, t, l, g;
  short s, nx;
  bool ok;
  do
  :: atomic { st = rst[2] }                                    /* detachThread: load state */
     if
     :: st == ACTIVE || st == PARKED ->
#ifndef BROKEN_DEKKER
        atomic { if :: rst[2] == st -> rst[2] = RECLAIMING; ok = 1 :: else fi }  /* detachThread: CAS ->
                                                                  RECLAIMING */
        if
        :: ok ->
           atomic { g = gworld }                               /* detachThread: THEN load G_WORLD */
           if
           :: g ->
              atomic { assert(rst[2] == RECLAIMING); rst[2] = st; ok = 0; g = 0 }  /* detachThread: CAS back */
              atomic { gworld == 0 }                           /* detachThread: wait for G_WORLD == 0, retry */
           :: else -> break
           fi
        :: else
        fi
#else
        atomic { g = gworld }                                  /* detachThread: load G_WORLD FIRST (wrong order) */
        if
        :: g -> g = 0; atomic { gworld == 0 }
        :: else ->
           atomic { if :: rst[2] == st -> rst[2] = RECLAIMING; ok = 1 :: else fi };  /* detachThread: CAS */
           if :: ok -> break :: else fi
        fi
#endif
     :: st == HELPED -> atomic { rst[2] != HELPED }            /* detachThread: wait out the helper */
     :: else -> assert(false)                                  /* not attached */
     fi
  od;
  st = 0; ok = 0;
  /* releaseLocksOf, drainQueue (D's queue is empty here), abandonObjectsOf(2): b */
  atomic { ok = !freed[B] }                                    /* abandonIfOwned: LIVE? */
  if
  :: ok ->
     atomic { t = ot[B]; if :: freed[B] -> t = 0 :: else fi } /* abandonIfOwned: load tid */
     if
     :: t == 2 ->
        atomic { ACC(B); l = lc[B] }                           /* abandonObject: plain load of local */
        atomic { ACC(B); NOTHELD; lc[B] = 0 }                  /* dropOwnership: plain store local = 0 */
        atomic { ACC(B); NOTHELD; ot[B] = 0 }                  /* dropOwnership: atomic store tid = 0 */
        atomic { ACC(B); s = sh[B] }                           /* abandonObject: load shared */
        do
        :: nx = (CNT(s) + l) * ONE + MERGED + (s & QUEUED);
           atomic { ACC(B);                                    /* abandonObject: CAS s -> next */
             if
             :: sh[B] == s -> NOTHELD; assert(nx != MERGED); sh[B] = nx; break   /* b is never freed here */
             :: else -> s = sh[B]
             fi }
        od
     :: else
     fi
  :: else
  fi;
  atomic { assert(rst[2] == RECLAIMING); rst[2] = FREE }      /* releaseRights(FREE): store FREE (queue empty) */
}
#endif

/* ============================== C, the collector ============================== */

/* step 2 for tid r: wait until it is held. held = 1 by PAUSED (ack) / STOPPED / FREE, 2 by PARKED -> HELPED */
inline holdThread(r) {
  do
#ifdef BROKEN_STOPPED_FIRST
  :: atomic { p = rstopped[r] }                                 /* collect: load STOPPED first */
     if :: p -> p = 0; held[r] = 1; break :: else fi;
#else
  ::
#endif
     atomic { st = rst[r] }                                    /* collect: load the state word */
     if
     :: st == RECLAIMING -> atomic { rst[r] != RECLAIMING }    /* a detacher works on it: wait */
     :: st == FREE -> held[r] = 1; break
     :: st == PARKED ->
#ifndef BROKEN_PARKED_NO_CAS
        atomic {                                               /* collect: CAS PARKED -> HELPED (borrow) */
          if
          :: rst[r] == PARKED -> rst[r] = HELPED; held[r] = 2;
             if :: r == 1 -> assert(holder1 == 0); holder1 = 3 :: else fi; break
          :: else
          fi }
#else
        held[r] = 1; break                                     /* parked: counted held, no CAS */
#endif
     :: st == HELPED -> atomic { rst[r] != HELPED }            /* a queuer helps it: wait */
     :: st == ACTIVE ->
#ifndef BROKEN_NO_ACK_WAIT
        atomic { p = psd[r] }                                  /* collect: load PAUSED */
        if
        :: ACKED(p) -> p = 0; held[r] = 1; break
        :: else ->
           atomic { p = rstopped[r] }                           /* collect: load STOPPED */
           if
           :: p -> p = 0; held[r] = 1; break
           :: else -> atomic { ACKED(psd[r]) || rst[r] != ACTIVE || rstopped[r] }  /* wait for a notify */
           fi
        fi
#else
        held[r] = 1; break                                     /* PAUSE is set: counted held at once */
#endif
     fi
  od
}

/* a garbage object's slot cleared and the child decref'd, or the collector's own reference dropped:
   the shared path on a merged object (nobody else touches it, so the CAS succeeds at once) */
inline gcDecref(x) {
  atomic { ACC(x); assert(ot[x] == 0 && (sh[x] & MERGED)); sh[x] = sh[x] - ONE;
           if
           :: sh[x] == MERGED ->                               /* decrefShared: MERGED, count 0: free */
              assert(ha == 0); assert(slot[x] == NONE); freed[x] = 1
           :: else
           fi }
}

proctype Collector() {
  byte st, p, g0, g1, t0, t1, n;
  byte held[3];
  bool alive0, alive1;
  do
  :: n < NCOLL ->
     n++;
     atomic { epoch++ }                                        /* collector word CAS 0 -> me; the epoch */
     atomic { gworld = 1 }                                     /* step 1: atomic.store(G_WORLD, 1) */
     atomic { att[1] = (epoch << 1) | PAUSE }                  /* step 1: ATTENTION |= PAUSE (epoch) for tid 1 */
#ifdef DETACH
     atomic { att[2] = (epoch << 1) | PAUSE }                  /* ... and tid 2 (notify: no effect on the dead) */
#endif
     holdThread(1);                                            /* step 2: wait until every other tid is held */
#ifdef DETACH
     holdThread(2);
#endif
     atomic { frozen = 1; alive0 = !freed[A] }                 /* (ghost) all held; the heap walk's LIVE check
                                                                  (a and b are freed together or not at all) */
     if
     :: !alive0 -> skip                                        /* nothing live to scan */
     :: else ->
     /* step 3: drain every queue (all empty here). Phase 1: gc = local + count - queued, in the link word */
     atomic { ACC(A); g0 = lc[A] + CNT(sh[A]) - (sh[A] & QUEUED) }   /* collect: load local, shared of a */
#ifndef BROKEN_GC_PLAIN_LINK
     atomic { lk[A] = (g0 << 2) | (lk[A] & LOWBITS) }          /* collect: RMW link: gc, lock bits kept */
#else
     atomic { t0 = lk[A] }                                     /* collect: plain load of the link */
     atomic { lk[A] = (g0 << 2) | (t0 & LOWBITS); t0 = 0 }     /* collect: plain store: gc | old lock bits */
#endif
     atomic { ACC(B); g1 = lc[B] + CNT(sh[B]) - (sh[B] & QUEUED) }   /* collect: load local, shared of b */
     atomic { lk[B] = (g1 << 2) | (lk[B] & LOWBITS) }          /* collect: RMW link of b */
     /* phase 2: every slot's child: gc -= 1 */
     atomic { t0 = slot[A] }                                   /* collect: load a's slot */
     if :: t0 != NONE -> atomic { lk[t0] = lk[t0] - 4 } :: else fi   /* collect: RMW child's link, gc - 1 */
     atomic { t1 = slot[B] }                                   /* collect: load b's slot */
     if :: t1 != NONE -> atomic { lk[t1] = lk[t1] - 4 } :: else fi
     /* phase 3: roots (gc > 0) and everything reachable from them are ALIVE */
     atomic { g0 = GC(lk[A]) }                                 /* collect: load a's gc */
     atomic { g1 = GC(lk[B]);                                  /* collect: load b's gc; mark (two objects: the
                                                                  depth-first walk is this expression) */
              alive0 = (g0 > 0 || g1 > 0 && t1 == A);
              alive1 = (g1 > 0 || g0 > 0 && t0 == B);
              /* the property: garbage exactly when M holds no reference */
              assert(alive0 == alive1); assert(alive0 == (ha > 0));
              everGarbage = (everGarbage || !alive0) }
     if
     :: !alive0 ->
        /* garbage: force-merge each (tid 0, local 0, shared MERGED | (count + 1) << 3: the collector's reference),
           restore the links, clear the slots (decref each child), drop the collector's references */
        atomic { ACC(A); sh[A] = ((lc[A] + CNT(sh[A]) - (sh[A] & QUEUED) + 1) << 3) | MERGED; ot[A] = 0; lc[A] = 0 }
        atomic { ACC(B); sh[B] = ((lc[B] + CNT(sh[B]) - (sh[B] & QUEUED) + 1) << 3) | MERGED; ot[B] = 0; lc[B] = 0 }
        atomic { lk[A] = lk[A] & LOWBITS }                     /* collect: RMW link, field back to 0 */
        atomic { lk[B] = lk[B] & LOWBITS }
        atomic { t0 = slot[A]; slot[A] = NONE }                /* collect: clear a's slot */
        gcDecref(t0);
        atomic { t1 = slot[B]; slot[B] = NONE }                /* collect: clear b's slot */
        gcDecref(t1);
        gcDecref(A);                                           /* collect: drop the collector's reference */
        gcDecref(B)
     :: else ->
        atomic { lk[A] = lk[A] & LOWBITS }                     /* collect: RMW link, field back to 0 */
        atomic { lk[B] = lk[B] & LOWBITS }
     fi;
     fi;
     t0 = 0; t1 = 0; g0 = 0; g1 = 0; alive0 = 0; alive1 = 0;
     /* step 4: resume */
     atomic { frozen = 0 }                                     /* (ghost) */
     atomic { psd[1] = 0 }                                     /* resume: clear PAUSED */
     atomic { att[1] = att[1] & ~PAUSE }                       /* resume: clear PAUSE, notify */
     if
     :: held[1] == 2 -> atomic { assert(rst[1] == HELPED && holder1 == 3); rst[1] = PARKED; holder1 = 0 }
                                                               /* resume: releaseRights(rec, PARKED) */
     :: else
     fi;
#ifdef DETACH
     atomic { psd[2] = 0 }
     atomic { att[2] = att[2] & ~PAUSE }
     if
     :: held[2] == 2 -> atomic { assert(rst[2] == HELPED); rst[2] = PARKED }
     :: else
     fi;
#endif
     held[1] = 0; held[2] = 0;
     atomic { gworld = 0 }                                     /* resume: G_WORLD = 0, release the collector word */
  :: else -> break
  od;
  cdone = 1
}

init {
  atomic {
    /* a: M's, local 2 (M's reference + b's slot); b: D's (or M's without DETACH), local 1 (a's slot) */
    lc[A] = 2; ot[A] = 1; slot[A] = B;
    lc[B] = 1; slot[B] = A;
#ifdef DETACH
    ot[B] = 2;
    if
    :: rst[2] = ACTIVE; rstopped[2] = 1                         /* D died after the stop handshake */
    :: rst[2] = PARKED                                         /* D died while parked in a lock wait */
    fi;
#else
    ot[B] = 1;
#endif
    rst[1] = ACTIVE; ha = 1;
#ifndef NO_LOCK
    lk[A] = LOCKED;                                            /* H holds a's lock */
    run Holder();
#endif
    run Mutator(); run Collector();
#ifdef DETACH
    run Detacher();
#endif
  }
  (_nr_pr == 1);
  /* freed exactly when a scan found them unreachable; M's lock, if it holds one, is still there */
  assert(freed[A] == everGarbage && freed[B] == everGarbage);
  assert(!mlock || (lk[A] & LOCKED));
  assert(GC(lk[A]) == 0 && GC(lk[B]) == 0)
}
