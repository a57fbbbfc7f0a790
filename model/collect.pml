/*
 * biasrc: cycle collection against mutators, as the code of layout version 2 does it (assembly/collect.ts,
 * safepoint.ts, park.ts, lock.ts, threads.ts), checked by spin (docs/MODEL.md, scripts/model.mjs).
 *
 * Two objects in a cycle, a <-> b (a's slot holds b, b's slot holds a). Thread M (tid 1, record 1) allocated a and
 * holds one reference to it (its local count 2 = M's reference + b's slot). Thread D (tid 2, record 2) allocated
 * b (local 1 = a's slot) and is dead: terminated after the stop handshake (state ACTIVE, STOPPED) or while parked in
 * a lock wait (state PARKED). Thread H (tid 3, record 3) holds a's lock. Processes:
 *   M  the mutator: the JS owner fast path on a (plain load of ATTENTION, plain load of tid/local, plain store of
 *      local, outside any operation), the slow path through enterOp (attend: acknowledge, sleep, withdraw), the
 *      idle-loop acknowledgement (brc_safepoint), and one brc_lock(a) that parks (a is locked by H): objectLock's
 *      loop as the code has it (advertise, park, sleep, unpark, pass enterOp, only then look at the lock word);
 *   H  the thread holding a's lock: idle in its event loop (it acknowledges pauses with brc_safepoint), it unlocks
 *      once, through brc_unlock's enterOp;
 *   C  the collector (tid 5, no record: nobody pauses it): NCOLL collections. brc_world_request: CAS G_WORLD 0 ->
 *      5, a new epoch, ATTENTION = PAUSE | epoch << 2 on every record (FREE ones too, STOP kept); brc_world_poll
 *      until 0: a first pass over every record (held: the state word first; FREE held; RECLAIMING wait; HELPED held
 *      only if borrowed by C; PARKED borrowed by CAS -> HELPED; ACTIVE held on STOPPED or PAUSED == epoch, with the
 *      state word read again unchanged), then G_WORLD = 5 | WORLD_HELD and a second pass (withdrawn if a record is
 *      not held after all); brc_collect_cycles: gc scratch written into the link words with PLAIN loads and stores
 *      (walk, setGc, subtractSlots, chain), garbage freed without changing a count (slots cleared, then the free
 *      path); brc_world_release: PAUSED = 0, PAUSE cleared (STOP kept), borrowed rights given back, G_WORLD = 0;
 *   X  (DETACH) an unattached thread running detach_dead(2, 1): takeRights (load the state word, check the
 *      generation, CAS -> RECLAIMING, THEN load G_WORLD: WORLD_HELD by another -> store the state back and wait),
 *      then abandon b (ORPHAN, local 0, tid 0, shared) and store FREE;
 *   N  (DETACH, unless NO_ATTACH) a thread that attaches to record 2 once it is FREE (CAS FREE -> ACTIVE, generation
 *      + 1, STOP and STOPPED cleared, PAUSE kept), then runs one operation that writes the heap (an allocation);
 *   W  (WAITWORD, record 4) an async locker (src/locks.ts withLockAsync) holding a reference to a: it may
 *      acknowledge a pause from its idle loop first, then calls brc_lock_wait_word(a) (CAS LINK_WAITERS into a's
 *      link word), sleeps until the word moves, tries brc_try_lock once (unlocking if it got it), releases a;
 *   S  (SPINNER, record 4) a thread that may not block (brc_set_can_block(0)) holding a reference to a: brc_lock(a)
 *      spins on casLock, then unlocks and releases a;
 *   R  (RELEASER, record 4) a second would-be collector: its brc_world_request returns EBUSY (C holds the world;
 *      the case where R's CAS succeeds, a second collector, is not modelled: R then stops), it acknowledges the
 *      pause (brc_safepoint, as src/collect.ts does on EBUSY), and calls brc_world_release (as the old comment of
 *      brc_world_request told it to: "always end with brc_world_release");
 *   Y  (DEADC) the collector may be terminated at any of its own safe points (after its request, between polls,
 *      with the world held before or after the scan: never inside brc_collect_cycles or another world call, which
 *      run inside one operation); Y, the detach of the dead collector, then releases the world for it
 *      (releaseWorldOf: G_WORLD names it -> worldRelease(holder)). Without Y every other thread stays paused;
 *   T  (STOPPER, record 4) a thread asked to stop (terminate(): STOP set at the start, as by brc_thread_request_stop)
 *      whose terminator gives up (ETIMEDOUT) and withdraws the request at any moment (K: brc_thread_cancel_stop,
 *      atomic.and ~STOP). T's next call reaches enterOp before or after: at STOP it stops (STOPPED = 1, which the
 *      collector counts as held), sleeps until STOP is withdrawn, stores STOPPED = 0, looks at ATTENTION again
 *      (PAUSE: acknowledge and sleep, as anywhere), then runs one operation that writes the heap.
 * The correct outcome: a and b are freed exactly when unreachable (no thread holds a reference at the scan).
 *
 * Every step is one atomic memory operation of the code (wasm atomics are SC; the JS fast path's plain loads and
 * store are single steps too), labelled "function: step". Ghosts (frozen, ha, hr, mlock, llock, holder1,
 * everGarbage, ...) only observe. While the collector has declared every thread held ("frozen", from the end of
 * the poll that returned 0 to the first step of the release) no thread other than the collector may write a count,
 * tid, slot or link word of an object, allocate, or take its rights back: the collector writes its scratch into the
 * link words with plain stores, so a concurrent RMW there would be lost as surely as a count store would corrupt
 * the scan.
 *
 * A wait (sleep or spin) on a word is one blocking step "until the word differs from the value read": it sees
 * every change (the code notifies after every change a sleeper waits for; a spinner re-reads). A spin that re-reads
 * two words (the spinner's lock word and its attention word) waits until either moves.
 *
 * Switches (spin -D...):
 *   BROKEN_FP_NO_ATTENTION  the fast path does not read ATTENTION: after its acknowledgement M stores a count.
 *   BROKEN_NO_ACK_WAIT      the collector counts an ACTIVE thread held without its acknowledgement: a fast path
 *                           that read ATTENTION == 0 just before stores during the scan.
 *   BROKEN_PARKED_NO_CAS    the collector counts a PARKED thread held without its CAS PARKED -> HELPED: the thread
 *                           unparks (takes its rights back) during the scan.
 *   BROKEN_DEKKER           the detacher reads G_WORLD before its CAS to RECLAIMING (the wrong order): it abandons
 *                           b (a held thread's object) during the scan.
 *   BROKEN_STOPPED_FIRST    the collector accepts STOPPED before it reads the state word: it misses a detacher's
 *                           RECLAIMING, and the detacher abandons b during the scan.
 *   BROKEN_ACK_STALE        PAUSED is the flag 1 instead of the epoch of the pause it answers: an acknowledgement
 *                           stored late (after its collection resumed) is taken by the next collection.
 *   BROKEN_LOCK_WHILE_PARKED  objectLock's old order: the waiter parks once and CASes the lock word while parked
 *                           (maybe borrowed by the collector), unparking only once it has the lock: its CAS lands
 *                           in the scan, between the collector's plain load and store of the link word.
 *   BROKEN_SLEEP_UNTIL_CLEAR  attend sleeps until PAUSE is clear, then re-checks: a thread that wakes only after the
 *                           next collection has set PAUSE again sleeps on without acknowledging it, and that
 *                           collection waits forever (its timeout in the code).
 *   BROKEN_ATTACH_CLEARS_PAUSE  attach resets the whole attention word: a thread attaching to a tid the collector
 *                           counted held as FREE runs an operation during the scan.
 *   BROKEN_WAITWORD_NO_PAUSE  (WAITWORD) brc_lock_wait_word passes no operation boundary (the code before fix 1): W,
 *                           having acknowledged the pause from its idle loop, CASes WAITERS into a's link word
 *                           during the scan.
 *   BROKEN_RELEASE_NON_HOLDER  (RELEASER) brc_world_release does not check that the caller holds the world (the
 *                           code before fix 2): R's release ends C's pause in the middle of its scan.
 *   BROKEN_SPIN_NO_ACK      (SPINNER) a brc_lock that may not block spins inside its operation and never
 *                           acknowledges a pause (the code before fix 3): S waits for H, H is paused, C waits for S:
 *                           a deadlock (in the code: until the collector's timeout).
 *   BROKEN_RESUME_NO_RECHECK  (STOPPER) stopHere, its STOP withdrawn, returns into the operation without looking at
 *                           ATTENTION again: a collection that counted it held while STOPPED runs under its writes.
 *   BROKEN_RESUME_ORDER     (STOPPER) stopHere goes on with the ATTENTION it loaded before it withdrew STOPPED (the
 *                           wrong order of the Dekker pair with the collector's PAUSE store and STOPPED load).
 *   BROKEN_CANCEL_CLEARS_PAUSE  (STOPPER) brc_thread_cancel_stop resets the whole attention word: T resumes as if
 *                           no pause were asked, under a collection that counted it held while it was STOPPED.
 *   BROKEN_DETACH_WAITS_WORLD  (DEADC) the detacher of the dead collector waits for its world to end (takeRights
 *                           backing off for any holder other than itself, the code before): it never ends, and every
 *                           paused thread sleeps for good.
 *   NCOLL (default 2), MAXINC (default 1: M's increfs), DETACH (default on; NO_DETACH leaves X, N and D's death
 *   out), NO_ATTACH (leaves N out), NO_LOCK (leaves M's lock wait out), WAITWORD / SPINNER / RELEASER (record 4).
 */

#ifndef NCOLL
#define NCOLL 1
#endif
#ifdef MINCOLL                       /* a variant that needs this many collections to show its fault */
#if NCOLL < MINCOLL
#undef NCOLL
#define NCOLL MINCOLL
#endif
#endif
#ifndef NO_DETACH
#define DETACH
#ifndef NO_ATTACH
#define ATTACH
#endif
#endif
#if defined(WAITWORD) || defined(SPINNER) || defined(RELEASER) || defined(STOPPER)
#define NREC 4                       /* records 1..NREC are attached or attachable threads */
#else
#define NREC 3
#endif
#ifndef MAXINC
#define MAXINC 1                     /* M's increfs of a */
#endif

#define A 0
#define B 1
#define NONE 255                     /* an empty slot */
#define CTID 5                       /* the collector's tid */

/* record state word: generation << 3 | state */
#define FREE        0
#define ACTIVE      1
#define PARKED      2
#define HELPED      3
#define RECLAIMING  4
#define ST(s)       ((s) & 7)
#define GEN(s)      ((s) & ~7)
#define G1          8                /* generation 1 << STATE_GEN_SHIFT: the first incarnation of a tid */

/* shared word: count << 3 | MERGED | QUEUED (no WEAK: no weak references here) */
#define QUEUED 1
#define MERGED 2
#define ONE    8
#define CNT(x) ((x) >> 3)

/* link word, low bits (the queue link and LIVE are left out): gc << 3 | ORPHAN | WAITERS | LOCKED */
#define LOCKED  1
#define WAITERS 2
#define ORPHAN  4
#define LOWBITS 7
#define GC(w)   ((w) >> 3)
#define GCONE   8

/* ATTENTION: STOP 1 | PAUSE 2 | epoch << 2 (only T's STOP is ever withdrawn; D's stop ended in its death) */
#define STOP  1
#define PAUSE 2
#define EPOCH(w) ((w) >> 2)
#ifndef BROKEN_ACK_STALE
#define ACK(w)   EPOCH(w)            /* PAUSED = the epoch of the pause it answers */
#define ACKED(p) ((p) == epoch)
#else
#define ACK(w)   1                   /* PAUSED = 1 */
#define ACKED(p) ((p) == 1)
#endif

/* G_WORLD: the collector's tid | WORLD_HELD */
#define HELD 8
#define WTID(g) ((g) & 7)

/* ---- objects a and b ---- */
byte  lc[2];                         /* H_LOCAL */
byte  ot[2];                         /* H_TID */
short sh[2];                         /* H_SHARED */
byte  slot[2];                       /* slot 0: the child (A or B), or NONE */
byte  lk[2];                         /* H_LINK */
/* ---- records 0..4 (0 is nobody's) ---- */
byte  rst[NREC + 1];                 /* R_STATE */
byte  att[NREC + 1];                 /* R_ATTENTION */
byte  psd[NREC + 1];                 /* R_PAUSED */
bool  rstopped[NREC + 1];            /* R_STOPPED */
byte  borrowed[NREC + 1];            /* R_BORROWED */
/* ---- globals ---- */
byte  gworld;                        /* G_WORLD */
byte  epoch;                         /* G_WORLD_EPOCH */

/* ---- ghosts ---- */
bool  freed[2];                      /* the free path ran */
bool  frozen;                        /* the collector has declared every thread held and not started to release */
byte  ha;                            /* M's references to a */
byte  hr;                            /* W's or S's reference to a */
bool  mlock;                         /* M holds a's lock (objectLock returned) */
bool  llock;                         /* W or S holds a's lock */
byte  holder1 = 1;                   /* who holds record 1's rights: 1 M, 5 the collector (HELPED), 0 nobody */
bool  everGarbage;                   /* a scan found a and b unreachable */
bool  cdone;                         /* the collector has finished (or its detacher has) */
bool  cdead;                         /* (DEADC) the collector was terminated */
bool  nalloc;                        /* N allocated */
bool  twrote;                        /* T ran its operation */

#ifdef DEADC                        /* C may be terminated at any safe point of its own: between world calls */
#define DIE      if :: skip :: goto dead fi
#else
#define DIE      skip
#endif

#define ACC(x)   assert(!freed[x])
#define NOTHELD  assert(!frozen)     /* a write by a thread other than the collector */

/* ============================== every attached thread ============================== */

/* safepoint.ts enterOp + attend: IN_OP (only the stop handshake reads it: not modelled), then ATTENTION; on PAUSE:
   IN_OP = 0, store PAUSED (the epoch read with PAUSE), sleep while ATTENTION is unchanged (a thread that may not
   block spins the same way), load ATTENTION again: PAUSE still (or again) set -> acknowledge again; clear ->
   withdraw the acknowledgement (PAUSED = 0), IN_OP = 1, and look at ATTENTION once more. */
inline enterOp(r) {
  do
  :: atomic { w = att[r] }                                     /* attend: atomic load ATTENTION */
     if
     :: (w & STOP) ->                                          /* attend: STOP -> stopHere */
        atomic { rstopped[r] = 1 }                             /* stopHere: atomic.store(STOPPED, 1), notify */
#ifndef BROKEN_RESUME_ORDER
        atomic { (att[r] & STOP) == 0 -> w = 0 }               /* stopHere: load ATTENTION, waitOn until STOP is
                                                                  withdrawn */
        atomic { rstopped[r] = 0 }                             /* stopHere: atomic.store(STOPPED, 0); attend then
                                                                  loads ATTENTION again (the loop) */
#ifdef BROKEN_RESUME_NO_RECHECK
        break                                                  /* back into the operation, no second look */
#endif
#else
        atomic { (att[r] & STOP) == 0 -> w = att[r] }          /* stopHere: load ATTENTION, STOP withdrawn */
        atomic { rstopped[r] = 0 }                             /* stopHere: atomic.store(STOPPED, 0) */
        if
        :: (w & PAUSE) == 0 -> w = 0; break                    /* goes on with the value loaded before */
        :: else -> w = 0
        fi
#endif
     :: !(w & STOP) && (w & PAUSE) == 0 -> w = 0; break
     :: !(w & STOP) && (w & PAUSE) ->
        atomic { psd[r] = ACK(w) }                             /* attend: atomic.store(PAUSED, epoch), notify */
#ifndef BROKEN_SLEEP_UNTIL_CLEAR
        atomic { att[r] != w -> w = 0 }                        /* attend: waitOn(ATTENTION, a) */
#else
        atomic { (att[r] & PAUSE) == 0 -> w = 0 }              /* attend: sleep until PAUSE is cleared (a wake-up
                                                                  that finds PAUSE set again sleeps on) */
#endif
        atomic { w = att[r] & PAUSE }                          /* attend: load ATTENTION, PAUSE? */
        if
        :: w -> w = 0                                          /* still paused: acknowledge again */
        :: else -> atomic { psd[r] = 0 }                       /* attend: withdraw, atomic.store(PAUSED, 0) */
        fi
     fi
  od
}

/* index.ts brc_safepoint, run by an idle waiter (Atomics.waitAsync) after the collector's notify: load ATTENTION,
   if PAUSE store PAUSED. JS is run-to-completion: it never runs inside a fast path. Only the loads that find a
   pause not yet acknowledged are modelled (the waiter then sleeps on ATTENTION until it changes). */
inline safepoint(r) {
  atomic { (att[r] & PAUSE) && psd[r] != ACK(att[r]) -> q = att[r] }  /* brc_safepoint: atomic load ATTENTION */
  atomic { psd[r] = ACK(q); q = 0 }                            /* brc_safepoint: atomic.store(PAUSED, epoch) */
}

/* an attached thread idle in its event loop until the collections are over (it still answers pauses) */
inline idle(r) {
  do
  :: safepoint(r)
  :: cdone -> break
  od
}

/* ============================== M, the mutator ============================== */

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
     :: else -> d = 0; dt = 0; enterOp(1); coreOwnerOp(delta)  /* slow path (leaveOp: nothing to model) */
     fi
  :: else -> w = 0; enterOp(1); coreOwnerOp(delta)             /* ATTENTION != 0: slow path */
  fi
}

#ifndef BROKEN_LOCK_WHILE_PARKED
/* index.ts brc_lock(a) -> lock.ts objectLock (a may be locked by H): a try (the SPIN_LIMIT spin, one try here),
   then the loop: load the link word; free: CAS LOCKED | WAITERS; else advertise WAITERS (CAS), parkSelf (store
   PARKED, leaveOp), waitOn(link, w), unparkSelf (CAS PARKED -> ACTIVE, waiting while HELPED), enterOp; again. The
   lock word is touched only by an ACTIVE thread inside its operation. */
inline lockOp() {
  enterOp(1);                                                  /* brc_lock: enterOp */
  atomic { ACC(A); w = lk[A] }                                 /* objectLock: casLock: load link */
  if
  :: (w & LOCKED) == 0 ->
     atomic { ACC(A); if :: lk[A] == w -> NOTHELD; lk[A] = w | LOCKED; mlock = 1 :: else fi; w = 0 }  /* casLock */
  :: else -> w = 0
  fi;
  do
  :: mlock -> break                                            /* taken */
  :: else ->
     atomic { ACC(A); w = lk[A] }                              /* objectLock loop: load link */
     if
     :: (w & LOCKED) == 0 ->                                   /* objectLock loop: CAS w -> w | LOCKED | WAITERS */
        atomic { ACC(A); if :: lk[A] == w -> NOTHELD; lk[A] = w | LOCKED | WAITERS; mlock = 1 :: else fi; w = 0 }
     :: else ->
        if
        :: (w & WAITERS) == 0 ->                               /* objectLock loop: CAS w -> w | WAITERS */
           atomic { ACC(A); if :: lk[A] == w -> NOTHELD; lk[A] = w | WAITERS; w = w | WAITERS :: else -> w = 0 fi }
        :: else
        fi;
        if
        :: w != 0 ->
           /* parkSelf: drainQueue (M's queue is empty here), store PARKED, re-check the queue (empty), leaveOp */
           atomic { assert(holder1 == 1); rst[1] = GEN(rst[1]) | PARKED; holder1 = 0 }
           atomic { lk[A] != w -> w = 0 }                      /* objectLock: waitOn(link, w) */
           atomic { rst[1] == (G1 | PARKED) -> rst[1] = G1 | ACTIVE; NOTHELD;  /* unparkSelf: CAS PARKED -> ACTIVE */
                    assert(holder1 == 0); holder1 = 1 }        /* (waits while HELPED) */
           enterOp(1)                                          /* unparkSelf: enterOp */
        :: else
        fi
     fi
  od
}
#else
/* the old order: park once, then CAS the lock word while parked (and maybe borrowed), unpark once it has the lock */
inline lockOp() {
  enterOp(1);                                                  /* brc_lock: enterOp */
  atomic { ACC(A); w = lk[A] }                                 /* objectLock: casLock: load link */
  if
  :: (w & LOCKED) == 0 ->
     atomic { ACC(A); if :: lk[A] == w -> NOTHELD; lk[A] = w | LOCKED; mlock = 1 :: else fi; w = 0 }
  :: else -> w = 0
  fi;
  if
  :: mlock -> skip
  :: else ->
     atomic { assert(holder1 == 1); rst[1] = GEN(rst[1]) | PARKED; holder1 = 0 }   /* parkSelf */
     do
     :: enterOp(1);                                            /* objectLock loop: enterOp */
        atomic { ACC(A); w = lk[A] }                           /* objectLock loop: load link */
        if
        :: (w & LOCKED) == 0 ->
           atomic { ACC(A); if :: lk[A] == w -> NOTHELD; lk[A] = w | LOCKED | WAITERS; mlock = 1; w = 0; break
                            :: else -> w = 0 fi }
        :: (w & LOCKED) && (w & WAITERS) == 0 ->
           atomic { ACC(A); if :: lk[A] == w -> NOTHELD; lk[A] = w | WAITERS; w = w | WAITERS :: else -> w = 0 fi }
           if
           :: w != 0 -> atomic { lk[A] != w -> w = 0 }         /* leaveOp; waitOn(link, w) */
           :: else
           fi
        :: (w & LOCKED) && (w & WAITERS) ->
           atomic { lk[A] != w -> w = 0 }                      /* leaveOp; waitOn(link, w) */
        fi
     od;
     enterOp(1);                                               /* unparkSelf: enterOp */
     atomic { rst[1] == (G1 | PARKED) -> rst[1] = G1 | ACTIVE; NOTHELD; assert(holder1 == 0); holder1 = 1 }
  fi
}
#endif

/* index.ts brc_unlock(a) -> objectUnlock -> releaseLock: atomic.and(link, ~(LOCKED | WAITERS)) */
inline unlockOp(r, ghost) {
  enterOp(r);                                                  /* brc_unlock: enterOp */
  atomic { assert(lk[A] & LOCKED);                             /* releaseLock: our lock is still there */
           NOTHELD; lk[A] = lk[A] & ~(LOCKED | WAITERS); ghost = 0 }  /* releaseLock: atomic.and, notify */
}

proctype Mutator() {
  byte w, q, d, dt, incs;
  bool locks;
  do
  :: atomic { ha > 0 && incs < MAXINC -> incs++ }; fastPath(1)  /* incref(a) */
  :: ha > 1 || ha == 1 && !mlock -> fastPath(-1)               /* decref(a) (keeps a reference while locked) */
  :: safepoint(1)                                              /* idle: the collector's notify ran brc_safepoint */
#ifndef NO_LOCK
  :: ha > 0 && !locks -> locks = 1; lockOp()                   /* brc_lock(a), holding a reference */
  :: mlock -> unlockOp(1, mlock)                               /* brc_unlock(a) */
#endif
  :: break
  od;
  idle(1)
}

/* H holds a's lock from the start; idle in its event loop, it acknowledges pauses, and unlocks once. A freed a (H
   holds no reference) keeps its block for H's lock (queue.ts releaseObjectBlock): no ACC here. */
bool hlock = 1;
proctype Holder() {
  byte w, q;
  do
  :: safepoint(3)
  :: hlock -> unlockOp(3, hlock)
  :: cdone && !hlock -> break
  od
}

/* ============================== W, S, R (record 4) ============================== */

#ifdef WAITWORD
/* an async critical section (src/locks.ts #acquire) holding a reference to a (in a's shared count) */
proctype WaitWord() {
  byte w, q;
  do
  :: safepoint(4)                                              /* idle first: maybe acknowledges a pause */
  :: break
  od;
#ifndef BROKEN_WAITWORD_NO_PAUSE
  enterOp(4);                                                  /* brc_lock_wait_word: enterOp */
#endif
  do
  :: atomic { ACC(A); w = lk[A] }                              /* lockWaitWord: load link */
     if
     :: (w & LOCKED) == 0 -> w = 0; break                      /* free: 0 (try again) */
     :: (w & LOCKED) && (w & WAITERS) -> break                 /* advertised already */
     :: (w & LOCKED) && (w & WAITERS) == 0 ->
        atomic { ACC(A); if :: lk[A] == w -> NOTHELD; lk[A] = w | WAITERS; w = w | WAITERS; break  /* lockWaitWord: CAS */
                         :: else fi }
     fi
  od;                                                          /* leaveOp */
  if
  :: w != 0 ->                                                 /* sleepOnWord: Atomics.waitAsync(link, w): the */
     do                                                        /* event loop is idle meanwhile, so its idle */
     :: atomic { lk[A] != w -> w = 0 }; break                  /* waiter answers pauses */
     :: safepoint(4)
     od
  :: else
  fi;
  enterOp(4);                                                  /* brc_try_lock: enterOp */
  atomic { ACC(A); w = lk[A] }                                 /* casLock: load */
  if
  :: (w & LOCKED) == 0 ->
     atomic { ACC(A); if :: lk[A] == w -> NOTHELD; lk[A] = w | LOCKED; llock = 1 :: else fi; w = 0 }
  :: else -> w = 0                                             /* EBUSY: this model tries once */
  fi;
  if
  :: llock -> unlockOp(4, llock)
  :: else
  fi;
  enterOp(4);                                                  /* brc_decref(a): enterOp, decrefShared's CAS */
  atomic { ACC(A); NOTHELD; assert(CNT(sh[A]) >= 1); sh[A] = sh[A] - ONE; hr = 0 }
  idle(4)
}
#endif

#ifdef SPINNER
/* a thread that may not block, holding a reference to a: brc_lock(a) spins (lock.ts objectLock, canBlockHere() false) */
proctype Spinner() {
  byte w, q;
  enterOp(4);                                                  /* brc_lock: enterOp */
  do
  :: atomic { ACC(A); w = lk[A] }                              /* casLock: load */
     if
     :: (w & LOCKED) == 0 ->
        atomic { ACC(A); if :: lk[A] == w -> NOTHELD; lk[A] = w | LOCKED; llock = 1; w = 0; break :: else fi }
     :: else
     fi;
#ifndef BROKEN_SPIN_NO_ACK
     atomic { lk[A] != w || att[4] != 0 -> w = 0 }             /* spins: until the lock word moves or ATTENTION is set */
     enterOp(4)                                                /* objectLock: leaveOp; enterOp between tries */
#else
     atomic { lk[A] != w -> w = 0 }                            /* spins inside the operation: never looks at ATTENTION */
#endif
  od;
  unlockOp(4, llock);                                          /* brc_unlock(a) */
  enterOp(4);                                                  /* brc_decref(a): enterOp, decrefShared's CAS */
  atomic { ACC(A); NOTHELD; assert(CNT(sh[A]) >= 1); sh[A] = sh[A] - ONE; hr = 0 }
  idle(4)
}
#endif

#ifdef RELEASER
/* index.ts worldRelease's loop for one record r (the caller is R, tid 4) */
inline releaseRecord(r) {
  atomic { psd[r] = 0 }                                        /* worldRelease: atomic.store(PAUSED, 0) */
  atomic { att[r] = att[r] & STOP }                            /* worldRelease: setPause(rec, 0), notify */
}

proctype Releaser() {
  byte w, q;
  bool busy;
  enterOp(4);                                                  /* brc_world_request: enterOp */
  atomic { busy = (gworld != 0) }                              /* worldRequest: CAS G_WORLD 0 -> 4 fails: EBUSY */
  if
  :: busy ->
     do
     :: safepoint(4)                                           /* brc_safepoint (src/collect.ts on EBUSY) */
     :: break
     od;
#ifndef BROKEN_RELEASE_NON_HOLDER
     atomic { w = gworld }                                     /* brc_world_release: load G_WORLD */
     if
     :: WTID(w) == 4 -> assert(false)                          /* (never: R's request failed) */
     :: else -> w = 0                                          /* not ours: EINVAL, nothing changed */
     fi;
#else
     releaseRecord(1); releaseRecord(2); releaseRecord(3);     /* brc_world_release without the check */
     atomic { gworld = 0 }                                     /* worldRelease: atomic.store(G_WORLD, 0) */
#endif
  :: else                                                      /* R's CAS would succeed: not modelled, R stops */
  fi;
  idle(4)
}
#endif

/* ============================== T, a stop withdrawn, and K, its terminator ============================== */

#ifdef STOPPER
/* K: terminate() timed out (src/lifecycle.ts) and withdraws its stop request */
proctype Canceller() {
#ifndef BROKEN_CANCEL_CLEARS_PAUSE
  atomic { att[4] = att[4] & ~STOP }                           /* brc_thread_cancel_stop: atomic.and(ATTENTION, ~STOP),
                                                                  notify */
#else
  atomic { att[4] = 0 }                                        /* resets the whole word */
#endif
}

/* T: its next call after the stop request (brc_alloc, say), then idle */
proctype Stopper() {
  byte w, q;
  enterOp(4);                                                  /* enterOp: attend (stopHere, then ATTENTION again) */
  atomic { NOTHELD; twrote = 1 }                               /* the operation: a write of the heap */
  idle(4)
}
#endif

/* ============================== X, detach_dead(2, 1), and N, a new thread on tid 2 ============================== */

#ifdef DETACH
proctype Detacher() {
  byte st, t, l, g;
  short s, nx;
  bool ok;
  do
  :: atomic { st = rst[2] }                                    /* takeRights: load state */
     if
     :: GEN(st) != G1 -> goto gone                             /* takeRights: another generation: ENOTATTACHED */
     :: GEN(st) == G1 && (ST(st) == ACTIVE || ST(st) == PARKED) ->
#ifndef BROKEN_DEKKER
        atomic { if :: rst[2] == st -> rst[2] = G1 | RECLAIMING; ok = 1 :: else fi }  /* takeRights: CAS ->
                                                                  RECLAIMING */
        if
        :: ok ->
           atomic { g = gworld }                               /* worldHeldByOther: THEN load G_WORLD */
           if
           :: g & HELD ->
              atomic { assert(ST(rst[2]) == RECLAIMING); rst[2] = st; ok = 0; g = 0 }  /* takeRights: store back */
              atomic { (gworld & HELD) == 0 }                  /* waitForWorld, then try again */
           :: else -> g = 0; break
           fi
        :: else
        fi
#else
        atomic { g = gworld }                                  /* load G_WORLD FIRST (the wrong order) */
        if
        :: g & HELD -> g = 0; atomic { (gworld & HELD) == 0 }
        :: else ->
           atomic { if :: rst[2] == st -> rst[2] = G1 | RECLAIMING; ok = 1 :: else fi };  /* takeRights: CAS */
           if :: ok -> break :: else fi
        fi
#endif
     :: GEN(st) == G1 && ST(st) == HELPED -> atomic { rst[2] != st }  /* takeRights: wait out the helper */
     :: GEN(st) == G1 && (ST(st) == FREE || ST(st) == RECLAIMING) -> goto gone  /* ENOTATTACHED */
     fi
  od;
  st = 0; ok = 0;
  /* releaseLocksOf, drainQueue (D's queue is empty here), abandonObjectsOf(2): b. Nobody else writes b's local,
     tid or shared word now (its owner is dead, and no thread increments b), so each load is folded into the store
     after it: a read by another thread in between would see what it sees before the folded step. */
  atomic { t = ot[B]; if :: freed[B] -> t = 0 :: else fi }   /* abandonObjectsOf: load link (LIVE), load tid */
  if
  :: t == 2 ->
     atomic { ACC(B); NOTHELD; lk[B] = lk[B] | ORPHAN }        /* abandonObjectsOf: atomic.or(link, ORPHAN) */
     atomic { ACC(B); NOTHELD; l = lc[B]; lc[B] = 0 }          /* abandonObject: load local; dropOwnership: store 0 */
     atomic { ACC(B); NOTHELD; ot[B] = 0 }                     /* dropOwnership: atomic store tid = 0 */
     atomic { ACC(B); NOTHELD; s = sh[B];                      /* publishMerged: load shared, CAS s -> next */
              nx = (CNT(s) + l) * ONE + MERGED + (s & QUEUED); assert(nx != MERGED); sh[B] = nx }  /* never freed here */
  :: else
  fi;
  atomic { assert(ST(rst[2]) == RECLAIMING); rst[2] = G1 | FREE }  /* releaseRights(FREE): store FREE (queue empty) */
gone:
  skip
}

#ifdef ATTACH
/* a new thread takes tid 2 once it is FREE (threads.ts attachThread), then allocates (allocObject: enterOp, ...) */
proctype Attacher() {
  byte w, q;
  atomic { rst[2] == (G1 | FREE) -> rst[2] = 2 * G1 | ACTIVE;   /* attachThread: CAS FREE -> ACTIVE, generation + 1 */
           rstopped[2] = 0;                                    /* attachThread: atomic.store(STOPPED, 0) */
#ifndef BROKEN_ATTACH_CLEARS_PAUSE
           att[2] = att[2] & ~STOP }                           /* attachThread: atomic.and(ATTENTION, ~STOP) */
#else
           att[2] = 0 }                                        /* attach resets the whole attention word */
#endif
  enterOp(2);                                                  /* brc_alloc: enterOp */
  atomic { NOTHELD; nalloc = 1 }                               /* allocObject: a new live object in the heap */
  idle(2)
}
#endif
#endif

/* ============================== C, the collector ============================== */

/* world.ts held(r): one look, no waiting; ok = 1 if record r is held */
inline held(r) {
  ok = 0;
#ifdef BROKEN_STOPPED_FIRST
  atomic { p = rstopped[r] }                                   /* held: load STOPPED first */
  if
  :: p -> p = 0; ok = 1
  :: else ->
#endif
  atomic { s = rst[r] }                                        /* held: load the state word */
  if
  :: ST(s) == FREE -> ok = 1
  :: ST(s) == RECLAIMING -> skip                               /* a detach runs: not held */
  :: ST(s) == HELPED -> atomic { ok = (borrowed[r] == CTID) } /* held: load R_BORROWED */
  :: ST(s) == PARKED ->
#ifndef BROKEN_PARKED_NO_CAS
     atomic {                                                  /* held: CAS PARKED -> HELPED (borrow) */
       if
       :: rst[r] == s -> rst[r] = GEN(s) | HELPED; ok = 1;
          if :: r == 1 -> assert(holder1 == 0); holder1 = CTID :: else fi
       :: else
       fi }
     if :: ok -> atomic { borrowed[r] = CTID } :: else fi     /* held: atomic.store(R_BORROWED, me) */
#else
     ok = 1                                                    /* parked: counted held, no CAS */
#endif
  :: ST(s) == ACTIVE ->
#ifndef BROKEN_NO_ACK_WAIT
     atomic { ok = rstopped[r] }                               /* held: load STOPPED */
     if :: !ok -> atomic { ok = ACKED(psd[r]) } :: else fi     /* held: load PAUSED == epoch */
#ifndef BROKEN_NO_REREAD
     if :: ok -> atomic { ok = (rst[r] == s) } :: else fi      /* held: load the state word again: unchanged */
#endif
#else
     ok = 1                                                    /* PAUSE is set: counted held at once */
#endif
  fi;
#ifdef BROKEN_STOPPED_FIRST
  fi;
#endif
  s = 0
}

/* one pass of notHeld over records 1..NREC: ok = 1 if every one is held (stops at the first that is not) */
inline pass() {
  r = 1;
  do
  :: r <= NREC -> held(r); if :: ok -> r++ :: else -> break fi
  :: r > NREC -> break
  od
}

/* what can make record r held: the collector sleeps between polls until one of these holds (polls in between
   would find r not held again and change nothing) */
#define MAYHOLD(r) (ST(rst[r]) == FREE || ST(rst[r]) == PARKED || ST(rst[r]) == HELPED && borrowed[r] == CTID || \
                    ST(rst[r]) == ACTIVE && (rstopped[r] || ACKED(psd[r])))

/* worldRelease's loop for record r: PAUSED = 0, PAUSE cleared (STOP kept), borrowed rights given back */
inline resume(r) {
  atomic { psd[r] = 0 }                                        /* worldRelease: atomic.store(PAUSED, 0) */
  atomic { att[r] = att[r] & STOP }                            /* worldRelease: setPause(rec, 0), notify */
  if
  :: borrowed[r] == CTID ->
     atomic { borrowed[r] = 0 }                                /* worldRelease: atomic.store(R_BORROWED, 0) */
     atomic { assert(ST(rst[r]) == HELPED); rst[r] = GEN(rst[r]) | PARKED;  /* releaseRights(rec, PARKED) */
              if :: r == 1 -> assert(holder1 == CTID); holder1 = 0 :: else fi }
  :: else
  fi
}

proctype Collector() {
  byte r, s, p, g0, g1, t0, t1, n;
  bool ok, alive0, alive1;
  do
  :: n < NCOLL ->
     n++;
     /* brc_world_request (its enterOp: nobody pauses C) -> worldRequest */
     atomic { gworld == 0 -> gworld = CTID; epoch++ }          /* worldRequest: CAS G_WORLD 0 -> me; the epoch */
     r = 1;
     do                                                        /* worldRequest: setPause on every other record */
     :: r <= NREC -> atomic { att[r] = (att[r] & STOP) | PAUSE | (epoch << 2) }; r++
     :: r > NREC -> break
     od;
     DIE;                                                      /* terminated between two world calls */
     /* brc_world_poll until it returns 0 */
     do
     :: pass();                                                /* worldPoll: notHeld, the first pass */
        if
        :: ok ->
           atomic { gworld = CTID | HELD }                     /* worldPoll: atomic.store(G_WORLD, me | HELD) */
           pass();                                             /* worldPoll: notHeld, the second pass */
           if
           :: ok -> break
           :: else -> atomic { gworld = CTID }                 /* worldPoll: withdraw WORLD_HELD */
           fi
        :: else -> DIE; atomic { MAYHOLD(r) }                  /* src/collect.ts: sleep, poll again */
        fi
     od;
     r = 0;
     atomic { frozen = 1; alive0 = !freed[A] }
     DIE;                                                      /* terminated with the world held, before the scan */                 /* (ghost) all held; the heap walk's LIVE check
                                                                  (a and b are freed together or not at all) */
     if
     :: !alive0 -> skip                                        /* nothing live to scan */
     :: else ->
     /* collectCycles. Every other thread is held now, so any write of theirs from here to the release is an
        assertion violation by itself (NOTHELD), wherever it lands between the collector's accesses: the walks'
        plain loads and stores of one object are folded into one step. drainEveryQueue: all empty here. */
     atomic { t0 = lk[A]; g0 = lc[A] + CNT(sh[A]) - (sh[A] & QUEUED);  /* walk(COUNT): load link, trueCount, */
              lk[A] = (g0 << 3) | (t0 & LOWBITS); t0 = 0 }     /* setGc: plain store of a's link */
     atomic { t1 = lk[B]; g1 = lc[B] + CNT(sh[B]) - (sh[B] & QUEUED);
              lk[B] = (g1 << 3) | (t1 & LOWBITS); t1 = 0 }     /* the same for b */
     atomic { t0 = slot[A]; lk[t0] = lk[t0] - GCONE }          /* walk(SUBTRACT): a's slot: the child's gc - 1 */
     atomic { t1 = slot[B]; lk[t1] = lk[t1] - GCONE }          /* walk(SUBTRACT): b's slot */
     /* walk(MARK): roots (gc > 0) and everything reachable from them are ALIVE (two objects: the depth-first walk
        is the expression below; its ALIVE stores are folded into the CHAIN walk's) */
     atomic { g0 = GC(lk[A]); g1 = GC(lk[B]);
              alive0 = (g0 > 0 || g1 > 0 && t1 == A);
              alive1 = (g1 > 0 || g0 > 0 && t0 == B);
              /* the property: garbage exactly when no thread holds a reference */
              assert(alive0 == alive1); assert(alive0 == (ha + hr > 0));
              everGarbage = (everGarbage || !alive0); g0 = 0; g1 = 0 }
     /* walk(CHAIN): ALIVE: scratch cleared; garbage: chained (plain load and store of the link) */
     atomic { lk[A] = (lk[A] & LOWBITS) | (alive0 -> 0 : GCONE) }
     atomic { lk[B] = (lk[B] & LOWBITS) | (alive1 -> 0 : GCONE) }
     if
     :: !alive0 ->
        /* freeGarbage: every garbage object's slots cleared (both children are garbage: no decref), then each
           link restored and the object put on the free path (releaseObjectBlock: its CAS keeps the lock bits of
           a holder that is not the freeing thread, H's here; the block waits for H's unlock) */
        atomic { slot[A] = NONE }                              /* freeGarbage: clear a's slot */
        atomic { slot[B] = NONE }                              /* freeGarbage: clear b's slot */
        atomic { ACC(A); assert(ha + hr == 0); lk[A] = lk[A] & LOWBITS;  /* freeGarbage: restore the link; */
                 freed[A] = 1; lk[A] = lk[A] & (LOCKED | WAITERS) }      /* releaseObjectBlock */
        atomic { ACC(B); lk[B] = lk[B] & LOWBITS; freed[B] = 1; lk[B] = lk[B] & (LOCKED | WAITERS) }
     :: else
     fi
     fi;
     t0 = 0; t1 = 0; alive0 = 0; alive1 = 0;
     DIE;                                                      /* terminated after the scan, before the release */
     /* brc_world_release -> worldRelease */
     atomic { frozen = 0 }                                     /* (ghost) */
     r = 1;
     do
     :: r <= NREC -> resume(r); r++
     :: r > NREC -> break
     od;
     r = 0;
     atomic { gworld = 0 }                                     /* worldRelease: atomic.store(G_WORLD, 0), notify */
  :: else -> break
  od;
  cdone = 1;
#ifdef DEADC
  goto end;
dead:                                                          /* terminated at a safe point: a detacher comes */
  cdead = 1;
end:
  skip
#endif
}

#ifdef DEADC
/* Y: detach_dead of the collector, once its worker is gone (threads.ts detachThread: takeRights, then
   releaseWorldOf). C has no record here: the rights it takes are left out, the world word is what matters. */
proctype CollectorDetacher() {
  byte r;
  (cdead || cdone);                                            /* the collector died (or finished: nothing to do) */
  if
  :: !cdead -> goto out
  :: else
  fi;
#ifdef BROKEN_DETACH_WAITS_WORLD
  atomic { (gworld & HELD) == 0 }                              /* takeRights: the world held by another: wait */
#else
  if
  :: WTID(gworld) == CTID ->                                   /* releaseWorldOf: G_WORLD names the dead thread */
     atomic { frozen = 0 }                                     /* (ghost) */
     r = 1;
     do
     :: r <= NREC -> resume(r); r++                            /* worldRelease(holder): as C's own release */
     :: r > NREC -> break
     od;
     atomic { gworld = 0 }                                     /* worldRelease: atomic.store(G_WORLD, 0), notify */
  :: else
  fi;
#endif
  cdone = 1;
out:
  skip
}
#endif

init {
  atomic {
    /* a: M's, local 2 (M's reference + b's slot); b: D's (or M's without DETACH), local 1 (a's slot) */
    lc[A] = 2; ot[A] = 1; slot[A] = B;
    lc[B] = 1; slot[B] = A;
    lk[A] = LOCKED;                                            /* H holds a's lock */
#ifdef DETACH
    ot[B] = 2;
    if
    :: rst[2] = G1 | ACTIVE; rstopped[2] = 1                   /* D died after the stop handshake */
    :: rst[2] = G1 | PARKED                                    /* D died while parked in a lock wait */
    fi;
#else
    ot[B] = 1;
#endif
    rst[1] = G1 | ACTIVE; ha = 1;
    rst[3] = G1 | ACTIVE;
#if defined(WAITWORD) || defined(SPINNER)
    rst[4] = G1 | ACTIVE; sh[A] = ONE; hr = 1;                 /* W's or S's reference to a */
#endif
#ifdef RELEASER
    rst[4] = G1 | ACTIVE;
#endif
#ifdef STOPPER
    rst[4] = G1 | ACTIVE; att[4] = STOP;                       /* T asked to stop (brc_thread_request_stop) */
#endif
    run Holder(); run Mutator(); run Collector();
#ifdef DETACH
    run Detacher();
#ifdef ATTACH
    run Attacher();
#endif
#endif
#ifdef WAITWORD
    run WaitWord();
#endif
#ifdef SPINNER
    run Spinner();
#endif
#ifdef RELEASER
    run Releaser();
#endif
#ifdef STOPPER
    run Stopper(); run Canceller();
#endif
#ifdef DEADC
    run CollectorDetacher();
#endif
  }
  (_nr_pr == 1);
  /* freed exactly when a scan found them unreachable; no lock is lost; no gc scratch is left over */
  assert(freed[A] == everGarbage && freed[B] == everGarbage);
  assert(!mlock || (lk[A] & LOCKED));
  assert(GC(lk[A]) == 0 && GC(lk[B]) == 0);
#ifdef STOPPER
  assert(twrote && rstopped[4] == 0)                           /* T resumed and ran: a withdrawn stop is no stop */
#endif
}
