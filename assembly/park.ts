// Parking: a thread about to sleep inside biasrc lends the rights to its local counts, so that other threads can
// merge its queue while it sleeps (queue.ts wakeOrHelp), and takes them back when it wakes.
//
//   ACTIVE --parkSelf--> PARKED --a queuer's or a collector's CAS--> HELPED --releaseRights--> PARKED
//     ^---------------------------------unparkSelf----------------------------------------'
//
// While parked a thread touches no shared state at all: to try a lock again it first unparks (lock.ts).
//
// Asleep and parked is a safe point: a thread may be terminated there (safepoint.ts stopState reports it).
//
// Layer 7: imports the queues (to drain and to help), the safe points, the schedule points and the instance.

import { R_QUEUE, R_STATE, STATE_ACTIVE, STATE_HELPED, STATE_MASK, STATE_PARKED } from "./layout";
import { myRecord, myTid } from "./instance";
import { enterOp, leaveOp } from "./safepoint";
import { drainAndFree, wakeOrHelp } from "./queue";
import { waitOn } from "./host";
import { SP_PARK_DRAINED, SP_PARK_PARKED, schedulePoint } from "./schedule";

/** Before blocking: lets other threads merge this thread's queue while it sleeps. */
export function parkSelf(): void {
  if (myTid == 0) return;
  drainAndFree(myRecord);
  schedulePoint(SP_PARK_DRAINED, myRecord);
  // release: our local-count stores happen before a helper's acquiring CAS PARKED -> HELPED. We hold the rights
  // (ACTIVE), so the generation above the state cannot change meanwhile.
  let state = myRecord + R_STATE;
  atomic.store<u32>(state, (atomic.load<u32>(state) & ~STATE_MASK) | STATE_PARKED);
  // A push between our drain and the store above saw ACTIVE and only notified, which nobody waits for while we
  // sleep on a lock: look again now that we are PARKED, and merge it ourselves (as a helper would). Found by the
  // model (docs/MODEL.md).
  if (atomic.load<u32>(myRecord + R_QUEUE) != 0) wakeOrHelp(myRecord, false);
  schedulePoint(SP_PARK_PARKED, myRecord);
  leaveOp(); // asleep and parked is a safe point: we may be terminated here
}

/** After blocking: takes the rights back, waiting while a helper holds them. */
export function unparkSelf(): void {
  if (myTid == 0) return;
  let state = myRecord + R_STATE;
  let generation = atomic.load<u32>(state) & ~STATE_MASK; // ours while we are attached
  // acquire: the helper's writes (merged counts) happen before our next local-count access
  while (atomic.cmpxchg<u32>(state, generation | STATE_PARKED, generation | STATE_ACTIVE) != (generation | STATE_PARKED)) {
    waitOn(state, generation | STATE_HELPED); // releaseRights notifies after storing PARKED
  }
  enterOp(); // after we hold the rights again: a pause or a stop request is attended here
}
