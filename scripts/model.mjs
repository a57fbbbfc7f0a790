// Checks the Promela model of the BRC protocol (model/brc.pml, described in docs/MODEL.md) with spin.
//
// For each variant: spin -a generates the verifier (pan.c), gcc compiles it for safety checks (assertions and
// invalid end states, no cycle detection), and pan explores every reachable state. The correct model must finish
// with 0 errors over the whole state space; every deliberately broken variant must be caught (errors > 0).
// Everything is generated in a temporary directory, removed at the end (--keep keeps it).
//
// Usage: node scripts/model.mjs [--full | --deep] [--json] [--keep]
//   (default)   bounds 2 increfs, 1 hand-off: 3.4 million states, about 10 s on an idle machine
//   --full      2 increfs, 2 hand-offs: 8.3 million states, about 20 s
//   --deep      3 increfs, 3 hand-offs: 37 million states, 2 GB of memory, a minute or two
//   --json      prints the results as JSON instead of the table
//   --keep      keeps the temporary directory (pan sources and error trails) and prints its path
// Exit codes: 0 as expected, 1 a correct model failed or a broken one passed (or a run did not complete),
//             2 spin or gcc is not installed.
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const modelFile = join(root, 'model', 'brc.pml');
const args = new Set(process.argv.slice(2));
for (const a of args) {
  if (!['--full', '--deep', '--json', '--keep'].includes(a)) {
    console.error(`model: unknown option ${a}`);
    process.exit(1);
  }
}

// The bounds of the exploration (see the header of model/brc.pml).
const size = args.has('--deep') ? 'deep' : args.has('--full') ? 'full' : 'default';
const bounds = { default: ['-DMAXINC=2', '-DMAXGIVE=1'], full: ['-DMAXINC=2', '-DMAXGIVE=2'],
  deep: ['-DMAXINC=3', '-DMAXGIVE=3'] }[size];
const memoryMB = size === 'deep' ? 8192 : 3072; // pan stops at this bound instead of swapping
const hashBits = size === 'deep' ? 26 : 24;
// gcc takes 1.4 s on pan.c at -O0 and 6.5 s at -O2, and the -O2 verifier searches 1.7 times as fast: -O0 wins
// below about 5 million states (every broken variant, the default bounds), -O2 above
const searchOpt = { default: '-O0', full: '-O1', deep: '-O2' }[size];

// expect: 'pass' (0 errors, search complete) or 'fail' (at least one error, found early: compile time dominates).
const variants = [
  { name: 'correct', defines: [], expect: 'pass', opt: searchOpt,
    what: 'the protocol as assembly/ implements it' },
  { name: 'broken-store-order', defines: ['-DBROKEN_STORE_ORDER'], expect: 'fail', opt: '-O0',
    what: 'mergeZeroLocal publishes MERGED before clearing local and tid (CPython gh-121794)' },
  { name: 'broken-no-recheck', defines: ['-DBROKEN_NO_RECHECK'], expect: 'fail', opt: '-O0',
    what: 'releaseRights does not re-check the queue after giving the rights back' },
  { name: 'broken-unpark', defines: ['-DBROKEN_UNPARK'], expect: 'fail', opt: '-O0',
    what: 'unparkSelf stores ACTIVE without waiting out a helper' },
  { name: 'broken-unattached-tid0', defines: ['-DUNATTACHED_T3', '-DUNATTACHED_TID0'], expect: 'fail', opt: '-O0',
    what: 'a thread without a tid checks ownership against tid 0 instead of NO_TID' },
  { name: 'broken-park-no-recheck', defines: ['-DBROKEN_PARK_NO_RECHECK'], expect: 'fail', opt: '-O0',
    what: 'parkSelf does not re-check its queue after storing PARKED (the gap this model found)' },
];

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
function run(cmd, argv, cwd, timeoutMs) {
  return new Promise((resolve) => {
    const child = spawn(cmd, argv, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { out += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (error) => { clearTimeout(timer); resolve({ status: -1, out: `${out}${error.message}` }); });
    child.on('close', (status, signal) => { clearTimeout(timer); resolve({ status: signal ? -1 : status, out, signal }); });
  });
}

// What the model's assertions mean (model/brc.pml), for the summary
const meanings = [
  [/^!\(freed\)$/, 'use after free: a thread read or wrote the header of a freed object'],
  [/^\(freed==0\)$/, 'double free'],
  [/^\(refs==0\)$/, 'freed while a reference is still held'],
  [/^freed$/, 'leak: every reference is gone but the object was never freed'],
  [/^\(holder==me\)$/, "a thread without the owner's rights wrote the local count or dropped ownership"],
  [/^0$/, 'a trap or an impossible branch (e.g. decrefSlow E_BIASED_NEGATIVE)'],
  [/pushing/, 'the owner blocked with an object in its queue and nobody coming to merge it'],
];

function explain(violation) {
  const m = /assertion violated\s+(.*?)\s+\(at depth \d+\)/.exec(violation ?? '');
  if (!m) return null;
  const hit = meanings.find(([re]) => re.test(m[1]));
  return hit ? hit[1] : null;
}

const num = (re, text) => {
  const m = re.exec(text);
  return m ? Number(m[1]) : null;
};

async function check(variant, dir) {
  mkdirSync(dir);
  copyFileSync(modelFile, join(dir, 'brc.pml'));
  const started = Date.now();
  const result = { name: variant.name, expect: variant.expect, what: variant.what, defines: [...bounds, ...variant.defines] };
  const gen = await run('spin', ['-a', ...result.defines, 'brc.pml'], dir, 60_000);
  if (gen.status !== 0) return { ...result, ok: false, problem: `spin -a failed:\n${gen.out.trim()}` };
  // -DSAFETY: assertions and invalid end states only; -DCOLLAPSE: compressed state vectors; -DMEMLIM: fail, not swap
  const cc = await run('gcc', [variant.opt, '-DSAFETY', '-DCOLLAPSE', `-DMEMLIM=${memoryMB}`, '-o', 'pan', 'pan.c'], dir, 300_000);
  if (cc.status !== 0) return { ...result, ok: false, problem: `gcc failed:\n${cc.out.trim()}` };
  // -m: depth limit (the model's depth is about 200); -w: 2^w hash slots
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
  return { ...result, ok: errors > 0, problem: errors > 0 ? null : 'the broken variant was not caught' };
}

const tmp = mkdtempSync(join(tmpdir(), 'biasrc-model-'));
let results;
try {
  // two lanes (two cores): the long correct-model search in one, everything else in the other
  const lanes = [[], []];
  variants.forEach((v) => (v.name === 'correct' ? lanes[0] : lanes[1]).push(v));
  const byName = new Map();
  await Promise.all(lanes.map(async (lane) => {
    for (const v of lane) byName.set(v.name, await check(v, join(tmp, v.name)));
  }));
  results = variants.map((v) => byName.get(v.name));
} finally {
  if (args.has('--keep')) console.error(`model: kept ${tmp}`);
  else rmSync(tmp, { recursive: true, force: true });
}

const failed = results.filter((r) => !r.ok);
if (args.has('--json')) {
  console.log(JSON.stringify({ spin: spinVersion.trim(), bounds, ok: failed.length === 0, results }, null, 2));
} else {
  const fmt = (n) => (n === null || n === undefined ? '-' : n.toLocaleString('en-US'));
  console.log(`model/brc.pml, ${spinVersion.trim()}, bounds ${bounds.join(' ')}`);
  for (const r of results) {
    const verdict = r.ok ? (r.expect === 'pass' ? 'PASS  ' : 'CAUGHT') : 'FAIL  ';
    const line = `  ${verdict} ${r.name.padEnd(24)} errors ${String(r.errors ?? '-').padStart(2)}` +
      `  states ${fmt(r.states).padStart(10)}  depth ${String(r.depth ?? '-').padStart(3)}` +
      `  ${String(r.seconds ?? '-').padStart(5)} s`;
    console.log(line + (r.expect === 'fail' && r.violation ? `  ${r.meaning ?? ''} [${r.violation}]` : ''));
    if (r.expect === 'pass' && r.violation) console.log(`         ${r.violation}${r.meaning ? `: ${r.meaning}` : ''}`);
    if (r.problem) console.log(`         ${r.problem.split('\n').join('\n         ')}`);
  }
  console.log(failed.length === 0
    ? 'model: the correct protocol checks out and every broken variant is caught'
    : `model: ${failed.map((r) => r.name).join(', ')} did not behave as expected`);
}
process.exit(failed.length === 0 ? 0 : 1);
