// Checks the Promela models of the protocol (model/*.pml, described in docs/MODEL.md) with spin.
//
//   model/brc.pml      the counting protocol: counts, merge queue, rights (park/help/detach), the one-add increment
//   model/weak.pml     brc.pml + weak references (cells, the WEAK flag, try-incref under W, the free path)
//   model/collect.pml  cycle collection against mutators (attention word, fast path, pauses, borrowed rights, the
//                      world word, detach and attach, an async locker, a spinning locker, a second would-be collector,
//                      a stopped thread whose stop is withdrawn, a collector terminated holding the world)
//   model/record.pml   the generation in the record state word (detach_dead against a new incarnation)
//
// For each variant: spin -a generates the verifier (pan.c), gcc compiles it for safety checks (assertions and
// invalid end states, no cycle detection), and pan explores every reachable state. A correct model must finish with
// 0 errors over its whole state space; every deliberately broken variant must be caught (errors > 0) by the
// assertion that names its fault (`reason`, checked against pan's report). Everything is generated in a temporary
// directory, removed at the end (--keep keeps it).
//
// Usage: node scripts/model.mjs [--full | --deep] [--json] [--keep] [--only <model>]
//   (default)   the bounds below: about 45 s of CPU, 25-30 s on 2 cores
//   --full      larger bounds (brc 2 increfs + 2 hand-offs, weak with increfs, 2 collections): several minutes
//   --deep      brc 3 + 3, weak with parking, 2 collections and 2 increfs: long, up to 8 GB
//   --json      prints the results as JSON instead of the table
//   --keep      keeps the temporary directory (pan sources and error trails) and prints its path
//   --only m    runs the variants of one model (brc, weak, collect, record)
// Exit codes: 0 as expected, 1 a correct model failed or a broken one passed or was caught for another reason (or a
//             run did not complete), 2 spin or gcc is not installed.
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const modelDir = join(root, 'model');
const argv = process.argv.slice(2);
const args = new Set();
let only = null;
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a === '--only' && i + 1 < argv.length) { only = argv[++i]; continue; }
  if (!['--full', '--deep', '--json', '--keep'].includes(a)) {
    console.error(`model: unknown option ${a}`);
    process.exit(1);
  }
  args.add(a);
}

// The bounds of the exploration, per model and size (see the header of each model).
const size = args.has('--deep') ? 'deep' : args.has('--full') ? 'full' : 'default';
const boundsBySize = {
  default: {
    brc: ['-DMAXINC=2', '-DMAXGIVE=1'],
    weak: ['-DNO_PARK', '-DNO_DEAD', '-DNO_REUSE', '-DMAXINC=0', '-DMAXGIVE=1', '-DMAXUP=2'],
    collect: ['-DMAXINC=1', '-DNCOLL=1'],
    record: [],
  },
  full: {
    brc: ['-DMAXINC=2', '-DMAXGIVE=2'],
    weak: ['-DNO_PARK', '-DNO_DEAD', '-DNO_REUSE', '-DMAXINC=1', '-DMAXGIVE=1', '-DMAXUP=2'],
    collect: ['-DMAXINC=1', '-DNCOLL=2'],
    record: [],
  },
  deep: {
    brc: ['-DMAXINC=3', '-DMAXGIVE=3'],
    weak: ['-DNO_DEAD', '-DNO_REUSE', '-DMAXINC=1', '-DMAXGIVE=1', '-DMAXUP=2'],
    collect: ['-DMAXINC=2', '-DNCOLL=2'],
    record: [],
  },
};
const bounds = boundsBySize[size];
const memoryMB = size === 'deep' ? 8192 : 3072; // pan stops at this bound instead of swapping
const hashBits = size === 'deep' ? 26 : 24;
// gcc -O0 compiles pan.c in well under a second; -O2 takes several but searches about 1.7 times as fast: it pays
// only above some 10 million states
const searchOpt = { default: '-O0', full: '-O1', deep: '-O2' }[size];

// expect: 'pass' (0 errors, search complete) or 'fail' (at least one error, found early: compile time dominates).
// reason: a broken variant must be caught by this assertion (a regular expression on pan's report).
const variants = [
  // ---- brc.pml: the counting protocol ----
  { model: 'brc', name: 'correct', defines: [], expect: 'pass', opt: searchOpt,
    what: 'the counting protocol as designed (v2 shared word, one-add increment)' },
  { model: 'brc', name: 'correct-sat', defines: ['-DSAT=2'], expect: 'pass', opt: searchOpt,
    what: 'the same with SAT = 2: non-owner adds reach saturation (immortal), undo and merges included' },
  { model: 'brc', name: 'broken-store-order', defines: ['-DBROKEN_STORE_ORDER'], expect: 'fail',
    reason: /!\(freed\)/,
    what: 'mergeZeroLocal publishes MERGED before clearing local and tid (CPython gh-121794)' },
  { model: 'brc', name: 'broken-no-recheck', defines: ['-DBROKEN_NO_RECHECK'], expect: 'fail',
    reason: /^\(freed\|\|immortal\)$/,
    what: 'releaseRights does not re-check the queue after giving the rights back' },
  { model: 'brc', name: 'broken-unpark', defines: ['-DBROKEN_UNPARK'], expect: 'fail', reason: /holder==me/,
    what: 'unparkSelf stores ACTIVE without waiting out a helper' },
  { model: 'brc', name: 'broken-unattached-tid0', defines: ['-DUNATTACHED_T3', '-DUNATTACHED_TID0'], expect: 'fail',
    reason: /^0$/, what: 'a thread without a tid checks ownership against tid 0 instead of NO_TID' },
  { model: 'brc', name: 'broken-park-no-recheck', defines: ['-DBROKEN_PARK_NO_RECHECK'], expect: 'fail',
    reason: /pushing/, what: 'parkSelf does not re-check its queue after storing PARKED (the gap this model found)' },
  { model: 'brc', name: 'broken-no-undo', defines: ['-DSAT=2', '-DBROKEN_NO_UNDO'], expect: 'fail',
    reason: /immortal\)\|\|/, what: 'the non-owner add on a saturated count is not undone: the count walks past SAT' },
  { model: 'brc', name: 'broken-clamp', defines: ['-DSAT=2', '-DBROKEN_CLAMP'], expect: 'fail',
    reason: /immortal\)\|\|/,
    what: 'a merge re-encodes a saturated count as exactly SAT (today\'s encodeCount): a pending undo goes below SAT' },

  // ---- weak.pml: weak references ----
  { model: 'weak', name: 'correct', defines: [], expect: 'pass', opt: searchOpt,
    what: 'weak(), upgrade (try-incref under W) and the free path as designed' },
  { model: 'weak', name: 'relaxed-queued', defines: ['-DRELAXED_QUEUED'], expect: 'pass', opt: searchOpt,
    what: 'try-incref refuses MERGED with count <= 0, ignoring QUEUED: still safe (the QUEUED term is optional)' },
  { model: 'weak', name: 'broken-no-weak-flag', defines: ['-DBROKEN_NO_WEAK_FLAG'], expect: 'fail',
    reason: /!\(decided\)/,
    what: 'weak() does not set WEAK: the owner\'s shared == 0 shortcut frees while an upgrader CASes 0 -> ONE' },
  { model: 'weak', name: 'broken-tryinc-exact', defines: ['-DBROKEN_TRYINC_EXACT'], expect: 'fail',
    reason: /!\(decided\)/, what: 'try-incref refuses only shared == MERGED exactly (blind to WEAK): resurrection' },
  { model: 'weak', name: 'broken-tryinc-nomerged', defines: ['-DBROKEN_TRYINC_NOMERGED'], expect: 'fail',
    reason: /refs==qref/, what: 'try-incref refuses count - QUEUED <= 0 without MERGED: fails on a live object' },
  { model: 'weak', name: 'broken-tryinc-add', defines: ['-DBROKEN_TRYINC_ADD'], expect: 'fail',
    reason: /^\(freed\|\|immortal\)$/,
    what: 'try-incref as one atomic add undone when dying: a merge in between leaves MERGED count 0, never freed' },
  { model: 'weak', name: 'broken-free-order', defines: ['-DBROKEN_FREE_ORDER'], expect: 'fail', reason: /!\(freed\)/,
    what: 'the free path releases the block before it clears the cell: an upgrader reads a freed header' },
  { model: 'weak', name: 'broken-queue-test', defines: ['-DBROKEN_QUEUE_TEST'], expect: 'fail',
    reason: /\(nx&1\)/,
    what: 'decrefShared keeps its literal s == 0 test: with WEAK set the count goes below zero without QUEUED' },
  { model: 'weak', name: 'broken-drop-weak', defines: ['-DBROKEN_DROP_WEAK'], expect: 'fail', reason: /cell==0/,
    what: 'mergeQueued / abandonObject re-encode the flags without WEAK: the free path skips the cell' },

  // ---- collect.pml: collection against mutators ----
  // NO_DETACH / NO_ATTACH / NO_LOCK leave a part out where a variant does not need it (smaller, faster searches);
  // MINCOLL=2: at least two collections, for the faults that need a second one
  { model: 'collect', name: 'correct', defines: [], expect: 'pass', opt: searchOpt,
    what: 'collection as the code does it: fast path, pauses, a borrowed lock wait, detach_dead, an attach' },
  { model: 'collect', name: 'correct-two', defines: ['-DMINCOLL=2', '-DNO_DETACH'], expect: 'pass', opt: searchOpt,
    what: 'two collections in a row: acknowledgements per epoch, attend re-acknowledging and withdrawing' },
  { model: 'collect', name: 'correct-waitword', defines: ['-DWAITWORD', '-DNO_DETACH', '-DNO_LOCK'], expect: 'pass',
    opt: searchOpt, what: 'an async locker: brc_lock_wait_word after a brc_safepoint, its wait, try_lock (fix 1)' },
  { model: 'collect', name: 'correct-spinner', defines: ['-DSPINNER', '-DNO_DETACH', '-DNO_LOCK'], expect: 'pass',
    opt: searchOpt, what: 'a brc_lock that may not block spins on a paused holder\'s lock (fix 3)' },
  { model: 'collect', name: 'correct-release', defines: ['-DRELEASER', '-DNO_DETACH', '-DNO_LOCK'], expect: 'pass',
    opt: searchOpt, what: 'a second thread\'s world_request gets EBUSY; its world_release is refused (fix 2)' },
  { model: 'collect', name: 'correct-stopper', defines: ['-DSTOPPER', '-DNO_DETACH', '-DNO_LOCK'], expect: 'pass',
    opt: searchOpt, what: 'a terminator that gave up withdraws its stop: the stopped thread resumes and is paused' },
  { model: 'collect', name: 'correct-dead-collector', defines: ['-DDEADC', '-DNO_DETACH'], expect: 'pass', opt: searchOpt,
    what: 'the collector is terminated at one of its safe points; the detach of it releases its world' },
  { model: 'collect', name: 'broken-fp-no-attention', defines: ['-DBROKEN_FP_NO_ATTENTION'], expect: 'fail',
    reason: /!\(frozen\)/, what: 'the fast path does not read ATTENTION: it stores a count during the scan' },
  { model: 'collect', name: 'broken-no-ack-wait', defines: ['-DBROKEN_NO_ACK_WAIT'], expect: 'fail',
    reason: /!\(frozen\)/,
    what: 'the collector does not wait for an ACTIVE thread\'s acknowledgement: a fast path in flight stores' },
  { model: 'collect', name: 'broken-parked-no-cas', defines: ['-DBROKEN_PARKED_NO_CAS', '-DNO_DETACH'], expect: 'fail',
    reason: /!\(frozen\)/,
    what: 'a PARKED thread is counted held without CAS PARKED -> HELPED: it unparks during the scan' },
  { model: 'collect', name: 'broken-dekker', defines: ['-DBROKEN_DEKKER', '-DNO_LOCK', '-DNO_ATTACH'], expect: 'fail',
    reason: /!\(frozen\)/,
    what: 'detach_dead reads G_WORLD before its CAS to RECLAIMING: it abandons a held thread\'s object in the scan' },
  { model: 'collect', name: 'broken-stopped-first', defines: ['-DBROKEN_STOPPED_FIRST', '-DNO_LOCK', '-DNO_ATTACH'],
    expect: 'fail', reason: /!\(frozen\)/,
    what: 'the collector accepts STOPPED before reading the state word: it misses a detacher\'s RECLAIMING' },
  { model: 'collect', name: 'broken-ack-stale', defines: ['-DBROKEN_ACK_STALE', '-DMINCOLL=2', '-DNO_DETACH'],
    expect: 'fail', reason: /!\(frozen\)/,
    what: 'PAUSED is a flag (1), not the epoch it answers: a late acknowledgement is taken by the next collection' },
  { model: 'collect', name: 'broken-lock-while-parked', defines: ['-DBROKEN_LOCK_WHILE_PARKED', '-DNO_DETACH'],
    expect: 'fail', reason: /!\(frozen\)/,
    what: 'objectLock\'s old order: a parked, borrowed waiter CASes the lock word during the scan\'s plain stores' },
  { model: 'collect', name: 'broken-sleep-until-clear', defines: ['-DBROKEN_SLEEP_UNTIL_CLEAR', '-DMINCOLL=2', '-DNO_DETACH'],
    expect: 'fail', reason: /invalid end state/,
    what: 'attend sleeps until PAUSE is clear: a pause set again while it slept is never acknowledged' },
  { model: 'collect', name: 'broken-attach-clears-pause', defines: ['-DBROKEN_ATTACH_CLEARS_PAUSE', '-DNO_LOCK'],
    expect: 'fail', reason: /!\(frozen\)|invalid end state/,
    what: 'attach resets the whole attention word: the new thread is never paused (it runs, or is waited for forever)' },
  { model: 'collect', name: 'broken-waitword-no-pause', defines: ['-DBROKEN_WAITWORD_NO_PAUSE', '-DWAITWORD', '-DNO_DETACH', '-DNO_LOCK'],
    expect: 'fail', reason: /!\(frozen\)/,
    what: 'brc_lock_wait_word passes no boundary: after brc_safepoint it CASes WAITERS into a link word in the scan' },
  { model: 'collect', name: 'broken-release-non-holder', defines: ['-DBROKEN_RELEASE_NON_HOLDER', '-DRELEASER', '-DNO_DETACH', '-DNO_LOCK'],
    expect: 'fail', reason: /!\(frozen\)|invalid end state/,
    what: 'brc_world_release by a thread whose request got EBUSY ends the holder\'s pause (in its scan, or its poll)' },
  { model: 'collect', name: 'broken-spin-no-ack', defines: ['-DBROKEN_SPIN_NO_ACK', '-DSPINNER', '-DNO_DETACH', '-DNO_LOCK'],
    expect: 'fail', reason: /invalid end state/,
    what: 'a brc_lock that may not block never acknowledges: it spins on a paused holder, the collector waits for it' },
  { model: 'collect', name: 'broken-resume-no-recheck', defines: ['-DBROKEN_RESUME_NO_RECHECK', '-DSTOPPER', '-DNO_DETACH', '-DNO_LOCK'],
    expect: 'fail', reason: /!\(frozen\)/,
    what: 'a stopped thread whose stop is withdrawn goes on without looking at ATTENTION: it runs under the scan' },
  { model: 'collect', name: 'broken-resume-order', defines: ['-DBROKEN_RESUME_ORDER', '-DSTOPPER', '-DNO_DETACH', '-DNO_LOCK'],
    expect: 'fail', reason: /!\(frozen\)/,
    what: 'stopHere loads ATTENTION before it withdraws STOPPED: a collection that counted it stopped misses it' },
  { model: 'collect', name: 'broken-cancel-clears-pause', defines: ['-DBROKEN_CANCEL_CLEARS_PAUSE', '-DSTOPPER', '-DNO_DETACH', '-DNO_LOCK'],
    expect: 'fail', reason: /!\(frozen\)|invalid end state/,
    what: 'brc_thread_cancel_stop resets the whole attention word: the resumed thread never sees the pause' },
  { model: 'collect', name: 'broken-detach-waits-world', defines: ['-DBROKEN_DETACH_WAITS_WORLD', '-DDEADC', '-DNO_DETACH'],
    expect: 'fail', reason: /invalid end state/,
    what: 'the detacher of a dead collector waits for its world to end and never releases it: everyone stays paused' },

  // ---- record.pml: the generation in the state word ----
  { model: 'record', name: 'correct', defines: [], expect: 'pass', opt: '-O0',
    what: 'detach_dead(tid, generation) CASes generation and state in one word' },
  { model: 'record', name: 'broken-gen-separate', defines: ['-DBROKEN_GEN_SEPARATE'], expect: 'fail',
    reason: /cur==1/, what: 'the generation compared in a step of its own: detach_dead takes a live new incarnation' },
].filter((v) => only === null || v.model === only);
if (variants.length === 0) {
  console.error(`model: no model named ${only} (brc, weak, collect, record)`);
  process.exit(1);
}

function have(cmd, versionArg) {
  const r = spawnSync(cmd, [versionArg], { encoding: 'utf8' });
  return r.error ? null : `${r.stdout}${r.stderr}`;
}

const spinVersion = have('spin', '-V');
if (spinVersion === null) {
  console.error('model: spin is not on PATH; install it (Debian/Ubuntu: apt-get install spin) to check the model');
  process.exit(2);
}
if (have('gcc', '--version') === null) {
  console.error('model: gcc is not on PATH; spin needs a C compiler to build its verifier');
  process.exit(2);
}

/** Runs a command; resolves with its output, whatever the exit status (pan exits 0 even when it finds errors). */
function run(cmd, argList, cwd, timeoutMs) {
  return new Promise((resolve) => {
    const child = spawn(cmd, argList, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { out += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (error) => { clearTimeout(timer); resolve({ status: -1, out: `${out}${error.message}` }); });
    child.on('close', (status, signal) => { clearTimeout(timer); resolve({ status: signal ? -1 : status, out, signal }); });
  });
}

// What the models' assertions mean, for the summary (the text is pan's rendering of the assertion)
const meanings = [
  [/^!\(freed\)$/, 'use after free: a thread read or wrote the header of a freed object'],
  [/^!\(freed\[\d\]\)$/, 'use after free: a thread read or wrote the header of a freed object'],
  [/^\(freed==0\)$/, 'double free'],
  [/^\(refs==0\)$/, 'freed while a reference is still held'],
  [/^\(freed\|\|immortal\)$/, 'leak: every reference is gone but the object was never freed'],
  [/immortal\)\|\|/, 'a saturated (immortal) count left [SAT, SAT + adds about to undo]'],
  [/^\(holder==me\)$/, "a thread without the owner's rights wrote the local count or dropped ownership"],
  [/^0$/, 'a trap or an impossible branch (e.g. decrefSlow E_BIASED_NEGATIVE)'],
  [/pushing/, 'the owner blocked with an object in its queue and nobody coming to merge it'],
  [/^!\(decided\)$/, 'an upgrade succeeded after the free was decided (resurrection)'],
  [/^\(refs==qref\)$/, 'an upgrade failed while a thread still held a strong reference'],
  [/cell==0/, 'a weak cell still names a freed block'],
  [/\(nx&1\)/, 'decrefShared: the shared count would go below zero without QUEUED (E_SHARED_NEGATIVE)'],
  [/^!\(frozen\)$/, 'a held thread wrote an object (count, tid, slot or link word), allocated, or took its rights back during the collection'],
  [/lk\[0\]&1/, "a thread's object lock was lost (LOCKED cleared while it held the lock)"],
  [/cur==1/, 'detach_dead took the record from a live incarnation'],
];

function violatedAssertion(violation) {
  const m = /assertion violated\s+(.*?)\s+\(at depth \d+\)/.exec(violation ?? '');
  return m ? m[1].trim() : null;
}

function explain(violation) {
  const a = violatedAssertion(violation);
  if (a === null) return violation && /invalid end state/.test(violation) ? 'deadlock (invalid end state)' : null;
  const hit = meanings.find(([re]) => re.test(a));
  return hit ? hit[1] : null;
}

const num = (re, text) => {
  const m = re.exec(text);
  return m ? Number(m[1]) : null;
};

async function check(variant, dir) {
  mkdirSync(dir);
  for (const f of readdirSync(modelDir)) if (f.endsWith('.pml')) copyFileSync(join(modelDir, f), join(dir, f));
  const file = `${variant.model}.pml`;
  const started = Date.now();
  const result = {
    model: variant.model, name: variant.name, expect: variant.expect, what: variant.what,
    defines: [...bounds[variant.model], ...variant.defines],
  };
  const gen = await run('spin', ['-a', ...result.defines, file], dir, 60_000);
  if (gen.status !== 0) return { ...result, ok: false, problem: `spin -a failed:\n${gen.out.trim()}` };
  // -DSAFETY: assertions and invalid end states only; -DCOLLAPSE: compressed state vectors; -DMEMLIM: fail, not swap
  const cc = await run('gcc', [variant.opt ?? '-O0', '-DSAFETY', '-DCOLLAPSE', `-DMEMLIM=${memoryMB}`, '-o', 'pan',
    'pan.c'], dir, 300_000);
  if (cc.status !== 0) return { ...result, ok: false, problem: `gcc failed:\n${cc.out.trim()}` };
  // -m: depth limit (the models' depths are below 300); -w: 2^w hash slots
  const pan = await run(join(dir, 'pan'), ['-m20000', `-w${hashBits}`], dir, 1_800_000);
  const out = pan.out;
  const errors = num(/errors: (\d+)/, out);
  Object.assign(result, {
    errors,
    states: num(/(\d+) states, stored/, out),
    transitions: num(/(\d+) transitions \(= stored\+matched\)/, out),
    depth: num(/depth reached (\d+)/, out),
    stateVector: num(/State-vector (\d+) byte/, out),
    memoryMB: num(/([\d.]+)\s+total actual memory usage/, out),
    searchSeconds: num(/elapsed time ([\d.e+]+) seconds/, out),
    seconds: Math.round((Date.now() - started) / 100) / 10,
    violation: (/^pan:\d+: (.*)$/m.exec(out) ?? [])[1] ?? null,
  });
  result.meaning = explain(result.violation);
  const incomplete = [/max search depth too small/, /reached -DMEMLIM bound/, /out of memory/i, /Search not completed/]
    .find((re) => re.test(out));
  if (pan.status !== 0 || errors === null) return { ...result, ok: false, problem: `pan did not finish:\n${out.trim()}` };
  if (variant.expect === 'pass') {
    if (incomplete) return { ...result, ok: false, problem: `search incomplete (${incomplete.source})` };
    return { ...result, ok: errors === 0, problem: errors === 0 ? null : `expected 0 errors: ${result.violation}` };
  }
  if (errors === 0) return { ...result, ok: false, problem: 'the broken variant was not caught' };
  // the assertion pan reports, or (a deadlock) the whole report line
  const assertion = violatedAssertion(result.violation) ?? result.violation;
  if (variant.reason && !(assertion !== null && variant.reason.test(assertion))) {
    return { ...result, ok: false, problem: `caught, but not by the assertion that names its fault (${variant.reason})` };
  }
  return { ...result, ok: true, problem: null };
}

const tmp = mkdtempSync(join(tmpdir(), 'biasrc-model-'));
let results;
try {
  // two workers (two cores) over one queue, the long correct-model searches first
  const queue = [...variants].sort((a, b) => (a.expect === 'pass' ? 0 : 1) - (b.expect === 'pass' ? 0 : 1));
  const byKey = new Map();
  const worker = async () => {
    for (let v = queue.shift(); v !== undefined; v = queue.shift()) {
      byKey.set(`${v.model}/${v.name}`, await check(v, join(tmp, `${v.model}-${v.name}`)));
    }
  };
  await Promise.all([worker(), worker()]);
  results = variants.map((v) => byKey.get(`${v.model}/${v.name}`));
} finally {
  if (args.has('--keep')) console.error(`model: kept ${tmp}`);
  else rmSync(tmp, { recursive: true, force: true });
}

const failed = results.filter((r) => !r.ok);
if (args.has('--json')) {
  console.log(JSON.stringify({ spin: spinVersion.trim(), size, bounds, ok: failed.length === 0, results }, null, 2));
} else {
  const fmt = (n) => (n === null || n === undefined ? '-' : n.toLocaleString('en-US'));
  console.log(`${spinVersion.trim()}, ${size} bounds`);
  let model = null;
  for (const r of results) {
    if (r.model !== model) {
      model = r.model;
      console.log(`model/${model}.pml  ${bounds[model].join(' ') || '(no bounds)'}`);
    }
    const verdict = r.ok ? (r.expect === 'pass' ? 'PASS  ' : 'CAUGHT') : 'FAIL  ';
    console.log(`  ${verdict} ${r.name.padEnd(24)} errors ${String(r.errors ?? '-').padStart(2)}` +
      `  states ${fmt(r.states).padStart(10)}  depth ${String(r.depth ?? '-').padStart(3)}` +
      `  ${String(r.seconds ?? '-').padStart(5)} s  ${r.what}`);
    if (r.violation) console.log(`         -> ${r.meaning ?? r.violation} [${r.violation}]`);
    if (r.problem) console.log(`         ${r.problem.split('\n').join('\n         ')}`);
  }
  console.log(failed.length === 0
    ? 'model: every correct model checks out and every broken variant is caught for its reason'
    : `model: ${failed.map((r) => `${r.model}/${r.name}`).join(', ')} did not behave as expected`);
}
process.exit(failed.length === 0 ? 0 : 1);
