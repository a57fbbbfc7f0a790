/*
 * biasrc: the record state word carries the generation (design v2, "The record state word carries the
 * generation"): R_STATE = generation << 3 | state. Checked by spin (docs/MODEL.md, scripts/model.mjs).
 *
 * Tid 1's record. Its first incarnation W (a worker, generation 1) is attached at the start; it may park and
 * unpark, and then either detaches itself (brc_thread_detach) or dies (terminated while running or parked). Either
 * way its exit event reaches the main thread X, which calls detach_dead(1, 1): the generation it read when the worker
 * attached. A new thread N may attach meanwhile, take tid 1 as soon as it is FREE (generation 2), park and unpark,
 * and detach itself. The property: detach_dead takes the record only from the dead incarnation it names, never from
 * a live one (and never a FREE record).
 *
 * Every step is one atomic memory operation of the code, labelled "function: step". Ghosts (inc, alive) observe.
 *
 * Switches:
 *   BROKEN_GEN_SEPARATE  the generation is a word of its own (today's R_GENERATION, bumped by attachThread after its
 *                        CAS FREE -> ACTIVE) and detach_dead compares it in a step of its own before its CAS on the
 *                        state word: the CAS then takes a live new incarnation.
 */

#define FREE        0
#define ACTIVE      1
#define PARKED      2
#define HELPED      3
#define RECLAIMING  4
#define ST(w)   ((w) & 7)
#define GEN(w)  ((w) >> 3)
#define MK(g, s) (((g) << 3) | (s))

#ifndef BROKEN_GEN_SEPARATE
byte rs = MK(1, ACTIVE);             /* R_STATE of tid 1: the worker attached as generation 1 */
#else
byte rs = ACTIVE;                    /* R_STATE: the state alone (MK(0, s) == s) */
byte rgen = 1;                       /* R_GENERATION, a word of its own */
#endif

/* ghosts */
byte inc = 1;                        /* who holds the rights: 1 the worker, 2 the new thread, 3 the detacher, 0 none */
byte cur = 1;                        /* the incarnation the record belongs to: 1, 2, or 0 while FREE */
bool alive[3];                       /* incarnation i is running (it may still use the record) */
bool gone;                           /* the worker's exit event has been delivered to the main thread */

/* park (objectLock), by the incarnation holding the record as ACTIVE */
inline park(me) {
  atomic { assert(inc == me && ST(rs) == ACTIVE); rs = MK(GEN(rs), PARKED); inc = 0 }  /* parkSelf: store PARKED */
}
inline unpark(me) {
  atomic { ST(rs) == PARKED -> rs = MK(GEN(rs), ACTIVE); assert(inc == 0 && cur == me); inc = me }  /* unparkSelf:
                                                                  CAS PARKED -> ACTIVE (generation kept) */
}

/* detachThread by the incarnation itself: CAS ACTIVE -> RECLAIMING, ... , store FREE (generation kept) */
inline detachSelf(me) {
  atomic { assert(inc == me && ST(rs) == ACTIVE); rs = MK(GEN(rs), RECLAIMING) }  /* detachThread: CAS ->
                                                                  RECLAIMING (nobody else writes an ACTIVE word) */
  atomic { rs = MK(GEN(rs), FREE); inc = 0; cur = 0; alive[me] = 0 }  /* releaseRights(FREE): store FREE */
}

proctype Worker() {
  if
  :: park(1);
     if
     :: unpark(1)
     :: alive[1] = 0; goto dead                                /* terminated while parked */
     fi
  :: skip
  fi;
  if
  :: detachSelf(1)                                             /* brc_thread_detach, then the worker exits */
  :: alive[1] = 0                                              /* terminated while running */
  fi;
dead:
  gone = 1                                                     /* the exit event is on its way */
}

proctype NewThread() {
#ifndef BROKEN_GEN_SEPARATE
  atomic { ST(rs) == FREE -> rs = MK(GEN(rs) + 1, ACTIVE);   /* attachThread: CAS (g << 3 | FREE) ->  */
           assert(inc == 0 && cur == 0); inc = 2; cur = 2; alive[2] = 1 }  /* ((g + 1) << 3 | ACTIVE) */
#else
  atomic { rs == FREE -> rs = ACTIVE; assert(inc == 0 && cur == 0); inc = 2; cur = 2; alive[2] = 1 }  /* attachThread:
                                                                  CAS FREE -> ACTIVE */
  atomic { rgen++ }                                            /* attachThread: atomic.add(R_GENERATION, 1) */
#endif
  if
  :: park(2); unpark(2)
  :: skip
  fi;
  if
  :: detachSelf(2)
  :: skip                                                      /* still running at the end */
  fi
}

/* index.ts brc_thread_detach_dead(1, 1) -> threads.ts detachThread */
proctype Detacher() {
  byte s, g;
  (gone);                                                      /* the worker's exit event */
  do
  :: atomic { s = rs }                                         /* detachThread: load state (a guess) */
#ifndef BROKEN_GEN_SEPARATE
     if
     :: GEN(s) == 1 && (ST(s) == ACTIVE || ST(s) == PARKED) ->
        atomic {                                               /* detachThread: CAS exactly (1 << 3 | state) ->
                                                                  (1 << 3 | RECLAIMING) */
          if
          :: rs == s -> rs = MK(1, RECLAIMING);
                        assert(cur == 1 && !alive[1]); inc = 3; break   /* the dead worker's, nobody else's */
          :: else
          fi }
     :: GEN(s) == 1 && ST(s) == HELPED -> atomic { rs != s }   /* wait out a helper */
     :: else -> goto notattached                               /* FREE, RECLAIMING or another generation */
     fi
#else
     atomic { g = rgen }                                       /* detach_dead: load R_GENERATION, compare */
     if
     :: g == 1 && (ST(s) == ACTIVE || ST(s) == PARKED) ->
        atomic {                                               /* detachThread: CAS state -> RECLAIMING */
          if
          :: rs == ST(s) -> rs = RECLAIMING;
                            assert(cur == 1 && !alive[1]); inc = 3; break
          :: else
          fi }
     :: else -> goto notattached
     fi
#endif
  od;
  /* drain, abandon, release: the record is ours */
  atomic { assert(inc == 3); rs = MK(GEN(rs), FREE); inc = 0; cur = 0 }  /* releaseRights(FREE): store FREE */
notattached:
  skip
}

init {
  atomic {
    alive[1] = 1;
    run Worker(); run NewThread(); run Detacher()
  }
}
