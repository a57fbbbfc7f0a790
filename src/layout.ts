/**
 * The heap layout as the TypeScript side sees it: every number comes from the wasm module's exported globals
 * (assembly/layout.ts is the one definition), read once per module.
 */

import type { WasmExports } from './host.js';

export interface Layout {
  PAGE_SIZE: number;
  HEADER_SIZE: number;
  SLOT_SIZE: number;
  H_LOCAL: number;
  H_TID: number;
  H_REFS: number;
  H_SHARED: number;
  H_LINK: number;
  SHARED_QUEUED: number;
  SHARED_MERGED: number;
  SHARED_SHIFT: number;
  SHARED_SATURATED: number;
  LOCAL_IMMORTAL: number;
  LINK_LOCKED: number;
  LINK_LIVE: number;
  MAX_REFS: number;
  DEFAULT_MAX_THREADS: number;
  MAX_THREADS_LIMIT: number;
  GLOBAL_BASE: number;
  SMALL_MAX: number;
  BLOCK_ALIGN: number;
  STAT_COUNT: number;
  STATE_FREE: number;
  STATE_PARKED: number;
}

const NAMES: (keyof Layout)[] = [
  'PAGE_SIZE', 'HEADER_SIZE', 'SLOT_SIZE', 'H_LOCAL', 'H_TID', 'H_REFS', 'H_SHARED', 'H_LINK', 'SHARED_QUEUED',
  'SHARED_MERGED', 'SHARED_SHIFT', 'SHARED_SATURATED', 'LOCAL_IMMORTAL', 'LINK_LOCKED', 'LINK_LIVE', 'MAX_REFS',
  'DEFAULT_MAX_THREADS', 'MAX_THREADS_LIMIT', 'GLOBAL_BASE', 'SMALL_MAX', 'BLOCK_ALIGN', 'STAT_COUNT', 'STATE_FREE', 'STATE_PARKED',
];

/** Statistics by name, in the order of the module's STAT_* indices. */
export const STAT_NAMES = [
  'liveBlocks', 'liveBytes', 'pagesInUse', 'memoryBytes', 'threads', 'liveObjects', 'objectsAllocated',
  'objectsFreed', 'merges', 'queued', 'leaked', 'pageHigh', 'ownerIncrefs', 'ownerDecrefs', 'sharedIncrefs',
  'sharedDecrefs', 'helpedMerges',
] as const;
export type StatName = (typeof STAT_NAMES)[number];
export type Stats = Record<StatName, number>;

/** 'liveBlocks' -> 'STAT_LIVE_BLOCKS': the module's global that holds the statistic's index. */
function statExport(name: StatName): string {
  return `STAT_${name.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
}

function globalValue(exports: WasmExports, name: string): number {
  const global = exports[name] as WebAssembly.Global | undefined;
  if (global === undefined) throw new Error(`biasrc.wasm does not export ${name}`);
  return Number(global.value);
}

export function readLayout(exports: WasmExports): Layout {
  const layout = {} as Layout;
  for (const name of NAMES) layout[name] = globalValue(exports, name) >>> 0;
  return layout;
}

/** [name, index] pairs for brc_stat, read from the module. */
export function readStatIndices(exports: WasmExports): [StatName, number][] {
  return STAT_NAMES.map((name) => [name, globalValue(exports, statExport(name))]);
}
