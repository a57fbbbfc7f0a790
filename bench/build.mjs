// Builds the benchmark's side modules into bench/build/ (never the shipped build/):
//   loops.wasm  the core's sources plus in-wasm benchmark loops (core flags: threads, imported shared memory, stub)
//   tlsf.wasm   AssemblyScript's own TLSF allocator (--runtime incremental), single-threaded, for the alloc suite
// Skips a module whose output is newer than all its sources. `--config` is always explicit: asc would otherwise
// merge the core's asconfig.json into these builds.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { newestMtime } from '../scripts/lib/files.mjs';
import { sharedModuleProblems } from '../scripts/lib/wasm-sections.mjs';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const asc = join(root, 'node_modules', '.bin', 'asc');

const modules = [
  // loops.wasm compiles the core's sources too, so it is stale when assembly/ changes
  { target: 'loops', entry: 'bench/assembly/loops.ts', out: 'bench/build/loops.wasm', shared: true,
    inputs: ['bench/assembly/loops.ts', 'bench/asconfig.json', 'assembly'] },
  { target: 'tlsf', entry: 'bench/assembly/tlsf.ts', out: 'bench/build/tlsf.wasm', shared: false,
    inputs: ['bench/assembly/tlsf.ts', 'bench/asconfig.json'] },
];

const newest = (path) => newestMtime(root, path);

/** Builds what is stale; returns the paths of the modules. Throws if a build fails or a shared module has data. */
export function buildBench({ force = false, log = (m) => process.stderr.write(`${m}\n`) } = {}) {
  for (const m of modules) {
    const out = join(root, m.out);
    if (!force && existsSync(out) && newest(m.out) >= Math.max(...m.inputs.map(newest))) continue;
    const started = Date.now();
    const r = spawnSync(asc, [m.entry, '--config', 'bench/asconfig.json', '--target', m.target],
      { cwd: root, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`bench build ${m.target} failed:\n${r.stderr}${r.stdout}`);
    log(`bench build: ${m.target} (${Date.now() - started} ms)`);
  }
  for (const m of modules.filter((m) => m.shared)) {
    // a data segment would be re-applied over the shared memory by every worker's instantiation
    const problems = sharedModuleProblems(readFileSync(join(root, m.out)));
    if (problems.length > 0) throw new Error(`${m.out} has ${problems.join(' and ')}; a shared-memory module must have none`);
  }
  return Object.fromEntries(modules.map((m) => [m.target, join(root, m.out)]));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  buildBench({ force: process.argv.includes('--force') });
}
