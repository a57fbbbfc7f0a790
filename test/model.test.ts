// The Promela models of the protocol (model/*.pml, docs/MODEL.md), checked by spin through scripts/model.mjs: each
// correct model (the counting protocol, weak references, collection against a mutator, the record generation) must
// verify with 0 errors over its whole state space, and every deliberately broken variant (the gh-121794 store order
// among them) must be caught by the assertion that names its fault.
// Needs spin and gcc. Without spin the suite is skipped locally; in CI (CI set) a missing spin is a failure.
import { execFile, spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const hasSpin = !spawnSync('spin', ['-V']).error;
const inCI = !!process.env.CI;

interface VariantResult {
  model: string;
  name: string;
  expect: 'pass' | 'fail';
  ok: boolean;
  errors: number | null;
  states: number | null;
  depth: number | null;
  violation: string | null;
  problem: string | null;
}

if (!hasSpin && !inCI) {
  console.warn('test/model.test.ts: spin is not on PATH, the protocol models are not checked (apt-get install spin)');
}

describe.skipIf(!hasSpin && !inCI)('protocol model (spin)', () => {
  it('verifies every model and catches every broken variant', async () => {
    if (!hasSpin) throw new Error('CI is set but spin is not on PATH: install it (apt-get install spin)');
    // asynchronous: a minute of blocking spawnSync starves vitest's worker RPC ("Timeout calling onTaskUpdate").
    // spin's search is bounded by the models' own bounds (about a minute of CPU in all); the timeout only guards
    // against a hang, so it allows for a machine loaded many times over (2 shared cores under the whole suite).
    const run = await new Promise<{ error: Error | null; status: number; stdout: string }>((resolve) => {
      execFile(process.execPath, [join(root, 'scripts', 'model.mjs'), '--json'], {
        cwd: root, encoding: 'utf8', timeout: 900_000, maxBuffer: 16 << 20,
      }, (error, stdout) => {
        // exit code 1 (a model did not behave) still prints the JSON report: judge it below
        const status = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        resolve({ error: status === -1 ? error : null, status, stdout });
      });
    });
    expect(run.error, String(run.error)).toBeNull();
    const report = JSON.parse(run.stdout) as { ok: boolean; results: VariantResult[] };
    const byName = new Map(report.results.map((r) => [`${r.model}/${r.name}`, r]));

    // every model's correct variant explored its whole space (not a stub) and found nothing
    const minStates: Record<string, number> = { brc: 1_000_000, weak: 1_000_000, collect: 500_000, record: 10 };
    for (const [model, min] of Object.entries(minStates)) {
      const correct = byName.get(`${model}/correct`);
      expect(correct, `no result for ${model}/correct`).toBeDefined();
      expect(correct!.problem, `${model}/correct`).toBeNull();
      expect(correct!.errors, `${model}/correct`).toBe(0);
      expect(correct!.states, `${model}/correct`).toBeGreaterThan(min);
    }
    for (const r of report.results.filter((x) => x.expect === 'pass')) {
      expect(r.errors, `${r.model}/${r.name} should verify`).toBe(0);
    }

    const broken = report.results.filter((r) => r.expect === 'fail');
    expect(broken.map((r) => `${r.model}/${r.name}`)).toEqual(expect.arrayContaining([
      'brc/broken-store-order', 'brc/broken-no-undo', 'weak/broken-no-weak-flag', 'weak/broken-tryinc-exact',
      'weak/broken-free-order', 'collect/broken-fp-no-attention', 'collect/broken-no-ack-wait',
      'collect/broken-parked-no-cas', 'collect/broken-dekker', 'collect/broken-waitword-no-pause',
      'collect/broken-release-non-holder', 'collect/broken-spin-no-ack', 'record/broken-gen-separate',
    ]));
    // the collection's correct configurations: the code's protocol, two collections, and the fixes' processes
    for (const name of ['correct-two', 'correct-waitword', 'correct-spinner', 'correct-release']) {
      const r = byName.get(`collect/${name}`);
      expect(r, `no result for collect/${name}`).toBeDefined();
      expect(r!.problem, `collect/${name}`).toBeNull();
    }
    for (const r of broken) {
      expect(r.errors, `${r.model}/${r.name} was not caught`).toBeGreaterThan(0);
      expect(r.problem, `${r.model}/${r.name}`).toBeNull(); // caught by the assertion that names its fault
    }
    // the store-order bug shows up as what it is: the owner writes the header of an object already freed
    expect(byName.get('brc/broken-store-order')!.violation).toMatch(/!\(freed\)/);
    // and a weak upgrade racing the owner's shortcut is a resurrection
    expect(byName.get('weak/broken-no-weak-flag')!.violation).toMatch(/!\(decided\)/);

    expect(report.ok).toBe(true);
    expect(run.status).toBe(0);
  }, 960_000);
});
