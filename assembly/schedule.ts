// Schedule points (debug build only): named places in the core where a test can hold one thread still while another
// runs a chosen operation, then let it go on. A cheap cousin of Rust's loom: not every interleaving, but the one a
// comment claims is safe, forced on purpose (test/schedule.test.ts). In the release build every call compiles away
// (`schedulePoint` is inline and tests DEBUG); test/schedule.test.ts checks the release text has none of this file.
//
// Each point is passed with an object (or a record, or a block: the point's comment says which). A thread parks at a
// point when its entry in the schedule table is armed with that point (and that object, unless 0); it parks once
// (the arm is cleared), says so in its entry, and sleeps through the host's wait until the test clears the word:
//
//   table: | random u32 | random ms u32 | random parks u32 | passed u32 | entry tid 0 | entry tid 1 | ... | tid max |
//   entry: | arm (point, 0: none) | object (0: any) | skip (matching passes let through first) | parked (point) |
//
// The table is a block of the shared memory the test chose (any address, e.g. from brc_malloc); each instance learns
// it from brc_debug_schedule (index.ts), so an instance that was not told never looks. `random` (parks per 65,536
// points passed) makes every thread sleep a random 0..`random ms` milliseconds at random points: the randomized mode
// run under the stress test. No data segments here: the names are constants, the table lives in the heap's memory.
//
// Layer 2: imports the build flag, the instance (its tid) and the host's wait.

import { DEBUG } from "./config";
import { canBlockHere, myTid } from "./instance";
import { waitFor } from "./host";

// ---- the points: the one place that names them ------------------------------------------------------------------
// refcount.ts
export const SP_OWNERSHIP_DROPPED: u32 = 1; // dropOwnership: local = 0 and tid = 0 stored, MERGED not yet (object)
export const SP_MERGE_PUBLISHED: u32 = 2; // publishMerged: the CAS that set MERGED succeeded, the free not decided (object)
export const SP_MERGE_LOADED: u32 = 3; // mergeZeroLocal: shared word read, nothing decided yet (object)
export const SP_MERGE_WAIT: u32 = 4; // mergeQueued: ownership dropped by another thread, its MERGED not seen yet (object)
export const SP_SHARED_DECREMENT: u32 = 5; // decrefShared: the next shared word computed, before its CAS (object)
export const SP_QUEUED_SET: u32 = 6; // decrefShared: the CAS that set QUEUED succeeded, not yet queued (object)
export const SP_INCREF_ADDED: u32 = 7; // increfShared: the add done, before it is taken back at saturation (object)
// queue.ts
export const SP_QUEUE_PUSH: u32 = 10; // enqueue: the owner's record chosen, before the push (object)
export const SP_LINK_LOADED: u32 = 11; // setLink: the link word read, before its CAS (object)
export const SP_QUEUE_PUSHED: u32 = 12; // enqueue: the head CAS succeeded, before waking or helping (object)
export const SP_QUEUE_TAKEN: u32 = 13; // drainQueue: the whole stack taken, nothing merged yet (first object, or 0)
export const SP_RIGHTS_RELEASED: u32 = 14; // releaseRights: state stored and notified, before the re-check (record)
export const SP_FREE_RELEASED: u32 = 15; // releaseObjectBlock: the block given back to the allocator (object)
// park.ts
export const SP_PARK_DRAINED: u32 = 20; // parkSelf: own queue drained, PARKED not yet stored (own record)
export const SP_PARK_PARKED: u32 = 21; // parkSelf: PARKED stored and the queue looked at again, before the sleep (own record)
// object.ts
export const SP_SLOT_SWAPPED: u32 = 30; // setRef: the slot's CAS succeeded, the old child not yet released (parent)
export const SP_SLOT_BUSY: u32 = 31; // setRef: found the slot BUSY (a load_ref holds it), before trying again (parent)
export const SP_SLOT_LOADED: u32 = 32; // loadRef: the child incremented, the slot still BUSY (parent)
// alloc.ts
export const SP_REMOTE_FREED: u32 = 40; // remoteFree: the CAS pushed the block on the page's thread-free stack (block)
export const SP_PAGE_FULL: u32 = 41; // markFull: the CAS set the FULL bit (page)
export const SP_REMOTE_LINKED: u32 = 42; // remoteFree: the block linked to the head it read, before the CAS (block)
// threads.ts
export const SP_DETACH_ENTERED: u32 = 50; // takeRights: inside the detach's operation, the state not read yet (record)

// ---- the table ----------------------------------------------------------------------------------------------------
export const SCHEDULE_RANDOM: usize = 0; // random parks per 65,536 points passed; 0: none
export const SCHEDULE_RANDOM_MS: usize = 4; // the longest random sleep, in milliseconds
export const SCHEDULE_RANDOM_PARKS: usize = 8; // random sleeps taken, by every thread (atomic add)
export const SCHEDULE_PASSED: usize = 12; // points passed, by every thread (atomic add)
export const SCHEDULE_ENTRIES: usize = 16; // the entry of tid t is at SCHEDULE_ENTRIES + t * SCHEDULE_ENTRY_SIZE
export const SCHEDULE_ENTRY_SIZE: usize = 16;
export const SE_ARM: usize = 0;
export const SE_OBJECT: usize = 4;
export const SE_SKIP: usize = 8;
export const SE_PARKED: usize = 12;

let table: usize = 0; // this instance's table, or 0
let random: u32 = 0; // xorshift32 state of the randomized mode

/** Debug build: this instance's table (0: none), and the seed of its random parks. */
export function setSchedule(at: usize, seed: u32): void {
  table = at;
  random = seed != 0 ? seed : 0x9e3779b9;
}

/** A named point. Nothing at all in the release build. */
@inline export function schedulePoint(point: u32, obj: usize): void {
  if (DEBUG) reach(point, obj);
}

function reach(point: u32, obj: usize): void {
  if (table == 0 || myTid == 0) return;
  atomic.add<u32>(table + SCHEDULE_PASSED, 1); // a statistic: no ordering
  let entry = table + SCHEDULE_ENTRIES + <usize>myTid * SCHEDULE_ENTRY_SIZE;
  if (atomic.load<u32>(entry + SE_ARM) == point) {
    let o = atomic.load<u32>(entry + SE_OBJECT);
    if (o == 0 || o == <u32>obj) {
      if (atomic.load<u32>(entry + SE_SKIP) != 0) {
        atomic.sub<u32>(entry + SE_SKIP, 1); // only this thread counts its own skips down
      } else if (atomic.cmpxchg<u32>(entry + SE_ARM, point, 0) == point) {
        park(entry, point);
        return;
      }
    }
  }
  let odds = atomic.load<u32>(table + SCHEDULE_RANDOM);
  if (odds != 0 && (nextRandom() & 0xffff) < odds) {
    atomic.add<u32>(table + SCHEDULE_RANDOM_PARKS, 1);
    let ms = atomic.load<u32>(table + SCHEDULE_RANDOM_MS);
    // nobody notifies this word while we run: a plain sleep of 0..ms milliseconds, where other threads go on
    if (canBlockHere()) waitFor(entry + SE_PARKED, 0, <i32>(nextRandom() % (ms + 1)));
  }
}

/** Parked: says so (the test waits for it), then sleeps until the test clears the word. */
function park(entry: usize, point: u32): void {
  atomic.store<u32>(entry + SE_PARKED, point);
  atomic.notify(entry + SE_PARKED);
  while (atomic.load<u32>(entry + SE_PARKED) == point) {
    if (canBlockHere()) waitFor(entry + SE_PARKED, point, -1);
  }
}

function nextRandom(): u32 {
  let x = random;
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  random = x;
  return x;
}
