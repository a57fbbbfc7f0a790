// One stress run: the main thread and `workers` workers (heap.spawn) do random operations on a barrier for `ms`;
// `kills` of the workers are terminated at random moments meanwhile. Then everybody releases everything, and the
// run checks: live objects equal exactly what the killed workers still held (and what that reaches), each object
// was freed at most once (debug build), verify() is clean. Returns a report; throws on the first violation.
// `randomParks` (debug build): every thread sleeps 0..`randomParks.ms` ms at random schedule points
// (assembly/schedule.ts), `randomParks.odds` times in 65,536 points passed: windows a few instructions wide stay open
// long enough for the other threads to run into them.
import { describeThreads } from './records.mjs';
import { Heap } from 'biasrc';
import { createShared, Player, rng, HELD_CAPACITY, PHASE_RUN, PHASE_STOP, PHASE_RELEASE, PHASE_LEAVE, ARRIVED, STOPPED, RELEASED } from './ops.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// `pairShare` makes that share of every thread's steps loops of owner incref/decref pairs (the JS fast path).
// `jsKills` more workers are killed inside such a loop, with worker_threads' own terminate(): no stop handshake, so
// the kill lands at an arbitrary point of the JS fast path (release build only: the debug build always calls in).
export async function stressRun({ seed, workers = 4, ms = 1000, kills = 0, jsKills = 0, pairShare = 0, debug = true, randomParks = null, log = () => {} }) {
  if (jsKills > 0 && debug) throw new Error('stressRun: jsKills needs the release build (the debug build has no JS fast path)');
  const heap = await Heap.create({ debug, maxThreads: workers + 2, memory: { initialMiB: 8, maximumMiB: 512 } });
  const schedule = randomParks ? scheduleTable(heap, seed, randomParks) : 0;
  const rand = rng(seed);
  const threads = workers + 1; // index 0 is the main thread
  const shared = createShared(threads);
  const everyone = [...Array(threads).keys()];
  const { Worker } = await import('node:worker_threads');
  const rawWorkers = [];
  const spawned = await Promise.all(Array.from({ length: workers }, (_, w) => heap.spawn(() => {
    rawWorkers[w] = new Worker(new URL('./worker.mjs', import.meta.url));
    return rawWorkers[w];
  }, {
    workerData: { shared, index: w + 1, seed: seed * 31 + w + 1, peers: everyone.filter((i) => i !== w + 1), pairShare, schedule },
  })));
  // a worker that throws would leave the others waiting for it: fail the run at once, with its error
  let workerError = null;
  spawned.forEach((t, w) => t.on('error', (error) => { workerError ??= new Error(`seed ${seed}: worker ${w + 1} failed: ${error?.stack ?? error}`); }));
  const check = () => { if (workerError) throw workerError; };
  const deadline = Date.now() + ms * 10 + 60_000;
  const diagnose = (where) => {
    const x = heap.raw;
    const i32 = new Int32Array(heap.memory.buffer);
    const R = (name) => Number(x[name].value); // offsets from the module (layout.ts)
    const hex = (v) => `0x${(v >>> 0).toString(16)}`;
    const threadsNow = describeThreads(x, heap.memory, Array.from({ length: workers + 1 }, (_, i) => i + 1));
    const link = R('H_LINK');
    const locking = Array.from(shared.locking).map((h) => (h === 0 ? '-' : `${hex(h)}:${hex(i32[(h + link) >> 2])}`));
    return new Error(`seed ${seed}: stuck ${where}; control ${Array.from(shared.control.slice(0, 4))}; doing ${Array.from(shared.doing)}; ` +
      `locking (object:link word) ${locking}; ${threadsNow.join('; ')}`);
  };
  const waitFor = async (what, where) => {
    while (!what()) {
      check();
      if (Date.now() > deadline) throw diagnose(where);
      heap.collect();
      await sleep(1);
    }
  };
  await waitFor(() => Atomics.load(shared.control, ARRIVED) >= workers, 'waiting for the workers to arrive');
  const main = new Player(heap, shared, 0, rng(seed * 31), pairShare);
  const watchdog = new Worker(new URL('./watchdog.mjs', import.meta.url), {
    workerData: { module: heap.module, memory: heap.memory, shared, stallMs: 20_000, seed },
  });
  watchdog.unref();
  const killAt = Array.from({ length: kills + jsKills }, () => Math.floor(rand() * ms * 0.8));
  const victims = new Set();
  while (victims.size < kills + jsKills) victims.add(1 + Math.floor(rand() * workers));
  const victimList = [...victims]; // the first `kills` with the stop handshake, the rest inside a JS pair loop
  const dead = [];
  Atomics.store(shared.control, 0, PHASE_RUN);
  Atomics.notify(shared.control, 0);
  // The run's clock counts work, not wall time: the time the main thread spends on its own steps and turns of its
  // event loop, never the time a kill takes (waiting for the victim to stop, terminating it, detaching it). So a
  // kill scheduled at "ms T" happens after T ms of work whatever the earlier kills cost on a loaded machine, and the
  // run does not end while a kill is still due (a single slow pass cannot skip one).
  let worked = 0;
  while (worked < ms || dead.length < victimList.length) {
    const pass = Date.now();
    for (let i = 0; i < 64; i++) main.step(everyone.slice(1));
    worked += Date.now() - pass;
    const elapsed = worked;
    for (let k = 0; k < victimList.length; k++) {
      if (killAt[k] <= elapsed && !dead.includes(victimList[k])) {
        const thread = spawned[victimList[k] - 1];
        if (k >= kills) {
          // in pure JavaScript, owner pairs only: killed there, at whatever instruction it is, and detached
          const v = victimList[k];
          Atomics.store(shared.spin, v * 2, 1);
          for (let spins = 0; spins < 20_000 && Atomics.load(shared.spin, v * 2 + 1) === 0; spins++) await sleep(1);
          if (Atomics.load(shared.spin, v * 2 + 1) === 0) throw diagnose(`waiting for worker ${v} to spin in JS`);
          await sleep(1 + Math.floor(rand() * 3)); // a few thousand pairs in
          await rawWorkers[v - 1].terminate();
          await thread.exited; // the heap saw the exit and detached it
          dead.push(v);
          log(`killed worker ${v} (tid ${thread.tid}) in its JS pair loop at ${elapsed} ms`);
          continue;
        }
        // Wait until it sits at an operation boundary (or asleep in a lock wait), not merely in its own JS: its
        // held list is exact only there. terminate() alone would also accept a worker seen idle in JS, which is
        // safe for the heap but could cut this harness's bookkeeping in half.
        heap.raw.brc_thread_request_stop(thread.tid);
        for (let spins = 0; spins < 5000 && ![2, 3].includes(heap.raw.brc_thread_stop_state(thread.tid)); spins++) await sleep(1);
        await thread.terminate(); // then detaches it: its locks released, its objects abandoned
        dead.push(victimList[k]);
        log(`killed worker ${victimList[k]} (tid ${thread.tid}) at ${elapsed} ms`);
      }
    }
    const turn = Date.now();
    await new Promise((r) => setImmediate(r)); // let exit events and timers run
    worked += Date.now() - turn;
    check();
  }
  const setPhase = (phase) => { Atomics.store(shared.control, 0, phase); Atomics.notify(shared.control, 0); };
  const alive = workers - dead.length;
  setPhase(PHASE_STOP);
  await waitFor(() => Atomics.load(shared.control, STOPPED) >= alive, 'waiting for the workers to stop');
  setPhase(PHASE_RELEASE);
  main.releaseAll();
  await waitFor(() => Atomics.load(shared.control, RELEASED) >= alive, 'waiting for the workers to release');
  // references sent to a dead worker never arrived: they are ours to release
  for (const d of dead) {
    for (let from = 0; from < threads; from++) {
      const r = main.ring(from, d);
      for (let head = r[0]; head !== r[1]; head++) heap.decref(r[2 + (head % (r.length - 2))]);
      r[0] = r[1];
    }
  }
  setPhase(PHASE_LEAVE);
  let exited = 0;
  spawned.forEach((t) => t.exited.then(() => exited++));
  await waitFor(() => exited === workers, 'waiting for the workers to exit');
  heap.collect();
  // what the dead still held, and what that reaches through slots, is all that may remain
  const reachable = new Set();
  const stack = [];
  for (const d of dead) {
    const held = shared.held.subarray(d * (HELD_CAPACITY + 1), (d + 1) * (HELD_CAPACITY + 1));
    for (let i = 1; i <= held[0]; i++) stack.push(held[i]);
  }
  while (stack.length > 0) {
    const h = stack.pop();
    const address = h >>> 0; // held lists keep addresses (Int32Array); getRef gives tagged handles: count objects once
    if (reachable.has(address)) continue;
    reachable.add(address);
    const slots = heap.info(h).slots; // throws EFREED if a dead thread's reference was lost
    for (let i = 0; i < slots; i++) { const c = heap.getRef(h, i); if (c !== 0) stack.push(c); }
  }
  const stats = heap.stats();
  heap.verify();
  const report = {
    seed, workers, ms, killed: dead.length, ops: main.ops, liveObjects: stats.liveObjects, expectedLive: reachable.size,
    orphans: stats.orphans, objectsAllocated: stats.objectsAllocated, objectsFreed: stats.objectsFreed,
    merges: stats.merges, queued: stats.queued, threadsLeft: stats.threads,
    ...(schedule ? scheduleFigures(heap, schedule) : {}),
  };
  await watchdog.terminate();
  await heap.close();
  if (report.liveObjects !== report.expectedLive) {
    throw new Error(`seed ${seed}: ${report.liveObjects} objects live, expected ${report.expectedLive} (held by killed workers)`);
  }
  if (report.threadsLeft !== 1) throw new Error(`seed ${seed}: ${report.threadsLeft} threads still attached`);
  return report;
}

/** The schedule table of a randomized run (assembly/schedule.ts), in a raw block; this thread's instance told. */
function scheduleTable(heap, seed, { odds, ms }) {
  const x = heap.raw;
  const R = (name) => Number(x[name].value);
  const size = R('SCHEDULE_ENTRIES') + (R('DEFAULT_MAX_THREADS') + 1) * R('SCHEDULE_ENTRY_SIZE');
  const table = x.brc_malloc(size) >>> 0;
  const words = new Int32Array(heap.memory.buffer, table, size / 4);
  words.fill(0);
  words[R('SCHEDULE_RANDOM') / 4] = odds;
  words[R('SCHEDULE_RANDOM_MS') / 4] = ms;
  if (x.brc_debug_schedule(table, seed) !== 0) throw new Error('randomParks needs the debug build');
  return table;
}

function scheduleFigures(heap, table) {
  const x = heap.raw;
  const word = (name) => new Int32Array(heap.memory.buffer)[(table + Number(x[name].value)) >> 2] >>> 0;
  return { pointsPassed: word('SCHEDULE_PASSED'), randomParks: word('SCHEDULE_RANDOM_PARKS') };
}
