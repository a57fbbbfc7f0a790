// One contract between src/ and the core (issue: architecture): the TypeScript side takes every constant and every
// export's signature from src/generated/abi.ts, which the build writes from the module. Here: every shipped build
// matches that contract, a module that differs is refused, and the tables of docs/LAYOUT.md say what the module says.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BrcError, LAYOUT, compileCore, createSharedMemory, instantiateCore, type BrcExports, type WasmExports } from '../dist/index.js';
import { ABI_CONSTANTS, EXPORT_ARITY } from '../dist/generated/abi.js';
import { checkModule } from '../dist/layout.js';

const root = join(import.meta.dirname, '..');
const builds = [
  { debug: false, shared: true }, { debug: true, shared: true }, { debug: false, shared: false }, { debug: true, shared: false },
];

async function exportsOf(debug: boolean, shared: boolean): Promise<WasmExports> {
  const module = await compileCore({ debug, shared });
  const memory = shared ? createSharedMemory({ initialMiB: 1, maximumMiB: 16 }) : new WebAssembly.Memory({ initial: 16, maximum: 256 });
  return (await instantiateCore(module, memory)).raw;
}

describe('the contract between src/ and the core', () => {
  it.each(builds)('build debug=$debug shared=$shared: every constant and every export as src/generated/abi.ts says', async ({ debug, shared }) => {
    const raw = await exportsOf(debug, shared); // instantiateCore runs checkModule
    for (const [name, arity] of Object.entries(EXPORT_ARITY)) expect((raw[name] as Function).length, name).toBe(arity);
  });

  it('every brc_ call in src/ is an export of the contract', () => {
    const calls = new Set<string>();
    for (const file of ['heap.ts', 'check.ts', 'locks.ts', 'lifecycle.ts', 'worker.ts', 'thread.ts', 'ref.ts', 'wasm.ts', 'link.ts']) {
      for (const m of readFileSync(join(root, 'src', file), 'utf8').matchAll(/\b(brc_\w+)\b/g)) calls.add(m[1]);
    }
    expect(calls.size).toBeGreaterThan(15);
    for (const name of calls) expect(EXPORT_ARITY, name).toHaveProperty(name);
  });

  it('a module from another build is refused: a changed constant, a missing export, a changed arity', async () => {
    const raw = await exportsOf(false, true);
    const variant = (patch: Record<string, unknown>) => ({ ...raw, ...patch }) as WasmExports;
    const mismatch = (exports: WasmExports, detail: RegExp) => {
      let caught: unknown;
      try { checkModule(exports, 'test'); } catch (e) { caught = e; }
      expect(caught).toBeInstanceOf(BrcError);
      expect((caught as BrcError).code).toBe('ELAYOUT');
      expect((caught as BrcError).message).toMatch(detail);
    };
    mismatch(variant({ HEADER_SIZE: new WebAssembly.Global({ value: 'i32' }, 24) }), /HEADER_SIZE is 24, expected 16/);
    const { brc_incref: _, ...withoutIncref } = raw as Record<string, unknown>;
    mismatch(withoutIncref as WasmExports, /no function brc_incref/);
    mismatch(variant({ brc_decref: (a: number, b: number) => a + b }), /brc_decref takes 2 parameters, expected 1/);
    expect(() => checkModule(raw, 'test')).not.toThrow();
  });

  it('the one literal copy of a constant (myTidHigh\'s initial value, to avoid a start function) equals it', () => {
    const source = readFileSync(join(root, 'assembly', 'instance.ts'), 'utf8');
    const literal = /export let myTidHigh: u64 = (0x[0-9a-f_]+);/.exec(source);
    expect(literal).not.toBeNull();
    expect(Number(literal![1].replace(/_/g, ''))).toBe(ABI_CONSTANTS.NO_TID_HIGH);
  });

  it('LAYOUT is the generated table, and the BrcExports type covers every export', () => {
    expect(LAYOUT).toBe(ABI_CONSTANTS);
    const names: (keyof BrcExports)[] = Object.keys(EXPORT_ARITY) as (keyof BrcExports)[];
    expect(names).toContain('brc_incref');
  });
});

/**
 * Every number docs/LAYOUT.md states for a constant: table rows "| `NAME` | value |" and diagram lines
 * "+offset | NAME ...". Returns [name, stated value, where].
 */
export function statedConstants(doc: string): [string, number, string][] {
  const found: [string, number, string][] = [];
  doc.split('\n').forEach((line, i) => {
    const row = /^\|\s*`([A-Z][A-Z0-9_]+)`\s*\|\s*(0x[0-9a-f_]+|\d[\d_]*)\s*\|/i.exec(line);
    if (row) found.push([row[1], Number(row[2].replace(/_/g, '')), `line ${i + 1}`]);
    const diagram = /^\s*\+(\d+)\s+\|\s+([A-Z][A-Z0-9_]+)\b(?!\[)/.exec(line); // an array element ([k][c]) is not the base
    if (diagram) found.push([diagram[2], Number(diagram[1]), `line ${i + 1}`]);
  });
  return found;
}

describe('docs/LAYOUT.md against the module', () => {
  const doc = readFileSync(join(root, 'docs', 'LAYOUT.md'), 'utf8');
  const stated = statedConstants(doc);

  it('every constant the tables and diagrams name has the module\'s value', () => {
    expect(stated.length).toBeGreaterThan(60);
    const wrong = stated.filter(([name, value]) => (ABI_CONSTANTS as Record<string, number>)[name] !== value)
      .map(([name, value, where]) => `${where}: ${name} = ${value}, the module says ${(ABI_CONSTANTS as Record<string, number>)[name]}`);
    expect(wrong).toEqual([]);
  });

  it('the check catches a wrong number', () => {
    const bad = statedConstants(doc.replace(/^\|\s*`HEADER_SIZE`\s*\|\s*16\s*\|/m, '| `HEADER_SIZE` | 18 |'));
    expect(bad.find(([n]) => n === 'HEADER_SIZE')?.[1]).toBe(18);
  });
});
