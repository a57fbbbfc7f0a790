// The mutation run (issue 17): applies each mutant of scripts/mutants.mjs to a copy of the tree, builds the wasm core,
// runs the tests that should catch it, and says killed (with the first failing test) or survived. The measure of the
// suite: every mutant that is not equivalent must be killed. Never touches the working tree: everything happens in a
// temporary copy (node_modules linked, not copied), removed at the end unless --keep.
//
// Usage: npm run mutate [-- options]
//   --only id,id      run these mutants only
//   --full            run the whole suite for every mutant instead of its own tests
//   --tests f,f       run these test files for every mutant instead of its own
//   --grep pattern    only the tests whose name matches (vitest -t), e.g. to ask what the stress test alone catches
//   --list            print the catalogue and exit
//   --keep            keep the temporary copy (its path is printed)
//   --json file       also write the results as JSON
//   --timeout s       per-mutant limit for its test run (default 240 s): a hang counts as killed ("timeout")
//
// Each mutant is a small textual change anchored on code, never on line numbers: `find` must occur exactly once in
// `file` (otherwise the catalogue is stale: the run says so and counts it as an error, not as a survivor). The debug
// and release builds are rebuilt for each mutant; the single-thread builds and dist/ are the unmutated ones (the
// mutants change no constant, so the ABI contract still holds). Equivalent mutants are listed with `equivalent`,
// the argument why, and still run: one that gets killed is not equivalent after all.
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_TESTS, mutants } from './mutants.mjs';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const args = process.argv.slice(2);
const option = (name) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : undefined; };
const only = option('--only')?.split(',');
const full = args.includes('--full');
const testsOverride = option('--tests')?.split(',');
const grep = option('--grep');
const keep = args.includes('--keep');
const jsonOut = option('--json');
const timeoutMs = Number(option('--timeout') ?? 240) * 1000;

if (args.includes('--list')) {
  for (const m of mutants) console.log(`${m.id.padEnd(28)} ${m.kind.padEnd(14)} ${m.file.padEnd(22)} ${m.equivalent ? '(equivalent) ' : ''}${m.what}`);
  console.log(`${mutants.length} mutants`);
  process.exit(0);
}

const selected = only ? mutants.filter((m) => only.includes(m.id)) : mutants;
if (only && selected.length !== only.length) {
  console.error(`mutate: unknown mutant(s): ${only.filter((id) => !mutants.some((m) => m.id === id)).join(', ')}`);
  process.exit(2);
}
const ids = new Set();
for (const m of mutants) {
  if (ids.has(m.id)) { console.error(`mutate: duplicate id ${m.id}`); process.exit(2); }
  ids.add(m.id);
}

// ---- the copy ---------------------------------------------------------------------------------------------------
for (const need of ['build/biasrc.single.wasm', 'build/biasrc.single.debug.wasm', 'dist/index.js']) {
  if (!existsSync(join(root, need))) { console.error(`mutate: ${need} missing: run npm run build first`); process.exit(2); }
}
const work = mkdtempSync(join(tmpdir(), 'biasrc-mutate-'));
for (const entry of ['assembly', 'src', 'dist', 'build', 'test', 'scripts', 'docs', 'model', 'bench', 'package.json',
  'asconfig.json', 'tsconfig.json', 'tsconfig.test.json', 'vitest.config.ts', 'README.md']) {
  if (existsSync(join(root, entry))) {
    cpSync(join(root, entry), join(work, entry), { recursive: true, filter: (src) => !src.includes(`${join(root, 'bench', 'results')}`) });
  }
}
symlinkSync(join(root, 'node_modules'), join(work, 'node_modules'), 'dir');
const bin = (name) => join(work, 'node_modules', '.bin', name);

function build() {
  for (const target of ['debug', 'release']) {
    const r = spawnSync(bin('asc'), ['--config', 'asconfig.json', '--target', target], { cwd: work, encoding: 'utf8' });
    if (r.status !== 0) return `${target}: ${(r.stderr || r.stdout).split('\n').find((l) => /ERROR|error/.test(l)) ?? 'failed'}`;
  }
  return null;
}

/** Runs vitest on `tests` (all if empty) in the copy; resolves { failed, first, message, timedOut, passed }. */
function runTests(tests) {
  const report = join(work, 'mutate-report.json');
  rmSync(report, { force: true });
  return new Promise((resolve) => {
    const child = spawn(bin('vitest'), ['run', ...tests, ...(grep ? ['-t', grep] : []), '--bail=1', '--reporter=json', `--outputFile=${report}`], {
      cwd: work, env: { ...process.env, BIASRC_SCHEDULE_MS: '10000', FORCE_COLOR: '0' }, stdio: ['ignore', 'ignore', 'pipe'], detached: true,
    });
    let stderr = '';
    child.stderr.on('data', (d) => { stderr = (stderr + d).slice(-4000); });
    const timer = setTimeout(() => { try { process.kill(-child.pid, 'SIGKILL'); } catch {} }, timeoutMs);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      let json = null;
      try { json = JSON.parse(readFileSync(report, 'utf8')); } catch {}
      if (signal) return resolve({ failed: true, timedOut: true, first: `(no result after ${timeoutMs / 1000} s)`, message: 'timeout' });
      const results = json?.testResults ?? [];
      for (const file of results) {
        const bad = file.assertionResults?.find((t) => t.status === 'failed');
        if (bad) {
          return resolve({ failed: true, first: `${file.name.replace(`${work}/`, '')} > ${bad.ancestorTitles.join(' > ')} > ${bad.title}`,
            message: (bad.failureMessages?.[0] ?? '').split('\n')[0].slice(0, 200) });
        }
        if (file.status === 'failed') {
          return resolve({ failed: true, first: file.name.replace(`${work}/`, ''), message: (file.message ?? '').split('\n')[0].slice(0, 200) });
        }
      }
      if (code !== 0) return resolve({ failed: true, first: '(vitest failed)', message: stderr.split('\n').filter(Boolean).slice(-3).join(' | ') });
      resolve({ failed: false, passed: json?.numPassedTests ?? 0 });
    });
  });
}

const originals = new Map();
const source = (file) => {
  if (!originals.has(file)) originals.set(file, readFileSync(join(work, file), 'utf8'));
  return originals.get(file);
};
const restore = () => { for (const [file, text] of originals) writeFileSync(join(work, file), text); };

function apply(m) {
  const edits = m.edits ?? [{ find: m.find, replace: m.replace }];
  let text = source(m.file);
  for (const { find, replace } of edits) {
    const n = text.split(find).length - 1;
    if (n !== 1) return `anchor found ${n} times: ${JSON.stringify(find.slice(0, 60))}`;
    text = text.replace(find, () => replace);
  }
  writeFileSync(join(work, m.file), text);
  return null;
}

// ---- the run ------------------------------------------------------------------------------------------------------
const started = Date.now();
const seconds = (t) => `${Math.round((Date.now() - t) / 1000)} s`;
console.log(`mutate: ${selected.length} mutants, copy in ${work}${full ? ', full suite each' : ''}`);

let t = Date.now();
const baseBuild = build();
if (baseBuild) { console.error(`mutate: the unmutated tree does not build: ${baseBuild}`); process.exit(1); }
const testsOf = (m) => (full ? [] : testsOverride ?? m.tests ?? DEFAULT_TESTS);
const baseTests = [...new Set(selected.flatMap(testsOf))];
const base = await runTests(baseTests);
if (base.failed) {
  console.error(`mutate: the unmutated tree fails its tests (${base.first}: ${base.message}); nothing to measure`);
  process.exit(1);
}
console.log(`mutate: baseline passes (${base.passed} tests, ${seconds(t)})\n`);

const results = [];
for (const [i, m] of selected.entries()) {
  t = Date.now();
  restore();
  const tests = testsOf(m);
  const anchor = apply(m);
  let r;
  if (anchor) r = { status: 'error', first: anchor };
  else {
    const broken = build();
    if (broken) r = { status: 'error', first: `does not compile: ${broken}` };
    else {
      const run = await runTests(tests);
      r = run.failed ? { status: run.timedOut ? 'killed (timeout)' : 'killed', first: run.first, message: run.message } : { status: 'survived', passed: run.passed };
    }
  }
  results.push({ id: m.id, kind: m.kind, file: m.file, what: m.what, equivalent: !!m.equivalent, seconds: Math.round((Date.now() - t) / 1000), ...r });
  const tag = `[${String(i + 1).padStart(2)}/${selected.length}] ${m.id}`;
  console.log(`${tag.padEnd(36)} ${r.status.toUpperCase()}${m.equivalent ? ' (listed equivalent)' : ''}  ${seconds(t)}`);
  if (r.first) console.log(`      ${r.first}${r.message ? `\n      ${r.message}` : ''}`);
}
restore();

// ---- summary ------------------------------------------------------------------------------------------------------
const killed = results.filter((r) => r.status.startsWith('killed'));
const survived = results.filter((r) => r.status === 'survived');
const errors = results.filter((r) => r.status === 'error');
console.log(`\nmutate: ${results.length} mutants: ${killed.length} killed, ${survived.length} survived, ${errors.length} errors (${seconds(started)})`);
const byKind = new Map();
for (const r of results) {
  const k = byKind.get(r.kind) ?? { n: 0, killed: 0 };
  k.n++; if (r.status.startsWith('killed')) k.killed++;
  byKind.set(r.kind, k);
}
for (const [kind, k] of byKind) console.log(`  ${kind.padEnd(16)} ${k.killed}/${k.n} killed`);
for (const r of survived) console.log(`  survived: ${r.id}${r.equivalent ? ' (listed equivalent: see docs/RELIABILITY.md)' : ' (NOT listed equivalent)'}`);
for (const r of errors) console.log(`  error: ${r.id}: ${r.first}`);
const unexpected = survived.filter((r) => !r.equivalent);
if (jsonOut) writeFileSync(jsonOut, JSON.stringify({ date: new Date().toISOString(), full, results }, null, 2));
if (keep) console.log(`mutate: the copy stays in ${work}`);
else rmSync(work, { recursive: true, force: true });
process.exit(unexpected.length > 0 || errors.length > 0 ? 1 : 0);
