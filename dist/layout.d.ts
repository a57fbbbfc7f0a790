/**
 * The heap layout as the TypeScript side sees it: every number comes from the wasm module's exported globals
 * (assembly/layout.ts is the one definition), read once per module.
 */
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
}
/** Statistics by name, in the order of the module's STAT_* indices. */
export declare const STAT_NAMES: readonly ['liveBlocks', 'liveBytes', 'pagesInUse', 'memoryBytes', 'threads', 'liveObjects', 'objectsAllocated', 'objectsFreed', 'merges', 'queued', 'leaked', 'pageHigh', 'ownerIncrefs', 'ownerDecrefs', 'sharedIncrefs', 'sharedDecrefs', 'helpedMerges'];
export type StatName = (typeof STAT_NAMES)[number];
export type Stats = Record<StatName, number>;
export declare function readLayout(exports: WebAssembly.Exports): Layout;
/** [name, index] pairs for brc_stat, read from the module. */
export declare function readStatIndices(exports: WebAssembly.Exports): [StatName, number][];
