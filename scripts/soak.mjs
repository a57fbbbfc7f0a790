// Soak: randomized stress runs (main thread + 4 workers) and killed-worker runs, for N minutes.
// Usage: npm run soak -- --minutes 10 [--seed 1] [--release] [--random-parks]
// --release: the release build, with owner pairs through the JS fast path and workers killed inside them
// --random-parks: in the debug build, threads sleep 0-2 ms at 1 in 1,024 schedule points passed (assembly/schedule.ts)
// Every run checks exact accounting and verify(); the first failure stops the soak and prints its seed.
import { stressRun } from '../test/stress/harness.mjs';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const minutes = Number(arg('minutes', 5));
let seed = Number(arg('seed', Date.now() % 1_000_000));
const debug = !process.argv.includes('--release');
const randomParks = debug && process.argv.includes('--random-parks') ? { odds: 64, ms: 2 } : null;
const minKillRuns = 100;
const end = Date.now() + minutes * 60_000;
const totals = { stressRuns: 0, killRuns: 0, killed: 0, killedInJs: 0, objects: 0, queued: 0, merges: 0, leakedObjects: 0 };

console.log(`soak: ${minutes} min, first seed ${seed}, ${debug ? 'debug' : 'release'} build${randomParks ? ', random parks' : ''}`);
while (Date.now() < end || totals.killRuns < minKillRuns) {
  // alternate stress and kill runs; past the deadline, only the kill runs still owed
  const kill = totals.killRuns < minKillRuns && ((totals.stressRuns + totals.killRuns) % 2 === 1 || Date.now() >= end);
  // release build: a quarter of every thread's steps are owner pairs through the JS fast path, and every other kill
  // run also kills a worker inside such a loop with worker_threads' own terminate() (no stop handshake)
  const jsKill = !debug && kill && totals.killRuns % 2 === 0;
  const js = debug ? {} : jsKill ? { jsKills: 1, pairShare: 0.5 } : { pairShare: 0.25 };
  const options = kill
    ? { seed, workers: 3, ms: 500, kills: 1 + (seed % 2), debug, randomParks, ...js }
    : { seed, workers: 4, ms: 5000, debug, randomParks, ...js };
  let report;
  try {
    report = await stressRun(options);
  } catch (error) {
    console.error(`soak FAILED at seed ${seed} (${kill ? 'kill' : 'stress'} run): ${error.stack ?? error}`);
    console.error(`replay: node scripts/soak.mjs --minutes 0 --seed ${seed}`);
    process.exit(1);
  }
  if (kill) totals.killRuns++; else totals.stressRuns++;
  totals.killed += report.killed;
  if (jsKill) totals.killedInJs++;
  totals.objects += report.objectsAllocated;
  totals.queued += report.queued;
  totals.merges += report.merges;
  totals.leakedObjects += report.liveObjects;
  process.stderr.write(`\r${totals.stressRuns} stress runs, ${totals.killRuns} kill runs, ${totals.objects} objects`);
  seed++;
}
process.stderr.write('\n');
console.log('soak passed:', JSON.stringify(totals));
