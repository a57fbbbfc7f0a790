// Reads the ABI of the built core: every exported constant with its value, every exported function with its
// parameter names and types (from assembly/index.ts) checked against the module: the same set of functions, and for
// each the wasm type its AssemblyScript signature compiles to, compared with the function type in the binary
// (wasm-types.mjs). Used by gen-abi.mjs (the TypeScript contract) and by the tests that keep docs and code in step.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { exportedFunctionTypes } from './wasm-types.mjs';

/** The wasm value type of each AssemblyScript type a signature in assembly/index.ts may use (void: no result). */
const WASM_TYPE_OF = {
  bool: 'i32', i8: 'i32', u8: 'i32', i16: 'i32', u16: 'i32', i32: 'i32', u32: 'i32', isize: 'i32', usize: 'i32',
  i64: 'i64', u64: 'i64', f32: 'f32', f64: 'f64',
};

function wasmTypeOf(asType, where) {
  const t = WASM_TYPE_OF[asType];
  if (t === undefined) throw new Error(`abi: ${where}: no wasm type known for the AssemblyScript type ${asType}`);
  return t;
}

/** `(i32, f64) -> i32` */
const show = (params, results) => `(${params.join(', ')}) -> ${results.length === 0 ? 'void' : results.join(', ')}`;

/** `export function brc_x(a: u32, b: usize): i32 {` in assembly/index.ts, with the doc comment above it. */
const SIGNATURE = /(?:\/\*\*((?:(?!\*\/)[\s\S])*)\*\/\s*)?export function (brc_\w+)\(([^)]*)\):\s*(\w+)/g;

export function parseSignatures(source) {
  const functions = [];
  for (const [, doc, name, params, result] of source.matchAll(SIGNATURE)) {
    functions.push({
      name,
      params: params.split(',').map((p) => p.trim()).filter(Boolean).map((p) => p.split(':').map((s) => s.trim())),
      result,
      doc: doc ? doc.replace(/\n\s*\*\s?/g, ' ').replace(/\s+/g, ' ').trim() : undefined,
    });
  }
  return functions;
}

/** Instantiates the module over a scratch memory, to read the values of its exported globals. */
export async function readAbi(root, wasmFile = 'build/biasrc.wasm') {
  const bytes = readFileSync(join(root, wasmFile));
  const module = await WebAssembly.compile(bytes);
  const memoryImport = WebAssembly.Module.imports(module).find((i) => i.kind === 'memory');
  const shared = memoryImport !== undefined && wasmFile.indexOf('single') < 0;
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 65536, shared });
  const instance = await WebAssembly.instantiate(module, { env: { memory, biasrc_wait: () => 0 } });
  const constants = [];
  const exported = new Map();
  for (const { name, kind } of WebAssembly.Module.exports(module)) {
    if (kind === 'global') {
      const value = instance.exports[name].value;
      constants.push([name, typeof value === 'bigint' ? Number(value) : value >>> 0]);
    }
    if (kind === 'function') exported.set(name, instance.exports[name].length);
  }
  const functions = parseSignatures(readFileSync(join(root, 'assembly', 'index.ts'), 'utf8'));
  const types = exportedFunctionTypes(bytes);
  for (const f of functions) {
    const arity = exported.get(f.name);
    if (arity === undefined) throw new Error(`abi: ${f.name} is declared in assembly/index.ts but not exported by ${wasmFile}`);
    if (arity !== f.params.length) throw new Error(`abi: ${f.name} takes ${arity} parameters in ${wasmFile}, ${f.params.length} in assembly/index.ts`);
    const declared = show(f.params.map(([name, type]) => wasmTypeOf(type, `${f.name}(${name})`)),
      f.result === 'void' ? [] : [wasmTypeOf(f.result, `${f.name} result`)]);
    const actual = types.get(f.name);
    const real = actual ? show(actual.params, actual.results) : 'no function type';
    if (declared !== real) throw new Error(`abi: ${f.name} is ${real} in ${wasmFile}, but assembly/index.ts declares ${declared}`);
    exported.delete(f.name);
  }
  if (exported.size > 0) throw new Error(`abi: exports without a parsed signature: ${[...exported.keys()].join(', ')}`);
  return { constants, functions };
}
