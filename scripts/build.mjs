// Builds everything `npm test` and the package need: the wasm core (release, debug and the single-thread builds)
// and the TypeScript (dist/).
// Usage: node scripts/build.mjs [--if-needed]   (--if-needed: skip when the outputs are newer than every source)
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { readFileSync } from 'node:fs';
import { newestMtime } from './lib/files.mjs';
import { sharedModuleProblems } from './lib/wasm-sections.mjs';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const bin = (name) => join(root, 'node_modules', '.bin', name);

const steps = [
  { name: 'wasm release', outputs: ['build/biasrc.wasm'], inputs: ['assembly', 'asconfig.json'],
    cmd: [bin('asc'), '--config', 'asconfig.json', '--target', 'release'] },
  { name: 'wasm debug', outputs: ['build/biasrc.debug.wasm'], inputs: ['assembly', 'asconfig.json'],
    cmd: [bin('asc'), '--config', 'asconfig.json', '--target', 'debug'] },
  { name: 'wasm single-thread', outputs: ['build/biasrc.single.wasm'], inputs: ['assembly', 'asconfig.json'],
    cmd: [bin('asc'), '--config', 'asconfig.json', '--target', 'single'] },
  { name: 'wasm single-thread debug', outputs: ['build/biasrc.single.debug.wasm'], inputs: ['assembly', 'asconfig.json'],
    cmd: [bin('asc'), '--config', 'asconfig.json', '--target', 'single-debug'] },
  { name: 'abi contract', outputs: ['src/generated/abi.ts'], inputs: ['build/biasrc.wasm', 'assembly/index.ts', 'scripts/gen-abi.mjs'],
    cmd: [process.execPath, join(root, 'scripts', 'gen-abi.mjs')] },
  { name: 'typescript', outputs: ['dist/index.js'], inputs: ['src', 'tsconfig.json'],
    cmd: [bin('tsc'), '-p', 'tsconfig.json'] },
];

const newest = (path) => newestMtime(root, path);

const ifNeeded = process.argv.includes('--if-needed');
for (const step of steps) {
  const oldestOutput = Math.min(...step.outputs.map(newest));
  if (ifNeeded && oldestOutput > 0 && oldestOutput >= Math.max(...step.inputs.map(newest))) continue;
  const started = Date.now();
  const result = spawnSync(step.cmd[0], step.cmd.slice(1), { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) {
    console.error(`build: ${step.name} failed`);
    process.exit(result.status ?? 1);
  }
  console.log(`build: ${step.name} (${Date.now() - started} ms)`);
}

// Every thread instantiates the same module over one memory: a data segment or a start function would run again
// at each instantiation (assemblyscript-threads notes; docs/ABI.md "Build").
for (const file of ['build/biasrc.wasm', 'build/biasrc.debug.wasm', 'build/biasrc.single.wasm', 'build/biasrc.single.debug.wasm']) {
  const problems = sharedModuleProblems(readFileSync(join(root, file)));
  if (problems.length > 0) {
    console.error(`build: ${file} has ${problems.join(' and ')}; a module shared by threads must have none`);
    process.exit(1);
  }
}
