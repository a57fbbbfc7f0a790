// The wasm type of every exported function, read from the binary itself (WebAssembly.Module.exports gives names
// and kinds, not types). For the test that keeps docs/ABI.md's signature column in step with the module.
import { wasmSections } from './wasm-sections.mjs';

const VALUE_TYPES = { 0x7f: 'i32', 0x7e: 'i64', 0x7d: 'f32', 0x7c: 'f64', 0x7b: 'v128', 0x70: 'funcref', 0x6f: 'externref' };

/** Map of export name -> { params: ['i32', ...], results: ['f64'] } for every exported function. */
export function exportedFunctionTypes(bytes) {
  let pos = 0;
  const byte = () => bytes[pos++];
  const leb = () => {
    let result = 0, shift = 0, b;
    do { b = byte(); result |= (b & 0x7f) << shift; shift += 7; } while (b & 0x80);
    return result >>> 0;
  };
  const valueType = () => {
    const code = byte();
    const type = VALUE_TYPES[code];
    if (type === undefined) throw new Error(`wasm-types: unknown value type 0x${code.toString(16)} at ${pos - 1}`);
    return type;
  };
  const vector = (item) => Array.from({ length: leb() }, item);
  const limits = () => { const flags = byte(); leb(); if (flags & 1) leb(); };
  const name = () => { const length = leb(); pos += length; return new TextDecoder().decode(bytes.subarray(pos - length, pos)); };

  const types = [];
  const functions = []; // type index of each function, imported ones first
  const exports = new Map();
  for (const section of wasmSections(bytes)) {
    pos = section.start;
    if (section.id === 1) {
      vector(() => {
        if (byte() !== 0x60) throw new Error('wasm-types: a type that is not a function type');
        types.push({ params: vector(valueType), results: vector(valueType) });
      });
    } else if (section.id === 2) {
      vector(() => {
        name(); name();
        const kind = byte();
        if (kind === 0) functions.push(leb());
        else if (kind === 1) { valueType(); limits(); }
        else if (kind === 2) limits();
        else if (kind === 3) { valueType(); byte(); }
        else if (kind === 4) { byte(); leb(); }
        else throw new Error(`wasm-types: unknown import kind ${kind}`);
      });
    } else if (section.id === 3) {
      vector(() => functions.push(leb()));
    } else if (section.id === 7) {
      vector(() => {
        const exported = name();
        const kind = byte();
        const index = leb();
        if (kind === 0) exports.set(exported, types[functions[index]]);
      });
    }
  }
  return exports;
}
