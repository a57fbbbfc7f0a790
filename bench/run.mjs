// The benchmark suite: `npm run bench` (builds first), or `node bench/run.mjs [flags]` after a build.
//   --quick          smaller sizes and fewer runs: the whole run in under a minute
//   --tiny           (or BIASRC_BENCH_TINY=1) toy sizes for the test suite: a few seconds, numbers meaningless
//   --suite NAME     only these suites (repeatable, or a comma list): rc js mix scaling alloc share shapes overhead cycles embed
//   --threads N      threads for mix and scaling (default: the number of cores)
//   --json FILE      where the results go (default bench/results/latest.json); the chart goes beside it (.svg)
// Progress goes to stderr, tables to stdout.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { buildBench } from './build.mjs';
import { compileFile } from './lib/wasm.mjs';
import { ratioColumns, table, timingColumns } from './lib/report.mjs';
import { renderChart } from './lib/chart.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = dirname(here);
const SUITES = ['rc', 'js', 'mix', 'scaling', 'alloc', 'share', 'shapes', 'overhead', 'cycles', 'embed'];

function usage(message) {
  process.stderr.write(`bench: ${message}\nusage: node bench/run.mjs [--quick] [--tiny] [--suite NAME]... [--threads N] [--json FILE]\n`);
  process.exit(2);
}

let values;
try {
  ({ values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      tiny: { type: 'boolean', default: process.env.BIASRC_BENCH_TINY === '1' },
      suite: { type: 'string', multiple: true },
      threads: { type: 'string' },
      json: { type: 'string', default: join(here, 'results', 'latest.json') },
    },
  }));
} catch (e) {
  usage(e.message);
}

const suites = values.suite ? values.suite.flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean) : SUITES;
for (const s of suites) if (!SUITES.includes(s)) usage(`unknown suite "${s}" (known: ${SUITES.join(', ')})`);
const cores = os.availableParallelism?.() ?? os.cpus().length;
const threads = values.threads ? Number(values.threads) : cores;
if (!Number.isInteger(threads) || threads < 1) usage('--threads must be a positive integer');
const scale = values.tiny ? 'tiny' : values.quick ? 'quick' : 'full';

const started = Date.now();
const progress = (message) => process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(1).padStart(5)} s] ${message}\n`);

if (!existsSync(join(root, 'build', 'biasrc.wasm')) || !existsSync(join(root, 'dist', 'index.js'))) {
  usage('the core is not built: run `npm run build` (or `npm run bench`, which builds first)');
}
progress('building the benchmark modules (if stale)');
const paths = buildBench({ log: progress });

/** Everything a suite needs: sizes for this scale, timing policy, the side modules, and a progress line. */
const ctx = {
  scale,
  pick: (choices) => choices[scale],
  // warm-up runs are not timed; at least 5 timed runs everywhere
  timing: { tiny: { warmup: 1, runs: 5 }, quick: { warmup: 1, runs: 5 }, full: { warmup: 2, runs: 9 } }[scale],
  targetMs: { tiny: 1, quick: 15, full: 60 }[scale], // length of one timed run of a calibrated in-wasm loop
  threads,
  cores,
  root,
  modules: { loops: await compileFile(paths.loops), tlsf: await compileFile(paths.tlsf) },
  progress,
};

const results = {
  machine: {
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores,
    node: process.version,
    v8: process.versions.v8,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    // other work on the machine skews multi-thread numbers most: the 1-minute load average before and after
    loadBefore: os.loadavg()[0],
    date: new Date().toISOString(),
  },
  options: { scale, threads, suites },
  suites: {},
  ratios: [],
};

for (const name of suites) {
  progress(`suite ${name}`);
  const { default: run } = await import(`./suites/${name}.mjs`);
  const t0 = Date.now();
  const out = await run(ctx);
  const ratios = (out.ratios ?? []).map((r) => ({ suite: name, ...r }));
  const { columns, ...data } = out; // columns only format the table
  results.suites[name] = { ...data, ratios, seconds: (Date.now() - t0) / 1000 };
  results.ratios.push(...ratios);
  console.log(`\n== ${name}${out.title ? `: ${out.title}` : ''}`);
  console.log(table(columns ?? timingColumns, out.rows));
  if (ratios.length) console.log(`\n${table(ratioColumns.slice(1), ratios)}`);
}

if (results.ratios.length) {
  console.log('\n== ratios');
  console.log(table(ratioColumns, results.ratios));
}

results.machine.loadAfter = os.loadavg()[0];
const jsonPath = resolve(values.json);
mkdirSync(dirname(jsonPath), { recursive: true });
writeFileSync(jsonPath, `${JSON.stringify(results, null, 2)}\n`);
progress(`wrote ${jsonPath}`);
const svg = await renderChart(results);
if (svg) {
  const svgPath = jsonPath.replace(/\.json$/, '') + '.svg';
  writeFileSync(svgPath, svg);
  progress(`wrote ${svgPath}`);
}
progress(`done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
