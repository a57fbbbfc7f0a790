// The Promela model of the BRC protocol (model/brc.pml, docs/MODEL.md), checked by spin through scripts/model.mjs:
// the protocol as assembly/ implements it must verify with 0 errors over its whole state space, and every
// deliberately broken variant (the gh-121794 store order among them) must be caught.
// Needs spin and gcc. Without spin the suite is skipped locally; in CI (CI set) a missing spin is a failure.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const hasSpin = !spawnSync('spin', ['-V']).error;
const inCI = !!process.env.CI;

interface VariantResult {
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
  console.warn('test/model.test.ts: spin is not on PATH, the protocol model is not checked (apt-get install spin)');
}

describe.skipIf(!hasSpin && !inCI)('protocol model (spin)', () => {
  it('verifies the protocol and catches every broken variant', () => {
    if (!hasSpin) throw new Error('CI is set but spin is not on PATH: install it (apt-get install spin)');
    const run = spawnSync(process.execPath, [join(root, 'scripts', 'model.mjs'), '--json'], {
      cwd: root, encoding: 'utf8', timeout: 280_000,
    });
    expect(run.error, String(run.error)).toBeUndefined();
    const report = JSON.parse(run.stdout) as { ok: boolean; results: VariantResult[] };
    const byName = new Map(report.results.map((r) => [r.name, r]));

    const correct = byName.get('correct');
    expect(correct, 'no result for the correct model').toBeDefined();
    expect(correct!.problem).toBeNull();
    expect(correct!.errors).toBe(0);
    expect(correct!.states).toBeGreaterThan(1_000_000); // the whole space was explored, not a stub

    const broken = report.results.filter((r) => r.expect === 'fail');
    expect(broken.map((r) => r.name)).toContain('broken-store-order');
    for (const r of broken) {
      expect(r.errors, `${r.name} was not caught`).toBeGreaterThan(0);
    }
    // the store-order bug shows up as what it is: the owner writes the header of an object already freed
    expect(byName.get('broken-store-order')!.violation).toMatch(/!\(freed\)/);

    expect(report.ok).toBe(true);
    expect(run.status).toBe(0);
  }, 300_000);
});
