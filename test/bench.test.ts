// The benchmark suite runs end to end (toy sizes: --tiny) and reports every suite and every ratio it promises.
// No timing is asserted: the numbers of a tiny run on a shared machine mean nothing.
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs helper without types
import { sharedModuleProblems } from '../scripts/lib/wasm-sections.mjs';
// @ts-expect-error: a plain .mjs module without types
import { buildBench } from '../bench/build.mjs';
// @ts-expect-error: a plain .mjs module without types
import { haveClang } from '../bench/suites/embed.mjs';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const root = fileURLToPath(new URL('..', import.meta.url));

const SUITES = ['rc', 'js', 'mix', 'scaling', 'alloc', 'share', 'shapes', 'overhead', 'cycles', 'embed'];
// the embed suite builds a C module: without clang-19 it reports itself skipped (and CI must have clang)
const embedSkipped = !haveClang();
if (embedSkipped && process.env.CI) throw new Error('bench test: CI is set but clang-19 / wasm-ld-19 are missing');
const RATIOS: Record<string, string[]> = {
  rc: ['brc_owner/plain', 'atomic/brc_owner', 'brc_nonowner/atomic', 'brc_owner/plain (4096 objects)'],
  js: ['api_unchecked/js_plain', 'js_atomics/api_unchecked', 'api_checked/api_unchecked'],
  scaling: ['t2/t1'],
  alloc: ['biasrc/tlsf'],
  share: ['clone/biasrc'],
  shapes: ['shape/dataview build', 'shape/dataview handoff', 'shape/dataview walk', 'objectbuffer/shape build',
    'objectbuffer/shape handoff', 'objectbuffer/shape walk', 'field get shape/dataview', 'field set shape/dataview'],
  cycles: ['cpython/biasrc (live)', 'cpython/biasrc (garbage)'], // python3 runs CPython's side (.ci/run installs it)
  ...(embedSkipped ? {} : { embed: ['c_import/core', 'c_inline/core', 'lookup accessors/handwritten'] }),
};

interface Ratio { suite: string; name: string; value: number | null; goal: string | null; paper: number | null }
interface Row { name: string; nsPerOp?: number; min?: number; median?: number; max?: number; runs?: number[]; p?: number; impl?: string }

describe('bench', () => {
  it('runs every suite (--quick --tiny) and writes every ratio, the machine and the chart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'biasrc-bench-'));
    const json = join(dir, 'bench.json');
    try {
      await promisify(execFile)(process.execPath, ['bench/run.mjs', '--quick', '--tiny', '--json', json], {
        cwd: root, timeout: 110_000, maxBuffer: 16 * 1024 * 1024,
      });
      const data = JSON.parse(readFileSync(json, 'utf8'));

      expect(data.machine).toMatchObject({ cores: expect.any(Number), node: process.version });
      expect(typeof data.machine.cpu).toBe('string');
      expect(Number.isNaN(Date.parse(data.machine.date))).toBe(false);

      expect(Object.keys(data.suites).sort()).toEqual([...SUITES].sort());
      if (embedSkipped) expect(data.suites.embed.skipped).toBe(true);
      for (const name of SUITES.filter((s) => s !== 'overhead' && !(s === 'embed' && embedSkipped))) {
        const rows: Row[] = data.suites[name].rows;
        expect(rows.length, name).toBeGreaterThan(0);
        for (const r of rows) {
          for (const k of ['nsPerOp', 'min', 'median', 'max'] as const) expect(Number.isFinite(r[k]), `${name} ${r.name} ${k}`).toBe(true);
          expect(r.runs!.length, `${name} ${r.name} runs`).toBeGreaterThanOrEqual(5);
        }
      }
      for (const p of [0, 1, 10, 50, 100]) {
        const impls = data.suites.mix.rows.filter((r: Row) => r.p === p).map((r: Row) => r.impl).sort();
        expect(impls, `mix p=${p}`).toEqual(['BRC', 'atomic-only']);
      }
      const payloads = data.suites.overhead.rows.map((r: { payload: number }) => r.payload);
      expect(payloads).toEqual([0, 8, 16, 64]);
      for (const r of data.suites.overhead.rows) expect(r.block).toBeGreaterThanOrEqual(r.payload + 16);

      for (const [suite, names] of Object.entries(RATIOS)) {
        for (const name of names) {
          const r: Ratio | undefined = data.ratios.find((x: Ratio) => x.suite === suite && x.name === name);
          expect(r, `${suite} ${name}`).toBeDefined();
          expect(Number.isFinite(r!.value), `${suite} ${name} value`).toBe(true);
          expect(r!.goal, `${suite} ${name} goal`).toMatch(/^(<=|>=) [\d.]+$/);
          expect('paper' in r!).toBe(true);
        }
      }
      expect(data.ratios.find((r: Ratio) => r.name === 'brc_owner/plain').paper).toBe(1.09);

      const svg = readFileSync(join(dir, 'bench.svg'), 'utf8');
      expect(svg.startsWith('<svg')).toBe(true);
      expect(svg).toContain('scaling');
      expect(svg).toContain('mix');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('the benchmark module over the shared memory has no data segment and imports what the core imports', () => {
    const path = buildBench({ log: () => {} }).loops; // builds it if stale: this test needs no other to run first
    expect(existsSync(path)).toBe(true);
    const bytes = new Uint8Array(readFileSync(path));
    const module = new WebAssembly.Module(bytes);
    const imports = WebAssembly.Module.imports(module).map((i) => `${i.module}.${i.name}:${i.kind}`).sort();
    expect(imports).toEqual(['env.biasrc_wait:function', 'env.memory:memory']);
    expect(sharedModuleProblems(bytes)).toEqual([]);
  });
});
