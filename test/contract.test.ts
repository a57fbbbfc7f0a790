// One contract between src/ and the core (issue: architecture): the TypeScript side takes every constant and every
// export's signature from src/generated/abi.ts, which the build writes from the module. Here: every shipped build
// matches that contract, a module that differs is refused, and the tables of docs/LAYOUT.md and
// docs/ABI.md say what the module says.
import { describe, expect, it } from 'vitest';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BrcError, LAYOUT, compileCore, createSharedMemory, instantiateCore, type BrcExports, type WasmExports } from '../dist/index.js';
import { ABI_CONSTANTS, EXPORT_ARITY } from '../dist/generated/abi.js';
import { checkModule } from '../dist/layout.js';
import { ERROR_CODE_NAMES, STAT_EXPORTS } from '../dist/generated/abi.js';
// @ts-expect-error: a plain .mjs helper without types
import { exportedFunctionTypes } from '../scripts/lib/wasm-types.mjs';
// @ts-expect-error: a plain .mjs helper without types
import { readAbi } from '../scripts/lib/abi.mjs';

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

  it('the build\'s ABI reader (gen-abi) compares each signature of assembly/index.ts with the wasm type in the binary', async () => {
    const abi = await readAbi(root);
    expect(abi.functions.length).toBe(Object.keys(EXPORT_ARITY).length);
    // the same module against a source whose signature compiles to another wasm type: refused, naming both
    const dir = mkdtempSync(join(tmpdir(), 'biasrc-abi-'));
    try {
      mkdirSync(join(dir, 'build'));
      mkdirSync(join(dir, 'assembly'));
      copyFileSync(join(root, 'build', 'biasrc.wasm'), join(dir, 'build', 'biasrc.wasm'));
      const source = readFileSync(join(root, 'assembly', 'index.ts'), 'utf8');
      const swap = async (from: string, to: string) => {
        expect(source).toContain(from);
        writeFileSync(join(dir, 'assembly', 'index.ts'), source.replace(from, to));
        return readAbi(dir).then(() => 'accepted', (e: Error) => e.message);
      };
      expect(await swap('brc_stat(which: i32): f64', 'brc_stat(which: i32): i32'))
        .toBe('abi: brc_stat is (i32) -> f64 in build/biasrc.wasm, but assembly/index.ts declares (i32) -> i32');
      expect(await swap('brc_upgrade(weak: f64): usize', 'brc_upgrade(weak: u32): usize')).toMatch(/brc_upgrade is \(f64\) -> i32 .* declares \(i32\) -> i32/);
      expect(await swap('brc_empty(): void', 'brc_empty(): i32')).toMatch(/brc_empty is \(\) -> void .* declares \(\) -> i32/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
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

// ---- docs/ABI.md ---------------------------------------------------------------------------------------------------

/** The cells of a markdown table row, split at unescaped pipes (`\|` stays inside a cell). */
function cells(row: string): string[] {
  return row.trim().replace(/^\|/, '').replace(/\|$/, '').split(/(?<!\\)\|/).map((c) => c.trim());
}

interface DocumentedCall { name: string; params: string[]; result: string; line: number }

/** Every call row of docs/ABI.md: "| `brc_x` | `(i32 a, f64 b) -> i32` | ...", with the wasm types of its signature. */
export function documentedCalls(doc: string): DocumentedCall[] {
  const calls: DocumentedCall[] = [];
  doc.split('\n').forEach((text, i) => {
    if (!text.startsWith('| `brc_')) return;
    const [nameCell, typeCell = ''] = cells(text);
    const name = /^`(brc_\w+)`$/.exec(nameCell)?.[1] ?? nameCell;
    const signature = /^`\(([^)]*)\)\s*->\s*(\w+)`$/.exec(typeCell);
    calls.push({
      name,
      params: signature ? signature[1].split(',').map((p) => p.trim().split(/\s+/)[0]).filter(Boolean) : ['?'],
      result: signature ? signature[2] : `unparsed "${typeCell}"`,
      line: i + 1,
    });
  });
  return calls;
}

type WasmSignature = { params: string[]; results: string[] };
const show = (params: string[], result: string) => `(${params.join(', ')}) -> ${result}`;

/** What docs/ABI.md's call tables get wrong about a module's exports (names and wasm types); empty when nothing. */
export function callTableProblems(doc: string, exported: Map<string, WasmSignature>): string[] {
  const problems: string[] = [];
  const seen = new Map<string, number>();
  for (const call of documentedCalls(doc)) {
    const where = `docs/ABI.md line ${call.line}`;
    if (seen.has(call.name)) problems.push(`${where}: ${call.name} is documented again (first at line ${seen.get(call.name)})`);
    seen.set(call.name, call.line);
    const actual = exported.get(call.name);
    if (!actual) {
      problems.push(`${where}: ${call.name} is documented, but the module exports no such function`);
      continue;
    }
    const documented = show(call.params, call.result);
    const real = show(actual.params, actual.results.length === 0 ? 'void' : actual.results.join(', '));
    if (documented !== real) problems.push(`${where}: ${call.name} is documented as ${documented}, the module's is ${real}`);
  }
  for (const name of exported.keys()) {
    if (!seen.has(name)) problems.push(`${name} is exported by the module but has no row in docs/ABI.md`);
  }
  return problems;
}

/** Rows "| 12 | `NAME` | ..." of the tables whose names match `names` (error codes, statistics): [number, name, line]. */
function numberedRows(doc: string, names: RegExp): [number, string, number][] {
  const rows: [number, string, number][] = [];
  doc.split('\n').forEach((text, i) => {
    const row = /^\|\s*(\d+)\s*\|\s*`([A-Z][A-Z0-9_]*)`\s*\|/.exec(text);
    if (row && names.test(row[2])) rows.push([Number(row[1]), row[2], i + 1]);
  });
  return rows;
}

/** What docs/ABI.md's numbered tables (error codes or statistics) get wrong against the module's constants. */
export function numberedTableProblems(doc: string, names: RegExp, expected: readonly string[], extra: Record<string, number> = {}): string[] {
  const values: Record<string, number> = { ...(ABI_CONSTANTS as Record<string, number>), ...extra };
  const rows = numberedRows(doc, names);
  const problems = rows.filter(([value, name]) => values[name] !== value)
    .map(([value, name, line]) => `docs/ABI.md line ${line}: ${name} = ${value}, the module says ${values[name]}`);
  const documented = rows.map(([, name]) => name);
  for (const name of expected) if (!documented.includes(name)) problems.push(`${name} (${values[name]}) has no row in docs/ABI.md`);
  for (const name of new Set(documented)) {
    if (documented.indexOf(name) !== documented.lastIndexOf(name)) problems.push(`${name} has two rows in docs/ABI.md`);
  }
  return problems;
}

const ERROR_NAMES = /^(OK|E[A-Z_]+)$/;
const STAT_NAMES = /^STAT_[A-Z_]+$/;

describe('docs/ABI.md against the module', () => {
  const doc = readFileSync(join(root, 'docs', 'ABI.md'), 'utf8');
  const wasmFiles = ['biasrc.wasm', 'biasrc.debug.wasm', 'biasrc.single.wasm', 'biasrc.single.debug.wasm'];
  const typesOf = (file: string) => exportedFunctionTypes(readFileSync(join(root, 'build', file))) as Map<string, WasmSignature>;

  it.each(wasmFiles)('build/%s: every exported function has one row, with its exact wasm signature, and no row names anything else', (file) => {
    const types = typesOf(file);
    // the binary walk and the engine agree on which functions the module exports
    const functions = WebAssembly.Module.exports(new WebAssembly.Module(readFileSync(join(root, 'build', file))))
      .filter((e) => e.kind === 'function').map((e) => e.name).sort();
    expect([...types.keys()].sort()).toEqual(functions);
    expect(documentedCalls(doc).length).toBeGreaterThan(50);
    expect(callTableProblems(doc, types)).toEqual([]);
  });

  it('the error-code tables give every code of the module, with its number', () => {
    expect(numberedRows(doc, ERROR_NAMES).length).toBeGreaterThan(20);
    expect(numberedTableProblems(doc, ERROR_NAMES, ['OK', ...ERROR_CODE_NAMES], { OK: 0 })).toEqual([]);
  });

  it('the statistics table gives every STAT_* index of the module, and STAT_COUNT', () => {
    expect(numberedTableProblems(doc, STAT_NAMES, STAT_EXPORTS)).toEqual([]);
    expect(doc).toContain(`\`STAT_COUNT\` = ${ABI_CONSTANTS.STAT_COUNT}`);
  });

  it('the checks catch a missing row, a wrong signature, a call that does not exist, a wrong code', () => {
    const types = typesOf('biasrc.wasm');
    const withoutWeak = doc.split('\n').filter((l) => !l.startsWith('| `brc_weak` |')).join('\n');
    expect(callTableProblems(withoutWeak, types)).toEqual(['brc_weak is exported by the module but has no row in docs/ABI.md']);
    const i32Upgrade = doc.replace('| `brc_upgrade` | `(f64 weak) -> i32` |', '| `brc_upgrade` | `(i32 weak) -> i32` |');
    expect(callTableProblems(i32Upgrade, types)).toEqual([expect.stringMatching(/brc_upgrade is documented as \(i32\) -> i32, the module's is \(f64\) -> i32/)]);
    const voidStat = doc.replace('| `brc_stat` | `(i32 which) -> f64` |', '| `brc_stat` | `(i32 which) -> void` |');
    expect(callTableProblems(voidStat, types)).toEqual([expect.stringMatching(/brc_stat is documented as \(i32\) -> void/)]);
    const ghost = `${doc}\n| \`brc_gone\` | \`() -> i32\` | any | nothing | — |\n`;
    expect(callTableProblems(ghost, types)).toEqual([expect.stringMatching(/brc_gone is documented, but the module exports no such function/)]);
    const wrongCode = doc.replace(/^\| 12 \| `EDEADLK` \|/m, '| 14 | `EDEADLK` |');
    expect(numberedTableProblems(wrongCode, ERROR_NAMES, ['OK', ...ERROR_CODE_NAMES], { OK: 0 }))
      .toEqual([expect.stringMatching(/EDEADLK = 14, the module says 12/)]);
  });
});
