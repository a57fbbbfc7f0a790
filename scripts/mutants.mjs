// The mutation catalogue of `npm run mutate` (scripts/mutate.mjs): small, realistic changes to assembly/, each anchored
// on code (`find` must occur exactly once in `file`; `edits` for a change in several places). `tests`: the files run
// for it (default DEFAULT_TESTS). `equivalent`: why no test can catch it (docs/RELIABILITY.md); such a mutant still
// runs, and one that gets killed after all must lose its label.
//
// Kinds: store order (a step moved across the atomic that publishes it), bounds (off by one at a limit), missing
// notify, missing CAS (a read-modify-write turned into a load and a store), lost queue links, allocator lists,
// protocol (a step of the protocol dropped or changed).

export const DEFAULT_TESTS = ['test/schedule.test.ts', 'test/saturation.test.ts', 'test/rc.test.ts', 'test/alloc.test.ts'];

const SCHEDULE = ['test/schedule.test.ts'];
const SATURATION = ['test/saturation.test.ts'];

export const mutants = [
  // ---- store order --------------------------------------------------------------------------------------------------
  {
    id: 'order-merge-zero', kind: 'store order', file: 'assembly/refcount.ts', tests: SCHEDULE,
    what: 'mergeZeroLocal publishes MERGED before dropping ownership (gh-121794)',
    find: `  dropOwnership(obj);
  publishMerged(obj, s, 0, SHARED_QUEUED); // a queued object stays queued: its owner's queue still holds it
`,
    replace: `  publishMerged(obj, s, 0, SHARED_QUEUED); // a queued object stays queued: its owner's queue still holds it
  dropOwnership(obj);
`,
  },
  {
    id: 'order-merge-queued', kind: 'store order', file: 'assembly/refcount.ts', tests: SCHEDULE,
    what: 'mergeQueued publishes MERGED before dropping ownership',
    edits: [
      { find: `  if (tid != 0 && (s & SHARED_MERGED) == 0) {
    let l`, replace: `  let owned = tid != 0 && (s & SHARED_MERGED) == 0;
  if (owned) {
    let l` },
      { find: `    local = l == LOCAL_IMMORTAL ? <i64>SHARED_SATURATED : <i64>l;
    dropOwnership(obj);
`, replace: `    local = l == LOCAL_IMMORTAL ? <i64>SHARED_SATURATED : <i64>l;
` },
      { find: `  publishMerged(obj, s, local - 1, 0); // the queue's reference goes, and QUEUED with it: the object left the queue
`, replace: `  publishMerged(obj, s, local - 1, 0); // the queue's reference goes, and QUEUED with it: the object left the queue
  if (owned) dropOwnership(obj);
` },
    ],
  },
  {
    id: 'order-abandon', kind: 'store order', file: 'assembly/refcount.ts', tests: SCHEDULE,
    what: 'abandonObject (detach) publishes MERGED before dropping ownership',
    find: `  dropOwnership(obj);
  publishMerged(obj, atomic.load<i32>(obj + H_SHARED), local, SHARED_QUEUED); // a queued object stays queued
`,
    replace: `  publishMerged(obj, atomic.load<i32>(obj + H_SHARED), local, SHARED_QUEUED); // a queued object stays queued
  dropOwnership(obj);
`,
  },
  {
    id: 'order-push-link', kind: 'store order', file: 'assembly/queue.ts', tests: SCHEDULE,
    what: 'enqueue stores the link after the head CAS that makes the object reachable',
    find: `  do {
    head = atomic.load<u32>(rec + R_QUEUE); // a guess for the head CAS below
    setLink(obj, head);
    // release: our link store happens before the object is reachable from the head (pairs with drainQueue's xchg)
  } while (atomic.cmpxchg<u32>(rec + R_QUEUE, head, <u32>obj) != head);
  schedulePoint(SP_QUEUE_PUSHED, obj);
`,
    replace: `  do {
    head = atomic.load<u32>(rec + R_QUEUE); // a guess for the head CAS below
  } while (atomic.cmpxchg<u32>(rec + R_QUEUE, head, <u32>obj) != head);
  schedulePoint(SP_QUEUE_PUSHED, obj);
  setLink(obj, head);
`,
  },
  {
    id: 'order-wake-before-push', kind: 'store order', file: 'assembly/queue.ts', tests: SCHEDULE,
    what: 'enqueue looks at the owner\'s state (wakes or helps) before it pushes',
    edits: [
      { find: `  schedulePoint(SP_QUEUE_PUSH, obj);
`, replace: `  wakeOrHelp(rec, atomic.load<u32>(rec + R_QUEUE) == 0);
  schedulePoint(SP_QUEUE_PUSH, obj);
` },
      { find: `  schedulePoint(SP_QUEUE_PUSHED, obj);
  wakeOrHelp(rec, head == 0);
`, replace: `  schedulePoint(SP_QUEUE_PUSHED, obj);
` },
    ],
  },
  {
    id: 'order-release-recheck', kind: 'store order', file: 'assembly/queue.ts', tests: SCHEDULE,
    what: 'releaseRights looks at the queue before it stores the released state',
    find: `    atomic.store<u32>(rec + R_STATE, released); // release the rights
    if (to == STATE_PARKED) atomic.notify(rec + R_STATE); // the owner may be waiting in unparkSelf
    schedulePoint(SP_RIGHTS_RELEASED, rec);
    if (atomic.load<u32>(rec + R_QUEUE) == 0) return; // after our store above: a push we miss sees our release
`,
    replace: `    let empty = atomic.load<u32>(rec + R_QUEUE) == 0;
    schedulePoint(SP_RIGHTS_RELEASED, rec);
    atomic.store<u32>(rec + R_STATE, released); // release the rights
    if (to == STATE_PARKED) atomic.notify(rec + R_STATE); // the owner may be waiting in unparkSelf
    if (empty) return;
`,
  },
  {
    id: 'order-park-state', kind: 'store order', file: 'assembly/park.ts', tests: SCHEDULE,
    what: 'parkSelf stores PARKED before its last drain (lends its rights while it still merges)',
    find: `  drainAndFree(myRecord);
  schedulePoint(SP_PARK_DRAINED, myRecord);
  // release: our local-count stores happen before a helper's acquiring CAS PARKED -> HELPED. We hold the rights
  // (ACTIVE), so the generation above the state cannot change meanwhile.
  let state = myRecord + R_STATE;
  atomic.store<u32>(state, (atomic.load<u32>(state) & ~STATE_MASK) | STATE_PARKED);
`,
    replace: `  let state = myRecord + R_STATE;
  atomic.store<u32>(state, (atomic.load<u32>(state) & ~STATE_MASK) | STATE_PARKED);
  drainAndFree(myRecord);
  schedulePoint(SP_PARK_DRAINED, myRecord);
`,
  },
  {
    id: 'order-free-weak', kind: 'store order', file: 'assembly/queue.ts', tests: SCHEDULE,
    what: 'the free path clears the weak cell after the block went back to the allocator',
    edits: [
      { find: `  if (atomic.load<i32>(obj + H_SHARED) & SHARED_WEAK) clearWeakCell(obj); // before anything can reuse the block
`, replace: '' },
      { find: `  schedulePoint(SP_FREE_RELEASED, obj);
}`, replace: `  schedulePoint(SP_FREE_RELEASED, obj);
  if (atomic.load<i32>(obj + H_SHARED) & SHARED_WEAK) clearWeakCell(obj);
}` },
    ],
  },
  {
    id: 'order-drain-next', kind: 'store order', file: 'assembly/queue.ts', tests: SCHEDULE,
    what: 'drainQueue reads the next link after merging the object (which may free it)',
    find: `    let next = <usize>(atomic.load<u32>(obj + H_LINK) & ~LINK_BITS); // read before the merge may free obj
    mergeQueued(obj);
`,
    replace: `    mergeQueued(obj);
    let next = <usize>(atomic.load<u32>(obj + H_LINK) & ~LINK_BITS);
`,
    equivalent: 'frees are deferred: mergeQueued only schedules a free (scheduleFree writes the dead local word, not the '
      + 'link), and drainFrees runs after drainQueue returns (re-entrant calls return at once while draining); a merged '
      + 'object is never queued again (QUEUED is set only on a shared word of 0 or WEAK, and MERGED never goes away), '
      + 'so its link is stable until then',
  },
  {
    id: 'order-remote-free-link', kind: 'store order', file: 'assembly/alloc.ts', tests: SCHEDULE,
    what: 'remoteFree links the block after the CAS that publishes it to the owner',
    find: `  do {
    old = atomic.load<u32>(page + P_THREAD_FREE); // only a guess for the CAS below, which validates it
    store<u32>(block, old & ~THREAD_FREE_FULL);
    schedulePoint(SP_REMOTE_LINKED, block);
    // release: the link store above happens before the owner's xchg can see the block
  } while (atomic.cmpxchg<u32>(page + P_THREAD_FREE, old, <u32>block) != old);
  schedulePoint(SP_REMOTE_FREED, block);
`,
    replace: `  do {
    old = atomic.load<u32>(page + P_THREAD_FREE); // only a guess for the CAS below, which validates it
    schedulePoint(SP_REMOTE_LINKED, block);
  } while (atomic.cmpxchg<u32>(page + P_THREAD_FREE, old, <u32>block) != old);
  schedulePoint(SP_REMOTE_FREED, block);
  store<u32>(block, old & ~THREAD_FREE_FULL);
`,
  },
  {
    id: 'order-mark-full', kind: 'store order', file: 'assembly/alloc.ts', tests: SCHEDULE,
    what: 'markFull stores PAGE_FULL after the CAS that sets the FULL bit',
    find: `  store<u32>(page + P_STATE, PAGE_FULL); // before the CAS: a deliverer that replaces the bit must see FULL
  // succeeds only on an empty list; the first remote push after it replaces the bit and sees PAGE_FULL (stored above)
  if (atomic.cmpxchg<u32>(page + P_THREAD_FREE, 0, THREAD_FREE_FULL) == 0) {
    schedulePoint(SP_PAGE_FULL, page);
    return true;
  }
`,
    replace: `  if (atomic.cmpxchg<u32>(page + P_THREAD_FREE, 0, THREAD_FREE_FULL) == 0) {
    schedulePoint(SP_PAGE_FULL, page);
    store<u32>(page + P_STATE, PAGE_FULL);
    return true;
  }
`,
  },
  {
    id: 'order-set-ref', kind: 'store order', file: 'assembly/object.ts', tests: SCHEDULE,
    what: 'set_ref takes the child\'s reference after the slot CAS published it',
    edits: [
      { find: `  if (child != 0) incref(child);
  let slot = slotAddress(obj, index);`, replace: `  let slot = slotAddress(obj, index);` },
      { find: `  schedulePoint(SP_SLOT_SWAPPED, obj);
`, replace: `  schedulePoint(SP_SLOT_SWAPPED, obj);
  if (child != 0) incref(child);
` },
    ],
  },
  {
    id: 'order-load-ref', kind: 'store order', file: 'assembly/object.ts', tests: SCHEDULE,
    what: 'load_ref releases the slot before its increment',
    find: `  incref(<usize>child);
  schedulePoint(SP_SLOT_LOADED, obj);
  atomic.store<u32>(slot, child);`,
    replace: `  atomic.store<u32>(slot, child);
  schedulePoint(SP_SLOT_LOADED, obj);
  incref(<usize>child);`,
  },

  // ---- bounds -------------------------------------------------------------------------------------------------------
  {
    id: 'bound-incref-immortal', kind: 'bounds', file: 'assembly/refcount.ts', tests: SATURATION,
    what: 'incref\'s owner path `d < LOCAL_IMMORTAL - 1` becomes `<=` (the last increment skips immortalize)',
    find: `  if (d < <u64>(LOCAL_IMMORTAL - 1)) {
    // owner: plain store`,
    replace: `  if (d <= <u64>(LOCAL_IMMORTAL - 1)) {
    // owner: plain store`,
  },
  {
    id: 'bound-decref-immortal', kind: 'bounds', file: 'assembly/refcount.ts', tests: SATURATION,
    what: 'decrefFast\'s `local - 2 < LOCAL_IMMORTAL - 2` becomes `<=` (an immortal local count is decremented)',
    find: `  if (ownerDelta(w) - 2 < <u64>(LOCAL_IMMORTAL - 2)) {`,
    replace: `  if (ownerDelta(w) - 2 <= <u64>(LOCAL_IMMORTAL - 2)) {`,
  },
  {
    id: 'bound-encode-clamp', kind: 'bounds', file: 'assembly/refcount.ts', tests: SATURATION,
    what: 'encodeCount\'s clamp removed: a merged count of 2^28 or more wraps',
    find: `  if (count >= <i64>SHARED_SATURATED) count = SHARED_SATURATED;
`,
    replace: '',
  },
  {
    id: 'bound-encode-clamp-edge', kind: 'bounds', file: 'assembly/refcount.ts', tests: SATURATION,
    what: 'encodeCount clamps from `count > SHARED_SATURATED` instead of `>=`',
    find: `  if (count >= <i64>SHARED_SATURATED) count = SHARED_SATURATED;`,
    replace: `  if (count > <i64>SHARED_SATURATED) count = SHARED_SATURATED;`,
    equivalent: 'at count == SHARED_SATURATED the clamp stores the same value it was given',
  },
  {
    id: 'bound-incref-undo', kind: 'bounds', file: 'assembly/refcount.ts', tests: SATURATION,
    what: 'increfShared takes its add back only above SHARED_SATURATED, not at it',
    find: `  if (sharedCount(old) >= SHARED_SATURATED) atomic.sub<i32>(obj + H_SHARED, SHARED_ONE);`,
    replace: `  if (sharedCount(old) > SHARED_SATURATED) atomic.sub<i32>(obj + H_SHARED, SHARED_ONE);`,
  },
  {
    id: 'bound-decref-saturated', kind: 'bounds', file: 'assembly/refcount.ts', tests: SATURATION,
    what: 'decrefShared treats a count of exactly SHARED_SATURATED as mortal',
    find: `    if (sharedCount(s) >= SHARED_SATURATED) return true; // immortal`,
    replace: `    if (sharedCount(s) > SHARED_SATURATED) return true; // immortal`,
  },
  {
    id: 'bound-merge-lowers-immortal', kind: 'bounds', file: 'assembly/refcount.ts', tests: SATURATION,
    what: 'publishMerged clamps an immortal count down to SHARED_SATURATED (the model\'s "clamp")',
    find: `    if (count >= <i64>SHARED_SATURATED) {
      next = (s & ~SHARED_FLAGS) | flags;
    } else {`,
    replace: `    {`,
  },
  {
    id: 'bound-upgrade-saturated', kind: 'bounds', file: 'assembly/refcount.ts', tests: SATURATION,
    what: 'tryIncref adds to a count of exactly SHARED_SATURATED (an immortal count grows without bound)',
    find: `    if (count >= SHARED_SATURATED) return true; // immortal`,
    replace: `    if (count > SHARED_SATURATED) return true; // immortal`,
  },
  {
    id: 'bound-upgrade-owner', kind: 'bounds', file: 'assembly/refcount.ts', tests: SATURATION,
    what: 'tryIncref\'s owner path `local - 1 < LOCAL_IMMORTAL - 2` becomes `<=`',
    find: `  if (d - 1 < <u64>(LOCAL_IMMORTAL - 2)) { // ours, local in [1, immortal - 1)`,
    replace: `  if (d - 1 <= <u64>(LOCAL_IMMORTAL - 2)) { // ours, local in [1, immortal - 1)`,
  },
  {
    id: 'bound-is-immortal', kind: 'bounds', file: 'assembly/refcount.ts', tests: SATURATION,
    what: 'isImmortal reads a shared count of exactly SHARED_SATURATED as mortal',
    find: `    sharedCount(atomic.load<i32>(obj + H_SHARED)) >= SHARED_SATURATED;`,
    replace: `    sharedCount(atomic.load<i32>(obj + H_SHARED)) > SHARED_SATURATED;`,
  },
  {
    id: 'bound-immortalize-local', kind: 'bounds', file: 'assembly/refcount.ts', tests: SATURATION,
    what: 'immortalize leaves the owner\'s local count as it was (only the shared count saturates)',
    find: `    store<u32>(obj + H_LOCAL, LOCAL_IMMORTAL); // owner: only we write local
`,
    replace: '',
  },
  {
    id: 'bound-page-capacity', kind: 'bounds', file: 'assembly/alloc.ts', tests: ['test/alloc.test.ts', 'test/rc.test.ts'],
    what: 'takeBlock carves one block past the page\'s capacity (`bump >= capacity` becomes `>`)',
    find: `    if (bump >= load<u32>(page + P_CAPACITY)) return 0;`,
    replace: `    if (bump > load<u32>(page + P_CAPACITY)) return 0;`,
  },
  {
    id: 'bound-lock-table', kind: 'bounds', file: 'assembly/locktable.ts', tests: ['test/api.test.ts'],
    what: 'the lock table takes a 17th entry (`>= LOCK_TABLE_SIZE` becomes `>`): it writes over the allocator\'s lists',
    find: `  return load<u32>(myRecord + R_LOCKS_HELD) >= LOCK_TABLE_SIZE;`,
    replace: `  return load<u32>(myRecord + R_LOCKS_HELD) > LOCK_TABLE_SIZE;`,
  },

  // ---- missing notify ---------------------------------------------------------------------------------------------
  {
    id: 'notify-idle-owner', kind: 'missing notify', file: 'assembly/queue.ts', tests: SCHEDULE,
    what: 'the first push onto an ACTIVE owner\'s queue does not wake its idle waiter',
    find: `    if (wasEmpty) atomic.notify(rec + R_QUEUE);`,
    replace: `    if (wasEmpty) {}`,
  },
  {
    id: 'notify-unpark', kind: 'missing notify', file: 'assembly/queue.ts', tests: SCHEDULE,
    what: 'a helper gives the rights back without waking the owner waiting in unparkSelf',
    find: `    if (to == STATE_PARKED) atomic.notify(rec + R_STATE); // the owner may be waiting in unparkSelf`,
    replace: ``,
  },
  {
    id: 'notify-lock', kind: 'missing notify', file: 'assembly/lock.ts', tests: SCHEDULE,
    what: 'unlock does not wake a waiter that advertised itself',
    find: `  if (old & LINK_WAITERS) atomic.notify(obj + H_LINK, 1); // after the release above: the woken thread sees it free`,
    replace: ``,
  },
  {
    id: 'notify-heap-mutex', kind: 'missing notify', file: 'assembly/mutex.ts', tests: SCHEDULE,
    what: 'the heap mutex\'s unlock does not wake a sleeper',
    find: `  if (atomic.xchg<u32>(addr, 0) == 2) atomic.notify(addr, 1);`,
    replace: `  atomic.xchg<u32>(addr, 0);`,
  },

  // ---- missing CAS ------------------------------------------------------------------------------------------------
  {
    id: 'cas-shared-decrement', kind: 'missing CAS', file: 'assembly/refcount.ts', tests: SCHEDULE,
    what: 'decrefShared stores its computed word instead of a CAS (a concurrent change is lost)',
    find: `    let seen = atomic.cmpxchg<i32>(obj + H_SHARED, s, next);
    if (seen == s) break;
    s = seen;
  }
  if ((s & ~SHARED_WEAK) == 0) {`,
    replace: `    atomic.store<i32>(obj + H_SHARED, next);
    break;
  }
  if ((s & ~SHARED_WEAK) == 0) {`,
  },
  {
    id: 'cas-publish-merged', kind: 'missing CAS', file: 'assembly/refcount.ts', tests: SCHEDULE,
    what: 'publishMerged stores the merged word computed from its guess instead of a CAS',
    find: `    let seen = atomic.cmpxchg<i32>(obj + H_SHARED, s, next);
    if (seen == s) break;
    s = seen;
  }
  schedulePoint(SP_MERGE_PUBLISHED, obj);`,
    replace: `    atomic.store<i32>(obj + H_SHARED, next);
    break;
  }
  schedulePoint(SP_MERGE_PUBLISHED, obj);`,
  },
  {
    id: 'cas-set-link', kind: 'missing CAS', file: 'assembly/queue.ts', tests: SCHEDULE,
    what: 'setLink stores the link word instead of a CAS (a concurrent lock bit is lost)',
    find: `  } while (atomic.cmpxchg<u32>(obj + H_LINK, w, (w & LINK_BITS) | next) != w);`,
    replace: `    atomic.store<u32>(obj + H_LINK, (w & LINK_BITS) | next);
  } while (false);`,
  },
  {
    id: 'cas-drain-take', kind: 'missing CAS', file: 'assembly/queue.ts', tests: SCHEDULE,
    what: 'drainQueue takes the stack with a load and a store of 0 instead of one xchg',
    find: `  let obj = <usize>atomic.xchg<u32>(rec + R_QUEUE, 0);
  schedulePoint(SP_QUEUE_TAKEN, obj);
`,
    replace: `  let obj = <usize>atomic.load<u32>(rec + R_QUEUE);
  schedulePoint(SP_QUEUE_TAKEN, obj);
  atomic.store<u32>(rec + R_QUEUE, 0);
`,
  },
  {
    id: 'cas-unpark', kind: 'missing CAS', file: 'assembly/park.ts', tests: SCHEDULE,
    what: 'unparkSelf stores ACTIVE instead of CASing PARKED -> ACTIVE (takes the rights back from a helper)',
    find: `  while (atomic.cmpxchg<u32>(state, generation | STATE_PARKED, generation | STATE_ACTIVE) != (generation | STATE_PARKED)) {
    waitOn(state, generation | STATE_HELPED); // releaseRights notifies after storing PARKED
  }`,
    replace: `  atomic.store<u32>(state, generation | STATE_ACTIVE);`,
  },
  {
    id: 'cas-remote-free', kind: 'missing CAS', file: 'assembly/alloc.ts', tests: ['test/schedule.test.ts', 'test/alloc.test.ts'],
    what: 'remoteFree stores the thread-free head instead of a CAS (concurrent remote frees are lost)',
    find: `  } while (atomic.cmpxchg<u32>(page + P_THREAD_FREE, old, <u32>block) != old);`,
    replace: `    atomic.store<u32>(page + P_THREAD_FREE, <u32>block);
  } while (false);`,
  },

  // ---- lost queue links ---------------------------------------------------------------------------------------------
  {
    id: 'link-drop-next', kind: 'lost links', file: 'assembly/queue.ts', tests: SCHEDULE,
    what: 'setLink keeps the flag bits but drops the next object: a push cuts the rest of the queue off',
    find: `  } while (atomic.cmpxchg<u32>(obj + H_LINK, w, (w & LINK_BITS) | next) != w);`,
    replace: `  } while (atomic.cmpxchg<u32>(obj + H_LINK, w, (w & LINK_BITS)) != w);`,
  },
  {
    id: 'link-tid-zero', kind: 'lost links', file: 'assembly/queue.ts', tests: SCHEDULE,
    what: 'enqueue pushes an object whose ownership was just dropped onto the queue of record 0 (tid 0)',
    find: `  if (tid == 0) {
    // Ownership was dropped`,
    replace: `  if (false) {
    // Ownership was dropped`,
    equivalent: 'record 0 belongs to no thread and its state stays FREE (attach starts at tid 1), so the pusher itself '
      + 'takes its rights (FREE -> RECLAIMING in wakeOrHelp), drains it, and merges the object as the tid == 0 branch '
      + 'would: the branch is a shortcut, not a requirement',
  },
  {
    id: 'link-tid-zero-dropped', kind: 'lost links', file: 'assembly/queue.ts', tests: SCHEDULE,
    what: 'enqueue drops the queued reference of an object whose ownership was just dropped (no merge, no push)',
    find: `    // this object; apply the queued reference here.
    mergeQueued(obj);
    return;`,
    replace: `    // this object; apply the queued reference here.
    return;`,
  },
  {
    id: 'link-no-merge-wait', kind: 'lost links', file: 'assembly/refcount.ts', tests: SCHEDULE,
    what: 'mergeQueued does not wait for a merger between its dropOwnership and its CAS',
    find: `    while ((s & SHARED_MERGED) == 0) {
      schedulePoint(SP_MERGE_WAIT, obj);
      s = atomic.load<i32>(obj + H_SHARED);
    }`,
    replace: `    schedulePoint(SP_MERGE_WAIT, obj);`,
  },
  {
    id: 'link-queue-reference', kind: 'lost links', file: 'assembly/refcount.ts',
    what: 'mergeQueued folds the local count in but forgets the queue\'s own reference (-1)',
    find: `  publishMerged(obj, s, local - 1, 0);`,
    replace: `  publishMerged(obj, s, local, 0);`,
  },

  // ---- allocator lists ----------------------------------------------------------------------------------------------
  {
    id: 'alloc-unlink-prev', kind: 'allocator lists', file: 'assembly/alloc.ts', tests: ['test/alloc.test.ts', 'test/rc.test.ts', 'test/schedule.test.ts'],
    what: 'listUnlink leaves the next page\'s prev pointing at the page it unlinked',
    find: `  if (next != 0) store<u32>(next + P_PREV, <u32>prev);
`,
    replace: '',
  },
  {
    id: 'alloc-collect-splice', kind: 'allocator lists', file: 'assembly/alloc.ts', tests: ['test/alloc.test.ts', 'test/rc.test.ts', 'test/schedule.test.ts'],
    what: 'collectThreadFree puts the remote frees in front of the local list without linking the old list behind them',
    find: `  store<u32>(tail, load<u32>(page + P_LOCAL_FREE));
`,
    replace: '',
  },
  {
    id: 'alloc-full-back', kind: 'allocator lists', file: 'assembly/alloc.ts', tests: ['test/alloc.test.ts', 'test/rc.test.ts', 'test/schedule.test.ts'],
    what: 'a local free on a FULL page takes it back from FULL but never puts it on the available list',
    find: `    store<u32>(page + P_STATE, PAGE_AVAIL);
    availPush(page);
  }
  if (used == 0`,
    replace: `    store<u32>(page + P_STATE, PAGE_AVAIL);
  }
  if (used == 0`,
  },
  {
    id: 'alloc-abandoned-list', kind: 'allocator lists', file: 'assembly/alloc.ts', tests: ['test/alloc.test.ts', 'test/rc.test.ts', 'test/schedule.test.ts'],
    what: 'detach marks a page with live blocks ABANDONED but never puts it on the abandoned list',
    find: `      listPush(abandonedSlot(load<u32>(page + P_KIND), load<u32>(page + P_CLASS)), page);
`,
    replace: '',
  },
  {
    id: 'alloc-reclaim-next', kind: 'allocator lists', file: 'assembly/alloc.ts', tests: ['test/alloc.test.ts', 'test/rc.test.ts', 'test/schedule.test.ts'],
    what: 'deliverPage pushes a page on the owner\'s reclaim list without linking the pages already there',
    find: `    store<u32>(page + P_RECLAIM_NEXT, load<u32>(rec + R_RECLAIM));`,
    replace: `    store<u32>(page + P_RECLAIM_NEXT, 0);`,
  },

  // ---- protocol ---------------------------------------------------------------------------------------------------
  {
    id: 'proto-park-recheck', kind: 'protocol', file: 'assembly/park.ts', tests: SCHEDULE,
    what: 'parkSelf does not look at its queue again after storing PARKED (the gap the model found)',
    find: `  if (atomic.load<u32>(myRecord + R_QUEUE) != 0) wakeOrHelp(myRecord, false);
`,
    replace: '',
  },
  {
    id: 'proto-helper-keeps-rights', kind: 'protocol', file: 'assembly/queue.ts', tests: SCHEDULE,
    what: 'a helper merges a parked owner\'s queue and never gives the rights back',
    find: `      drainAndFree(rec);
      releaseRights(rec, STATE_PARKED);`,
    replace: `      drainAndFree(rec);`,
  },
  {
    id: 'proto-weak-queue', kind: 'protocol', file: 'assembly/refcount.ts', tests: SCHEDULE,
    what: 'decrefShared queues only on a shared word of exactly 0, not on WEAK alone',
    find: `    next = (s & ~SHARED_WEAK) == 0 ? s | SHARED_QUEUED : s - SHARED_ONE;`,
    replace: `    next = s == 0 ? s | SHARED_QUEUED : s - SHARED_ONE;`,
  },
  {
    id: 'proto-resume-no-recheck', kind: 'protocol', file: 'assembly/safepoint.ts', tests: ['test/world.test.ts'],
    what: 'attend, its stop withdrawn, goes on with the ATTENTION it loaded before stopping (model: broken-resume-no-recheck)',
    find: `      continue; // the stop was withdrawn`,
    replace: `      // the stop was withdrawn`,
  },
  {
    id: 'proto-cancel-clears-pause', kind: 'protocol', file: 'assembly/safepoint.ts', tests: ['test/world.test.ts'],
    what: 'brc_thread_cancel_stop resets the whole attention word, a pause included (model: broken-cancel-clears-pause)',
    find: `  atomic.and<u32>(attention, ~ATTENTION_STOP); // SC`,
    replace: `  atomic.store<u32>(attention, 0); // SC`,
  },
  {
    id: 'proto-detach-paused-by-dead', kind: 'protocol', file: 'assembly/index.ts', tests: ['test/world.test.ts'],
    what: 'brc_thread_detach_dead sits out the pause of the very thread it detaches (a holder that died)',
    find: `  enterOp(tid); // a pause`,
    replace: `  enterOp(); // a pause`,
  },
  {
    id: 'proto-dead-holder-world', kind: 'protocol', file: 'assembly/threads.ts', tests: ['test/world.test.ts'],
    what: 'detachThread leaves the world of the thread it detaches held (model: broken-detach-waits-world)',
    find: `  releaseWorldOf(tid); // a collector`,
    replace: `  // a collector`,
  },
  {
    id: 'proto-detach-helped-no-ack', kind: 'protocol', file: 'assembly/threads.ts', tests: SCHEDULE,
    what: 'a detacher waiting for borrowed rights sleeps inside its operation without acknowledging a pause',
    find: `      passBoundary(tid);
      if (canBlockHere()) waitFor(rec + R_STATE, s, HELPED_WAIT_MS);`,
    replace: `      if (canBlockHere()) waitFor(rec + R_STATE, s, -1);`,
  },
  {
    id: 'proto-dead-while-queued', kind: 'protocol', file: 'assembly/refcount.ts',
    what: 'isDead ignores QUEUED: an object merged with count 0 is freed while still queued',
    find: `  return (s & ~SHARED_WEAK) == SHARED_MERGED;`,
    replace: `  return (s & ~(SHARED_WEAK | SHARED_QUEUED)) == SHARED_MERGED;`,
    equivalent: 'count 0 with MERGED and QUEUED means a true count of -1 (local 0 + 0 - the queue\'s 1): no correct '
      + 'sequence reaches it. Each CAS that could produce it starts from a state whose true count is already 0 (count 1 '
      + 'with QUEUED for a shared decrement, QUEUED with local 1 for a merge at zero), so it takes a decrement too many',
  },
];
