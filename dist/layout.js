/**
 * The heap layout as the TypeScript side sees it: every number comes from the wasm module's exported globals
 * (assembly/layout.ts is the one definition), read once per module.
 */
const NAMES = [
    'PAGE_SIZE', 'HEADER_SIZE', 'SLOT_SIZE', 'H_LOCAL', 'H_TID', 'H_REFS', 'H_SHARED', 'H_LINK', 'SHARED_QUEUED',
    'SHARED_MERGED', 'SHARED_SHIFT', 'SHARED_SATURATED', 'LOCAL_IMMORTAL', 'LINK_LOCKED', 'LINK_LIVE', 'MAX_REFS',
    'DEFAULT_MAX_THREADS', 'MAX_THREADS_LIMIT', 'GLOBAL_BASE', 'SMALL_MAX', 'BLOCK_ALIGN', 'STAT_COUNT',
];
/** Statistics by name, in the order of the module's STAT_* indices. */
export const STAT_NAMES = [
    'liveBlocks', 'liveBytes', 'pagesInUse', 'memoryBytes', 'threads', 'liveObjects', 'objectsAllocated',
    'objectsFreed', 'merges', 'queued', 'leaked', 'pageHigh', 'ownerIncrefs', 'ownerDecrefs', 'sharedIncrefs',
    'sharedDecrefs', 'helpedMerges',
];
const STAT_EXPORTS = {
    liveBlocks: 'STAT_LIVE_BLOCKS', liveBytes: 'STAT_LIVE_BYTES', pagesInUse: 'STAT_PAGES_IN_USE',
    memoryBytes: 'STAT_MEMORY_BYTES', threads: 'STAT_THREADS', liveObjects: 'STAT_LIVE_OBJECTS',
    objectsAllocated: 'STAT_OBJECTS_ALLOCATED', objectsFreed: 'STAT_OBJECTS_FREED', merges: 'STAT_MERGES',
    queued: 'STAT_QUEUED', leaked: 'STAT_LEAKED', pageHigh: 'STAT_PAGE_HIGH', ownerIncrefs: 'STAT_OWNER_INCREFS',
    ownerDecrefs: 'STAT_OWNER_DECREFS', sharedIncrefs: 'STAT_SHARED_INCREFS', sharedDecrefs: 'STAT_SHARED_DECREFS',
    helpedMerges: 'STAT_HELPED_MERGES',
};
function globalValue(exports, name) {
    const global = exports[name];
    if (global === undefined)
        throw new Error(`biasrc.wasm does not export ${name}`);
    return Number(global.value);
}
export function readLayout(exports) {
    const layout = {};
    for (const name of NAMES)
        layout[name] = globalValue(exports, name) >>> 0;
    return layout;
}
/** [name, index] pairs for brc_stat, read from the module. */
export function readStatIndices(exports) {
    return STAT_NAMES.map((name) => [name, globalValue(exports, STAT_EXPORTS[name])]);
}
//# sourceMappingURL=layout.js.map