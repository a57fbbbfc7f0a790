// A stress worker: joins the heap, starts with the others, runs random operations until told to stop, then
// releases everything it holds and leaves.
import { joinHeap } from 'biasrc/worker';
import { Player, rng, awaitPhase, PHASE_RUN, PHASE_RELEASE, PHASE_LEAVE, ARRIVED, STOPPED, RELEASED } from './ops.mjs';

const heap = await joinHeap();
const { shared, index, seed, peers, pairShare, schedule } = heap.workerData;
if (schedule) heap.raw.brc_debug_schedule(schedule, seed); // randomized parks at the schedule points
const player = new Player(heap, shared, index, rng(seed), pairShare);
const control = shared.control;
Atomics.add(control, ARRIVED, 1);
awaitPhase(control, PHASE_RUN); // the barrier: all threads start together
try {
  while (Atomics.load(control, 0) === PHASE_RUN) {
    for (let i = 0; i < 64; i++) player.step(peers);
    if (Atomics.load(shared.spin, index * 2) !== 0) player.spinOwnerPairs(); // until the harness kills us
  }
} catch (error) {
  // say it here: the main thread may be unable to hear of it (stuck on what we left behind)
  console.error(`stress worker ${index} (seed ${seed}) failed:`, error);
  throw error;
}
Atomics.add(control, STOPPED, 1); // we send nothing more
awaitPhase(control, PHASE_RELEASE);
player.releaseAll();
heap.collect();
Atomics.add(control, RELEASED, 1);
awaitPhase(control, PHASE_LEAVE);
heap.collect();
await heap.close();
