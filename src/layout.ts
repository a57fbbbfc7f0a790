/**
 * The heap layout and the ABI as the TypeScript side sees them. Every number comes from src/generated/abi.ts, which
 * scripts/gen-abi.mjs writes from the built module at build time (assembly/layout.ts is the one definition); when a
 * module is loaded, checkModule makes sure it is the one this file was generated from.
 */

import { ABI_CONSTANTS, EXPORT_ARITY, STAT_EXPORTS, type AbiConstantName } from './generated/abi.js';
import { BrcError } from './errors.js';
import type { WasmExports } from './host.js';

/** Every constant of the core (offsets, limits, flags, codes), by its name in assembly/. */
export const LAYOUT = ABI_CONSTANTS;
export type Layout = typeof ABI_CONSTANTS;

type CamelCase<S extends string> = S extends `${infer Head}_${infer Tail}` ? `${Lowercase<Head>}${Capitalize<CamelCase<Tail>>}` : Lowercase<S>;

/** 'STAT_LIVE_BLOCKS' -> 'liveBlocks'. */
function statName<S extends string>(exportName: S): CamelCase<S extends `STAT_${infer R}` ? R : S> {
  return exportName.slice(5).toLowerCase().replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()) as never;
}

export type StatName = CamelCase<(typeof STAT_EXPORTS)[number] extends `STAT_${infer R}` ? R : never>;
export type Stats = Record<StatName, number>;

/** Statistics by name, in the order of the module's STAT_* indices. */
export const STAT_NAMES: readonly StatName[] = STAT_EXPORTS.map(statName) as StatName[];

/** [name, index] pairs for brc_stat. */
export const STAT_INDICES: readonly (readonly [StatName, number])[] = STAT_EXPORTS.map((e) => [statName(e), LAYOUT[e]] as const);

/**
 * Throws ELAYOUT unless `exports` belong to a module built from the same assembly/ as this package: every constant
 * has the value src/generated/abi.ts records, and every function exists with the expected number of parameters.
 */
export function checkModule(exports: WasmExports, what: string): void {
  const mismatch = (detail: string) => new BrcError('ELAYOUT',
    `${what}: this wasm module does not match this version of biasrc (${detail}); load the wasm shipped with the package`);
  for (const [name, expected] of Object.entries(ABI_CONSTANTS) as [AbiConstantName, number][]) {
    const global = exports[name] as WebAssembly.Global | undefined;
    if (!(global instanceof WebAssembly.Global)) throw mismatch(`it exports no constant ${name}`);
    const value = global.value as number | bigint;
    const actual = typeof value === 'bigint' ? Number(value) : value >>> 0;
    if (actual !== expected) throw mismatch(`${name} is ${actual}, expected ${expected}`);
  }
  for (const [name, arity] of Object.entries(EXPORT_ARITY)) {
    const fn = exports[name];
    if (typeof fn !== 'function') throw mismatch(`it exports no function ${name}`);
    if (fn.length !== arity) throw mismatch(`${name} takes ${fn.length} parameters, expected ${arity}`);
  }
}
